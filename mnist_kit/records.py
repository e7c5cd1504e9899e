"""Run records: ``results/<name>.json`` (metrics and provenance) and ``results/<name>.pt`` (weights).

Both are written atomically. A smoke run is recorded in a scratch folder, an interrupted
run under ``results/partial/`` and a validation (tuning) run under ``results/validation/``, so none
of them can replace a full record. When the results folder is full, the run is saved in the scratch
folder instead and the message says where. Taught in every notebook's "Results" section.
"""

from __future__ import annotations

import errno
import io
import json
import math
import platform
from pathlib import Path

import torch

from .data import IDX_FILES
from .engine import Run
from .models import count_parameters, get_model
from .paths import atomic_write_bytes, default_results_dir, smoke_results_dir
from .recipes import RECIPES, Recipe

FORMAT = 1
HISTORY_KEYS = ("epoch", "lr", "train_loss", "train_acc", "seconds")  # plus <split>_loss, <split>_acc
SPLIT_PREFIX = {"test": "test", "validation": "val"}


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
    stem = recipe.name
    if base is None:
        return stem
    if recipe.pipeline != base.pipeline:
        stem += f"-{recipe.pipeline}"
    if recipe.seed != base.seed:
        stem += f"-seed{recipe.seed}"
    changed = {
        k: v for k, v in recipe.to_dict().items() if k not in ("name", "pipeline", "seed") and v != base.to_dict()[k]
    }
    for key, value in changed.items():
        if isinstance(value, list):
            value = "_".join(map(str, value))
        elif isinstance(value, float):
            value = format(value, "g")
        stem += f"-{key}{value}"
    return stem


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
    need(record["format"] == FORMAT, f"format {record['format']} is not {FORMAT}")
    need(len(record["history"]) == record["epochs"] > 0, "history length does not match epochs")
    split = SPLIT_PREFIX.get(record.get("evaluated_on", "test"))
    need(split is not None, f"evaluated_on is {record.get('evaluated_on')!r}, not one of {list(SPLIT_PREFIX)}")
    keys = (*HISTORY_KEYS, f"{split}_loss", f"{split}_acc")
    for row in record["history"]:
        need(isinstance(row, dict) and all(k in row for k in keys), f"history row lacks {keys}")
        need(
            all(isinstance(row[k], (int, float)) and math.isfinite(row[k]) for k in keys),
            f"epoch {row.get('epoch')}: a value is not a finite number",
        )
        need(
            0 <= row["train_acc"] <= 100 and 0 <= row[f"{split}_acc"] <= 100,
            f"epoch {row['epoch']}: accuracy out of range",
        )
    return record


def load_record(path) -> dict:
    """Read and validate one JSON record."""
    path = Path(path)
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise RecordError(f"{path}: no such record; run `python -m mnist_kit train {path.stem}` first") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: unreadable ({exc})") from None
    return validate_record(record, str(path))


def load_trained_model(json_path) -> torch.nn.Module:
    """The model of a record with its saved weights (loaded with ``weights_only=True``), in eval mode."""
    record = load_record(json_path)
    model = get_model(record["model"], dropout=record["config"]["dropout"])
    state = torch.load(Path(json_path).with_suffix(".pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()
