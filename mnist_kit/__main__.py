"""Command line: ``python -m mnist_kit data | train | sweep | frontier | report | grade`` (``--help`` on each).

``train`` with settings other than the course's recipe (``--epochs 5``, ``--seed 7``) records in ``my_runs/``, not
``results/``; ``--out DIR`` picks the folder. The course's own runs (each recipe as written, ``--pipeline classic``,
``--val``, ``sweep``, ``frontier``) go to ``results/``.
"""

from __future__ import annotations

import argparse
import sys

from .recipes import FRONTIER, FRONTIER_SEEDS, RECIPES


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mnist_kit", description="The mnist-kit course tools.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{data,train,sweep,frontier,report,grade}")

    data = commands.add_parser("data", help="prepare and verify MNIST in torchvision's layout")
    data.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")

    train = commands.add_parser("train", help="train one recipe and record the run")
    train.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    sweep = commands.add_parser("sweep", help="train one recipe on several seeds and record each run")
    sweep.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    sweep.add_argument("--seeds", type=int, nargs="+", required=True, help="e.g. --seeds 1 2 3")
    frontier = commands.add_parser(
        "frontier", help="train the parameter-budget frontier (notebook 5): each network on Model_4's recipe"
    )
    frontier.add_argument("--networks", nargs="+", choices=list(FRONTIER), default=list(FRONTIER))
    frontier.add_argument("--seeds", type=int, nargs="+", default=list(FRONTIER_SEEDS))
    frontier.add_argument(
        "--again", action="store_true", help="retrain seeds already in results/frontier/ (default: skip them)"
    )
    for sub in (train, sweep, frontier):
        sub.add_argument("--epochs", type=_positive_int, help="override the recipe's 15 epochs")
        sub.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
        sub.add_argument("--data-root", help="folder holding MNIST/raw")
        sub.add_argument(
            "--out",
            "--results-dir",
            dest="results_dir",
            help="where full records go (default: ./results; ./my_runs for a train run that differs from the recipe)",
        )
        sub.add_argument(
            "--smoke",
            action="store_true",
            help="1 epoch on a small real subset; recorded in a scratch folder, never in results/",
        )
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
    return parser


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
        return _train(args)
    except (DataError, ValueError) as exc:  # RecordError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _train(args) -> int:
    from .engine import get_device
    from .recipes import get_recipe
    from .runs import sweep, train_and_record

    device = get_device(args.device)
    common = dict(
        smoke=args.smoke, results_dir=args.results_dir, epochs=args.epochs, device=device, data_root=args.data_root
    )
    if args.command == "frontier":
        from .runs import frontier

        _paths, finished = frontier(args.networks, args.seeds, again=args.again, **common)
        return 0 if finished else 130
    recipe = get_recipe(args.recipe).with_overrides(pipeline=args.pipeline)
    common["validation"] = args.val
    if args.command == "sweep":
        _paths, finished = sweep(recipe, args.seeds, **common)
        return 0 if finished else 130
    common["results_dir"] = _train_dir(args, recipe)
    run, path = train_and_record(recipe, seed=args.seed, **common)
    if path is None:
        print("No epoch finished; nothing recorded.")
    return 130 if run.interrupted else 0


def _train_dir(args, recipe):
    """Where ``train`` records: ``--out``, else ``my_runs/`` when the settings differ from the course's recipe."""
    from .paths import my_runs_dir
    from .records import record_stem

    changed = record_stem(recipe.with_overrides(epochs=args.epochs, seed=args.seed)) != record_stem(recipe)
    if args.results_dir is not None or args.val or args.smoke or not changed:
        return args.results_dir
    print(f"Settings differ from the course's {recipe.name}: recording in {my_runs_dir()} (--out DIR picks another)")
    return my_runs_dir()


def _grade(args) -> int:
    from .grade import grade

    result = grade(args.record)
    print(result)
    return 0 if result.passed else 1


def _report(args) -> int:
    from .report import update_readme

    fresh = update_readme(args.readme, args.results_dir, check=args.check)
    if args.check and not fresh:
        print("error: the README's result tables are stale; run `python -m mnist_kit report`", file=sys.stderr)
        return 1
    print("README tables are up to date." if fresh else "README tables rewritten from results/.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
