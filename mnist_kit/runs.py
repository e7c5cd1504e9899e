"""Training runs that leave a record: ``train_and_record`` (one run) and ``run_study`` (every run of a study of
``studies.STUDIES``: one job per recipe and seed, through ``parallel.run_jobs``, one at a time or side by side with
``jobs``); ``sweep``, ``frontier``, ``ablation`` and ``search`` are its short forms.

How long a run is depends on one switch, ``MNIST_KIT_SMOKE`` (``settings``): ``1`` makes every run a smoke run
(one epoch on a small real subset, recorded in a scratch folder); unset or ``0``, runs are full length; any
other value is an error. It is read once, where a run starts: ``python -m mnist_kit train | study |
sweep | frontier | ablation | search`` reads it and passes ``smoke`` on (``--smoke`` / ``--full`` override it);
the functions below (``settings.resolves_smoke``) read it when they are not told ``smoke=`` (the notebooks call
them so). The root ``conftest.py`` (every pytest run, the notebooks' kernels included) and ``.ci/run`` set it
to ``1``; nothing else (no CI or pytest variable) is consulted. What the notebooks and the command line call.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from .engine import fit
from .parallel import Job, run_jobs
from .paths import default_results_dir
from .recipes import get_recipe
from .records import record_stem, save_run
from .settings import SMOKE_ENV, resolves_smoke, smoke_mode
from .studies import Study, get_study, search_study
from .study_records import study_records
from .tuning import load_tuning, round_path, write_round

__all__ = ["SMOKE_ENV", "smoke_mode", "train_and_record", "run_study", "study_jobs", "study_state"]
__all__ += ["sweep", "frontier", "ablation", "search", "judge_search"]


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


def study_state(study: Study, results_dir=None) -> str:
    """``present``, ``missing`` or ``partial (n of m runs)``: what ``study --list`` says of a study's records."""
    if study.kind == "screen":  # round 4 of results/tuning/<base>.json: every horizon on every seed of the study
        path = round_path(results_dir or default_results_dir(), study.base)
        summary = load_tuning(path).get("round_4_summary", {}) if path.exists() else {}
        have = bool(summary) and all(tuple(h["seeds"]) == study.seeds for h in summary.values())
        return "present" if have else "missing"
    found = study_records(study, results_dir)
    have, want = sum(len(seeds) for seeds in found.values()), len(study.recipes) * len(study.seeds)
    return "present" if have == want else "missing" if not have else f"partial ({have} of {want} runs)"


def study_jobs(study: Study, seeds, names=None, *, again=False, smoke: bool, results_dir, **fit_args) -> list[Job]:
    """The runs of a study still to train: each recipe (or those of ``names``) on each seed, but a seed already
    recorded (``study_records``; never in smoke mode) is trained again only with ``again``, over its own file,
    and never when it was recorded in a folder the study only ``reads``."""
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    done = {} if smoke else study_records(replace(study, seeds=tuple(seeds)), base, fit_args.get("epochs"))
    args = dict(fit_args, smoke=smoke, validation=study.split == "validation")
    todo = []
    for name in names or study.recipe_names:
        recipe, have = study.recipe(name), done.get(name, {})
        kept = [s for s in seeds if s in have and (not again or have[s].folder != study.folder)]
        if kept:
            print(f"{name}: seeds {', '.join(map(str, kept))} already recorded, not trained again")
        for seed in (s for s in seeds if s not in kept):
            stem = have[seed].stem if seed in have else _stem(recipe, seed, fit_args.get("epochs"))
            network = study.networks.get(recipe.model)
            run_args = dict(args, seed=seed, **({"model": network} if network is not None else {}))
            todo.append(Job(recipe, seed, stem, base, study.folder, run_args))
    return todo


def _stem(recipe, seed: int, epochs: int | None) -> str:
    """``<recipe>-seed<S>``, ``-epochs<E>`` added for a run of another length, so it never replaces a full run."""
    return f"{record_stem(recipe)}-seed{seed}" + (f"-epochs{epochs}" if epochs and epochs != recipe.epochs else "")


@resolves_smoke
def run_study(
    study: Study | str,
    seeds=None,
    names=None,
    *,
    again: bool = False,
    smoke: bool | None = None,
    results_dir=None,
    jobs: int = 1,
    backend: str = "local",
    ray_address: str | None = None,
    **fit_args,
) -> tuple[list[Path], bool]:
    """Train a study (a ``Study`` or its name in ``studies.STUDIES``): its recipes (or ``names``) on its seeds (or
    ``seeds``), ``jobs`` at a time (``parallel.run_jobs``: 1 is one after another in this process; ``backend="ray"``
    sends each run to Ray); returns the records written and whether it finished (False after Ctrl-C: every
    finished epoch is kept, under ``partial/`` for a cut run). A finished full search judges its round into
    ``results/tuning/<base>.json``; smoke runs never enter a round. A failing run raises ``parallel.RunsFailed``
    once the others are done."""
    study = get_study(study) if isinstance(study, str) else study
    if study.kind == "screen":
        raise ValueError(f"{study.name} trains no run records: run tools/screen_ema.py (its docstring says how)")
    seeds = tuple(study.seeds if seeds is None else seeds)
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    todo = study_jobs(study, seeds, names, again=again, smoke=smoke, results_dir=base, **fit_args)
    batch = run_jobs(todo, jobs, backend, ray_address)
    if study.kind == "search" and batch.finished:
        print(
            "Smoke runs never enter a round: results/tuning/ is left as it is." if smoke else judge_search(base, study)
        )
    return batch.paths, batch.finished


# --- the short forms: python -m mnist_kit sweep | frontier | ablation | search ---------------------------------


def sweep(recipe, seeds, *, validation: bool = False, folder: str | None = None, **options) -> tuple[list[Path], bool]:
    """Train one recipe (a ``Recipe`` or its name) once per seed, recorded as ``results/sweep/<stem>-seed<S>.json``
    (``validation``: in ``results/validation/``; ``folder``: in that one), every seed trained again; ``run_study``'s
    options."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    split = "validation" if validation else "test"
    folder = folder or ("validation" if validation else "sweep")
    study = Study(f"sweep {recipe.name}", "sweep", (recipe,), tuple(seeds), "a sweep", split=split, folder=folder)
    return run_study(study, again=True, **options)


def frontier(names, seeds, **options) -> tuple[list[Path], bool]:
    """Train networks of the frontier's two series (``studies.STUDIES["frontier"]``, ``["frontier_b"]``: recipe
    names) once per seed into ``results/frontier/``; a seed already recorded is not trained again (``again=True``:
    those of ``results/frontier/`` are), and Model_4's and Model_5's sweep seeds are always read where they are."""
    series = [get_study("frontier"), get_study("frontier_b")]
    recipes = {r.name: r for s in series for r in s.recipes}
    unknown = [n for n in names if n not in recipes]
    if unknown:
        raise ValueError(f"unknown frontier network {', '.join(map(repr, unknown))}; choose from: {', '.join(recipes)}")
    study = replace(series[0], name="frontier", recipes=tuple(recipes[n] for n in names), seeds=tuple(seeds))
    return run_study(study, **options)


def ablation(names, seeds, **options) -> tuple[list[Path], bool]:
    """Train each change of the ablation study (``recipes.ABLATIONS`` names) once per seed on the validation
    split, recorded as ``results/ablation/<name>-seed<S>.json``, every seed trained again."""
    study = get_study("ablation")
    for name in names:
        if name not in study.recipe_names:
            raise ValueError(f"unknown ablation {name!r}; choose one of: {', '.join(study.recipe_names)}")
    return run_study(study, seeds, names, again=True, **options)


def search(which: str, names=None, seeds=None, **options) -> tuple[list[Path], bool]:
    """Train the candidates of a search (``which``: ``"model_5"`` or ``"model_4"``, its study
    ``studies.STUDIES["search_<which>"]``; ``names``: some of them) on the validation split, into
    ``results/validation/``; see ``run_study`` (a candidate's seed already recorded is not trained again)."""
    study = search_study(which)
    _candidates(study, names)
    return run_study(study, seeds, names, **options)


def _candidates(study: Study, names) -> None:
    unknown = [n for n in names or () if n not in study.recipe_names]
    if unknown:
        raise ValueError(
            f"unknown candidate {', '.join(map(repr, unknown))} of the {study.base} search; "
            f"choose from: {', '.join(study.recipe_names)}"
        )


def judge_search(results_dir, study: Study | str) -> str:
    """Judge a search's round from its records (``tuning.write_round``); returns the line that says so."""
    which = study.base if isinstance(study, Study) else study
    result = write_round(results_dir, which)
    incomplete = sum(c["rank"] is None for c in result["candidates"])
    verdict = f"winner {result['winner']} (by the {result['decided_by']})" if result["winner"] else "nothing ranked"
    verdict += f"; {incomplete} candidate(s) incomplete, not ranked" if incomplete else ""
    return f"Round judged into {round_path(results_dir, which)}: {verdict}"
