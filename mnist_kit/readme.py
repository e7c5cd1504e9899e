"""The README's generated tables: which tables it holds, the benchmark tables, and writing them between their markers.

``python -m mnist_kit report`` rewrites each table between ``<!-- name:begin -->`` and ``<!-- name:end -->`` from
``results/``; ``report --check`` (run by ``make test``) fails when the README is stale or a record is malformed,
and never writes. The run tables themselves are ``report``'s; the benchmark records are read here.
"""

from __future__ import annotations

import json
from pathlib import Path

from .paths import atomic_write_bytes, default_results_dir, project_root
from .records import RecordError
from .report import ablation_table, frontier_table, markdown_table, results_table, sweep_table

__all__ = ["performance_table", "sweep_speed_table", "render_tables", "fill_markers", "update_readme"]


def performance_table(bench_dir: Path) -> str:
    header = ["device", "pipeline", "train img/s", "test img/s", "s / epoch", "peak memory (MiB)"]
    header += ["fast speed-up over the faster classic", "fast ÷ compute-only (time)"]
    rows = []
    for path in sorted(bench_dir.glob("epoch_speed-*.json")):
        try:
            record = json.loads(path.read_text())
            ratios = record["ratios"]
            fast = [f"{ratios['fast_speedup_over_classic']:.2f}× faster", f"{ratios['fast_over_compute_only']:.2f}×"]
            for r in record["pipelines"]:
                rows.append([record["device_name"], r["pipeline"], f"{r['train_images_per_s']:,.0f}"])
                rows[-1] += [
                    f"{r['test_images_per_s']:,.0f}",
                    f"{r['epoch_seconds']:.2f}",
                    f"{r['peak_memory_mib']:,.0f}",
                ]
                rows[-1] += fast if r["pipeline"] == "fast" else ["", ""]
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"{path}: malformed benchmark record ({exc})") from None
    if not rows:
        return "_No benchmark recorded yet: `python benchmarks/epoch_speed.py`._"
    return markdown_table(header, "llrrrrrr", rows)


def sweep_speed_table(bench_dir: Path) -> str:
    """``benchmarks/sweep_speed.py``'s records: the same runs one after another, side by side, and through Ray."""
    header = ["device", "runs", "mode", "at a time", "threads per run", "wall time (s)", "sequential ÷ this"]
    rows = []
    for path in sorted(bench_dir.glob("sweep_speed-*.json")):
        try:
            record = json.loads(path.read_text())
            sequential = record["modes"]["sequential"]["seconds"]
            for mode, entry in record["modes"].items():
                rows.append([record["device_name"], str(record["runs"]), mode, str(entry["jobs"])])
                rows[-1] += [
                    str(entry["threads_per_run"]),
                    f"{entry['seconds']:.1f}",
                    f"{sequential / entry['seconds']:.2f}×",
                ]
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise RecordError(f"{path}: malformed benchmark record ({exc})") from None
    if not rows:
        return "_No sweep benchmark recorded yet: `python benchmarks/sweep_speed.py`._"
    return markdown_table(header, "lrlrrrr", rows)


def render_tables(results_dir: Path) -> dict[str, str]:
    return {
        "results": results_table(results_dir),
        "sweep": sweep_table(results_dir / "sweep"),
        "frontier": frontier_table(results_dir),
        "ablation": ablation_table(results_dir),
        "performance": performance_table(results_dir / "benchmarks"),
        "sweep-speed": sweep_speed_table(results_dir / "benchmarks"),
    }


def fill_markers(text: str, tables: dict[str, str]) -> str:
    """Replace what stands between ``<!-- name:begin -->`` and ``<!-- name:end -->`` for each table."""
    for name, table in tables.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
            raise RecordError(f"README needs exactly one '{begin}' before one '{end}'")
        head, rest = text.split(begin)
        _old, tail = rest.split(end)
        text = f"{head}{begin}\n{table}\n{end}{tail}"
    return text


def update_readme(readme: Path | None = None, results_dir: Path | None = None, check: bool = False) -> bool:
    """Rewrite (or, with ``check``, compare) the README tables; returns True when it was up to date.
    Raises ``RecordError`` for a malformed record; the README is then left untouched."""
    readme = Path(readme) if readme else project_root() / "README.md"
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    old = readme.read_text()
    new = fill_markers(old, render_tables(results_dir))
    if new != old and not check:
        atomic_write_bytes(readme, new.encode())
    return new == old
