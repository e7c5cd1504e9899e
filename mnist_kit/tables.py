"""Markdown tables, and the few ways the kit writes a value in one: every table of the README, the reports and
the lessons is built by ``markdown_table``; ``change_label`` names what one recipe changes from another.

It formats only: what goes in a table is the caller's (``report``, ``lessons``, ``readme``, ``ablation``, ...).
"""

from __future__ import annotations


def markdown_table(header: list[str], align: str, rows: list[list[str]]) -> str:
    """A Markdown table: ``align`` has one letter a column, ``l`` (left) or ``r`` (right); empty cells at
    either end of a row are written bare (``| |``), one inside a row as ``|  |`` (as the README has them)."""
    if len(align) != len(header):
        raise ValueError(f"align {align!r} has {len(align)} letters for {len(header)} columns")
    lines = [header, ["---:" if a == "r" else "---" for a in align], *rows]
    return "\n".join(f"| {' | '.join(map(str, cells)).strip()} |" for cells in lines)


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


def signed(n: int) -> str:
    """A change with its sign, as a reader writes it: +12, −312 (a true minus), ±0."""
    return f"+{n:,}" if n > 0 else f"−{-n:,}" if n < 0 else "±0"


def cell(value) -> str:
    """A setting's value as a lesson writes it: ``0.1``, ``5, 10`` for a list, ``none`` for an empty one."""
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return f"{value:g}" if isinstance(value, float) else str(value)


def change_label(changes: dict[str, tuple], value=str) -> str:
    """What a run changes (``records.config_changes``: ``{setting: (before, after)}``), each value written by
    ``value`` (``str``, or ``cell``): ``rotation 7 → 5, network model_1 → model_2`` (the setting ``model`` reads
    "network"); "" for no change."""
    return ", ".join(f"{'network' if k == 'model' else k} {value(a)} → {value(b)}" for k, (a, b) in changes.items())
