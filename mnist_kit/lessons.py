"""What a lesson shows of the library's own code: its real source, and what changed between iterations.

A notebook never carries a copy of a function that could drift from the library: ``show_source`` prints
the source Python runs, and ``tests/test_notebook_sources.py`` fails when a notebook's committed output
no longer matches it. ``recipe_changes`` (the rows of ``records.config_changes``, the one diff of settings)
and ``model_changes`` are the diffs each iteration begins with.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

import torch.nn as nn
from IPython.display import Markdown

from .course import HOLD_EPOCHS, STEADY_EPOCHS, TARGET
from .grade import record_of
from .models import conv_budget, count_parameters, get_model, receptive_field_table
from .paths import default_results_dir
from .plots.digits import confusion_matrix, per_class_accuracy
from .records import config_changes
from .splits import accuracies, averaged, column, split_of
from .stats import holds, wilson
from .tables import cell, markdown_table, signed
from .tuning import window_score

PACKAGE_PARENT = Path(__file__).resolve().parent.parent  # paths are shown relative to the repository


def _relative_file(obj) -> str:
    path = Path(inspect.getsourcefile(obj)).resolve()
    return path.relative_to(PACKAGE_PARENT).as_posix() if path.is_relative_to(PACKAGE_PARENT) else path.name


def source_markdown(*objects) -> str:
    """Markdown of each function's or class's source as Python sees it now: a bold header naming its file
    and name, then the code in a ``python`` fence (GitHub highlights it in a committed output)."""
    parts = []
    for obj in objects:
        code = textwrap.dedent(inspect.getsource(obj))
        parts.append(f"**`{_relative_file(obj)}`** · `{obj.__qualname__}`\n\n```python\n{code}```")
    return "\n\n".join(parts)


def show_source(*objects) -> Markdown:
    """Display the library's own source of ``objects`` in a notebook (``source_markdown`` as Markdown).

    Taught in ``notebooks/01_model_1.ipynb``: the code a lesson explains is the code that runs.
    """
    return Markdown(source_markdown(*objects))


def recipe_changes(before, after) -> str:
    """A Markdown table of the settings that differ between two recipes (``Recipe``), and only those: the
    rows of ``records.config_changes``, the diff every run label and record name is written from.

    Taught in ``notebooks/02_model_2.ipynb`` onwards: each iteration opens with what it changed.
    """
    changes = config_changes(before.to_dict(), after.to_dict())
    if not changes:
        return f"_{before.name} and {after.name} share every setting._"
    rows = [[key, cell(old), cell(new)] for key, (old, new) in changes.items()]
    return markdown_table(["setting", before.name, after.name], "lll", rows)


def _blocks(model: nn.Module) -> dict[str, tuple[int, int, int]]:
    """(input channels, output channels, parameters) of each top-level block that holds a convolution."""
    blocks = {}
    for name, block in model.named_children():
        convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
        if convs:
            blocks[name] = (convs[0].in_channels, convs[-1].out_channels, sum(p.numel() for p in block.parameters()))
    return blocks


def _in_order(first: list[str], second: list[str]) -> list[str]:
    """The names of both lists, each of ``second``'s missing from ``first`` placed after its predecessor."""
    order = list(first)
    for i, name in enumerate(second):
        if name not in order:
            order.insert(order.index(second[i - 1]) + 1 if i else 0, name)
    return order


def _channels(block: tuple[int, int, int] | None) -> str:
    return f"{block[0]} → {block[1]}" if block else "–"


def model_changes(before_name: str, after_name: str) -> str:
    """A Markdown table of the blocks whose channels or parameter counts differ between two registered
    models (``models.MODELS``), "–" where a model has no such block, and the total parameters with their change.

    Taught in ``notebooks/02_model_2.ipynb`` (Model_1 → Model_2) and ``notebooks/04_model_4.ipynb``.
    """
    before, after = get_model(before_name), get_model(after_name)
    old, new = _blocks(before), _blocks(after)
    rows = []
    for name in _in_order(list(old), list(new)):
        if old.get(name) != new.get(name):
            was, now = old[name][2] if name in old else 0, new[name][2] if name in new else 0
            rows.append(
                [name, _channels(old.get(name)), _channels(new.get(name)), f"{was:,} → {now:,} ({signed(now - was)})"]
            )
    total_old, total_new = count_parameters(before), count_parameters(after)
    rows.append(["**total**", "", "", f"**{total_old:,} → {total_new:,} ({signed(total_new - total_old)})**"])
    header = ["block", f"{before_name}: channels in → out", f"{after_name}: channels in → out", "parameters"]
    return markdown_table(header, "lllr", rows)


def _schedule_lines(record: dict, key: str, split: str) -> list[str]:
    """One line per learning-rate cut of a per-epoch schedule: the accuracy before it and the best after it."""
    history = record["history"]
    if record["config"].get("scheduler") == "onecycle":  # its rate changes every batch: no cuts to read
        return []
    cuts = [i for i in range(1, len(history)) if history[i]["lr"] < history[i - 1]["lr"]]
    lines = []
    for n, i in enumerate(cuts):
        end = cuts[n + 1] if n + 1 < len(cuts) else len(history)
        before, after = history[i - 1][key], max(row[key] for row in history[i:end])
        lines.append(
            f"- After epoch {i} the learning rate fell from {history[i - 1]['lr']:g} to {history[i]['lr']:g}: "
            f"{split} accuracy {before:.2f} % at epoch {i}, best {after:.2f} % in epochs {i + 1}–{end} "
            f"({after - before:+.2f} points)."
        )
    return lines


def _mistake_lines(predictions, most: int) -> list[str]:
    """The most frequent confusions (true digit read as another) and the weakest digit."""
    matrix = confusion_matrix(predictions).clone()
    matrix.fill_diagonal_(0)
    counts = matrix.flatten()
    top = [i for i in counts.argsort(descending=True, stable=True).tolist()[:most] if counts[i] > 0]
    pairs = ", ".join(f"{i // 10} read as {i % 10} ({counts[i]} time{'s' if counts[i] > 1 else ''})" for i in top)
    accuracy = per_class_accuracy(predictions)
    present = predictions.labels.unique().tolist()  # a digit with no test image has no accuracy
    weakest = min(present, key=lambda digit: accuracy[digit].item())
    return [
        f"- {int(counts.sum()):,} test digits are misread; the most frequent confusions: {pairs or 'none'}.",
        f"- The weakest digit is {weakest}: {accuracy[weakest]:.2f} % of its test images are read right.",
    ]


def analysis_numbers(record, predictions=None, most: int = 3) -> Markdown:
    """A run's own numbers for a lesson's Analysis, read from its record (and its test-set ``predictions``), so the
    Analysis can stay general while the run behind it is made again: the first and best epochs, what each cut of a
    StepLR or MultiStepLR rate was followed by, how often training accuracy sat below the evaluated accuracy, and
    the ``most`` frequent mistakes with the weakest digit.

    Taught in ``notebooks/01_model_1.ipynb``.
    """
    record = record_of(record)
    split = split_of(record)
    key = column(split)
    history = record["history"]
    first, best = history[0], max(history, key=lambda row: row[key])
    below = sum(row["train_acc"] < row[key] for row in history)
    lines = [
        f"- Epoch 1 ended at {first[key]:.2f} % {split} accuracy (train {first['train_acc']:.2f} %); the best epoch, "
        f"{best['epoch']} of {len(history)}, reached {best[key]:.2f} %.",
        *_schedule_lines(record, key, split),
        f"- Training accuracy was below {split} accuracy in {below} of {len(history)} epochs.",
    ]
    if predictions is not None:
        lines += _mistake_lines(predictions, most)
    source = "its record, and its test-set predictions" if predictions is not None else "its record"
    return Markdown(f"**This run's numbers** (from {source}):\n\n" + "\n".join(lines))


def budget_markdown(names: list[str]) -> str:
    """Where each network's parameters go, block by block, side by side (``models.conv_budget``): a Markdown
    table with each block's channels and parameters (conv plus BatchNorm), "–" where a network has no such block.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    budgets = {name: {row["block"]: row for row in conv_budget(get_model(name))} for name in names}
    rank = {"transition": 2.5, "head": 99}  # blocks 1 and 2 run at full resolution, before the transition
    order = sorted({block for b in budgets.values() for block in b}, key=lambda b: rank.get(b) or int(b.split()[-1]))
    rows = [
        [
            block,
            *(
                f"{b[block]['conv'].split(', ')[1]}: {b[block]['parameters']:,}" if block in b else "–"
                for b in budgets.values()
            ),
        ]
        for block in order
    ]
    totals = [sum(row["parameters"] for row in b.values()) for b in budgets.values()]
    rows.append(["**total**", *(f"**{t:,}**" for t in totals)])
    return markdown_table(["block", *names], "l" + "r" * len(names), rows)


def hold_rates_markdown(records: list, raw: bool = False) -> str:
    """How many seeds of a sweep held ≥ 99.4 % in each of their last 3 and their last 5 epochs, as a Markdown
    table: the seeds that held, the hold rate (k of n) and its 95 % Wilson interval (``stats.wilson``), the range
    of rates that the recipe itself could have, given only n seeds. ``raw=True`` adds the same rows for the raw
    weights (``Record.accuracies(raw=True)``) of runs that evaluated a weight average.

    Taught in ``notebooks/04_model_4.ipynb`` and ``notebooks/05_smaller.ipynb``.
    """
    if not records:
        raise ValueError("no runs to count: give the records of a sweep")
    average = averaged(records[0])
    kinds = [("weight average" if average else "trained weights", False)]
    kinds += [("raw weights", True)] if raw and average else []  # without an average the raw weights are evaluated
    rows = []
    for label, raw_weights in kinds:
        for window in (HOLD_EPOCHS, STEADY_EPOCHS):
            held = [r["seed"] for r in records if holds(accuracies(r, raw_weights), window, TARGET)]
            band = wilson(len(held), len(records))
            seeds = ", ".join(map(str, held)) or "none"
            interval = f"{band.low * 100:.0f}–{band.high * 100:.0f} %"
            rows.append([label, f"last {window} epochs", seeds, f"{len(held)} of {len(records)}", interval])
    header = ["weights", "window", "seeds holding", "hold rate", "95 % Wilson interval"]
    return markdown_table(header, "lllll", rows)


RF_COLUMNS = ("type", "kernel", "stride", "padding", "output_size", "receptive_field", "jump", "start")


def receptive_field_changes(before_name: str, after_name: str) -> str:
    """The rows of the receptive-field table (``models.receptive_field_table``) that differ between two registered
    models, or one sentence saying the tables are the same, so a lesson never prints an unchanged table again.

    Taught in ``notebooks/02_model_2.ipynb`` onwards.
    """
    old = {row["layer"]: row for row in receptive_field_table(get_model(before_name))}
    new = {row["layer"]: row for row in receptive_field_table(get_model(after_name))}
    names = _in_order(list(old), list(new))
    changed = [
        n for n in names if [old.get(n, {}).get(c) for c in RF_COLUMNS] != [new.get(n, {}).get(c) for c in RF_COLUMNS]
    ]
    if not changed:
        last = list(new.values())[-1]
        return (
            f"_The receptive-field table of {after_name} is the same as {before_name}'s, row for row: the same "
            f"kernels, strides and paddings, so the last layer still sees {last['receptive_field']}×"
            f"{last['receptive_field']} input pixels._"
        )

    def cells(row):
        return f"{row['output_size']} · {row['receptive_field']} · {row['jump']}" if row else "– · – · –"

    header = ["layer", f"{before_name}: size · RF · jump", f"{after_name}: size · RF · jump"]
    return markdown_table(header, "lll", [[n, cells(old.get(n)), cells(new.get(n))] for n in changed])


def _epoch_seconds(device: str) -> tuple[float, str] | None:
    """Seconds per epoch of Model_4 on the fast pipeline, and the device, from ``results/benchmarks/``."""
    path = default_results_dir() / "benchmarks" / f"epoch_speed-{device}.json"
    if not path.is_file():
        return None
    bench = json.loads(path.read_text())
    fast = next(p for p in bench["pipelines"] if p["pipeline"] == "fast")
    return fast["epoch_seconds"], bench["device_name"]


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def exercise_time(epochs: int, runs: int = 1) -> Markdown:
    """How long an exercise of ``runs`` training runs of ``epochs`` epochs takes, from the measured epoch times in
    ``results/benchmarks/`` (Model_4 on the fast pipeline; the course's other networks are within a few thousand
    parameters of it). Every solution states it."""
    parts = []
    for device, where in (("cpu", "on a CPU"), ("cuda", "on a GPU")):
        measured = _epoch_seconds(device)
        if measured:
            seconds, name = measured
            name = name.removeprefix("CPU: ")
            parts.append(f"about {_duration(seconds * epochs * runs)} {where} ({name}: {seconds:.1f} s an epoch)")
    what = f"{runs} run{'s' if runs > 1 else ''} of {epochs} epoch{'s' if epochs > 1 else ''}"
    return Markdown(f"⏱ {what}: " + "; ".join(parts) + ". Measured by `benchmarks/epoch_speed.py` for Model_4.")


def search_margin_markdown(result: dict, others: list[str]) -> str:
    """The winner of a search's round (``tuning.load_round``) against ``others`` (say, the candidate it replaces
    and the runner-up), on the judged window: each one's mean ± std over its seeds, the gap to the winner, the
    larger of the two spreads and the gap in spreads: at least one spread is a lead, less is a tie
    (``tuning.pick``'s rule). Taught in ``notebooks/06_steady_or_lucky.ipynb``."""
    if result.get("winner") is None:
        raise ValueError("the round has no winner yet: judge it first (python -m mnist_kit search ... --judge)")
    w = result["window"]
    by_name = {c["name"]: c for c in result["candidates"]}
    unknown = [name for name in others if name not in by_name or by_name[name]["rank"] is None]
    if unknown:
        raise ValueError(f"not ranked in this round: {', '.join(unknown)}; choose among {', '.join(by_name)}")
    winner = result["winner"]
    win = window_score(by_name[winner], w)
    rows = [[f"**{winner}** (winner)", "1", f"{win.mean:.2f} ± {win.std:.2f} %", "–", "–", "–", "–"]]
    for name in others:
        c = window_score(by_name[name], w)
        gap, spread = win.mean - c.mean, max(win.std, c.std)
        verdict = "a lead" if gap >= spread and gap > 0 else "a tie"
        ratio = f"{gap / spread if spread else float('inf'):.1f}"
        rows.append([name, str(by_name[name]["rank"]), f"{c.mean:.2f} ± {c.std:.2f} %", f"{gap:.2f}", f"{spread:.2f}"])
        rows[-1] += [ratio, verdict]
    header = ["candidate", "rank", f"lowest of last {w}, mean ± std", f"gap to {winner}", "larger spread"]
    return markdown_table([*header, "gap in spreads", "verdict"], "lrrrrrl", rows)
