"""Command line: ``python -m mnist_kit data | train | study | sweep | frontier | ablation | search | report | grade |
lab | test`` (``--help`` on each).

``study NAME`` runs a study of ``studies.STUDIES`` (its recipes on its seeds), prints its table and judges its goal;
``study --list`` lists every study with its records present or missing. ``sweep``, ``frontier``, ``ablation`` and
``search`` are short forms of it.

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
from .recipes import RECIPES
from .studies import STUDIES, get_study, of_kind
from .study_cli import parallel_options, study, study_parser

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


def build_parser(registry=None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_kit", description="The mnist-kit course tools.")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="{data,train,study,sweep,frontier,ablation,search,report,grade,lab,test}"
    )

    data = commands.add_parser("data", help="prepare and verify MNIST in torchvision's layout")
    data.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")

    train = commands.add_parser("train", help="train one recipe and record the run")
    train.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    sweep = commands.add_parser("sweep", help="train one recipe on several seeds and record each run")
    sweep.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    sweep.add_argument("--seeds", type=int, nargs="+", required=True, help="e.g. --seeds 1 2 3")
    study = study_parser(commands, STUDIES if registry is None else registry)
    frontier, ablation = _frontier_and_ablation_parsers(commands)
    search = _search_parser(commands)
    _add_parallel_options(study, sweep, frontier, ablation, search)
    _add_run_options(train, study, sweep, frontier, ablation, search)
    for sub in (train, sweep):
        sub.add_argument("--pipeline", choices=["fast", "classic"], help="data pipeline (default: the recipe's)")
        sub.add_argument(
            "--val",
            action="store_true",
            help="tuning run: train on the first 50,000 training images, evaluate on the last 10,000 "
            "(never the test set); recorded under results/validation/",
        )

    report = commands.add_parser(
        "report", help="rewrite the generated tables of README.md, docs/RESULTS.md and docs/INSTRUCTOR.md from results/"
    )
    report.add_argument("--check", action="store_true", help="only check; fail if a document is stale")
    report.add_argument("--root", help="the folder holding README.md and docs/ (default: the checkout)")
    report.add_argument("--results-dir", help="default: ./results")

    _add_grade_parser(commands)

    lab = commands.add_parser("lab", help="prepare MNIST, then open the notebooks in JupyterLab (what `make lab` does)")
    test = commands.add_parser(
        "test",
        help="prepare MNIST, lint, run every test and notebook, check the generated tables (what `make test` does)",
    )
    for sub in (lab, test):
        sub.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")
    return parser


def _frontier_and_ablation_parsers(commands):
    frontier = commands.add_parser(
        "frontier",
        help="train the parameter-budget frontier (notebooks 5, 6): each network on Model_4's recipe, then attempt 2's",
    )
    series = [name for study in of_kind("frontier") for name in study.recipe_names]
    frontier.add_argument(
        "--networks", nargs="+", choices=series, default=series, help="default: both series (studies: frontier*)"
    )
    frontier.add_argument("--seeds", type=int, nargs="+", default=list(get_study("frontier").seeds))
    frontier.add_argument(
        "--again", action="store_true", help="retrain seeds already in results/frontier/ (default: skip them)"
    )
    ablation = commands.add_parser(
        "ablation", help="train each change of notebooks 2 and 3 on its own, on the validation split"
    )
    names = list(get_study("ablation").recipe_names)
    ablation.add_argument("--names", nargs="+", choices=names, default=names)
    ablation.add_argument("--seeds", type=int, nargs="+", default=list(get_study("ablation").seeds))
    return frontier, ablation


def _search_parser(commands):
    search = commands.add_parser(
        "search", help="the stronger-recipe search: train each candidate on the validation split, judge the round"
    )
    search.add_argument(
        "which", choices=[s.base for s in of_kind("search")], help="which search: Model_5's or Model_4's"
    )
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


def _add_grade_parser(commands) -> None:
    grade = commands.add_parser(
        "grade",
        help="check a run record, or a folder of student folders, against the assignment's rules, on numbers its "
        "weights confirm (exit 0 pass, 1 a rule fails or tampered or copied, 2 usage, 3 unverified)",
    )
    grade.add_argument("record", help="a run record (my_runs/model_1.json), or a folder of one folder per student")
    grade.add_argument("--csv", help="a folder's gradebook: one row per student (written atomically)")
    grade.add_argument("--feedback", help="a folder's feedback: one Markdown file per student, in this folder")
    grade.add_argument("--retrain", action="store_true", help="train each recipe again and compare its curve")
    grade.add_argument("--device", choices=list(DEVICES), help="--retrain's device (default: cuda, else mps)")
    length = grade.add_mutually_exclusive_group()
    length.add_argument("--smoke", action="store_const", const=True, help="--retrain as smoke runs")
    length.add_argument("--full", dest="smoke", action="store_const", const=False, help="--retrain at full length")
    _add_parallel_options(grade)


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


def main(argv=None, registry=None) -> int:
    """Run one command; ``registry``: the studies ``study`` knows (default ``studies.STUDIES``)."""
    registry = STUDIES if registry is None else registry
    args = build_parser(registry).parse_args(argv)
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
        if args.command == "study":
            return study(args, registry)
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
                args.networks, args.seeds, again=args.again, **common, **parallel_options(args, device)
            )
            return 0 if finished else 130
        if args.command == "ablation":
            _paths, finished = ablation(args.names, args.seeds, **common, **parallel_options(args, device))
            return 0 if finished else 130
        if args.command == "search":
            search_args = dict(again=args.again, **common, **parallel_options(args, device))
            _paths, finished = search(args.which, args.names, args.seeds, **search_args)
            return 0 if finished else 130
        recipe = get_recipe(args.recipe).with_overrides(pipeline=args.pipeline)
        common["validation"] = args.val
        if args.command == "sweep":
            _paths, finished = sweep(recipe, args.seeds, **common, **parallel_options(args, device))
            return 0 if finished else 130
    except RunsFailed as exc:
        print(f"error: {exc}; the other runs are recorded", file=sys.stderr)
        return 1
    common["results_dir"] = _train_dir(args, recipe, smoke)
    run, path = train_and_record(recipe, seed=args.seed, **common)
    if path is None:
        print("No epoch finished; nothing recorded.")
    return 130 if run.interrupted else 0


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
    """One record: its verified grade, exit status by verdict (grade.EXIT_STATUS). A folder: the class, exit 0 once
    the gradebook is written (the verdicts are in it)."""
    from pathlib import Path

    from .grade import grade_verified
    from .gradebook import grade_class, summary, write_gradebook

    if Path(args.record).is_dir():
        rows = grade_class(args.record)
        write_gradebook(rows, args.csv, args.feedback)
        print(summary(rows))
        paths = {row.student: row.record for row in rows if row.result is not None and row.result.evidence}
    else:
        if args.csv or args.feedback:
            raise ValueError("--csv and --feedback grade a folder of submissions, not one record")
        result = grade_verified(args.record)
        print(result)
        paths = {Path(args.record).stem: Path(args.record)}
    if args.retrain:
        from .engine import get_device
        from .retrain import retrain

        device = (args.device or "cpu") if args.backend == "ray" else get_device(args.device)
        print(retrain(paths, device=device, smoke=args.smoke, **parallel_options(args, device)))
    return 0 if Path(args.record).is_dir() else result.exit_status


def _report(args) -> int:
    from .readme import update_documents

    stale = ", ".join(update_documents(args.root, args.results_dir, check=args.check))
    if args.check and stale:
        print(f"error: the generated tables of {stale} are stale; run `python -m mnist_kit report`", file=sys.stderr)
        return 1
    print(f"Tables rewritten from results/ in {stale}." if stale else "Generated tables are up to date.")
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
    """Lint, the unit tests and every notebook (smoke runs: the root conftest.py), then the generated tables;
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
