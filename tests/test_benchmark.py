"""The benchmark script runs end to end and writes a well-formed record (no time is asserted)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_writes_a_record(tmp_path, mnist_root):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "epoch_speed.py"),
            "--repeats",
            "1",
            "--max-batches",
            "3",
            "--device",
            "cpu",
            "--data-root",
            str(mnist_root),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(out.read_text())
    assert [p["pipeline"] for p in record["pipelines"]] == ["classic", "classic-2-workers", "fast", "compute"]
    assert record["device"] == "cpu" and record["device_name"].startswith("CPU") and record["max_batches"] == 3
    for p in record["pipelines"]:
        assert p["train_images_per_s"] > 0 and p["epoch_seconds"] > 0 and p["peak_memory_mib"] > 0
    assert record["ratios"]["classic_compared"] in ("classic", "classic-2-workers")
    assert "speed-up per epoch" in done.stdout


def test_bad_repeats_is_an_argparse_error():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "epoch_speed.py"), "--repeats", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "--repeats must be at least 1" in done.stderr
