"""Run records, the hub of "what has been run": ``results/<name>.json`` (metrics and provenance, read as a
typed ``Record``) and ``results/<name>.pt`` (weights).

Both are written atomically. A smoke run is recorded in a scratch folder, an interrupted
run under ``results/partial/`` and a validation (tuning) run under ``results/validation/``, so none
of them can replace a full record. When the results folder is full, the run is saved in the scratch
folder instead and the message says where. A record is validated once, when it is loaded, and reads
both ways: ``record.history`` and ``record["history"]``. This module also answers which records form a
sweep (``sweeps``, ``current_sweep``), a frontier point (``frontier_points``), and how a run's settings
differ from a named recipe (``config_changes``, the one diff every label and file name is built on).
Taught in every notebook's "Results" section.
"""

from __future__ import annotations

import errno
import io
import json
import math
import platform
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import torch

from .data import IDX_FILES
from .engine import Run
from .models import channel_widths, count_parameters, get_model
from .paths import atomic_write_bytes, default_results_dir, smoke_results_dir
from .recipes import FRONTIER, RECIPES, Recipe, get_recipe
from .splits import PREFIXES, accuracies, column
from .stats import SweepStats, sweep_summary
from .studies import get_study

FORMAT = 1
HISTORY_KEYS = ("epoch", "lr", "train_loss", "train_acc", "seconds")  # plus <split>_loss, <split>_acc


class RecordError(ValueError):
    """A record file is missing, unreadable or malformed; the message names the file and the fault."""


def run_record(run: Run) -> dict:
    """The JSON-ready record of a run."""
    import torchvision

    from . import __version__

    return {
        "format": FORMAT,
        "recipe": run.recipe.name,
        "model": run.recipe.model,
        "parameters": count_parameters(run.model),
        "seed": run.recipe.seed,
        "config": run.recipe.to_dict(),
        "epochs": len(run.history),
        "complete": run.complete,
        "smoke": run.smoke,
        "evaluated_on": run.evaluated_on,
        "device": run.device,
        "device_name": run.device_name,
        "started_at": run.started_at,
        "wall_seconds": round(run.seconds, 2),
        "versions": {
            "mnist_kit": __version__,
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
        },
        "data_md5": {name: md5 for name, (md5, _size) in IDX_FILES.items()},  # verified before training
        "history": run.history,
    }


def record_stem(recipe: Recipe) -> str:
    """File name of a run's record: the recipe name, plus what differs from the named recipe.

    ``model_4`` for the recipe as written, ``model_4-classic`` on the other pipeline, ``model_4-seed7``
    for another seed, ``model_4-epochs5-rotation15`` for other settings, so a variant never overwrites
    the record the README and notebooks use. (Validation runs have a folder of their own, ``record_dir``.)
    """
    base = RECIPES.get(recipe.name)
    if base is None:
        return recipe.name
    changes = config_changes(base.to_dict(), recipe.to_dict())
    stem = recipe.name + (f"-{recipe.pipeline}" if "pipeline" in changes else "")
    stem += f"-seed{recipe.seed}" if "seed" in changes else ""
    for key, (_old, value) in changes.items():
        if key not in ("pipeline", "seed"):
            stem += f"-{key}{'_'.join(map(str, value)) if isinstance(value, list) else _number(value)}"
    return stem


def _number(value) -> str:
    return format(value, "g") if isinstance(value, float) else str(value)


def record_dir(run: Run, results_dir=None, folder: str | None = None) -> Path:
    """Where a run belongs: smoke runs in the scratch folder, validation runs in ``validation/`` (or ``folder``),
    unfinished runs in ``partial/`` below that."""
    if run.smoke:
        return smoke_results_dir()
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    if folder is not None:
        base = base / folder
    elif run.evaluated_on == "validation":
        base = base / "validation"
    return base if run.complete else base / "partial"


def save_run(run: Run, results_dir=None, stem: str | None = None, folder: str | None = None) -> Path:
    """Write ``<stem>.json`` and ``<stem>.pt`` (stem: ``record_stem``) in ``record_dir``; returns the JSON path."""
    folder = record_dir(run, results_dir, folder)
    stem = stem or record_stem(run.recipe)
    weights = io.BytesIO()
    # The evaluated network as a plain state_dict: a bare get_model(...) loads it (no averaging wrapper).
    torch.save({k: v.detach().cpu() for k, v in run.model.state_dict().items()}, weights)
    files = {f"{stem}.pt": weights.getvalue(), f"{stem}.json": (json.dumps(run_record(run), indent=1) + "\n").encode()}
    try:
        _write_all(folder, files)
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        rescue = smoke_results_dir() / "rescued"
        need = sum(map(len, files.values())) / 2**20
        print(
            f"Could not write the record to {folder} ({exc.strerror}): it needs {need:.1f} MiB there.\n"
            f"The run is kept in {rescue} instead; free some space and move both files into {folder}."
        )
        _write_all(rescue, files)
        folder = rescue
    return folder / f"{stem}.json"


def _write_all(folder: Path, files: dict[str, bytes]) -> None:
    """Write each file atomically; the JSON (what readers look for) goes last."""
    for name, payload in files.items():
        atomic_write_bytes(folder / name, payload)


def validate_record(record: dict, source: str = "record") -> dict:
    """Raise ``RecordError`` unless ``record`` has the fields and values a report relies on."""

    def need(cond, why):
        if not cond:
            raise RecordError(f"{source}: {why}")

    need(isinstance(record, dict), "not a JSON object")
    for key, kind in (
        ("format", int),
        ("recipe", str),
        ("model", str),
        ("parameters", int),
        ("seed", int),
        ("epochs", int),
        ("complete", bool),
        ("smoke", bool),
        ("device", str),
        ("device_name", str),
        ("wall_seconds", (int, float)),
        ("history", list),
    ):
        need(isinstance(record.get(key), kind), f"field {key!r} missing or not {getattr(kind, '__name__', kind)}")
    need(isinstance(record.get("config", {}), dict), "field 'config' not a JSON object")
    need(record["format"] == FORMAT, f"format {record['format']} is not {FORMAT}")
    need(len(record["history"]) == record["epochs"] > 0, "history length does not match epochs")
    split = record.get("evaluated_on", "test")
    need(split in PREFIXES, f"evaluated_on is {split!r}, not one of {list(PREFIXES)}")
    acc = column(split)
    keys = (*HISTORY_KEYS, column(split, "loss"), acc)
    for row in record["history"]:
        need(isinstance(row, dict) and all(k in row for k in keys), f"history row lacks {keys}")
        need(
            all(isinstance(row[k], (int, float)) and math.isfinite(row[k]) for k in keys),
            f"epoch {row.get('epoch')}: a value is not a finite number",
        )
        need(
            0 <= row["train_acc"] <= 100 and 0 <= row[acc] <= 100,
            f"epoch {row['epoch']}: accuracy out of range",
        )
    return record


@dataclass(frozen=True, eq=False)
class Record(Mapping):
    """One run's record, validated (``validate_record``) and with every ``Recipe`` setting in its config (a
    setting added after the run was recorded reads as the recipe's default, the value the run used).

    Reads as attributes (``record.history``) and, like the JSON it came from, by key (``record["config"]``,
    ``record.get("evaluated_on")``), so a notebook cell written for the dict keeps running.
    """

    format: int
    recipe: str
    model: str
    parameters: int
    seed: int
    config: dict
    epochs: int
    complete: bool
    smoke: bool
    evaluated_on: str
    device: str
    device_name: str
    started_at: str | None
    wall_seconds: float
    versions: dict
    data_md5: dict
    history: list[dict]
    extra: dict = field(default_factory=dict)  # keys a later format may add, kept as they are

    @classmethod
    def from_dict(cls, data: dict, source: str = "record") -> Record:
        """Validate a JSON record (raising ``RecordError`` that names ``source``) and type it."""
        validate_record(data, source)
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {
            **{"evaluated_on": "test", "started_at": None, "versions": {}, "data_md5": {}},
            **{k: v for k, v in data.items() if k in known},
        }
        values["config"] = complete_config(data.get("config", {}))
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    @property
    def split(self) -> str:
        """The split the run was evaluated on: ``"test"``, or ``"validation"`` for a tuning run."""
        return self.evaluated_on

    def accuracies(self, raw: bool = False) -> list[float]:
        """Accuracy per epoch on ``split``; ``raw=True``: the raw weights' where the run evaluated a weight average
        (``splits.accuracies``)."""
        return accuracies(self, raw)

    def to_dict(self) -> dict:
        """The JSON form, keys in the order ``run_record`` writes them."""
        return {**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}, **self.extra}

    def __getitem__(self, key: str):
        if key != "extra" and key in self.__dataclass_fields__:
            return getattr(self, key)
        return self.extra[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


def _recipe_defaults() -> dict:
    """The JSON value of each ``Recipe`` setting that has a default (tuples as lists, as ``to_dict`` writes)."""
    defaults = {}
    for f in fields(Recipe):
        if f.default_factory is not MISSING:
            defaults[f.name] = list(f.default_factory())
        elif f.default is not MISSING:
            defaults[f.name] = f.default
    return defaults


def complete_config(config: dict) -> dict:
    """A recipe's settings (``Recipe.to_dict`` or a record's config) in ``Recipe`` field order, a missing
    setting filled with its default, so a record written before a setting existed compares with today's."""
    defaults, names = _recipe_defaults(), [f.name for f in fields(Recipe)]
    full = {name: config.get(name, defaults.get(name, MISSING)) for name in names}
    full = {k: v for k, v in full.items() if v is not MISSING}
    return {**full, **{k: v for k, v in config.items() if k not in full}}


def config_changes(before: dict, after: dict, leave_out=("name",)) -> dict[str, tuple]:
    """The one diff of the kit: each setting (but ``leave_out``) that differs between two recipe configs, as
    ``{setting: (before, after)}`` in ``Recipe`` field order. A setting one side lacks reads as its ``Recipe``
    default (``complete_config``); one without a default is compared only where both sides have it.

    File names (``record_stem``), candidate labels (``candidate_label``) and the lessons' recipe tables
    (``lessons.recipe_changes``) are all written from it.
    """
    before, after = complete_config(before), complete_config(after)
    return {k: (before[k], v) for k, v in after.items() if k not in leave_out and k in before and before[k] != v}


def candidate_label(record) -> str:
    """A run's recipe and what differs from that named recipe, seed aside: ``slim_5k_a, dropout 0``."""
    base = RECIPES.get(record["recipe"])
    changes = config_changes(base.to_dict(), record["config"], ("name", "seed")) if base else {}
    return ", ".join([record["recipe"], *(f"{k} {_number(new)}" for k, (_old, new) in changes.items())])


def load_record(path) -> Record:
    """Read and validate one JSON record."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"{path}: no such record; run `python -m mnist_kit train {path.stem}` first") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: unreadable ({exc})") from None
    return Record.from_dict(record, str(path))


def record_of(source) -> dict:
    """A validated record from a ``Record``, a dict, a JSON path, or a recipe name (``results/<name>.json``)."""
    if isinstance(source, Record):
        return source
    if isinstance(source, dict):
        return validate_record(source, source.get("recipe", "record"))
    path = Path(source)
    return load_record(path if path.suffix == ".json" else default_results_dir() / f"{source}.json")


def load_folder(folder) -> list[tuple[str, Record]]:
    """Every record of a folder (not its subfolders), as (file stem, record), by file name."""
    return [(path.stem, load_record(path)) for path in sorted(Path(folder).glob("*.json"))]


def full_runs(folder) -> list[tuple[str, Record]]:
    """``load_folder``, refusing a smoke or partial run: only full runs belong in ``results/``."""
    runs = load_folder(folder)
    for stem, record in runs:
        if record.smoke or not record.complete:
            kind = "smoke" if record.smoke else "partial"
            raise RecordError(f"{Path(folder) / stem}.json is a {kind} run; only full runs belong in results/")
    return runs


def load_trained_model(json_path) -> torch.nn.Module:
    """The model of a record with its saved weights (loaded with ``weights_only=True``), in eval mode."""
    record = load_record(json_path)
    model = get_model(record.model, dropout=record.config["dropout"])
    state = torch.load(Path(json_path).with_suffix(".pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


# --- which records form a sweep, a frontier point -------------------------------------------


def _seedless(config: dict) -> str:
    return json.dumps({k: v for k, v in complete_config(config).items() if k != "seed"}, sort_keys=True)


def sweeps(folder) -> list[list[Record]]:
    """A folder's records grouped into sweeps, oldest seed first: seeds are pooled only when every other
    setting is the same, so a sweep of an older version of a recipe is never averaged with the current one.
    Groups come in the order of their first file."""
    groups: dict[str, list[Record]] = {}
    for _stem, record in load_folder(folder):
        groups.setdefault(_seedless(record.config), []).append(record)
    return [sorted(group, key=lambda r: r.seed) for group in groups.values()]


def current_sweep(folder, recipe: Recipe) -> list[Record]:
    """The sweep records of ``recipe`` exactly as it is now (any seed), oldest seed first."""
    key = _seedless(recipe.to_dict())
    return [r for group in sweeps(folder) for r in group if r.recipe == recipe.name and _seedless(r.config) == key]


def frontier_records(results_dir, recipe: Recipe, folders=("sweep", "frontier"), seeds=None) -> list[Record]:
    """A frontier point's runs: ``recipe`` exactly as it is now, of ``seeds`` (default: the frontier study's),
    recorded in ``results/frontier/`` or (Model_4's and Model_5's seeds) in ``results/sweep/``; oldest seed first."""
    results_dir, seeds = Path(results_dir), get_study("frontier").seeds if seeds is None else seeds
    found = {}
    for folder in folders:
        if (results_dir / folder).is_dir():
            for record in current_sweep(results_dir / folder, recipe):
                if record.seed in seeds:
                    found[record.seed] = record
    return [found[seed] for seed in sorted(found)]


@dataclass(frozen=True)
class FrontierPoint:
    """One network of the frontier: its size, its channel widths and its seeds summarised."""

    name: str
    parameters: int
    widths: list[int]
    records: list[Record]
    stats: SweepStats


def frontier_points(results_dir, series=FRONTIER, seeds=None) -> list[FrontierPoint]:
    """One point per recipe of a frontier series (``recipes.FRONTIER``, Model_4's recipe, or ``FRONTIER_2``,
    attempt 2's) with runs (``frontier_records``), largest first."""
    points = []
    for name in series:
        records = frontier_records(results_dir, get_recipe(name), seeds=seeds)
        if records:
            widths = channel_widths(get_model(records[0].model))
            points.append(FrontierPoint(name, records[0].parameters, widths, records, sweep_summary(records)))
    return points
