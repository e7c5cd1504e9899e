"""Which split a run was evaluated on, and the history columns that holds: the one place the kit decides it.

A run is evaluated on the test set (``evaluated_on="test"``: columns ``test_loss``, ``test_acc``) or, for tuning,
on the validation split, the last 10,000 training images (``"validation"``: ``val_loss``, ``val_acc``). A run that
evaluates a weight average keeps the raw weights' numbers beside it (``raw_test_acc``, ``raw_val_acc``). A record
(``records.Record``, or a record-shaped dict) written before ``evaluated_on`` existed was evaluated on the test set.
``records.Record.split`` and ``Record.accuracies`` read it from here; so does everything that reads a history.
"""

from __future__ import annotations

PREFIXES = {"test": "test", "validation": "val"}  # evaluated_on -> the prefix of its history columns


def split_of(record) -> str:
    """The split a record (or a ``Run``) was evaluated on: ``"test"`` or ``"validation"``."""
    split = record.evaluated_on if hasattr(record, "evaluated_on") else record.get("evaluated_on", "test")
    if split not in PREFIXES:
        raise ValueError(f"evaluated_on is {split!r}, not one of {list(PREFIXES)}")
    return split


def column(split: str = "test", metric: str = "acc", raw: bool = False) -> str:
    """The history column of ``metric`` (``acc`` or ``loss``) on ``split``: ``val_acc``; ``raw_val_acc`` with
    ``raw`` (the raw weights of a weight-averaged run)."""
    return f"{'raw_' if raw else ''}{PREFIXES[split]}_{metric}"


def averaged(record) -> bool:
    """Whether the record's run evaluated a weight average (its history keeps the raw weights' columns too)."""
    return column(split_of(record), raw=True) in record["history"][0]


def accuracies(record, raw: bool = False) -> list[float]:
    """The record's accuracy per epoch on the split it was evaluated on. ``raw=True``: the raw weights' accuracy,
    which for a run without a weight average is the evaluated accuracy itself (its raw weights are what it evaluated).
    """
    key = column(split_of(record), raw=raw and averaged(record))
    return [row[key] for row in record["history"]]
