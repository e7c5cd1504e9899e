"""The statistics the kit reports, worked out by hand: last-epoch windows, holds, streaks, spread, Wilson."""

import math

import pytest
from test_report import fake_record

from mnist_kit import stats
from mnist_kit.records import Record


def test_summarize_counts_the_target_epochs():
    s = stats.summarize(fake_record([98.0, 99.41, 99.39, 99.40, 99.45, 99.42]))
    assert isinstance(s, stats.RunStats)
    assert s.epochs_at_target == [2, 4, 5, 6]
    assert s.best_test == 99.45 and s.best_test_epoch == 5
    assert s.holds_target and s.min_last == 99.40
    assert s.seconds_per_epoch == pytest.approx(12.5)  # median of 10 ... 15
    assert not stats.summarize(fake_record([99.5, 99.5, 99.39])).holds_target


def test_steadiness_over_the_last_five_epochs_and_the_longest_streak():
    s = stats.summarize(fake_record([99.5, 99.41, 99.39, 99.40, 99.45, 99.42, 99.41]))
    assert s.holds_target and not s.holds_steady and s.min_steady == 99.39
    assert s.longest_streak == 4  # epochs 4-7
    assert stats.longest_streak([]) == 0 and stats.longest_streak([1, 2, 3, 7, 8]) == 3


def test_a_window_longer_than_the_run_never_holds():
    assert stats.lowest_of_last([99.5, 99.6], 5) == 99.5
    assert stats.holds([99.5, 99.6], 2) and not stats.holds([99.5, 99.6], 3)


def test_a_validation_run_is_judged_on_its_validation_accuracy():
    data = fake_record([99.2, 99.45]).to_dict()
    for row in data["history"]:
        row["val_acc"], row["val_loss"] = row.pop("test_acc"), row.pop("test_loss")
    record = Record.from_dict(dict(data, evaluated_on="validation"))
    assert stats.accuracies(record) == [99.2, 99.45]
    assert stats.summarize(record).last_test == 99.45


def test_sweep_summary_counts_seeds_and_spread():
    records = [
        fake_record([99.3, 99.41, 99.42, 99.43, 99.45, 99.50], seed=11),
        fake_record([99.3, 99.45, 99.39, 99.43, 99.45, 99.40], seed=12),
    ]
    s = stats.sweep_summary(records)
    assert s.seeds == [11, 12] and s.n == 2
    # finals 99.50 and 99.40: mean 99.45, sample std sqrt(2 * 0.05^2 / 1) = 0.0707
    assert s.final == stats.MeanStd(pytest.approx(99.45), pytest.approx(0.0707, abs=1e-4))
    assert (s.hold_last, s.hold_steady, s.min_steady) == (2, 1, 99.39)
    assert (s.streak_min, s.streak_max) == (3, 5)
    assert stats.mean_std([99.4]) == stats.MeanStd(99.4, 0.0)


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # centre (k + z²/2) / (n + z²), half-width z / (n + z²) · sqrt(k(n - k)/n + z²/4), z = 1.96, z² = 3.8416
        (5, 5, 5 / 8.8416 + 1.9208 / 8.8416 - 1.96 / 8.8416 * math.sqrt(0.9604), 1.0),  # 0.5655 to 1
        (0, 5, 0.0, 1 - (5 / 8.8416 + 1.9208 / 8.8416 - 1.96 / 8.8416 * math.sqrt(0.9604))),  # mirror of 5 of 5
        (9, 10, 0.5958, 0.9821),  # scipy.stats.binomtest(9, 10).proportion_ci(method="wilson"): 0.59585, 0.98212
    ],
)
def test_wilson_interval_of_a_hold_rate(k, n, low, high):
    interval = stats.wilson(k, n)
    assert (interval.low, interval.high) == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))


def test_wilson_refuses_an_impossible_count():
    with pytest.raises(ValueError, match="k=6, n=5"):
        stats.wilson(6, 5)
    with pytest.raises(ValueError):
        stats.wilson(0, 0)


def test_a_hold_rate_is_stated_with_its_wilson_interval():
    """Ten seeds cannot tell 10 in 10 from 7 in 10: the table says so with the interval."""
    assert stats.hold_rate(10, 10) == "10 of 10 (95 % CI 72%–100%)"
    assert stats.hold_rate(7, 10) == "7 of 10 (95 % CI 40%–89%)"
    assert stats.hold_rate(0, 5) == "0 of 5 (95 % CI 0%–43%)"
