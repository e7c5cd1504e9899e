"""The documents' generated tables: which document holds which (``DOCUMENTS``: the README, docs/RESULTS.md and
docs/INSTRUCTOR.md), the benchmark, search-round and run-time tables, and writing them between their markers.

``python -m mnist_kit report`` rewrites each table between ``<!-- name:begin -->`` and ``<!-- name:end -->`` from
``results/``, and nothing else; ``report --check`` (run by ``make test``) fails when a document is stale or a
record is malformed, and never writes. The run tables themselves are ``report``'s; the benchmark records and the
search's rounds (``results/tuning/<which>.json``, judged by ``tuning``) are read here. ``search_round_markdown`` is
also notebook 6's (the case study).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .course import HOLD_EPOCHS, STEADY_EPOCHS, TARGET
from .launch import lessons_table
from .paths import atomic_write_bytes, default_results_dir, project_root
from .recipes import get_recipe
from .records import RecordError, full_runs
from .report import (
    ablation_table,
    frontier_table,
    labelled_sweeps,
    markdown_table,
    recipe_label,
    results_table,
    sweep_goal_lines,
    sweep_markdown,
    tuning_round_markdown,
)
from .stats import accuracies, lowest_of_last
from .studies import Study, get_study, judge, of_kind, search_study
from .study_records import records_of
from .tuning import load_round, window_score

# Which document (from the checkout's root) holds which generated table; each table lives in exactly one.
DOCUMENTS = {
    "README.md": ("results", "sweep-model_4", "lessons"),  # the front page: the headline results only
    "docs/RESULTS.md": (
        "sweep",
        "attempt-2",
        "model-4b",
        "ablation",
        "search-model_5",
        "search-model_4",
        "frontier",
        "performance",
        "sweep-speed",
    ),
    "docs/INSTRUCTOR.md": ("run-times",),  # what reproducing costs
}

__all__ = [
    "DOCUMENTS",
    "sweep_table",
    "recipe_sweep_table",
    "run_times_table",
    "performance_table",
    "sweep_speed_table",
    "search_round_markdown",
    "search_table",
    "attempt_2_markdown",
    "model_4b_markdown",
    "goal_markdown",
    "study_table",
    "render_tables",
]
__all__ += ["fill_markers", "update_documents"]


def sweep_table(sweep_dir: Path) -> str:
    """The README's sweep table: one row a sweep, each hold rate with its 95 % Wilson interval."""
    labelled = labelled_sweeps(sweep_dir)
    return sweep_markdown(labelled) if labelled else "_No sweep recorded yet: `make sweep`._"


def recipe_sweep_table(sweep_dir: Path, name: str) -> str:
    """One recipe's sweep as the recipe is written today: its row of ``sweep_table``, under the same header."""
    label = recipe_label({"recipe": name, "config": get_recipe(name).to_dict()})
    labelled = {k: v for k, v in labelled_sweeps(sweep_dir).items() if k == label}
    return sweep_markdown(labelled) if labelled else f"_{name} is not swept yet: `make sweep`._"


def run_times_table(results_dir: Path) -> str:
    """What the course's full-length runs cost, from their records' wall time: the lessons' runs, each sweep
    (as ``sweep_table`` groups them), the frontier, the ablations and the validation runs, with their machines."""
    groups = {"the lessons' runs and `model_4-classic` (`results/*.json`)": full_runs(results_dir)}
    labelled = labelled_sweeps(results_dir / "sweep")
    groups.update((f"sweep: {label}", [("", r) for r in records]) for label, records in labelled.items())
    for folder in ("frontier", "ablation", "validation"):
        groups[f"`results/{folder}/`"] = full_runs(results_dir / folder)
    rows = []
    for label, runs in groups.items():
        if runs:
            minutes = [r.wall_seconds / 60 for _stem, r in runs]
            span = dict.fromkeys([f"{min(minutes):.0f}", f"{max(minutes):.0f}"])  # one number when they agree
            rows.append([label, str(len(runs)), "–".join(span), f"{sum(minutes) / 60:.1f}"])
            rows[-1].append("; ".join(sorted({r.device_name for _stem, r in runs})))
    if not rows:
        return "_No full runs recorded yet: `make reproduce`._"
    header = ["runs", "how many", "minutes per run (fewest–most)", "hours in all", "device"]
    return markdown_table(header, "lrrrl", rows)


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


def search_round_markdown(result: dict) -> str:
    """A search's round (``tuning.judge``) as a table, best first: each candidate, what it changes from its base,
    the lowest validation accuracy of the judged window per seed, their mean ± std, the other window's mean and its
    rank (the winner in bold); then the incomplete candidates, unranked; then one line naming the winner."""
    w, o = result["window"], result["other_window"]
    rows = []
    for c in result["candidates"]:
        score, other = window_score(c, w), window_score(c, o)
        if score is not None:
            per_seed = dict(zip(c["seeds"], score.per_seed, strict=True))
            mean = f"{score.mean:.2f} ± {score.std:.2f} %"
            if c["missing_seeds"]:  # not ranked: no spread to show, only the seeds there are
                mean = f"{score.mean:.2f} % ({len(c['seeds'])} of {len(result['seeds'])} seeds)"
            other = f"{other.mean:.2f} %"
        else:
            per_seed, mean, other = {}, "–", "–"
        seeds = ", ".join(f"{per_seed[s]:.2f}" if s in per_seed else "–" for s in result["seeds"])
        name = f"**{c['name']}** (winner)" if c["name"] == result["winner"] else c["name"]
        rank = str(c["rank"]) if c["rank"] is not None else _missing(c["missing_seeds"])
        rows.append([rank, name, f"{c['parameters']:,}", c["change"], seeds, mean, other])
    header = ["rank", "candidate", "parameters", "what it changes", f"lowest of last {w}, seeds {_seeds(result)}"]
    header += [f"lowest of last {w}, mean ± std", f"lowest of last {o}, mean"]
    table = markdown_table(header, "llrllrr", rows)
    if result["winner"] is None:
        return table + "\n\n_No candidate has all its seeds yet: nothing ranked._"
    how = {"window": "a clear lead", "other window": "the other window, after a tie", "parameters": "fewer parameters"}
    how.update(mean="the higher mean, after a tie on both windows and parameters", alone="the only one ranked")
    verdict = f"Winner by the rule: **{result['winner']}** ({how[result['decided_by']]})."
    if not result["complete"]:
        verdict += " Provisional: some candidates are incomplete."
    return f"{table}\n\n{verdict} Judged on the validation split; the test set was not read."


def _missing(seeds: list[int]) -> str:
    return f"incomplete (seed{'s' * (len(seeds) > 1)} {', '.join(map(str, seeds))} missing)"


def _seeds(result: dict) -> str:
    return ", ".join(map(str, result["seeds"]))


def search_table(results_dir: Path, which: str) -> str:
    """The README's table of one search's round, or a line saying none was judged yet."""
    result = load_round(results_dir, which)
    if result is None:
        return f"_No {which} round judged yet: `make search` (`python -m mnist_kit study {search_study(which).name}`)._"
    return search_round_markdown(result)


def goal_markdown(study: Study, results_dir: Path, per_seed: bool = True, smoke: bool = False) -> str:
    """A sweep's goal, fixed before it ran (``study.goal``), judged by ``studies.judge``: a row per seed (final,
    lowest of the last HOLD_EPOCHS and STEADY_EPOCHS epochs, whether it holds the study's window; left out when
    not ``per_seed``), then the goal ticked off; or a line saying the sweep is not recorded yet. A sweep with seeds
    still missing is never judged: they are named. ``smoke``: the scratch folder's smoke runs."""
    records = records_of(study, results_dir, smoke)
    seeds, window, goal = study.seeds, study.window, study.goal
    if not records:
        return f"_{study.name} is not swept yet: `make sweep` (`python -m mnist_kit study {study.name}`)._"
    header = ["seed", "final test accuracy", f"lowest of last {HOLD_EPOCHS}", f"lowest of last {STEADY_EPOCHS}"]
    header.insert(3 + (window == STEADY_EPOCHS), f"holds ≥ {TARGET} % in each of them")  # after its window
    rows = []
    for r in records:
        acc = accuracies(r)
        lows = [lowest_of_last(acc, HOLD_EPOCHS), lowest_of_last(acc, STEADY_EPOCHS)]
        row = [str(r.seed), f"{acc[-1]:.2f} %", f"{lows[0]:.2f} %", f"{lows[1]:.2f} %"]
        row.insert(3 + (window == STEADY_EPOCHS), "yes" if lowest_of_last(acc, window) >= TARGET else "no")
        rows.append(row)
    lines = [markdown_table(header, "lrrlr" if window == HOLD_EPOCHS else "lrrrl", rows), ""] if per_seed else []
    judgement = judge(study, records)
    if judgement.missing:  # the goal is judged on all its seeds, never on part of them
        lines.append(
            f"- ➖ Not judged yet: seeds {', '.join(map(str, judgement.missing))} not recorded; {judgement.held} of "
            f"the {len(records)} recorded hold (the goal: {goal.seeds_needed} of {len(seeds)})."
        )
    else:
        lines += sweep_goal_lines(records, goal.seeds_needed, goal.mean_aim, table=False, window=window)
    return "\n".join(lines)


def attempt_2_markdown(results_dir: Path) -> str:
    """Model_5 attempt 2's goal (the study ``model_5b``; ``goal_markdown``), as notebook 6 shows it."""
    return goal_markdown(get_study("model_5b"), results_dir)


def model_4b_markdown(results_dir: Path, per_seed: bool = True) -> str:
    """Model_4 on the new recipe (the study ``model_4b``): its goal (``per_seed=False``: the goal's lines only,
    as notebook 4's closing checklist shows them)."""
    return goal_markdown(get_study("model_4b"), results_dir, per_seed=per_seed)


def study_table(study: Study, results_dir: Path, smoke: bool = False) -> str:
    """A study's table, whatever its kind: a sweep's goal (or its row of the sweep table), a frontier series,
    an ablation, a search's round, the EMA screen's round."""
    if study.kind == "sweep" and study.goal is not None and study.goal.seeds_needed is not None:
        return goal_markdown(study, results_dir, smoke=smoke)
    if study.kind == "sweep":
        records = records_of(study, results_dir, smoke)
        return sweep_markdown({recipe_label(records[0]): records}) if records else f"_{study.name}: no records yet._"
    if study.kind == "frontier":
        return frontier_table(results_dir, [study])
    if study.kind == "ablation":
        return ablation_table(results_dir, study)
    if study.kind == "search":
        return search_table(results_dir, study.base)
    path = Path(results_dir) / "tuning" / f"{study.base}.json"
    return tuning_round_markdown(json.loads(path.read_text())) if path.exists() else f"_{study.name}: no round yet._"


def render_tables(results_dir: Path) -> dict[str, str]:
    studies = {s.marker: study_table(s, results_dir) for s in of_kind("search") + of_kind("ablation") if s.marker}
    goals = {s.marker: study_table(s, results_dir) for s in of_kind("sweep") if s.marker}
    return {
        "results": results_table(results_dir),
        "sweep": sweep_table(results_dir / "sweep"),
        "sweep-model_4": recipe_sweep_table(results_dir / "sweep", "model_4"),
        "frontier": frontier_table(results_dir),
        **studies,
        **goals,
        "performance": performance_table(results_dir / "benchmarks"),
        "sweep-speed": sweep_speed_table(results_dir / "benchmarks"),
        "run-times": run_times_table(results_dir),
        "lessons": lessons_table(project_root()),  # launch.LESSONS, with their Colab and Binder links
    }


MARKER = re.compile(r"^<!-- ([\w.-]+):begin -->$", re.MULTILINE)  # a marker is a line of its own


def fill_markers(text: str, tables: dict[str, str], document: str = "README.md") -> str:
    """Replace what stands between ``<!-- name:begin -->`` and ``<!-- name:end -->`` for each table; a marker of
    a table that is not ``document``'s is an error (it would never be filled)."""
    stray = sorted(set(MARKER.findall(text)) - set(tables))
    if stray:
        raise RecordError(f"{document} has markers of no table of its own: {', '.join(stray)} (see readme.DOCUMENTS)")
    for name, table in tables.items():
        begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
        if text.count(begin) != 1 or text.count(end) != 1 or text.index(begin) > text.index(end):
            raise RecordError(f"{document} needs exactly one '{begin}' before one '{end}'")
        head, rest = text.split(begin)
        _old, tail = rest.split(end)
        text = f"{head}{begin}\n{table}\n{end}{tail}"
    return text


def update_documents(root: Path | None = None, results_dir: Path | None = None, check: bool = False) -> list[str]:
    """Rewrite (or, with ``check``, compare) every generated table of each of ``DOCUMENTS`` under ``root`` (default:
    the checkout); returns the documents that were stale (empty: all up to date). Raises ``RecordError`` for a
    malformed record, a missing document or a misplaced marker; then no document is written."""
    root = Path(root) if root else project_root()
    tables = render_tables(Path(results_dir) if results_dir else default_results_dir())
    stale = {}
    for name, markers in DOCUMENTS.items():
        try:
            old = (root / name).read_text()
        except OSError as exc:
            raise RecordError(f"{root / name}: unreadable ({exc})") from None
        new = fill_markers(old, {marker: tables[marker] for marker in markers}, name)
        if new != old:
            stale[name] = new
    if not check:
        for name, new in stale.items():
            atomic_write_bytes(root / name, new.encode())
    return list(stale)
