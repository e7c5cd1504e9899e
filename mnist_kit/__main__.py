"""Command line: ``python -m mnist_kit data | train | sweep | frontier | ablation | search | report | grade | lab |
test``
(``--help`` on each).

``train`` with settings other than the course's recipe (``--epochs 5``, ``--seed 7``) records in ``my_runs/``, not
``results/``; ``--out DIR`` picks the folder. The course's own runs (each recipe as written, ``--pipeline classic``,
``--val``, ``sweep``, ``frontier``, ``ablation``, ``search``) go to ``results/``. Training commands read the smoke
switch ``MNIST_KIT_SMOKE`` once (``settings.resolve_smoke``); ``--smoke`` and ``--full`` override it. ``lab`` and
``test`` are what ``make lab`` and ``make test`` run, for machines without ``make`` (Windows).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from .paths import project_root
from .recipes import ABLATION_SEEDS, ABLATIONS, FRONTIER, FRONTIER_2, FRONTIER_SEEDS, RECIPES, SEARCH_SEEDS

DEVICES = ("cpu", "cuda", "mps")  # devices.DEVICES, named here so that --help and report need no torch


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _add_run_options(*subs) -> None:
    """The options every training command shares: epochs, device, data, where records go, run length."""
    for sub in subs:
        sub.add_argument("--epochs", type=_positive_int, help="override the recipe's 15 epochs")
        sub.add_argument("--device", choices=list(DEVICES), help="default: cuda, else mps, when available")
        sub.add_argument("--data-root", help="folder holding MNIST/raw")
        sub.add_argument(
            "--out",
            "--results-dir",
            dest="results_dir",
            help="where full records go (default: ./results; ./my_runs for a train run that differs from the recipe)",
        )
        length = sub.add_mutually_exclusive_group()
        length.add_argument(
            "--smoke",
            action="store_const",
            const=True,
            help="1 epoch on a small real subset; recorded in a scratch folder, never in results/ "
            "(default: $MNIST_KIT_SMOKE=1 means --smoke, 0 or unset --full)",
        )
        length.add_argument("--full", dest="smoke", action="store_const", const=False, help="a full-length run")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_kit", description="The mnist-kit course tools.")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{data,train,sweep,frontier,ablation,search,report,grade,lab,test}"
    )

    data = commands.add_parser("data", help="prepare and verify MNIST in torchvision's layout")
    data.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")

    train = commands.add_parser("train", help="train one recipe and record the run")
    train.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    sweep = commands.add_parser("sweep", help="train one recipe on several seeds and record each run")
    sweep.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    sweep.add_argument("--seeds", type=int, nargs="+", required=True, help="e.g. --seeds 1 2 3")
    frontier, ablation = _frontier_and_ablation_parsers(commands)
    search = _search_parser(commands)
    _add_parallel_options(sweep, frontier, ablation, search)
    _add_run_options(train, sweep, frontier, ablation, search)
    for sub in (train, sweep):
        sub.add_argument("--pipeline", choices=["fast", "classic"], help="data pipeline (default: the recipe's)")
        sub.add_argument(
            "--val",
            action="store_true",
            help="tuning run: train on the first 50,000 training images, evaluate on the last 10,000 "
            "(never the test set); recorded under results/validation/",
        )

    report = commands.add_parser("report", help="rewrite the README's result tables from results/")
    report.add_argument("--check", action="store_true", help="only check; fail if the README is stale")
    report.add_argument("--readme", help="default: the checkout's README.md")
    report.add_argument("--results-dir", help="default: ./results")

    grade = commands.add_parser(
        "grade", help="check a run record against the assignment's rules (exit 1: a rule fails)"
    )
    grade.add_argument("record", help="a run record, e.g. my_runs/model_1.json")

    lab = commands.add_parser("lab", help="prepare MNIST, then open the notebooks in JupyterLab (what `make lab` does)")
    test = commands.add_parser(
        "test", help="prepare MNIST, lint, run every test and notebook, check the README (what `make test` does)"
    )
    for sub in (lab, test):
        sub.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")
    return parser


def _frontier_and_ablation_parsers(commands):
    frontier = commands.add_parser(
        "frontier",
        help="train the parameter-budget frontier (notebook 5): each network on Model_4's recipe, then on attempt 2's",
    )
    series = [*FRONTIER, *FRONTIER_2]
    frontier.add_argument(
        "--networks", nargs="+", choices=series, default=series, help="default: both series (recipes.FRONTIER_SERIES)"
    )
    frontier.add_argument("--seeds", type=int, nargs="+", default=list(FRONTIER_SEEDS))
    frontier.add_argument(
        "--again", action="store_true", help="retrain seeds already in results/frontier/ (default: skip them)"
    )
    ablation = commands.add_parser(
        "ablation", help="train each change of notebooks 2 and 3 on its own, on the validation split"
    )
    ablation.add_argument("--names", nargs="+", choices=list(ABLATIONS), default=list(ABLATIONS))
    ablation.add_argument("--seeds", type=int, nargs="+", default=list(ABLATION_SEEDS))
    return frontier, ablation


def _search_parser(commands):
    search = commands.add_parser(
        "search", help="the stronger-recipe search: train each candidate on the validation split, judge the round"
    )
    search.add_argument("which", choices=list(SEARCH_SEEDS), help="which search: Model_5's or Model_4's")
    search.add_argument("--names", nargs="+", help="some candidates only (default: all; recipes.SEARCH_MODEL_5, _4)")
    search.add_argument("--seeds", type=int, nargs="+", help="default: the search's (model_5: 1 2; model_4: 1-4)")
    search.add_argument(
        "--again", action="store_true", help="retrain seeds already in results/validation/ (default: skip them)"
    )
    search.add_argument(
        "--judge",
        action="store_true",
        help="train nothing: judge the round from results/validation/ into results/tuning/<which>.json",
    )
    return search


def _add_parallel_options(*subs) -> None:
    for sub in subs:
        sub.add_argument(
            "--jobs",
            type=_positive_int,
            help="runs side by side, one thread each (default: one per physical core on a CPU, "
            "4 per GPU: parallel.GPU_RUNS_PER_DEVICE); 1: one after another in this process, as before",
        )
        sub.add_argument(
            "--backend",
            choices=["local", "ray"],
            default="local",
            help="local: processes on this machine; ray: one Ray task per run (pip install -e '.[cluster]')",
        )
        sub.add_argument("--ray-address", help="the Ray cluster to join (default: $RAY_ADDRESS, else a local Ray)")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .data import DataError, prepare_mnist

    try:
        if args.command == "data":
            prepare_mnist(args.data_root)
            return 0
        if args.command == "report":
            return _report(args)
        if args.command == "grade":
            return _grade(args)
        if args.command == "lab":
            prepare_mnist(args.data_root)
            return _lab()
        if args.command == "test":
            prepare_mnist(args.data_root)
            return _test()
        if args.command == "search" and args.judge:
            return _judge(args)
        return _train(args)
    except (DataError, ValueError) as exc:  # RecordError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _train(args) -> int:
    from .engine import get_device
    from .parallel import RunsFailed
    from .recipes import get_recipe
    from .runs import ablation, frontier, search, sweep, train_and_record
    from .settings import resolve_smoke

    # On Ray the runs' device is the cluster's: --device cuda asks it for GPU shares, the driver needs none.
    device = (args.device or "cpu") if getattr(args, "backend", "local") == "ray" else get_device(args.device)
    smoke = resolve_smoke(args.smoke)  # the switch, read once; a flag overrides it
    common = dict(
        smoke=smoke, results_dir=args.results_dir, epochs=args.epochs, device=device, data_root=args.data_root
    )
    try:
        if args.command == "frontier":
            _paths, finished = frontier(
                args.networks, args.seeds, again=args.again, **common, **_parallel(args, device)
            )
            return 0 if finished else 130
        if args.command == "ablation":
            _paths, finished = ablation(args.names, args.seeds, **common, **_parallel(args, device))
            return 0 if finished else 130
        if args.command == "search":
            search_args = dict(again=args.again, **common, **_parallel(args, device))
            _paths, finished = search(args.which, args.names, args.seeds, **search_args)
            return 0 if finished else 130
        recipe = get_recipe(args.recipe).with_overrides(pipeline=args.pipeline)
        common["validation"] = args.val
        if args.command == "sweep":
            _paths, finished = sweep(recipe, args.seeds, **common, **_parallel(args, device))
            return 0 if finished else 130
    except RunsFailed as exc:
        print(f"error: {exc}; the other runs are recorded", file=sys.stderr)
        return 1
    common["results_dir"] = _train_dir(args, recipe, smoke)
    run, path = train_and_record(recipe, seed=args.seed, **common)
    if path is None:
        print("No epoch finished; nothing recorded.")
    return 130 if run.interrupted else 0


def _parallel(args, device) -> dict:
    """``jobs``, ``backend`` and ``ray_address`` for sweep, frontier and ablation."""
    from .parallel import default_jobs

    jobs = args.jobs if args.jobs is not None else default_jobs(device)
    return dict(jobs=jobs, backend=args.backend, ray_address=args.ray_address)


def _judge(args) -> int:
    """``search --judge``: the round from the records already there, trained nothing; prints its table."""
    from .paths import default_results_dir
    from .readme import search_table
    from .runs import judge_search
    from .tuning import search_candidates

    search_candidates(args.which, args.names)  # an unknown name is an error here too
    results_dir = args.results_dir or default_results_dir()
    print(judge_search(results_dir, args.which))
    print(search_table(results_dir, args.which))
    return 0


def _train_dir(args, recipe, smoke: bool):
    """Where ``train`` records: ``--out``, else ``my_runs/`` when the settings differ from the course's recipe."""
    from .paths import my_runs_dir
    from .records import record_stem

    changed = record_stem(recipe.with_overrides(epochs=args.epochs, seed=args.seed)) != record_stem(recipe)
    if args.results_dir is not None or args.val or smoke or not changed:
        return args.results_dir
    print(f"Settings differ from the course's {recipe.name}: recording in {my_runs_dir()} (--out DIR picks another)")
    return my_runs_dir()


def _grade(args) -> int:
    from .grade import grade

    result = grade(args.record)
    print(result)
    return 0 if result.passed else 1


def _report(args) -> int:
    from .readme import update_readme

    fresh = update_readme(args.readme, args.results_dir, check=args.check)
    if args.check and not fresh:
        print("error: the README's result tables are stale; run `python -m mnist_kit report`", file=sys.stderr)
        return 1
    print("README tables are up to date." if fresh else "README tables rewritten from results/.")
    return 0


def _lab() -> int:
    """JupyterLab on ``notebooks/`` (``--allow-root`` as root: Docker, cloud machines); returns its exit status."""
    root = hasattr(os, "getuid") and os.getuid() == 0  # no getuid on Windows
    command = [sys.executable, "-m", "jupyter", "lab", *(["--allow-root"] if root else []), "notebooks"]
    with subprocess.Popen(command, cwd=project_root()) as server:
        while True:
            try:
                return server.wait()
            except KeyboardInterrupt:  # JupyterLab got the Ctrl-C too: it asks whether to stop; wait for it
                continue


TEST_STEPS = (
    ("-m", "ruff", "check", "."),
    ("-m", "ruff", "format", "--check", "."),
    ("-m", "pytest", "--nbval-lax"),
    ("-m", "mnist_kit", "report", "--check"),
)


def _test() -> int:
    """Lint, the unit tests and every notebook (smoke runs: the root conftest.py), then the README's tables;
    stops at the first step that fails and returns its exit status."""
    for step in TEST_STEPS:
        command = [sys.executable, *step]
        print("$ python " + " ".join(step), flush=True)
        status = subprocess.run(command, cwd=project_root()).returncode
        if status != 0:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
