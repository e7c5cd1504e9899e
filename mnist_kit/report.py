"""Markdown from run records: a notebook's summary, comparison and checklist, the iterations side by side,
validation candidates, a tuning round, and the README's run tables (every table by ``tables.markdown_table``).

It only renders: which records form a sweep or a frontier point is ``records``' answer, every number is
``stats``', every constant ``course``'s. Which tables the README holds, and writing them, is ``readme``'s.
Taught in every notebook's "Results" section (``summary_markdown``).
"""

from __future__ import annotations

import statistics
from pathlib import Path

from .course import HOLD_EPOCHS, ORIGINAL, PARAMETER_BUDGET, STEADY_EPOCHS, TARGET
from .models import MODELS, channel_widths, get_model
from .records import RecordError, candidate_label, config_changes, frontier_points, full_runs, sweeps
from .splits import accuracies, column, split_of
from .stats import (
    epochs_at_target,
    hold_rate,
    longest_streak,
    lowest_of_last,
    mean_std,
    summarize,
    sweep_summary,
)
from .studies import Study, get_study, goal_met, of_kind
from .tables import change_label, epoch_ranges, markdown_table, signed

__all__ = ["markdown_table", "epoch_ranges", "signed"]  # from tables, where they are written
__all__ += ["summary_markdown", "compare_with_original", "checklist_markdown", "iterations_table"]
__all__ += ["validation_table", "tuning_round_markdown", "sweep_markdown", "frontier_table", "ablation_table"]

NOISE_POINTS = 0.1  # a train-test gap smaller than this (in points) is within run-to-run noise


def _at_target(s) -> str:
    return f"{len(s.epochs_at_target)} ({epoch_ranges(s.epochs_at_target)})"


def summary_markdown(record) -> str:
    """A small Markdown table of one run next to the original write-up, for a notebook's Results."""
    s, original = summarize(record), ORIGINAL.get(record["model"], {})
    best = f"{original['best_test']:.2f} %" if original else "– (the write-up stops at Model_4)"
    rows = [
        ["Parameters", f"{s.parameters:,}", f"{original['parameters']:,}" if original else "–"],
        ["Best train accuracy", f"{s.best_train:.2f} %", f"{original['best_train']:.2f} %" if original else "–"],
        ["Best test accuracy", f"{s.best_test:.2f} % (epoch {s.best_test_epoch})", best],
        ["Last-epoch test accuracy", f"{s.last_test:.2f} %", "–"],
        [f"Epochs at ≥ {TARGET} %", _at_target(s), "–"],
        [f"Lowest of the last {HOLD_EPOCHS} epochs", f"{s.min_last:.2f} %", "–"],
        ["Seconds per epoch (median)", f"{s.seconds_per_epoch:.1f} on {record['device_name']}", "–"],
    ]
    return markdown_table(["", "this run", "original write-up"], "lll", rows)


def compare_with_original(record) -> str:
    """Sentences that set this run beside the original write-up, every number read from the record."""
    s, original = summarize(record), ORIGINAL[record["model"]]
    final_train = record["history"][-1]["train_acc"]
    lines = [
        f"Parameters: {s.parameters:,} (original {original['parameters']:,}; budget < {PARAMETER_BUDGET:,}: "
        f"{'within' if s.parameters < PARAMETER_BUDGET else 'over'}).",
        f"Best test accuracy {s.best_test:.2f} % at epoch {s.best_test_epoch} "
        f"against {original['best_test']:.2f} % reported: {s.best_test - original['best_test']:+.2f} points.",
        f"Best train accuracy {s.best_train:.2f} % against {original['best_train']:.2f} % reported: "
        f"{s.best_train - original['best_train']:+.2f} points.",
        f"Test accuracy reached {TARGET} % in {len(s.epochs_at_target)} of {s.epochs} epochs "
        f"({epoch_ranges(s.epochs_at_target)}); the last {HOLD_EPOCHS} epochs "
        f"{'all hold it' if s.holds_target else 'do not all hold it'} (lowest {s.min_last:.2f} %).",
        f"Final train accuracy {final_train:.2f} % vs final test accuracy {s.last_test:.2f} %: "
        + gap_sentence(final_train - s.last_test),
    ]
    return "\n".join(lines)


def gap_sentence(gap: float) -> str:
    """What a final train-minus-test gap (in points) says; under ``NOISE_POINTS`` either way it says nothing."""
    if abs(gap) < NOISE_POINTS:
        noise = f"within run-to-run noise (under {NOISE_POINTS:g} point)"
        return f"a gap of {gap:+.2f} points, {noise}: train and test agree."
    if gap < 0:
        return (
            f"train sits {-gap:.2f} points below test, as it should when augmentation and dropout make the "
            "training images harder than the test set; no sign of overfitting."
        )
    return (
        f"train is {gap:.2f} points above test: the model fits its training images better than "
        "new ones, a mild sign of overfitting."
    )


# --- a notebook's checklist -----------------------------------------------------------------


def _mark(ok: bool | None) -> str:
    return "➖" if ok is None else "✅" if ok else "❌"


def _epochs_line(s, original: dict) -> str:
    ours = f"{len(s.epochs_at_target)} of {s.epochs} ({epoch_ranges(s.epochs_at_target)}), "
    ours += f"longest streak {s.longest_streak}"
    if "test_log" not in original:
        return (
            f"- {_mark(None)} Epochs at ≥ {TARGET} %: {ours}; the original write-up gives no per-epoch log "
            "for this model"
        )
    theirs = epochs_at_target(original["test_log"])
    return (
        f"- {_mark(len(s.epochs_at_target) >= len(theirs))} Epochs at ≥ {TARGET} %, at least as many as the "
        f"original write-up's: {ours}; the original's Model_4 log: {len(theirs)} ({epoch_ranges(theirs)}), "
        f"longest streak {longest_streak(theirs)}"
    )


def _original_target_line(s, original: dict) -> str:
    """The original write-up's own target for Model_4, applied to this run and to the original's log."""
    needed, log = original["target_epochs"], original["test_log"]
    ours, theirs = len(s.epochs_at_target), len(epochs_at_target(log))
    met = ours > needed and s.last_test >= TARGET
    theirs_met = theirs > needed and log[-1] >= TARGET
    return (
        f"- {_mark(met)} The original write-up's own, stricter target ({original['target']}): this run has "
        f"{ours} epochs at ≥ {TARGET} % and ends at {s.last_test:.2f} %, so it "
        f"{'meets' if met else 'does not meet'} it; by its own log the original had {theirs} such epochs and "
        f"ended at {log[-1]:.2f} %, so it {'met' if theirs_met else 'did not meet'} it."
    )


def sweep_goal_lines(
    records: list, seeds_needed: int | None, mean_aim: float | None, table: bool, window: int = HOLD_EPOCHS
) -> list[str]:
    """A sweep's goal ticked off: ``seeds_needed`` of its seeds holding the target in each of their last ``window``
    epochs (HOLD_EPOCHS or STEADY_EPOCHS), every seed holding either window, the mean final against ``mean_aim``."""
    if window not in (HOLD_EPOCHS, STEADY_EPOCHS):
        raise ValueError(f"a sweep's goal is judged on the last {HOLD_EPOCHS} or {STEADY_EPOCHS} epochs, not {window}")
    s = sweep_summary(records)
    holding = [r["seed"] for r in records if summarize(r).holds_target]
    held_in_window = s.hold_last if window == HOLD_EPOCHS else s.hold_steady
    needed = f"At least {seeds_needed} of {s.n} sweep seeds hold ≥ {TARGET} % in each of their last {window}"
    enough, mean_ok = goal_met(held_in_window, seeds_needed, s.final.mean, mean_aim)  # the one judge's rule
    needed = [f"- {_mark(enough)} {needed} epochs: {held_in_window} of {s.n}"] if seeds_needed else []
    run = ", ".join(map(str, s.seeds))
    if len(holding) == s.n:
        held = f"seeds {run}, all holding"
    else:
        held = f"holding: {', '.join(map(str, holding)) or 'none'}; run: seeds {run}"
    lines = needed + [
        f"- {_mark(s.hold_last == s.n)} Every seed holds ≥ {TARGET} % over its last {HOLD_EPOCHS} "
        f"epochs: {s.hold_last} of {s.n} ({held})",
        f"- {_mark(s.hold_steady == s.n)} Every seed holds ≥ {TARGET} % over its last {STEADY_EPOCHS} "
        f"epochs: {s.hold_steady} of {s.n} (lowest {s.min_steady:.2f} %)",
    ]
    final = f"{s.final.mean:.2f} ± {s.final.std:.2f} % (lowest {s.final_min:.2f} %)"
    if mean_aim is not None:
        lines.append(f"- {_mark(mean_ok)} Mean final accuracy ≥ {mean_aim:.2f} %: {final}")
    else:
        lines.append(f"- ➖ Final accuracy over the seeds: {final}")
    return lines + (["", sweep_markdown({recipe_label(records[0]): records})] if table else [])


def checklist_markdown(
    record, sweep_records: list | None = None, budget=None, seeds_needed=None, mean_aim=None, steady=False, table=True
) -> str:
    """The course's targets ticked off for one run (✅ met, ❌ missed, ➖ nothing to compare), every number
    read from the record; with ``sweep_records`` (other seeds of the same recipe) the sweep's rows (and its table,
    unless ``table=False``). A lesson's own goals: ``budget`` (at most this many parameters), ``seeds_needed`` (this
    many sweep seeds must hold the last epochs): Model_5's in ``notebooks/05_smaller.ipynb``; ``steady`` (this run's
    last 5 epochs too) and ``mean_aim`` (the sweep's mean final accuracy): Model_4's in ``notebooks/04_model_4.ipynb``.
    Taught in every notebook's "Results" section."""
    s, original = summarize(record), ORIGINAL.get(record["model"], {})
    lines = [f"- {_mark(s.parameters < PARAMETER_BUDGET)} Parameters under {PARAMETER_BUDGET:,}: {s.parameters:,}"]
    if budget:
        lines.append(f"- {_mark(s.parameters <= budget)} Parameters at most {budget:,}: {s.parameters:,}")
    lines += [
        f"- {_mark(s.best_test >= TARGET)} Best test accuracy ≥ {TARGET} %: {s.best_test:.2f} % "
        f"(epoch {s.best_test_epoch})",
        f"- {_mark(s.last_test >= TARGET)} Final test accuracy ≥ {TARGET} %: {s.last_test:.2f} % (epoch {s.epochs})",
        _epochs_line(s, original),
        f"- {_mark(s.holds_target)} The course target, each of the last {HOLD_EPOCHS} epochs ≥ {TARGET} %: "
        f"lowest {s.min_last:.2f} %",
    ]
    if steady:
        lowest = lowest_of_last(accuracies(record), STEADY_EPOCHS)
        lines.append(
            f"- {_mark(lowest >= TARGET)} This run's stricter target, each of the last {STEADY_EPOCHS} epochs "
            f"≥ {TARGET} %: lowest {lowest:.2f} %"
        )
    if "target" in original:
        lines.append(_original_target_line(s, original))
    if sweep_records:
        lines += sweep_goal_lines(sweep_records, seeds_needed, mean_aim, table)
    return "\n".join(lines)


# --- the iterations side by side, validation candidates, a tuning round ----------------------


def _settings(record) -> list[str]:
    """Blocks 4–6, augmentation, schedule, learning rate and weight average of a record, as table cells."""
    c = record["config"]  # a Record's config has every setting (an older record's at its default)
    schedule = {
        "step": f"StepLR: ×{c['gamma']:g} every {c['step_size']} epochs",
        "multistep": f"MultiStepLR: ×{c['gamma']:g} after epochs {', '.join(map(str, c['milestones']))}",
        "onecycle": f"OneCycleLR: {c['pct_start']:.0%} warm-up, then anneal",
    }[c["scheduler"]]
    return [
        ", ".join(map(str, MODELS[record["model"]].widths[4:])),  # blocks 4-6
        f"±{c['rotation']:g}°, "
        + (f"jitter {c['jitter']:g}" if c["jitter"] else "no jitter")
        + (f", shift ±{c['translate']:g} px" if c["translate"] else ""),
        schedule,
        f"peak {c['lr']:g}" if c["scheduler"] == "onecycle" else f"{c['lr']:g}",
        f"~{c['ema_epochs']:g} epoch" if c["ema_epochs"] else "none",
    ]


def iterations_table(records: list) -> str:
    """One row per iteration (the records of model_1 ... model_4, in order): its settings, in **bold** where
    they changed from the row above, then parameters (and their change), best and final test accuracy.
    Taught in ``notebooks/04_model_4.ipynb``: what each iteration changed, and what it bought."""
    header = ["iteration", "blocks 4–6 (channels)", "augmentation", "schedule", "learning rate", "weight average"]
    header += ["parameters", "best test", "final test", f"epochs ≥ {TARGET} %"]
    rows, before = [], None  # (settings cells, parameters) of the row above
    for record in records:
        s, cells = summarize(record), _settings(record)
        shown = [f"**{c}**" if before and c != b else c for c, b in zip(cells, (before or [cells])[0], strict=True)]
        params = f"{s.parameters:,}" + (f" ({signed(s.parameters - before[1])})" if before else "")
        rows.append([record["recipe"], *shown, params, f"{s.best_test:.2f} %", f"{s.last_test:.2f} %", _at_target(s)])
        before = cells, s.parameters
    return markdown_table(header, "llllllrrrl", rows)


def validation_table(records: list) -> str:
    """Validation runs (``fit(validation=True)``) grouped by candidate, seeds pooled: what a tuning decision saw.
    Best first: by the lowest accuracy of the last 3 epochs (mean over seeds), ties by the last 5.
    Every accuracy here is on the validation split (the last 10,000 training images); none reads the test set."""
    groups: dict[str, list] = {}
    for record in records:
        if split_of(record) != "validation":
            raise RecordError(f"{record['recipe']} seed {record['seed']}: not a validation run")
        groups.setdefault(candidate_label(record), []).append(record)
    mean, ranked = statistics.mean, []
    for label, group in groups.items():
        group.sort(key=lambda r: r["seed"])
        vals = [accuracies(r) for r in group]
        last, steady = (round(mean(lowest_of_last(v, n) for v in vals), 3) for n in (HOLD_EPOCHS, STEADY_EPOCHS))
        ranked.append((last, steady, label, group, vals))
    rows = []
    for last, steady, label, group, vals in sorted(ranked, key=lambda s: s[:2], reverse=True):
        widths = ", ".join(map(str, channel_widths(get_model(group[0]["model"]))))
        train = mean(r["history"][-1]["train_acc"] for r in group)
        rows.append([label, widths, f"{group[0]['parameters']:,}", ", ".join(str(r["seed"]) for r in group)])
        rows[-1] += [f"{train:.2f} %", f"{last:.2f} %", f"{steady:.2f} %", f"{mean(v[-1] for v in vals):.2f} %"]
    header = ["candidate", "channels", "parameters", "seeds", "final train accuracy"]
    header += [f"lowest of last {HOLD_EPOCHS}", f"lowest of last {STEADY_EPOCHS}", "final validation accuracy"]
    return markdown_table(header, "llrlrrrr", rows)


def ablation_table(results_dir: Path, study: Study | None = None) -> str:
    """One change at a time (an ablation study, default ``studies.STUDIES["ablation"]``; its records in
    ``results/<its folder>/``): each change from the recipe it starts from (``study.bases``), on the validation
    split, mean ± std over its seeds (the noise to beat); one not yet run says so."""
    study = study or get_study("ablation")
    folder = Path(results_dir) / study.folder
    found: dict[str, list] = {name: [] for name in study.recipe_names}
    for _stem, record in full_runs(folder) if folder.is_dir() else []:
        found.setdefault(record["recipe"], []).append(record)
    rows = []
    for recipe in study.recipes:
        name, base = recipe.name, study.bases.get(recipe.name)
        changes = config_changes(study.recipe(base).to_dict(), recipe.to_dict()) if base else {}
        change = change_label(changes) if base else "the iteration itself"
        group = sorted(found[name], key=lambda r: r["seed"])
        if not group:
            rows.append([name, change, "not run yet", "–", "–", "–"])
            continue
        lows = [lowest_of_last(accuracies(r), HOLD_EPOCHS) for r in group]
        finals = [accuracies(r)[-1] for r in group]
        trains = [r["history"][-1]["train_acc"] for r in group]
        spread = [
            f"{mean_std(v).mean:.2f} ± {mean_std(v).std:.2f} %" if len(v) > 1 else f"{v[0]:.2f} % (one seed)"
            for v in (lows, finals, trains)
        ]
        rows.append([name, change, ", ".join(str(r["seed"]) for r in group), *spread])
    header = ["run", "what it changes", "seeds", f"lowest of last {HOLD_EPOCHS} (validation)"]
    header += ["final validation accuracy", "final train accuracy"]
    return markdown_table(header, "lllrrr", rows)


def tuning_round_markdown(tuning: dict, round_number: int = 4) -> str:
    """A tuning round of ``results/tuning/model_4.json``: each candidate, the split that judged it, its seeds, the
    lowest and mean accuracy of its last 5 epochs (mean over seeds). Taught in ``notebooks/04_model_4.ipynb``."""
    runs = [r for r in tuning["runs"] if r.get("round") == round_number]
    if not runs:
        raise RecordError(f"the tuning record has no round {round_number}")
    split = runs[0]["judged_on"]
    key = column(split)
    groups: dict[str, list[dict]] = {}
    for run in runs:
        changes = sorted((k, v) for k, v in run["changes"].items() if k != "seed")  # a scheduler's value is a name
        name = ", ".join(f"{k} {v if isinstance(v, str) else format(v, 'g')}" for k, v in changes) or "base"
        groups.setdefault(name, []).append(run)
    rows = []
    for name, group in groups.items():
        seeds = sorted(r["changes"].get("seed", r["config"]["seed"]) for r in group)
        lasts = [[row[key] for row in r["history"][-STEADY_EPOCHS:]] for r in group]
        low, avg = (statistics.mean(f(last) for last in lasts) for f in (min, statistics.mean))
        rows.append([name, split, ", ".join(map(str, seeds)), f"{low:.2f} %", f"{avg:.2f} %"])
    header = ["candidate", "judged on", "seeds", f"lowest of last {STEADY_EPOCHS} (mean over seeds)"]
    return markdown_table([*header, f"mean of last {STEADY_EPOCHS}"], "lllrr", rows)


# --- README tables ------------------------------------------------------------------------


def results_table(results_dir: Path) -> str:
    header = ["run", "parameters", "best train", "best test", "last epoch", f"epochs ≥ {TARGET} %", "s / epoch"]
    rows = []
    for stem, record in full_runs(results_dir):
        s = summarize(record)
        rows.append(
            [stem, f"{s.parameters:,}", f"{s.best_train:.2f} %", f"{s.best_test:.2f} %", f"{s.last_test:.2f} %"]
            + [_at_target(s), f"{s.seconds_per_epoch:.1f}", record.config["pipeline"], record.device_name]
        )
    if not rows:
        return "_No full runs recorded yet: `make reproduce`._"
    return markdown_table([*header, "pipeline", "device"], "lrrrrlrll", rows)


def recipe_label(record) -> str:
    """How a sweep is named: the recipe and the settings that tell its versions apart."""
    c, ema = record["config"], record["config"].get("ema_epochs", 0)
    shift = f", shift ±{c['translate']:g} px" if c.get("translate") else ""  # absent in older records: no shift
    average = f", weight average ~{ema:g} epoch" if ema else ""
    return f"{record['recipe']} ({c['pipeline']}, {c['scheduler']}, lr {c['lr']:g}{shift}{average})"


def labelled_sweeps(sweep_dir: Path) -> dict[str, list]:
    """``records.sweeps`` by label (``recipe_label``), sorted; a second sweep with the same label gets [2]."""
    labelled: dict[str, list] = {}
    for group in sweeps(sweep_dir):
        label = recipe_label(group[0])
        same = sum(1 for known in labelled if known == label or known.startswith(f"{label} ["))
        labelled[f"{label} [{same + 1}]" if same else label] = group
    return dict(sorted(labelled.items()))


def sweep_markdown(labelled: dict[str, list]) -> str:
    """The sweep table: one row a sweep (label: its records), summarised by ``stats.sweep_summary``."""
    header = ["recipe", "seeds", "final test accuracy (mean ± std)", f"lowest of last {HOLD_EPOCHS} epochs, all seeds"]
    header += [f"seeds holding ≥ {TARGET} % in last {HOLD_EPOCHS}", f"lowest of last {STEADY_EPOCHS}"]
    header += [f"seeds holding ≥ {TARGET} % in last {STEADY_EPOCHS}"]
    header += [f"longest streak ≥ {TARGET} % (epochs, fewest–most)", "device"]
    rows = []
    for label, records in labelled.items():
        s = sweep_summary(records)
        rows.append(
            [label, ", ".join(map(str, s.seeds)), f"{s.final.mean:.2f} ± {s.final.std:.2f} %", f"{s.min_last:.2f} %"]
            + [hold_rate(s.hold_last, s.n), f"{s.min_steady:.2f} %", hold_rate(s.hold_steady, s.n)]
            + [f"{s.streak_min}–{s.streak_max}", "; ".join(s.devices)]
        )
    return markdown_table(header, "llrrlrlll", rows)


def frontier_table(results_dir: Path, series: list[Study] | None = None) -> str:
    """The README's frontier table: each frontier study (default: every one of ``studies.STUDIES``, the networks
    on Model_4's recipe, then the 3k-6k networks on attempt 2's), each network over its seeds."""
    header = ["recipe", "network", "channels", "parameters", "seeds", "final test accuracy (mean ± std)"]
    header += ["lowest final", f"lowest of last {HOLD_EPOCHS} epochs, all seeds"]
    header += [f"seeds holding ≥ {TARGET} % in last {HOLD_EPOCHS}"]
    rows = []
    for study in of_kind("frontier") if series is None else series:
        for p in frontier_points(Path(results_dir), study.recipe_names, study.seeds):
            s = p.stats
            rows.append(
                [study.title, p.name, ", ".join(map(str, p.widths)), f"{p.parameters:,}", ", ".join(map(str, s.seeds))]
                + [f"{s.final.mean:.2f} ± {s.final.std:.2f} %", f"{s.final_min:.2f} %", f"{s.min_last:.2f} %"]
                + [hold_rate(s.hold_last, s.n), "; ".join(s.devices)]
            )
    if not rows:
        return "_No frontier recorded yet: `make frontier`._"
    return markdown_table([*header, "device"], "lllrlrrrll", rows)
