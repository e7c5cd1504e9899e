"""The spot check for what rests on the record alone: ``retrain(paths) -> str`` trains each submitted recipe again
(``parallel.run_jobs``: ``--jobs``, ``--backend ray``) and compares the new curve with the recorded one.

On the same device and thread count a recipe reproduces its record bit for bit (the kit's determinism tests);
elsewhere the curves may part by as much as seeds do, so the gap is set beside the spread of final accuracies the
course measured for that recipe (``results/sweep/``), where there is one. A network of the student's own
(``custom:<Class>``) is not retrained: its class lives in the student's file, which this process never imports.
"""

from __future__ import annotations

import tempfile
from dataclasses import fields
from pathlib import Path

from .parallel import Job, RunsFailed, run_jobs
from .paths import default_results_dir
from .recipes import Recipe
from .records import current_sweep, load_record
from .settings import resolve_smoke
from .splits import accuracies
from .verify import CUSTOM


def recipe_of(record) -> Recipe:
    """The recipe a record was trained with, rebuilt from its config."""
    names = {f.name for f in fields(Recipe)}
    config = {k: tuple(v) if isinstance(v, list) else v for k, v in record.config.items() if k in names}
    return Recipe(**config)


def seed_spread(recipe: Recipe, results_dir=None) -> float | None:
    """Highest minus lowest final accuracy over the course's recorded seeds of this recipe (None: no sweep)."""
    folder = Path(results_dir or default_results_dir()) / "sweep"
    finals = [r.accuracies()[-1] for r in current_sweep(folder, recipe)] if folder.is_dir() else []
    return round(max(finals) - min(finals), 2) if len(finals) > 1 else None


def compare(student: str, record, again) -> str:
    """How the retrained curve (``again``) compares with the recorded one, in one line."""
    old, new = accuracies(record), accuracies(again)
    if again.smoke:
        return f"{student}: retrained as a smoke run ({len(new)} epoch on a subset): it trains; nothing to compare"
    if old == new:
        return f"{student}: reproduced bit for bit ({len(new)} epochs, {again.device_name})"
    gap = max(abs(a - b) for a, b in zip(old, new, strict=False))
    line = f"{student}: largest gap {gap:.2f} points over {min(len(old), len(new))} epochs; final {old[-1]:.2f} → "
    line += f"{new[-1]:.2f} % (recorded on {record.device_name}, retrained on {again.device_name})"
    if record.device_name == again.device_name:
        return line + "; the same device and threads should reproduce it exactly: look closer"
    spread = seed_spread(recipe_of(record))
    if spread is None:
        return line + "; the course has no seed sweep of this recipe to compare the gap with"
    verdict = "within" if abs(old[-1] - new[-1]) <= spread else "OUTSIDE"
    return line + f"; the final gap is {verdict} the {spread:.2f}-point spread of the course's seeds"


def retrain(paths: dict, *, device="cpu", jobs=1, backend="local", ray_address=None, smoke=None, out=None) -> str:
    """Train every ``{student: record path}`` again (custom networks aside) and compare; returns the report.
    Retrained records go to ``out`` (default: a new temporary folder), never beside the submissions."""
    smoke = resolve_smoke(smoke)
    out = Path(out or tempfile.mkdtemp(prefix="retrain-"))
    records = {student: load_record(path) for student, path in paths.items()}
    lines, jobs_list = [], []
    for student, record in records.items():
        if record.model.startswith(CUSTOM):
            lines.append(f"{student}: a network of the student's own ({record.model}) is not retrained here")
            continue
        # as many epochs as the record (a smoke run: fit's 1 epoch on a subset, only to show the recipe trains)
        fit_args = dict(seed=record.seed, smoke=smoke, device=device, epochs=None if smoke else record.epochs)
        jobs_list.append(Job(recipe_of(record), record.seed, student, out, None, fit_args))
    try:
        batch = run_jobs(jobs_list, jobs, backend, ray_address)
    except RunsFailed as exc:
        batch = exc.batch
    for outcome in batch.outcomes:
        if outcome.path is None:
            lines.append(f"{outcome.name}: not retrained ({outcome.error or 'stopped'})")
        else:
            lines.append(compare(outcome.name, records[outcome.name], load_record(outcome.path)))
    return "\n".join(["Retrained (records in " + str(out) + "):", *sorted(lines)])
