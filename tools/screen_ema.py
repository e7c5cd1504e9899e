"""Round 4 of Model_4's tuning: is a weight average steadier, and over how many epochs? Judged on validation.

    OMP_NUM_THREADS=1 python tools/screen_ema.py --seeds 1 2 3 --horizons 0.5 1 2 --out /tmp/round4.jsonl

Each seed trains Model_4's recipe once on the first 50,000 training images and evaluates, after every epoch,
the raw weights and one exponential moving average per horizon on the last 10,000 (the validation split;
the test set is never read). Averages only watch the training, they do not change it, so one run screens
every horizon on the same trajectory. One JSON line per seed is appended to ``--out``; ``--merge`` folds
them into ``results/tuning/model_4.json`` as round 4.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_kit import engine  # noqa: E402
from mnist_kit.models import get_model  # noqa: E402
from mnist_kit.studies import get_study  # noqa: E402

STUDY = get_study("screen_ema")  # its recipe (Model_4's, no weight average), its seeds, its split and window


class Averages:
    """Several ``AveragedModel`` s updated together (``engine.train`` calls ``update_parameters``)."""

    def __init__(self, model, horizons, steps_per_epoch):
        self.models = {h: engine.make_averaged(model, h, steps_per_epoch) for h in horizons}

    def update_parameters(self, model):
        for averaged in self.models.values():
            averaged.update_parameters(model)


def screen(seed: int, horizons: list[float]) -> dict:
    recipe = STUDY.recipes[0].with_overrides(seed=seed)
    device = engine.get_device()
    engine.set_seed(recipe.seed)
    train_loader, val_loader = engine.make_loaders(recipe, device, validation=True)
    model = get_model(recipe.model, dropout=recipe.dropout).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    scheduler = engine.make_scheduler(optimizer, **recipe.schedule(), steps_per_epoch=len(train_loader))
    per_batch = engine.steps_per_batch(recipe.scheduler)
    averages = Averages(model, horizons, len(train_loader))
    history = []
    for epoch in range(1, recipe.epochs + 1):
        start = time.perf_counter()
        train_loss, train_acc = engine.train(
            model,
            device,
            train_loader,
            optimizer,
            progress=False,
            batch_scheduler=scheduler if per_batch else None,
            averaged=averages,
        )
        if not per_batch:
            scheduler.step()
        row = {
            "epoch": epoch,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_acc": engine.test(model, device, val_loader, verbose=False)[1],
        }
        for h, averaged in averages.models.items():
            row[f"val_acc_ema{h:g}"] = engine.test(averaged.module, device, val_loader, verbose=False)[1]
        row["seconds"] = time.perf_counter() - start
        history.append(row)
        print(
            f"seed {seed} epoch {epoch}: " + ", ".join(f"{k} {v:.2f}" for k, v in row.items() if "val" in k), flush=True
        )
    return {
        "round": 4,
        "judged_on": "validation",
        "seed": seed,
        "config": recipe.to_dict(),
        "horizons_epochs": horizons,
        "device_name": engine.device_name(device),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "history": history,
    }


def tuning_runs(result: dict) -> list[dict]:
    """One tuning-record run per candidate of a screened seed: the raw weights (ema 0) and each horizon."""
    runs = []
    for h in [0.0, *result["horizons_epochs"]]:
        key = "val_acc" if h == 0 else f"val_acc_ema{h:g}"
        accs = [row[key] for row in result["history"]]
        runs.append(
            {
                "name": f"R4-ema{h:g}-s{result['seed']}",
                "round": 4,
                "judged_on": "validation",
                "changes": {"ema_epochs": h, "seed": result["seed"]},
                "config": dict(result["config"], ema_epochs=h),
                "device_name": result["device_name"],
                "code": "tools/screen_ema.py (one training run, every horizon evaluated on it)",
                "val_min_last5": min(accs[-5:]),
                "val_mean_last5": round(sum(accs[-5:]) / 5, 3),
                "history": [
                    {"epoch": row["epoch"], "train_acc": row["train_acc"], "val_acc": row[key]}
                    for row in result["history"]
                ],
            }
        )
    return runs


def summary(runs: list[dict]) -> dict:
    """Per candidate (horizon in epochs, 0 = raw weights): seeds, and the mean over seeds of the lowest and of
    the mean validation accuracy of the last 5 epochs: what round 4 was decided on."""
    by_horizon: dict[str, list[dict]] = {}
    for run in runs:
        by_horizon.setdefault(f"{run['changes']['ema_epochs']:g}", []).append(run)
    return {
        h: {
            "seeds": sorted(r["changes"]["seed"] for r in rs),
            "mean_val_min_last5": round(sum(r["val_min_last5"] for r in rs) / len(rs), 3),
            "mean_val_mean_last5": round(sum(r["val_mean_last5"] for r in rs) / len(rs), 3),
        }
        for h, rs in by_horizon.items()
    }


def merge(lines: Path, record: Path, decision: str) -> None:
    """Fold the screened seeds into the tuning record as round 4; mark which split judged every run."""
    from mnist_kit.paths import atomic_write_bytes

    tuning = json.loads(record.read_text())
    for run in tuning["runs"]:
        run.setdefault("judged_on", "test")  # rounds 1-3 were chosen by reading test accuracy
    tuning["runs"] = [r for r in tuning["runs"] if r.get("round") != 4]
    for line in lines.read_text().splitlines():
        tuning["runs"] += tuning_runs(json.loads(line))
    tuning["round_4"] = decision
    tuning["round_4_summary"] = summary([r for r in tuning["runs"] if r.get("round") == 4])
    atomic_write_bytes(record, (json.dumps(tuning, indent=1) + "\n").encode())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[], help=f"the study's: {list(STUDY.seeds)}")
    parser.add_argument("--horizons", type=float, nargs="+", default=[0.5, 1.0, 2.0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--merge", metavar="DECISION", help="fold --out into results/tuning/model_4.json as round 4")
    args = parser.parse_args(argv)
    for seed in args.seeds:
        result = screen(seed, args.horizons)
        with open(args.out, "a") as fh:
            fh.write(json.dumps(result) + "\n")
    if args.merge:
        merge(args.out, Path(__file__).resolve().parent.parent / "results" / "tuning" / "model_4.json", args.merge)
    return 0


if __name__ == "__main__":
    sys.exit(main())
