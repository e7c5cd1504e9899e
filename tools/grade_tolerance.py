"""Measure how far a re-evaluation of committed weights lands from the accuracy its record states.

    python tools/grade_tolerance.py [results/] [--threads 1 2]

Every test-split record under the folder (recursively) with its ``.pt`` beside it is evaluated the way ``grade``
verifies it (``verify.verify``: the unaugmented test set on CPU) once per thread count, and the gap to the
record's last ``test_acc`` is printed in images (10,000 test images: 1 image = 0.01 points). The largest gap seen is
the measured part of ``verify.TOLERANCE_IMAGES``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_kit import verify as verifying  # noqa: E402
from mnist_kit.records import load_record  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default="results")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    start, worst, count = time.perf_counter(), 0, 0
    for path in sorted(Path(args.folder).rglob("*.json")):
        if not path.with_suffix(".pt").exists() or "history" not in path.read_text()[:20000]:
            continue
        record = load_record(path)
        if record.evaluated_on != "test" or record.smoke:
            continue
        stated = round(record.history[-1]["test_acc"] * 100)  # correct images of 10,000
        gaps = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            verifying._evaluated.clear()  # verify remembers an evaluation: this one must run again
            gaps.append(verifying.verify(path, record).correct - stated)
        worst, count = max([worst, *map(abs, gaps)]), count + 1
        print(f"{path}: {record.device_name}; re-evaluated minus recorded, in images: {gaps}", flush=True)
    print(f"{count} records, threads {args.threads}: largest gap {worst} image(s); {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
