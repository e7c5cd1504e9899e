"""Training runs that leave a record: ``train_and_record`` (one run) and ``sweep`` (one run per seed).

How long a run is depends on one switch, ``MNIST_KIT_SMOKE``: ``1`` makes every run a smoke run (one
epoch on a small real subset, recorded in a scratch folder); unset or ``0``, runs are full length.
The root ``conftest.py`` (every pytest run, the notebooks' kernels included) and ``.ci/run`` set it
to ``1``. What the notebooks and ``python -m mnist_kit train`` / ``sweep`` call.
"""

from __future__ import annotations

import os
from pathlib import Path

from .engine import fit
from .paths import default_results_dir
from .recipes import get_recipe
from .records import frontier_records, record_stem, save_run

SMOKE_ENV = "MNIST_KIT_SMOKE"


def smoke_mode() -> bool:
    """True when ``MNIST_KIT_SMOKE=1``: runs are smoke runs (1 epoch on a small real subset)."""
    value = os.environ.get(SMOKE_ENV, "0").strip()
    if value not in ("0", "1", ""):
        raise ValueError(f"{SMOKE_ENV} must be 1 (smoke runs) or 0 (full runs), got {value!r}")
    return value == "1"


def train_and_record(recipe, *, smoke: bool | None = None, results_dir=None, stem=None, **fit_args):
    """``fit`` a recipe and record it; returns ``(run, json_path)`` (path None when no epoch finished).

    ``smoke`` defaults to ``smoke_mode()``: short runs under pytest and CI, full runs for a student in
    JupyterLab. ``validation=True`` (passed on to ``fit``) is recorded under ``results/validation/``.
    """
    run = fit(recipe, smoke=smoke_mode() if smoke is None else smoke, **fit_args)
    path = save_run(run, results_dir, stem) if run.history else None
    if path is not None:
        kind = "smoke" if run.smoke else ("full" if run.complete else "partial")
        print(f"Recorded {kind} run: {path.name} in {path.parent.name}/")
    return run, path


def sweep(
    recipe, seeds, *, smoke: bool | None = None, results_dir=None, folder: str = "sweep", **fit_args
) -> tuple[list[Path], bool]:
    """Train one recipe once per seed, recorded as ``results/<folder>/<recipe>-seed<S>.json``; returns the
    records written and whether it finished (False after Ctrl-C: the seeds after it are not trained, the
    interrupted seed's finished epochs are recorded under ``partial/``)."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    paths = []
    for seed in seeds:
        stem = f"{record_stem(recipe)}-seed{seed}"
        run, path = train_and_record(recipe, smoke=smoke, seed=seed, results_dir=base / folder, stem=stem, **fit_args)
        if path is not None:
            paths.append(path)
        if run.interrupted:
            print(f"Sweep stopped at seed {seed}; the finished seeds are recorded.")
            return paths, False
    return paths, True


def frontier(
    names, seeds, *, again: bool = False, smoke: bool | None = None, results_dir=None, **fit_args
) -> tuple[list[Path], bool]:
    """Train each network of the frontier (recipe names) once per seed, recorded in ``results/frontier/``;
    returns the records written and whether it finished (False after Ctrl-C).

    A seed already recorded with the same settings is not trained again, so an interrupted frontier picks up
    where it stopped; ``again=True`` retrains the seeds of ``results/frontier/``. Seeds recorded in
    ``results/sweep/`` (Model_4's and Model_5's sweeps) are always read where they are
    (``records.frontier_records``), never trained twice.
    """
    smoke = smoke_mode() if smoke is None else smoke
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    paths = []
    for name in names:
        recipe = get_recipe(name)
        folders = ("sweep",) if again else ("sweep", "frontier")
        done = set() if smoke else {r["seed"] for r in frontier_records(base, recipe, folders)}
        todo = [seed for seed in seeds if seed not in done]
        if len(todo) < len(seeds):
            print(f"{name}: seeds {', '.join(str(s) for s in seeds if s in done)} already recorded, not trained again")
        new, finished = sweep(recipe, todo, smoke=smoke, results_dir=base, folder="frontier", **fit_args)
        paths += new
        if not finished:
            print("Frontier stopped; the finished runs are recorded.")
            return paths, False
    return paths, True
