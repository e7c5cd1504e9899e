"""Command line: ``python -m mnist_kit data`` and ``python -m mnist_kit train RECIPE``."""
from __future__ import annotations

import argparse
import sys

from .recipes import RECIPES


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
    commands = parser.add_subparsers(dest="command", required=True, metavar="{data,train}")

    data = commands.add_parser("data", help="prepare and verify MNIST in torchvision's layout")
    data.add_argument("--data-root", help="folder holding MNIST/raw (default: $MNIST_KIT_DATA or ./data)")

    train = commands.add_parser("train", help="train one recipe and record the run")
    train.add_argument("recipe", choices=list(RECIPES), help="which iteration to train")
    train.add_argument("--epochs", type=_positive_int, help="override the recipe's 15 epochs")
    train.add_argument("--seed", type=int, help="override the recipe's seed")
    train.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when available")
    train.add_argument("--data-root", help="folder holding MNIST/raw")
    train.add_argument("--results-dir", help="where full records go (default: ./results)")
    train.add_argument("--smoke", action="store_true",
                       help="1 epoch on a small real subset; recorded in a scratch folder, never in results/")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .data import DataError, prepare_mnist

    try:
        if args.command == "data":
            prepare_mnist(args.data_root)
            return 0
        return _train(args)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _train(args) -> int:
    from .engine import fit, get_device
    from .records import save_run

    try:
        device = get_device(args.device)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    run = fit(args.recipe, epochs=args.epochs, seed=args.seed, device=device, data_root=args.data_root,
              smoke=args.smoke)
    if not run.history:
        print("No epoch finished; nothing recorded.")
        return 130
    path = save_run(run, args.results_dir)
    kind = "smoke" if run.smoke else ("full" if run.complete else "partial")
    last = run.history[-1]
    print(f"Recorded {kind} run: {path} (last test accuracy {last['test_acc']:.2f}%, {run.seconds:.0f} s)")
    return 130 if run.interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
