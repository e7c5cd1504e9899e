"""How much faster is a sweep side by side? The same 1-epoch Model_4 runs one after another, with --jobs, and on Ray.

    python benchmarks/sweep_speed.py           # 4 full-length 1-epoch runs per mode: the numbers for docs/RESULTS.md
    python benchmarks/sweep_speed.py --quick   # smoke-sized runs into a scratch folder: checks the script only

Three modes train the same seeds (records go to a scratch folder, never to results/):
  sequential  runs.sweep(jobs=1): one run after another in this process, on torch's default thread count
  jobs        runs.sweep(jobs=N): N processes side by side, one thread each
  ray         runs.sweep(backend="ray") on a local Ray of N CPUs, one thread per task (its start-up timed apart)
Each mode's wall time includes what a user waits for (data loading, starting processes); the ratios are
sequential time / mode time. Writes results/benchmarks/sweep_speed-<device>.json (device, thread counts, torch
version, seconds, ratios); nothing here asserts a time. Run it on quiet cores: other work skews every ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import torch

from mnist_kit import data, parallel, runs
from mnist_kit.engine import device_name
from mnist_kit.paths import SMOKE_DIR_ENV, atomic_write_bytes, project_root, smoke_results_dir

MODES = ("sequential", "jobs", "ray")


def time_mode(mode: str, args, scratch: Path) -> dict:
    """Train the seeds in one mode; returns its seconds and how many runs and threads it used."""
    seeds = list(range(1, args.runs + 1))
    common = dict(smoke=args.quick, epochs=1, device=args.device, data_root=args.data_root, results_dir=scratch)
    entry = {"jobs": 1, "threads_per_run": torch.get_num_threads()}
    if mode != "sequential":
        entry = {"jobs": args.jobs, "threads_per_run": parallel.THREADS_PER_RUN}
    if mode == "ray":
        import ray

        start = time.perf_counter()
        ray.init(num_cpus=args.jobs, include_dashboard=False)
        entry["startup_seconds"] = time.perf_counter() - start
        common["backend"] = "ray"
    start = time.perf_counter()
    try:
        found, _finished = runs.sweep("model_4", seeds, folder=mode, jobs=entry["jobs"], **common)
    finally:
        if mode == "ray":
            ray.shutdown()
    entry["seconds"] = time.perf_counter() - start
    if len(found) != len(seeds):
        raise SystemExit(f"{mode}: only {len(found)} of {len(seeds)} runs were recorded")
    return entry


def ratios(modes: dict) -> dict:
    """Sequential seconds over each other mode's seconds (2.0: twice as fast)."""
    base = modes["sequential"]["seconds"]
    return {f"sequential_over_{name}": base / entry["seconds"] for name, entry in modes.items() if name != "sequential"}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4, help="runs per mode (default 4)")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side in the jobs and ray modes")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated subset of " + ",".join(MODES))
    parser.add_argument("--quick", action="store_true", help="smoke-sized runs (3,000 images): checks the script")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--data-root")
    parser.add_argument("--out", help="JSON record (default: results/benchmarks/sweep_speed-<device>.json)")
    args = parser.parse_args(argv)
    args.modes = args.modes.split(",")
    if args.runs < 1 or args.jobs < 2:
        parser.error("--runs must be at least 1 and --jobs at least 2")
    if "sequential" not in args.modes or not set(args.modes) <= set(MODES):
        parser.error(f"--modes must include sequential and name only {', '.join(MODES)}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    default = smoke_results_dir() / "benchmarks" if args.quick else project_root() / "results" / "benchmarks"
    out = Path(args.out) if args.out else default / f"sweep_speed-{args.device}.json"
    data.prepare_mnist(args.data_root)
    modes = {}
    with tempfile.TemporaryDirectory(prefix="sweep_speed-") as scratch:
        os.environ[SMOKE_DIR_ENV] = scratch  # --quick runs are smoke runs: keep them here too
        for mode in args.modes:
            print(f"measuring {mode} ({args.runs} runs) ...", flush=True)
            with contextlib.redirect_stdout(sys.stderr):  # this process's run logs and bars; the table on stdout
                modes[mode] = time_mode(mode, args, Path(scratch))
    record = {
        "benchmark": "sweep_speed",
        "recipe": "model_4",
        "epochs": 1,
        "runs": args.runs,
        "quick": args.quick,
        "device": args.device,
        "device_name": device_name(torch.device(args.device)),
        "cpus": {"logical": os.cpu_count(), "physical": parallel.physical_cores()},
        "torch": torch.__version__,
        "measured_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "modes": modes,
        "ratios": ratios(modes),
    }
    for name, entry in modes.items():
        print(
            f"{name:<11} {entry['jobs']} at a time, {entry['threads_per_run']} thread(s) each: {entry['seconds']:.1f} s"
        )
    for name, value in record["ratios"].items():
        print(f"{name}: {value:.2f}x")
    atomic_write_bytes(out, (json.dumps(record, indent=1) + "\n").encode())
    print(f"record: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
