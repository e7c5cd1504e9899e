"""Turn run records into the numbers a reader sees: per-run summaries and the README tables.

``python -m mnist_kit report`` rewrites the README's tables between their markers from
``results/``; ``report --check`` fails when the README is stale or a record is malformed, and
never writes. Taught in every notebook's "Results" section (``summarize``).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import MISSING, fields
from pathlib import Path

from .models import MODELS, channel_widths, get_model
from .paths import atomic_write_bytes, default_results_dir, project_root
from .recipes import FRONTIER, FRONTIER_SEEDS, HOLD_EPOCHS, RECIPES, STEADY_EPOCHS, TARGET, Recipe, get_recipe
from .records import RecordError, load_record

# What the original write-up reported (../shared/seed/Assignment_7.md), to compare against. Only Model_4's
# per-epoch test log is in the write-up ("Logs from local model run"), with its stated target.
ORIGINAL = {
    "model_1": {"parameters": 8246, "best_train": 99.42, "best_test": 99.38},
    "model_2": {"parameters": 7934, "best_train": 98.96, "best_test": 99.41},
    "model_3": {"parameters": 7934, "best_train": 98.75, "best_test": 99.48},
    "model_4": {
        "parameters": 7774,
        "best_train": 99.41,
        "best_test": 99.44,
        "test_log": [
            98.36,
            98.73,
            99.07,
            99.12,
            99.39,
            99.39,
            99.41,
            99.38,
            99.39,
            99.43,
            99.40,
            99.44,
            99.43,
            99.43,
            99.42,
        ],
        "target": "> 99.4 % over more than 7 epochs and kept at the last epoch",
        "target_epochs": 7,
    },
}
PARAMETER_BUDGET = 8000  # the course's limit: fewer parameters than this
NOISE_POINTS = 0.1  # a train-test gap smaller than this (in points) is within run-to-run noise


def epoch_ranges(epochs: list[int]) -> str:
    """[3, 5, 6, 7] -> '3, 5–7'."""
    parts, start = [], None
    for i, e in enumerate(epochs):
        if start is None:
            start = e
        if i + 1 == len(epochs) or epochs[i + 1] != e + 1:
            parts.append(str(start) if start == e else f"{start}–{e}")
            start = None
    return ", ".join(parts) or "none"


def longest_streak(epochs: list[int]) -> int:
    """The longest run of consecutive epochs in a sorted list: [2, 4, 5, 6] -> 3."""
    best = current = 0
    for i, e in enumerate(epochs):
        current = current + 1 if i and e == epochs[i - 1] + 1 else 1
        best = max(best, current)
    return best


def summarize(record: dict) -> dict:
    """The headline numbers of one run record (a dict from ``records.run_record`` or a JSON file)."""
    history = record["history"]
    test_acc = [row["test_acc"] for row in history]
    at_target = [row["epoch"] for row in history if row["test_acc"] >= TARGET]
    last, steady = test_acc[-HOLD_EPOCHS:], test_acc[-STEADY_EPOCHS:]
    return {
        "recipe": record["recipe"],
        "parameters": record["parameters"],
        "epochs": len(history),
        "best_train": max(row["train_acc"] for row in history),
        "best_test": max(test_acc),
        "best_test_epoch": history[test_acc.index(max(test_acc))]["epoch"],
        "last_test": test_acc[-1],
        "epochs_at_target": at_target,
        "min_last": min(last),
        "holds_target": len(last) == HOLD_EPOCHS and min(last) >= TARGET,
        "min_steady": min(steady),
        "holds_steady": len(steady) == STEADY_EPOCHS and min(steady) >= TARGET,
        "longest_streak": longest_streak(at_target),
        "seconds_per_epoch": statistics.median(row["seconds"] for row in history),
        "device_name": record["device_name"],
        "pipeline": record["config"]["pipeline"],
    }


def summary_markdown(record: dict) -> str:
    """A small Markdown table of one run next to the original write-up, for a notebook's Results."""
    s, original = summarize(record), ORIGINAL.get(record["model"], {})
    rows = [
        ("Parameters", f"{s['parameters']:,}", f"{original['parameters']:,}" if original else "–"),
        ("Best train accuracy", f"{s['best_train']:.2f} %", f"{original['best_train']:.2f} %" if original else "–"),
        (
            "Best test accuracy",
            f"{s['best_test']:.2f} % (epoch {s['best_test_epoch']})",
            f"{original['best_test']:.2f} %" if original else "– (the write-up stops at Model_4)",
        ),
        ("Last-epoch test accuracy", f"{s['last_test']:.2f} %", "–"),
        (f"Epochs at ≥ {TARGET} %", f"{len(s['epochs_at_target'])} ({epoch_ranges(s['epochs_at_target'])})", "–"),
        (f"Lowest of the last {HOLD_EPOCHS} epochs", f"{s['min_last']:.2f} %", "–"),
        ("Seconds per epoch (median)", f"{s['seconds_per_epoch']:.1f} on {s['device_name']}", "–"),
    ]
    lines = ["| | this run | original write-up |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


# --- README tables ------------------------------------------------------------------------


def _load_all(folder: Path) -> list[tuple[str, dict]]:
    return [(path.stem, load_record(path)) for path in sorted(folder.glob("*.json"))]


def results_table(results_dir: Path) -> str:
    rows = [
        "| run | parameters | best train | best test | last epoch | epochs ≥ 99.4 % | s / epoch | pipeline | device |",
        "| --- | ---: | ---: | ---: | ---: | --- | ---: | --- | --- |",
    ]
    for stem, record in _load_all(results_dir):
        if record["smoke"] or not record["complete"]:
            raise RecordError(
                f"{results_dir / stem}.json is a {'smoke' if record['smoke'] else 'partial'} run; "
                "only full runs belong in results/"
            )
        s = summarize(record)
        rows.append(
            f"| {stem} | {s['parameters']:,} | {s['best_train']:.2f} % | {s['best_test']:.2f} % | "
            f"{s['last_test']:.2f} % | {len(s['epochs_at_target'])} ({epoch_ranges(s['epochs_at_target'])}) | "
            f"{s['seconds_per_epoch']:.1f} | {s['pipeline']} | {s['device_name']} |"
        )
    return "\n".join(rows) if len(rows) > 2 else "_No full runs recorded yet: `make reproduce`._"


def recipe_label(record: dict) -> str:
    """How a sweep group is named: the recipe and the settings that tell its versions apart."""
    config = record["config"]
    ema = config.get("ema_epochs", 0)
    return (
        f"{record['recipe']} ({config['pipeline']}, {config['scheduler']}, lr {config['lr']:g}"
        + (f", weight average ~{ema:g} epoch" if ema else "")
        + ")"
    )


def sweep_groups(sweep_dir: Path) -> dict[str, list[dict]]:
    """Sweep records grouped by recipe label; seeds are pooled only when everything but the seed is the same,
    so a sweep of an older version of a recipe is never averaged with the current one."""
    groups: dict[str, list[dict]] = {}
    configs: dict[str, str] = {}
    for _stem, record in _load_all(sweep_dir):
        config = json.dumps({k: v for k, v in record["config"].items() if k != "seed"}, sort_keys=True)
        label = recipe_label(record)
        if configs.setdefault(label, config) != config:
            label += f" [{len(configs)}]"  # same label, different settings: keep them apart
            configs[label] = config
        groups.setdefault(label, []).append(record)
    for records in groups.values():
        records.sort(key=lambda r: r["seed"])
    return dict(sorted(groups.items()))


def current_sweep(sweep_dir: Path, recipe) -> list[dict]:
    """The sweep records of ``recipe`` exactly as it is now (any seed), oldest seed first."""
    config = {k: v for k, v in recipe.to_dict().items() if k != "seed"}
    return [
        r
        for records in sweep_groups(sweep_dir).values()
        for r in records
        if r["recipe"] == recipe.name and {k: v for k, v in r["config"].items() if k != "seed"} == config
    ]


def sweep_summary(records: list[dict]) -> dict:
    """Seeds, final accuracy (mean, std) and how many seeds hold the target over the last 3 and last 5 epochs."""
    summaries = [summarize(r) for r in records]
    finals = [s["last_test"] for s in summaries]
    streaks = [s["longest_streak"] for s in summaries]
    return {
        "seeds": [r["seed"] for r in records],
        "final_mean": statistics.mean(finals),
        "final_std": statistics.stdev(finals) if len(finals) > 1 else 0.0,
        "final_min": min(finals),
        "final_max": max(finals),
        "min_last": min(s["min_last"] for s in summaries),
        "hold_last": sum(s["holds_target"] for s in summaries),
        "min_steady": min(s["min_steady"] for s in summaries),
        "hold_steady": sum(s["holds_steady"] for s in summaries),
        "streak_min": min(streaks),
        "streak_max": max(streaks),
        "n": len(records),
        "devices": sorted({r["device_name"] for r in records}),
    }


SWEEP_HEADER = [
    f"| recipe | seeds | final test accuracy (mean ± std) | lowest of last {HOLD_EPOCHS} epochs, all seeds | "
    f"seeds holding ≥ {TARGET} % in last {HOLD_EPOCHS} | lowest of last {STEADY_EPOCHS} | "
    f"seeds holding ≥ {TARGET} % in last {STEADY_EPOCHS} | longest streak ≥ {TARGET} % (epochs, fewest–most) "
    "| device |",
    "| --- | --- | ---: | ---: | --- | ---: | --- | --- | --- |",
]


def sweep_row(label: str, records: list[dict]) -> str:
    """One row of the sweep table: the seeds of one recipe, summarised by ``sweep_summary``."""
    s = sweep_summary(records)
    return (
        f"| {label} | {', '.join(map(str, s['seeds']))} | {s['final_mean']:.2f} ± {s['final_std']:.2f} % | "
        f"{s['min_last']:.2f} % | {s['hold_last']} of {s['n']} | {s['min_steady']:.2f} % | "
        f"{s['hold_steady']} of {s['n']} | {s['streak_min']}–{s['streak_max']} | {'; '.join(s['devices'])} |"
    )


def sweep_table(sweep_dir: Path) -> str:
    rows = SWEEP_HEADER + [sweep_row(label, records) for label, records in sweep_groups(sweep_dir).items()]
    return "\n".join(rows) if len(rows) > 2 else "_No sweep recorded yet: `make sweep`._"


def frontier_records(results_dir: Path, recipe, folders=("sweep", "frontier")) -> list[dict]:
    """A frontier point's runs: ``recipe`` exactly as it is now, seeds of ``FRONTIER_SEEDS``, recorded in
    ``results/frontier/`` or (Model_4's and Model_5's seeds) in ``results/sweep/``; oldest seed first."""
    results_dir = Path(results_dir)
    found = {}
    for folder in folders:
        if (results_dir / folder).is_dir():
            for record in current_sweep(results_dir / folder, recipe):
                if record["seed"] in FRONTIER_SEEDS:
                    found[record["seed"]] = record
    return [found[seed] for seed in sorted(found)]


def frontier_points(results_dir: Path) -> list[dict]:
    """One point per network of ``recipes.FRONTIER`` with runs: parameters, widths and ``sweep_summary``."""
    points = []
    for name in FRONTIER:
        records = frontier_records(results_dir, get_recipe(name))
        if records:
            model = get_model(records[0]["model"])
            points.append(
                {
                    "name": name,
                    "parameters": records[0]["parameters"],
                    "widths": channel_widths(model),
                    "records": records,
                    **sweep_summary(records),
                }
            )
    return points


def frontier_table(results_dir: Path) -> str:
    """The README's frontier table: each network of ``recipes.FRONTIER`` on Model_4's recipe, over its seeds."""
    rows = [
        f"| network | channels | parameters | seeds | final test accuracy (mean ± std) | lowest final | "
        f"lowest of last {HOLD_EPOCHS} epochs, all seeds | seeds holding ≥ {TARGET} % in last {HOLD_EPOCHS} | device |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for p in frontier_points(Path(results_dir)):
        rows.append(
            f"| {p['name']} | {', '.join(map(str, p['widths']))} | {p['parameters']:,} | "
            f"{', '.join(map(str, p['seeds']))} | {p['final_mean']:.2f} ± {p['final_std']:.2f} % | "
            f"{p['final_min']:.2f} % | {p['min_last']:.2f} % | {p['hold_last']} of {p['n']} | "
            f"{'; '.join(p['devices'])} |"
        )
    return "\n".join(rows) if len(rows) > 2 else "_No frontier recorded yet: `make frontier`._"


def candidate_label(record: dict) -> str:
    """A run's recipe and what differs from that named recipe, seed aside: ``slim_5k_a, dropout 0``."""
    base = RECIPES[record["recipe"]].to_dict() if record["recipe"] in RECIPES else {}
    changes = [
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in record["config"].items()
        if k not in ("name", "seed") and k in base and v != base[k]
    ]
    return ", ".join([record["recipe"], *changes])


def validation_table(records: list[dict]) -> str:
    """Validation runs (``fit(validation=True)``) grouped by candidate, seeds pooled: what a tuning decision saw.
    Best first: by the lowest accuracy of the last 3 epochs (mean over seeds), ties by the last 5.

    Every accuracy here is on the validation split (the last 10,000 training images); none reads the test set.
    """
    groups: dict[str, list[dict]] = {}
    for record in records:
        if record.get("evaluated_on") != "validation":
            raise RecordError(f"{record['recipe']} seed {record['seed']}: not a validation run")
        groups.setdefault(candidate_label(record), []).append(record)
    rows = [
        f"| candidate | channels | parameters | seeds | final train accuracy | lowest of last {HOLD_EPOCHS} "
        f"| lowest of last {STEADY_EPOCHS} | final validation accuracy |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    mean = statistics.mean
    stats = []
    for label, group in groups.items():
        group.sort(key=lambda r: r["seed"])
        vals = [[row["val_acc"] for row in r["history"]] for r in group]
        last, steady = (round(mean(min(v[-window:]) for v in vals), 3) for window in (HOLD_EPOCHS, STEADY_EPOCHS))
        stats.append((last, steady, label, group, vals))
    for last, steady, label, group, vals in sorted(stats, key=lambda s: s[:2], reverse=True):
        rows.append(
            f"| {label} | {', '.join(map(str, channel_widths(get_model(group[0]['model']))))} | "
            f"{group[0]['parameters']:,} | {', '.join(str(r['seed']) for r in group)} | "
            f"{mean(r['history'][-1]['train_acc'] for r in group):.2f} % | {last:.2f} % | {steady:.2f} % | "
            f"{mean(v[-1] for v in vals):.2f} % |"
        )
    return "\n".join(rows)


def performance_table(bench_dir: Path) -> str:
    rows = [
        "| device | pipeline | train img/s | test img/s | s / epoch | peak memory (MiB) "
        "| fast speed-up over the faster classic | fast ÷ compute-only (time) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path in sorted(bench_dir.glob("epoch_speed-*.json")):
        try:
            record = json.loads(path.read_text())
            ratios = record["ratios"]
            for r in record["pipelines"]:
                rows.append(
                    f"| {record['device_name']} | {r['pipeline']} | {r['train_images_per_s']:,.0f} | "
                    f"{r['test_images_per_s']:,.0f} | {r['epoch_seconds']:.2f} | {r['peak_memory_mib']:,.0f} | "
                    + (
                        f"{ratios['fast_speedup_over_classic']:.2f}× faster | {ratios['fast_over_compute_only']:.2f}× |"
                        if r["pipeline"] == "fast"
                        else " | |"
                    )
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise RecordError(f"{path}: malformed benchmark record ({exc})") from None
    return "\n".join(rows) if len(rows) > 2 else "_No benchmark recorded yet: `python benchmarks/epoch_speed.py`._"


def render_tables(results_dir: Path) -> dict[str, str]:
    return {
        "results": results_table(results_dir),
        "sweep": sweep_table(results_dir / "sweep"),
        "frontier": frontier_table(results_dir),
        "performance": performance_table(results_dir / "benchmarks"),
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

    Raises ``RecordError`` for a malformed record; the README is then left untouched.
    """
    readme = Path(readme) if readme else project_root() / "README.md"
    results_dir = Path(results_dir) if results_dir else default_results_dir()
    old = readme.read_text()
    new = fill_markers(old, render_tables(results_dir))
    if new != old and not check:
        atomic_write_bytes(readme, new.encode())
    return new == old


__all__ = [
    "TARGET",
    "summarize",
    "summary_markdown",
    "compare_with_original",
    "update_readme",
    "epoch_ranges",
    "checklist_markdown",
    "iterations_table",
]


def compare_with_original(record: dict) -> str:
    """Sentences that set this run beside the original write-up, every number read from the record."""
    s, original = summarize(record), ORIGINAL[record["model"]]
    lines = [
        f"Parameters: {s['parameters']:,} (original {original['parameters']:,}; budget < {PARAMETER_BUDGET:,}: "
        f"{'within' if s['parameters'] < PARAMETER_BUDGET else 'over'}).",
        f"Best test accuracy {s['best_test']:.2f} % at epoch {s['best_test_epoch']} "
        f"against {original['best_test']:.2f} % "
        f"reported: {s['best_test'] - original['best_test']:+.2f} points.",
        f"Best train accuracy {s['best_train']:.2f} % against {original['best_train']:.2f} % reported: "
        f"{s['best_train'] - original['best_train']:+.2f} points.",
        f"Test accuracy reached {TARGET} % in {len(s['epochs_at_target'])} of {s['epochs']} epochs "
        f"({epoch_ranges(s['epochs_at_target'])}); the last {HOLD_EPOCHS} epochs "
        f"{'all hold it' if s['holds_target'] else 'do not all hold it'} (lowest {s['min_last']:.2f} %).",
    ]
    final_train = record["history"][-1]["train_acc"]
    lines.append(
        f"Final train accuracy {final_train:.2f} % vs final test accuracy {s['last_test']:.2f} %: "
        + gap_sentence(final_train - s["last_test"])
    )
    return "\n".join(lines)


def gap_sentence(gap: float) -> str:
    """What a final train-minus-test gap (in points) says; under ``NOISE_POINTS`` either way it says nothing."""
    if abs(gap) < NOISE_POINTS:
        return (
            f"a gap of {gap:+.2f} points, within run-to-run noise (under {NOISE_POINTS:g} point): train and test agree."
        )
    if gap < 0:
        return (
            f"train sits {-gap:.2f} points below test, as it should when augmentation and dropout make the "
            "training images harder than the test set; no sign of overfitting."
        )
    return (
        f"train is {gap:.2f} points above test: the model fits its training images better than "
        "new ones, a mild sign of overfitting."
    )


# --- a notebook's checklist, and the iterations side by side -------------------------------


def target_epochs(test_accs: list[float]) -> list[int]:
    """The epochs (counted from 1) whose test accuracy is at or above the target."""
    return [epoch for epoch, acc in enumerate(test_accs, start=1) if acc >= TARGET]


def _mark(ok: bool | None) -> str:
    return "➖" if ok is None else "✅" if ok else "❌"


def _epochs_line(s: dict, original: dict) -> str:
    at = s["epochs_at_target"]
    ours = f"{len(at)} of {s['epochs']} ({epoch_ranges(at)}), longest streak {s['longest_streak']}"
    if "test_log" not in original:
        return (
            f"- {_mark(None)} Epochs at ≥ {TARGET} %: {ours}; the original write-up gives no per-epoch log "
            "for this model"
        )
    theirs = target_epochs(original["test_log"])
    return (
        f"- {_mark(len(at) >= len(theirs))} Epochs at ≥ {TARGET} %, at least as many as the original write-up's: "
        f"{ours}; the original's Model_4 log: {len(theirs)} ({epoch_ranges(theirs)}), "
        f"longest streak {longest_streak(theirs)}"
    )


def _original_target_line(s: dict, original: dict) -> str:
    """The original write-up's own target for Model_4, applied to this run and to the original's log."""
    needed, log = original["target_epochs"], original["test_log"]
    ours, theirs = len(s["epochs_at_target"]), len(target_epochs(log))
    met = ours > needed and s["last_test"] >= TARGET
    theirs_met = theirs > needed and log[-1] >= TARGET
    return (
        f"- {_mark(met)} The original write-up's own, stricter target ({original['target']}): this run has "
        f"{ours} epochs at ≥ {TARGET} % and ends at {s['last_test']:.2f} %, so it "
        f"{'meets' if met else 'does not meet'} it; by its own log the original had {theirs} such epochs and "
        f"ended at {log[-1]:.2f} %, so it {'met' if theirs_met else 'did not meet'} it."
    )


def _sweep_lines(records: list[dict]) -> list[str]:
    s = sweep_summary(records)
    return [
        f"- {_mark(s['hold_last'] == s['n'])} Every seed holds ≥ {TARGET} % over its last {HOLD_EPOCHS} "
        f"epochs: {s['hold_last']} of {s['n']} (seeds {', '.join(map(str, s['seeds']))})",
        f"- {_mark(s['hold_steady'] == s['n'])} Every seed holds ≥ {TARGET} % over its last {STEADY_EPOCHS} "
        f"epochs: {s['hold_steady']} of {s['n']} (lowest {s['min_steady']:.2f} %); final accuracy "
        f"{s['final_mean']:.2f} ± {s['final_std']:.2f} % (lowest {s['final_min']:.2f} %)",
        "",
        *SWEEP_HEADER,
        sweep_row(recipe_label(records[0]), records),
    ]


def checklist_markdown(
    record: dict, sweep_records: list[dict] | None = None, budget: int | None = None, seeds_needed: int | None = None
) -> str:
    """The course's targets ticked off for one run (✅ met, ❌ missed, ➖ nothing to compare), every number
    read from the record; with ``sweep_records`` (other seeds of the same recipe) the sweep's row too.
    ``budget`` (at most this many parameters) and ``seeds_needed`` (this many sweep seeds must hold the last
    epochs) are a lesson's own, stricter goals: Model_5's in ``notebooks/05_smaller.ipynb``.

    Taught in every notebook's "Results" section.
    """
    s, original = summarize(record), ORIGINAL.get(record["model"], {})
    lines = [
        f"- {_mark(s['parameters'] < PARAMETER_BUDGET)} Parameters under {PARAMETER_BUDGET:,}: {s['parameters']:,}",
        *(
            [f"- {_mark(s['parameters'] <= budget)} Parameters at most {budget:,}: {s['parameters']:,}"]
            if budget
            else []
        ),
        f"- {_mark(s['best_test'] >= TARGET)} Best test accuracy ≥ {TARGET} %: {s['best_test']:.2f} % "
        f"(epoch {s['best_test_epoch']})",
        f"- {_mark(s['last_test'] >= TARGET)} Final test accuracy ≥ {TARGET} %: {s['last_test']:.2f} % "
        f"(epoch {s['epochs']})",
        _epochs_line(s, original),
        f"- {_mark(s['holds_target'])} The course target, each of the last {HOLD_EPOCHS} epochs ≥ {TARGET} %: "
        f"lowest {s['min_last']:.2f} %",
    ]
    if "target" in original:
        lines.append(_original_target_line(s, original))
    if sweep_records and seeds_needed:
        sweep = sweep_summary(sweep_records)
        lines.append(
            f"- {_mark(sweep['hold_last'] >= seeds_needed)} At least {seeds_needed} of {sweep['n']} sweep seeds hold "
            f"≥ {TARGET} % in each of their last {HOLD_EPOCHS} epochs: {sweep['hold_last']} of {sweep['n']}"
        )
    if sweep_records:
        lines += _sweep_lines(sweep_records)
    return "\n".join(lines)


def signed(n: int) -> str:
    """A change with its sign, as a reader writes it: +12, −312 (a true minus), ±0."""
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "±0"


def _settings(record: dict) -> list[str]:
    """Blocks 4–6, augmentation, schedule, learning rate and weight average of a record, as table cells."""
    defaults = {f.name: f.default for f in fields(Recipe) if f.default is not MISSING}
    c = {**defaults, **record["config"]}  # records older than a setting (ema_epochs) ran with its default
    schedule = {
        "step": f"StepLR: ×{c['gamma']:g} every {c['step_size']} epochs",
        "multistep": f"MultiStepLR: ×{c['gamma']:g} after epochs {', '.join(map(str, c['milestones']))}",
        "onecycle": f"OneCycleLR: {c['pct_start']:.0%} warm-up, then anneal",
    }[c["scheduler"]]
    return [
        ", ".join(map(str, MODELS[record["model"]].widths[4:])),  # blocks 4-6
        f"±{c['rotation']:g}°, " + (f"jitter {c['jitter']:g}" if c["jitter"] else "no jitter"),
        schedule,
        f"peak {c['lr']:g}" if c["scheduler"] == "onecycle" else f"{c['lr']:g}",
        f"~{c['ema_epochs']:g} epoch" if c["ema_epochs"] else "none",
    ]


def iterations_table(records: list[dict]) -> str:
    """One row per iteration (the records of model_1 ... model_4, in order): its settings, in **bold** where
    they changed from the row above, then parameters (and their change), best and final test accuracy.

    Taught in ``notebooks/04_model_4.ipynb``: what each iteration changed, and what it bought.
    """
    rows = [
        f"| iteration | blocks 4–6 (channels) | augmentation | schedule | learning rate | weight average | "
        f"parameters | best test | final test | epochs ≥ {TARGET} % |",
        "| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | --- |",
    ]
    before = None  # (settings cells, parameters) of the row above
    for record in records:
        s, cells = summarize(record), _settings(record)
        shown = [
            f"**{c}**" if before and c != b else c for c, b in zip(cells, before[0] if before else cells, strict=True)
        ]
        params = f"{s['parameters']:,}" + (f" ({signed(s['parameters'] - before[1])})" if before else "")
        rows.append(
            f"| {record['recipe']} | {' | '.join(shown)} | {params} | {s['best_test']:.2f} % | "
            f"{s['last_test']:.2f} % | {len(s['epochs_at_target'])} ({epoch_ranges(s['epochs_at_target'])}) |"
        )
        before = cells, s["parameters"]
    return "\n".join(rows)


def tuning_round_markdown(tuning: dict, round_number: int = 4) -> str:
    """One tuning round of ``results/tuning/model_4.json`` as a table: each candidate with the split that judged
    it, its seeds and the lowest and mean accuracy of its last 5 epochs (mean over seeds).

    Taught in ``notebooks/04_model_4.ipynb`` (choosing on validation, reporting on test).
    """
    runs = [r for r in tuning["runs"] if r.get("round") == round_number]
    if not runs:
        raise RecordError(f"the tuning record has no round {round_number}")
    split = runs[0]["judged_on"]
    key = "val_acc" if split == "validation" else "test_acc"
    groups: dict[str, list[dict]] = {}
    for run in runs:
        name = ", ".join(f"{k} {v:g}" for k, v in sorted(run["changes"].items()) if k != "seed") or "base"
        groups.setdefault(name, []).append(run)
    rows = [
        f"| candidate | judged on | seeds | lowest of last {STEADY_EPOCHS} (mean over seeds) | "
        f"mean of last {STEADY_EPOCHS} |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for name, group in groups.items():
        group.sort(key=lambda r: r["changes"].get("seed", r["config"]["seed"]))
        lasts = [[row[key] for row in r["history"][-STEADY_EPOCHS:]] for r in group]
        rows.append(
            f"| {name} | {split} | {', '.join(str(r['changes'].get('seed', r['config']['seed'])) for r in group)} | "
            f"{statistics.mean(min(last) for last in lasts):.2f} % | "
            f"{statistics.mean(statistics.mean(last) for last in lasts):.2f} % |"
        )
    return "\n".join(rows)
