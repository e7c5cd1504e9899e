"""Run records: ``results/<name>.json`` (metrics and provenance) and ``results/<name>.pt`` (weights).

Both are written atomically. A smoke run is recorded in a scratch folder and an interrupted
run under ``results/partial/``, so neither can replace a full record. Taught in every
notebook's "Results" section.
"""
from __future__ import annotations

import io
import json
import math
import platform
from pathlib import Path

import torch

from .data import IDX_FILES
from .engine import Run, fit, smoke_mode
from .models import count_parameters, get_model
from .recipes import get_recipe, record_stem
from .paths import atomic_write_bytes, default_results_dir, smoke_results_dir

FORMAT = 1
HISTORY_KEYS = ("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "seconds")


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
        "device": run.device,
        "device_name": run.device_name,
        "started_at": run.started_at,
        "wall_seconds": round(run.seconds, 2),
        "versions": {"mnist_kit": __version__, "torch": torch.__version__, "torchvision": torchvision.__version__,
                     "python": platform.python_version()},
        "data_md5": {name: md5 for name, (md5, _size) in IDX_FILES.items()},  # verified before training
        "history": run.history,
    }


def record_dir(run: Run, results_dir=None) -> Path:
    """Where a run belongs: smoke runs in the scratch folder, unfinished runs in ``partial/``."""
    if run.smoke:
        return smoke_results_dir()
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    return base if run.complete else base / "partial"


def save_run(run: Run, results_dir=None, stem: str | None = None) -> Path:
    """Write ``<stem>.json`` and ``<stem>.pt`` (stem: ``recipes.record_stem``); returns the JSON path."""
    folder = record_dir(run, results_dir)
    stem = stem or record_stem(run.recipe)
    weights = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in run.model.state_dict().items()}, weights)
    atomic_write_bytes(folder / f"{stem}.pt", weights.getvalue())
    path = folder / f"{stem}.json"
    atomic_write_bytes(path, (json.dumps(run_record(run), indent=1) + "\n").encode())
    return path


def train_and_record(recipe, *, smoke: bool | None = None, results_dir=None, stem=None, **fit_args):
    """``fit`` a recipe and record it; returns ``(run, json_path)`` (path None when no epoch finished).

    ``smoke`` defaults to ``engine.smoke_mode()``: short runs under pytest and CI, full runs for a
    student in JupyterLab. What the notebooks and ``python -m mnist_kit train`` call.
    """
    run = fit(recipe, smoke=smoke_mode() if smoke is None else smoke, **fit_args)
    path = save_run(run, results_dir, stem) if run.history else None
    if path is not None:
        kind = "smoke" if run.smoke else ("full" if run.complete else "partial")
        print(f"Recorded {kind} run: {path}")
    return run, path


def sweep(recipe, seeds, *, smoke: bool | None = None, results_dir=None, **fit_args) -> list[Path]:
    """Train one recipe once per seed, recorded as ``results/sweep/<recipe>-seed<S>.json``."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    paths = []
    for seed in seeds:
        stem = f"{record_stem(recipe)}-seed{seed}"
        run, path = train_and_record(recipe, smoke=smoke, seed=seed, results_dir=base / "sweep",
                                     stem=stem, **fit_args)
        if path is not None:
            paths.append(path)
        if run.interrupted:
            print(f"Sweep stopped at seed {seed}; the finished seeds are recorded.")
            break
    return paths


def validate_record(record: dict, source: str = "record") -> dict:
    """Raise ``RecordError`` unless ``record`` has the fields and values a report relies on."""
    def need(cond, why):
        if not cond:
            raise RecordError(f"{source}: {why}")

    need(isinstance(record, dict), "not a JSON object")
    for key, kind in (("format", int), ("recipe", str), ("model", str), ("parameters", int), ("seed", int),
                      ("epochs", int), ("complete", bool), ("smoke", bool), ("device", str),
                      ("device_name", str), ("wall_seconds", (int, float)), ("history", list)):
        need(isinstance(record.get(key), kind), f"field {key!r} missing or not {getattr(kind, '__name__', kind)}")
    need(record["format"] == FORMAT, f"format {record['format']} is not {FORMAT}")
    need(len(record["history"]) == record["epochs"] > 0, "history length does not match epochs")
    for row in record["history"]:
        need(isinstance(row, dict) and all(k in row for k in HISTORY_KEYS), f"history row lacks {HISTORY_KEYS}")
        need(all(isinstance(row[k], (int, float)) and math.isfinite(row[k]) for k in HISTORY_KEYS),
             f"epoch {row.get('epoch')}: a value is not a finite number")
        need(0 <= row["train_acc"] <= 100 and 0 <= row["test_acc"] <= 100, f"epoch {row['epoch']}: accuracy out of range")
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
