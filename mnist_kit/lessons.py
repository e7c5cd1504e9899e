"""What a lesson shows of the library's own code: its real source, and what changed between iterations.

A notebook never carries a copy of a function that could drift from the library: ``show_source`` prints
the source Python runs, and ``tests/test_notebook_sources.py`` fails when a notebook's committed output
no longer matches it. ``recipe_changes`` (the rows of ``records.config_changes``, the one diff of settings)
and ``model_changes`` are the diffs each iteration begins with.
"""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path

import torch.nn as nn
from IPython.display import Markdown

from .models import conv_budget, count_parameters, get_model
from .records import config_changes
from .report import signed

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


def _cell(value) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def recipe_changes(before, after) -> str:
    """A Markdown table of the settings that differ between two recipes (``Recipe``), and only those: the
    rows of ``records.config_changes``, the diff every run label and record name is written from.

    Taught in ``notebooks/02_model_2.ipynb`` onwards: each iteration opens with what it changed.
    """
    changes = config_changes(before.to_dict(), after.to_dict())
    rows = [f"| {key} | {_cell(old)} | {_cell(new)} |" for key, (old, new) in changes.items()]
    if not rows:
        return f"_{before.name} and {after.name} share every setting._"
    return "\n".join([f"| setting | {before.name} | {after.name} |", "| --- | --- | --- |", *rows])


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
                f"| {name} | {_channels(old.get(name))} | {_channels(new.get(name))} | "
                f"{was:,} → {now:,} ({signed(now - was)}) |"
            )
    total_old, total_new = count_parameters(before), count_parameters(after)
    return "\n".join(
        [
            f"| block | {before_name}: channels in → out | {after_name}: channels in → out | parameters |",
            "| --- | --- | --- | ---: |",
            *rows,
            f"| **total** | | | **{total_old:,} → {total_new:,} ({signed(total_new - total_old)})** |",
        ]
    )


def budget_markdown(names: list[str]) -> str:
    """Where each network's parameters go, block by block, side by side (``models.conv_budget``): a Markdown
    table with each block's channels and parameters (conv plus BatchNorm), "–" where a network has no such block.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    budgets = {name: {row["block"]: row for row in conv_budget(get_model(name))} for name in names}
    rank = {"transition": 2.5, "head": 99}  # blocks 1 and 2 run at full resolution, before the transition
    order = sorted({block for b in budgets.values() for block in b}, key=lambda b: rank.get(b) or int(b.split()[-1]))
    lines = ["| block | " + " | ".join(names) + " |", "| --- |" + " ---: |" * len(names)]
    for block in order:
        cells = [
            f"{b[block]['conv'].split(', ')[1]}: {b[block]['parameters']:,}" if block in b else "–"
            for b in budgets.values()
        ]
        lines.append(f"| {block} | " + " | ".join(cells) + " |")
    totals = [sum(row["parameters"] for row in b.values()) for b in budgets.values()]
    lines.append("| **total** | " + " | ".join(f"**{t:,}**" for t in totals) + " |")
    return "\n".join(lines)
