"""The statistics the kit reports, as small typed values: lowest of the last n epochs, holds, streaks,
mean ± std over seeds, and a Wilson interval for a hold rate.

Each function takes plain numbers or a record (read dict-style: ``records.Record`` or a JSON dict) and
returns a number or a frozen dataclass; nothing here formats text (``report``) or draws (``plots``).
Taught in every notebook's "Results" section (``summarize``) and in notebook 5 (the sweep).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from .course import HOLD_EPOCHS, STEADY_EPOCHS, TARGET
from .splits import accuracies as split_accuracies


def lowest_of_last(accs: list[float], n: int) -> float:
    """The lowest accuracy of the last ``n`` epochs (of all of them when there are fewer)."""
    return min(accs[-n:])


def holds(accs: list[float], n: int, target: float = TARGET) -> bool:
    """Whether each of the last ``n`` epochs is at or above ``target`` (False when there are fewer than n)."""
    return len(accs) >= n and min(accs[-n:]) >= target


def epochs_at_target(accs: list[float], target: float = TARGET) -> list[int]:
    """The epochs (counted from 1) whose accuracy is at or above ``target``."""
    return [epoch for epoch, acc in enumerate(accs, start=1) if acc >= target]


def longest_streak(epochs: list[int]) -> int:
    """The longest run of consecutive epochs in a sorted list: [2, 4, 5, 6] -> 3."""
    best = current = 0
    for i, e in enumerate(epochs):
        current = current + 1 if i and e == epochs[i - 1] + 1 else 1
        best = max(best, current)
    return best


@dataclass(frozen=True)
class MeanStd:
    """Mean and sample standard deviation (0 for a single value)."""

    mean: float
    std: float


def mean_std(values: list[float]) -> MeanStd:
    return MeanStd(statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


@dataclass(frozen=True)
class Interval:
    """A confidence interval for a proportion, as fractions in [0, 1]."""

    low: float
    high: float

    def __str__(self) -> str:
        return f"95 % CI {self.low:.0%}–{self.high:.0%}"


def hold_rate(k: int, n: int) -> str:
    """``"9 of 10 (95 % CI 60%–98%)"``: a hold rate with its Wilson interval, as every table states one."""
    return f"{k} of {n} ({wilson(k, n)})"


def wilson(k: int, n: int, z: float = 1.96) -> Interval:
    """The Wilson score interval (95 % for z = 1.96) of a hold rate: ``k`` of ``n`` seeds held the target.

    Unlike k/n ± z·sqrt(p(1-p)/n), it stays inside [0, 1] and is not zero-width at 0 of n or n of n.
    """
    if not 0 <= k <= n or n == 0:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")
    centre = (k + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(k * (n - k) / n + z * z / 4)
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def accuracies(record, key: str | None = None, raw: bool = False) -> list[float]:
    """A record's accuracy per epoch on the split it was evaluated on (``splits.accuracies``; ``raw=True``: the raw
    weights' of a weight-averaged run), or the history column ``key`` when one is named."""
    return [row[key] for row in record["history"]] if key else split_accuracies(record, raw)


@dataclass(frozen=True)
class RunStats:
    """The headline numbers of one run: best, last, the epochs at the target and the last-epoch windows."""

    parameters: int
    epochs: int
    best_train: float
    best_test: float
    best_test_epoch: int
    last_test: float
    epochs_at_target: list[int]
    min_last: float  # lowest of the last HOLD_EPOCHS
    holds_target: bool
    min_steady: float  # lowest of the last STEADY_EPOCHS
    holds_steady: bool
    longest_streak: int
    seconds_per_epoch: float  # median


def summarize(record) -> RunStats:
    """The headline numbers of one run record (``records.Record`` or a record-shaped dict)."""
    history, accs = record["history"], accuracies(record)
    at_target = [row["epoch"] for row, acc in zip(history, accs, strict=True) if acc >= TARGET]
    return RunStats(
        parameters=record["parameters"],
        epochs=len(history),
        best_train=max(row["train_acc"] for row in history),
        best_test=max(accs),
        best_test_epoch=history[accs.index(max(accs))]["epoch"],
        last_test=accs[-1],
        epochs_at_target=at_target,
        min_last=lowest_of_last(accs, HOLD_EPOCHS),
        holds_target=holds(accs, HOLD_EPOCHS),
        min_steady=lowest_of_last(accs, STEADY_EPOCHS),
        holds_steady=holds(accs, STEADY_EPOCHS),
        longest_streak=longest_streak(at_target),
        seconds_per_epoch=statistics.median(row["seconds"] for row in history),
    )


@dataclass(frozen=True)
class SweepStats:
    """One recipe over several seeds: final accuracy, how many seeds hold the target, streaks, devices."""

    seeds: list[int]
    final: MeanStd
    final_min: float
    final_max: float
    min_last: float  # lowest of the last HOLD_EPOCHS, all seeds
    hold_last: int  # seeds holding the target over their last HOLD_EPOCHS
    min_steady: float
    hold_steady: int
    streak_min: int
    streak_max: int
    devices: list[str]

    @property
    def n(self) -> int:
        return len(self.seeds)


def sweep_summary(records: list) -> SweepStats:
    """The seeds of one recipe summarised (each run by ``summarize``)."""
    runs = [summarize(r) for r in records]
    finals = [s.last_test for s in runs]
    streaks = [s.longest_streak for s in runs]
    return SweepStats(
        seeds=[r["seed"] for r in records],
        final=mean_std(finals),
        final_min=min(finals),
        final_max=max(finals),
        min_last=min(s.min_last for s in runs),
        hold_last=sum(s.holds_target for s in runs),
        min_steady=min(s.min_steady for s in runs),
        hold_steady=sum(s.holds_steady for s in runs),
        streak_min=min(streaks),
        streak_max=max(streaks),
        devices=sorted({r["device_name"] for r in records}),
    )
