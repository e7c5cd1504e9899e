"""Training runs that leave a record: ``train_and_record`` (one run), ``sweep`` (one run per seed),
``frontier``, ``ablation`` and ``search`` (one run per network, change or candidate and seed; side by side with
``jobs``).

How long a run is depends on one switch, ``MNIST_KIT_SMOKE`` (``settings``): ``1`` makes every run a smoke run
(one epoch on a small real subset, recorded in a scratch folder); unset or ``0``, runs are full length; any
other value is an error. It is read once, where a run starts: ``python -m mnist_kit train | sweep | frontier |
ablation | search`` reads it and passes ``smoke`` on (``--smoke`` / ``--full`` override it); the functions below
(``settings.resolves_smoke``) read it when they are not told ``smoke=`` (the notebooks call them so). The root
``conftest.py`` (every pytest run, the notebooks' kernels included) and ``.ci/run`` set it to ``1``; nothing else
(no CI or pytest variable) is consulted. What the notebooks and the command line call.
"""

from __future__ import annotations

from pathlib import Path

from .engine import fit
from .parallel import Job, run_jobs
from .paths import default_results_dir
from .recipes import ABLATIONS, SEARCH_SEEDS, get_recipe
from .records import frontier_records, record_stem, save_run
from .settings import SMOKE_ENV, resolves_smoke, smoke_mode
from .tuning import found_records, round_path, search_candidates, write_round

__all__ = ["SMOKE_ENV", "smoke_mode", "train_and_record", "sweep", "sweep_jobs", "frontier", "ablation", "search"]
__all__ += ["judge_search"]


@resolves_smoke
def train_and_record(recipe, *, smoke: bool | None = None, results_dir=None, stem=None, **fit_args):
    """``fit`` a recipe and record it; returns ``(run, json_path)`` (path None when no epoch finished).

    ``smoke`` defaults to ``smoke_mode()``: short runs under pytest and CI, full runs for a student in
    JupyterLab. ``validation=True`` (passed on to ``fit``) is recorded under ``results/validation/``.
    """
    run = fit(recipe, smoke=smoke, **fit_args)
    path = save_run(run, results_dir, stem) if run.history else None
    if path is not None:
        kind = "smoke" if run.smoke else ("full" if run.complete else "partial")
        print(f"Recorded {kind} run: {path.name} in {path.parent.name}/")
    return run, path


@resolves_smoke
def sweep(
    recipe,
    seeds,
    *,
    smoke: bool | None = None,
    results_dir=None,
    folder: str = "sweep",
    jobs: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    **fit_args,
) -> tuple[list[Path], bool]:
    """Train one recipe once per seed, recorded as ``results/<folder>/<recipe>-seed<S>.json``; returns the
    records written and whether it finished (False after Ctrl-C: the seeds after it are not trained, the
    interrupted seed's finished epochs are recorded under ``partial/``).

    ``jobs`` > 1 trains that many seeds at a time, one thread each; ``backend="ray"`` sends each seed to Ray
    (``parallel.run_jobs``). Side by side, a failing seed raises ``parallel.RunsFailed`` once the others are done.
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    if jobs > 1 or backend != "local":
        todo = sweep_jobs(recipe, seeds, smoke=smoke, results_dir=base / folder, **fit_args)
        batch = run_jobs(todo, jobs, backend, ray_address)
        return batch.paths, batch.finished
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


def sweep_jobs(recipe, seeds, *, smoke: bool, results_dir, **fit_args) -> list[Job]:
    """The runs of a sweep, recorded where ``sweep`` records them one after another."""
    return [
        Job(
            recipe, seed, f"{record_stem(recipe)}-seed{seed}", results_dir, None, dict(fit_args, seed=seed, smoke=smoke)
        )
        for seed in seeds
    ]


@resolves_smoke
def frontier(
    names,
    seeds,
    *,
    again: bool = False,
    smoke: bool | None = None,
    results_dir=None,
    jobs: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    **fit_args,
) -> tuple[list[Path], bool]:
    """Train each network of the frontier (recipe names) once per seed, recorded in ``results/frontier/``;
    returns the records written and whether it finished (False after Ctrl-C).

    A seed already recorded with the same settings is not trained again, so an interrupted frontier picks up
    where it stopped; ``again=True`` retrains the seeds of ``results/frontier/``. Seeds recorded in
    ``results/sweep/`` (Model_4's and Model_5's sweeps) are always read where they are
    (``records.frontier_records``), never trained twice. ``jobs``, ``backend``: as for ``sweep``, over all its runs.
    """
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    todo = {}
    for name in names:
        folders = ("sweep",) if again else ("sweep", "frontier")
        done = set() if smoke else {r["seed"] for r in frontier_records(base, get_recipe(name), folders)}
        todo[name] = [seed for seed in seeds if seed not in done]
        if len(todo[name]) < len(seeds):
            print(f"{name}: seeds {', '.join(str(s) for s in seeds if s in done)} already recorded, not trained again")
    if jobs > 1 or backend != "local":
        per_network = [
            sweep_jobs(get_recipe(n), todo[n], smoke=smoke, results_dir=base / "frontier", **fit_args) for n in names
        ]
        batch = run_jobs([job for network in per_network for job in network], jobs, backend, ray_address)
        return batch.paths, batch.finished
    paths = []
    for name in names:
        new, finished = sweep(
            get_recipe(name), todo[name], smoke=smoke, results_dir=base, folder="frontier", **fit_args
        )
        paths += new
        if not finished:
            print("Frontier stopped; the finished runs are recorded.")
            return paths, False
    return paths, True


@resolves_smoke
def ablation(
    names,
    seeds,
    *,
    smoke: bool | None = None,
    results_dir=None,
    jobs: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    **fit_args,
) -> tuple[list[Path], bool]:
    """Train each ablation (``recipes.ABLATIONS`` names) once per seed on the validation split, recorded as
    ``results/ablation/<name>-seed<S>.json``; returns the records written and whether it finished.
    ``jobs``, ``backend``: as for ``sweep``."""
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    todo = []
    for name in names:
        if name not in ABLATIONS:
            raise ValueError(f"unknown ablation {name!r}; choose one of: {', '.join(ABLATIONS)}")
        for seed in seeds:
            args = dict(fit_args, seed=seed, smoke=smoke, validation=True)
            todo.append(Job(ABLATIONS[name], seed, f"{name}-seed{seed}", base, "ablation", args))
    batch = run_jobs(todo, jobs, backend, ray_address)
    return batch.paths, batch.finished


@resolves_smoke
def search(
    which: str,
    names=None,
    seeds=None,
    *,
    again: bool = False,
    smoke: bool | None = None,
    results_dir=None,
    jobs: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    **fit_args,
) -> tuple[list[Path], bool]:
    """Train each candidate of a search (``which``: ``"model_5"`` or ``"model_4"``; ``recipes.SEARCH_MODEL_5``,
    ``SEARCH_MODEL_4``; ``names``: some of them) once per seed (default ``SEARCH_SEEDS[which]``) on the validation
    split, recorded as ``results/validation/<name>-seed<S>.json``; returns the records written and whether it
    finished (False after Ctrl-C). A seed with a full validation record of the candidate is not trained again
    (``tuning.found_records``: attempt 1's ``slim_5k_a.json`` is slim_5k_a's seed 1), so an interrupted search picks
    up where it stopped; ``again=True`` retrains it, over the same file. Once finished, a full search judges the
    round (every candidate, its seeds as the rule fixes them) into ``results/tuning/<which>.json``; smoke runs never
    enter a round. ``jobs``, ``backend``: as for ``sweep``."""
    candidates = search_candidates(which, names)
    seeds = tuple(SEARCH_SEEDS[which] if seeds is None else seeds)
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    done = {} if smoke else found_records(base, which, fit_args.get("epochs"))
    todo = []
    for name, recipe in candidates.items():
        have = done.get(name, {})
        skipped = [seed for seed in seeds if seed in have and not again]
        if skipped:
            print(f"{name}: seeds {', '.join(map(str, skipped))} already recorded, not trained again")
        for seed in (s for s in seeds if s not in skipped):
            stem = have[seed][0] if seed in have else _search_stem(recipe, seed, fit_args.get("epochs"))
            args = dict(fit_args, seed=seed, smoke=smoke, validation=True)
            todo.append(Job(recipe, seed, stem, base, "validation", args))
    batch = run_jobs(todo, jobs, backend, ray_address)
    if batch.finished and smoke:
        print("Smoke runs never enter a round: results/tuning/ is left as it is.")
    elif batch.finished:
        print(judge_search(base, which))
    return batch.paths, batch.finished


def judge_search(results_dir, which: str) -> str:
    """Judge a search's round from its records (``tuning.write_round``); returns the line that says so."""
    result = write_round(results_dir, which)
    incomplete = sum(c["rank"] is None for c in result["candidates"])
    verdict = f"winner {result['winner']} (by the {result['decided_by']})" if result["winner"] else "nothing ranked"
    verdict += f"; {incomplete} candidate(s) incomplete, not ranked" if incomplete else ""
    return f"Round judged into {round_path(results_dir, which)}: {verdict}"


def _search_stem(recipe, seed: int, epochs: int | None) -> str:
    """``<candidate>-seed<S>``, ``-epochs<E>`` added for a run of another length, so it never replaces a full run."""
    return f"{recipe.name}-seed{seed}" + (f"-epochs{epochs}" if epochs and epochs != recipe.epochs else "")
