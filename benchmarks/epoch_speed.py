"""How fast is an epoch? The classic DataLoader pipeline against the on-device fast path.

    python benchmarks/epoch_speed.py                 # model_4, 3 timed epochs per pipeline
    python benchmarks/epoch_speed.py --device cuda   # on a GPU

Four pipelines train the same model with the same ``mnist_kit.engine.train`` and ``test`` loops:
  classic            torchvision MNIST + PIL transforms in a DataLoader (the original course pipeline),
                     with the kit's worker choice (none on a CPU, 4 on a GPU)
  classic-2-workers  the same with 2 worker processes, to check that choice
  fast               mnist_kit.fast_data.TensorLoader: data on the device, augmentation computed in batches
  compute            the same tensors with no augmentation at all: the floor the fast path can approach
Each pipeline runs in its own process (so its peak memory is its own), warms up, then times
``--repeats`` full training epochs and test passes; the median is reported. The table and a JSON
record (with the device) are written; nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from mnist_kit import data, fast_data, loaders
from mnist_kit.engine import device_name, get_device, set_seed, test, train
from mnist_kit.models import get_model
from mnist_kit.paths import atomic_write_bytes, project_root
from mnist_kit.recipes import get_recipe

PIPELINES = ("classic", "classic-2-workers", "fast", "compute")
TEST_BATCH = 1000  # the loaders' default test batch


class _Capped:
    """A loader cut to its first ``limit`` batches (for --max-batches quick checks)."""

    def __init__(self, loader, limit):
        self.loader, self.limit, self.dataset = loader, limit, loader.dataset

    def __iter__(self):
        for i, batch in enumerate(self.loader):
            if i == self.limit:
                return
            yield batch

    def __len__(self):
        return min(len(self.loader), self.limit)


def build_loaders(pipeline, recipe, device, data_root):
    common = dict(batch_size=recipe.batch_size, device=device, data_root=data_root, seed=recipe.seed)
    if pipeline.startswith("classic"):
        workers = 2 if pipeline == "classic-2-workers" else None  # None: the kit's own choice
        return loaders.classic_loaders(rotation=recipe.rotation, jitter=recipe.jitter, num_workers=workers, **common)
    if pipeline == "fast":
        return fast_data.fast_loaders(rotation=recipe.rotation, jitter=recipe.jitter, **common)
    return fast_data.fast_loaders(rotation=0, jitter=0, **common)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(pipeline, recipe_name, device, data_root, repeats, max_batches) -> dict:
    """Time one pipeline in this process: median train epoch and test pass over ``repeats``."""
    recipe = get_recipe(recipe_name)
    set_seed(recipe.seed)
    train_loader, test_loader = build_loaders(pipeline, recipe, device, data_root)
    if max_batches:
        train_loader, test_loader = _Capped(train_loader, max_batches), _Capped(test_loader, max_batches)
    model = get_model(recipe.model, recipe.dropout).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    warm = _Capped(train_loader, 20)
    train(model, device, warm, optimizer, progress=False)  # first batches pay for allocation and workers
    test(model, device, test_loader, verbose=False)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    train_s, test_s = [], []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        train(model, device, train_loader, optimizer, progress=False)
        _sync(device)
        train_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        test(model, device, test_loader, verbose=False)
        _sync(device)
        test_s.append(time.perf_counter() - start)
    n_train = min(len(train_loader.dataset), len(train_loader) * recipe.batch_size)
    n_test = min(len(test_loader.dataset), len(test_loader) * TEST_BATCH)
    peak_mib = (
        torch.cuda.max_memory_allocated(device)
        if device.type == "cuda"
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    ) / 2**20
    train_med, test_med = statistics.median(train_s), statistics.median(test_s)
    return {
        "pipeline": pipeline,
        "train_images_per_s": n_train / train_med,
        "test_images_per_s": n_test / test_med,
        "epoch_seconds": train_med + test_med,
        "train_seconds": train_s,
        "test_seconds": test_s,
        "peak_memory_mib": peak_mib,
        "peak_memory_kind": "CUDA allocated" if device.type == "cuda" else "process RSS",
    }


def format_report(record: dict) -> str:
    rows = [f"{'pipeline':<18} {'train img/s':>12} {'test img/s':>11} {'s/epoch':>8} {'peak MiB':>9}"]
    for r in record["pipelines"]:
        rows.append(
            f"{r['pipeline']:<18} {r['train_images_per_s']:>12,.0f} {r['test_images_per_s']:>11,.0f} "
            f"{r['epoch_seconds']:>8.2f} {r['peak_memory_mib']:>9,.0f}"
        )
    ratios = record["ratios"]
    rows.append(f"fast / {ratios['classic_compared']} speed-up per epoch: {ratios['fast_speedup_over_classic']:.2f}x")
    rows.append(f"fast epoch / compute-only epoch:   {ratios['fast_over_compute_only']:.2f}x")
    return "\n".join(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="model_4")
    parser.add_argument("--device", choices=["cpu", "cuda"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-batches", type=int, default=0, help="quick check: cut each pass to N batches")
    parser.add_argument("--data-root")
    parser.add_argument("--out", help="JSON record (default: results/benchmarks/epoch_speed-<device>.json)")
    parser.add_argument("--worker", choices=PIPELINES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    device = get_device(args.device)
    if args.worker:  # one pipeline, in a process of its own; the parent reads its JSON line
        print(json.dumps(measure(args.worker, args.recipe, device, args.data_root, args.repeats, args.max_batches)))
        return 0
    data.prepare_mnist(args.data_root)
    results = []
    for pipeline in PIPELINES:
        print(f"measuring {pipeline} ...", flush=True)
        cmd = [
            sys.executable,
            __file__,
            "--worker",
            pipeline,
            "--recipe",
            args.recipe,
            "--device",
            device.type,
            "--repeats",
            str(args.repeats),
            "--max-batches",
            str(args.max_batches),
        ]
        if args.data_root:
            cmd += ["--data-root", args.data_root]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    by_name = {r["pipeline"]: r for r in results}
    # Compare against the better of the two classic set-ups, so the speed-up is not flattered.
    classic = min((r for r in results if r["pipeline"].startswith("classic")), key=lambda r: r["epoch_seconds"])
    record = {
        "benchmark": "epoch_speed",
        "recipe": args.recipe,
        "device": device.type,
        "device_name": device_name(device),
        "torch": torch.__version__,
        "repeats": args.repeats,
        "max_batches": args.max_batches or None,
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "pipelines": results,
        "ratios": {
            "classic_compared": classic["pipeline"],
            "fast_speedup_over_classic": classic["epoch_seconds"] / by_name["fast"]["epoch_seconds"],
            "fast_train_speedup_over_classic": (
                statistics.median(classic["train_seconds"]) / statistics.median(by_name["fast"]["train_seconds"])
            ),
            "fast_over_compute_only": by_name["fast"]["epoch_seconds"] / by_name["compute"]["epoch_seconds"],
        },
    }
    print(f"\n{args.recipe} on {record['device_name']}, median of {args.repeats} epoch(s):\n{format_report(record)}")
    out = Path(args.out) if args.out else project_root() / "results" / "benchmarks" / f"epoch_speed-{device.type}.json"
    atomic_write_bytes(out, (json.dumps(record, indent=1) + "\n").encode())
    print(f"record: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
