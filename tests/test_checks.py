"""The try-it checkers: each accepts the right answer (worked out here by hand or from the record), rejects
wrong ones with a hint, and never prints the answer unless asked."""

import copy
import json
import re

import pytest
from torch import nn

from mnist_kit import checks
from mnist_kit.paths import default_results_dir


def said(capsys) -> str:
    return capsys.readouterr().out


def gives_away(text: str, value) -> bool:
    """Whether ``value`` appears in ``text`` as a number of its own (also written with a thousands comma)."""
    forms = {str(value), f"{value:,}"} if isinstance(value, int) else {f"{value:g}", str(value)}
    return any(re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d,]|\.\d)", text) for form in forms)


# (checker, where, the answer worked out by hand)
CASES = [
    (checks.output_size, dict(model="model_1", block=1), 26),  # (28 + 2·0 − 3) / 1 + 1
    (checks.output_size, dict(model="model_1", block=3), 10),  # MaxPool halved 24 to 12: (12 + 0 − 3) / 1 + 1
    (checks.output_size, dict(model="model_1", block=6), 6),  # padded: (6 + 2·1 − 3) / 1 + 1
    (checks.receptive_field, dict(model="model_1", layer=2), 5),  # 1 + 2·1 + 2·1
    (checks.receptive_field, dict(model="model_1", layer=3), 10),  # 5, MaxPool +1 -> 6, jump 2: 6 + 2·2
    (checks.receptive_field, dict(model="model_1", layer="gap"), 32),  # block 6 has 22; 22 + (6 − 1)·2
    (checks.block_parameters, dict(model="model_1", block=3), 920),  # 9·10·10 + 2·10
    (checks.block_parameters, dict(model="model_4", block=4), 1288),  # 9·10·14 + 2·14
    (checks.block_parameters, dict(model="model_1", block="head"), 140),  # 1×1, 14·10, no BatchNorm
    (checks.lr_at_step, dict(recipe="model_1", epoch=7), 0.001),  # StepLR: 0.01 cut by 0.1 after 6 epochs
    (checks.lr_at_step, dict(recipe="model_1", epoch=13), 0.0001),  # and again after 12
    (checks.lr_at_step, dict(recipe="model_4", step=0), 0.008),  # OneCycleLR starts at peak / 25 = 0.2 / 25
    (checks.lr_at_step, dict(recipe="model_4", step=15 * 469 - 1), 8e-7),  # and ends at 0.008 / 1e4
    # the committed Model_5 round, last 3 epochs, seeds 1-2: m5_shift2 99.25, 99.37 (99.31 ± 0.12/√2);
    # slim_5k_a 99.22, 99.29 (99.255 ± 0.07/√2); m5_ema1 99.32, 99.39 (99.355 ± 0.07/√2)
    (checks.search_margin, dict(candidate="m5_shift2", against="slim_5k_a"), 0.055 / (0.12 / 2**0.5)),  # a tie
    (checks.search_margin, dict(candidate="m5_ema1", against="slim_5k_a"), 0.1 / (0.07 / 2**0.5)),  # a lead
]


@pytest.mark.parametrize("checker, where, answer", CASES)
def test_each_checker_accepts_the_right_answer(checker, where, answer, capsys):
    assert checker(answer, **where) is True
    assert said(capsys).startswith("✅ Right")


@pytest.mark.parametrize("checker, where, answer", CASES)
def test_a_wrong_answer_gets_a_hint_and_never_the_answer(checker, where, answer, capsys):
    too_high, too_low = (answer + 1, answer - 1) if isinstance(answer, int) else (answer * 1.5, answer / 2)
    assert checker(too_high, **where) is False
    out = said(capsys)
    assert "too high" in out and "Hint:" in out and not gives_away(out, answer)
    assert checker(too_low, **where) is False
    out = said(capsys)
    assert "too low" in out and not gives_away(out, answer)


def test_the_answer_is_shown_only_when_asked(capsys):
    checks.output_size(11, model="model_1", block=3, show_answer=True)
    assert "The answer: (12 + 2·0 − 3) / 1 + 1 = 10." in said(capsys)
    assert checks.reveal("block_parameters", model="model_1", block=3) == 920
    assert "convolution 900 + BatchNorm 20 = 920" in said(capsys)
    assert checks.reveal(checks.receptive_field, model="model_1", layer=3) == 10


def test_common_slips_get_their_own_hint(capsys):
    checks.block_parameters(900, model="model_1", block=3)  # 9·10·10 without the BatchNorm's 2·10
    assert "the convolution alone" in said(capsys)
    checks.receptive_field(8, model="model_1", layer=3)  # 6 + (3 − 1) forgetting the jump of 2
    assert "multiply it by the jump" in said(capsys)


def test_no_answer_yet_is_wrong_without_an_error(capsys):
    assert checks.output_size(..., model="model_1", block=1) is False
    assert "No answer yet" in said(capsys)
    assert checks.block_parameters("920", model="model_1", block=3) is False


def test_a_learning_rate_counts_within_one_percent(capsys):
    assert checks.lr_at_step(0.00100 * 1.009, recipe="model_1", epoch=7)
    assert not checks.lr_at_step(0.00100 * 1.02, recipe="model_1", epoch=7)
    with pytest.raises(ValueError, match="not both"):
        checks.lr_at_step(0.01, recipe="model_1", step=0, epoch=1)
    with pytest.raises(ValueError, match="epochs 1 to 15"):
        checks.lr_at_step(0.01, recipe="model_1", epoch=16)


def test_first_epoch_at_target_reads_the_record(capsys):
    history = json.loads((default_results_dir() / "model_4.json").read_text())["history"]
    first = next(row["epoch"] for row in history if row["test_acc"] >= 99.4)
    assert checks.first_epoch_at_target(first, record="model_4")
    assert not checks.first_epoch_at_target(first + 1, record="model_4")
    assert "too high" in said(capsys).splitlines()[-1]
    accs = [row["test_acc"] for row in json.loads((default_results_dir() / "model_3.json").read_text())["history"]]
    assert max(accs) < 99.4  # Model_3 never reached the target, so the answer is None
    assert checks.first_epoch_at_target(None, record="model_3")
    assert not checks.first_epoch_at_target(15, record="model_3")


def test_first_epoch_at_target_of_a_record_dict_and_a_validation_record():
    record = copy.deepcopy(json.loads((default_results_dir() / "model_4.json").read_text()))
    for row, acc in zip(record["history"], [98.0, 99.39, 99.40] + [99.5] * 12, strict=True):
        row["test_acc"] = acc
    assert checks.first_epoch_at_target(3, record=record)  # 99.40 is at the target, 99.39 is not
    validation = next((default_results_dir() / "validation").glob("*.json"))
    history = json.loads(validation.read_text())["history"]
    first = next((row["epoch"] for row in history if row["val_acc"] >= 99.4), None)
    assert checks.first_epoch_at_target(first, record=validation)


def test_a_students_own_network_can_be_checked(capsys):
    net = nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(4), nn.Conv2d(4, 10, 1)
    )
    assert checks.output_size(14, model=net, block=1)  # (28 + 2·1 − 3) // 2 + 1 = 14
    assert checks.block_parameters(9 * 1 * 4 + 2 * 4, model=net, block=1)
    assert checks.receptive_field(3, model=net, layer=1)


def test_an_unknown_block_or_layer_names_the_choices():
    with pytest.raises(ValueError, match="block must be 1 to 6"):
        checks.output_size(1, model="model_1", block=7)
    with pytest.raises(ValueError, match="transition.1"):
        checks.receptive_field(1, model="model_1", layer="pool")
    with pytest.raises(ValueError, match="unknown checker"):
        checks.reveal("accuracy")


@pytest.mark.parametrize("name", ["model_1", "model_3", "model_4"])
def test_the_learning_rate_agrees_with_what_training_recorded(name, capsys):
    """The record's ``lr`` column is the rate at each epoch's first step, read off the real optimizer."""
    history = json.loads((default_results_dir() / f"{name}.json").read_text())["history"]
    for row in history:
        assert checks.lr_at_step(row["lr"], recipe=name, epoch=row["epoch"]), (name, row["epoch"])
    assert checks.lr_at_step(0.01, recipe="model_1", step=6 * 469 - 1)  # StepLR: the last step of epoch 6
    assert checks.lr_at_step(0.001, recipe="model_1", step=6 * 469)  # the first of epoch 7


def test_a_margin_names_the_candidates_it_can_compare():
    with pytest.raises(ValueError, match="'m5_none' is not ranked in the model_5 round; choose among m5_ema1"):
        checks.search_margin(1.0, candidate="m5_none")


def test_lowest_in_window_reads_the_sweep_record(capsys):
    history = json.loads((default_results_dir() / "sweep" / "model_4-seed15.json").read_text())["history"]
    accs = [row["test_acc"] for row in history]
    assert checks.lowest_in_window(min(accs[-5:]), sweep="model_4", seed=15, epochs=5)
    assert checks.lowest_in_window(round(min(accs[-3:]), 2), sweep="model_4", seed=15, epochs=3)
    assert not checks.lowest_in_window(min(accs[-5:]) + 0.01, sweep="model_4", seed=15, epochs=5)
    assert not gives_away(said(capsys), min(accs[-5:]))
    checks.lowest_in_window(min(accs[-3:]), sweep="model_4", seed=15, epochs=5)  # the last 3, not the last 5
    assert "the lowest of the last 3 epochs" in said(capsys)
    with pytest.raises(ValueError, match="no sweep record model_4-seed99.json"):
        checks.lowest_in_window(99.4, sweep="model_4", seed=99)


@pytest.mark.parametrize("k, n, low", [(17, 20, 63.96), (10, 10, 72.25), (2, 5, 11.76), (0, 5, 0.0)])
def test_wilson_low_is_the_intervals_lower_end_in_percent(k, n, low, capsys):
    """Worked by hand: centre (k + 1.92) / (n + 3.84), half 1.96 / (n + 3.84) · √(k(n − k)/n + 0.96)."""
    assert checks.wilson_low(low, k=k, n=n)
    if low:
        assert not checks.wilson_low(low * 1.05, k=k, n=n) and not checks.wilson_low(low / 1.05, k=k, n=n)
        assert not gives_away(said(capsys), low)


def test_wilson_low_names_the_textbook_interval_and_a_fraction(capsys):
    p = 17 / 20
    assert not checks.wilson_low(100 * (p - 1.96 * (p * (1 - p) / 20) ** 0.5), k=17, n=20)
    assert "textbook interval" in said(capsys)
    assert not checks.wilson_low(0.6396, k=17, n=20)
    assert "in percent" in said(capsys)


def test_tie_or_lead_judges_a_round_by_the_spread(capsys):
    assert checks.tie_or_lead("tie", which="model_4", candidate="m4_shift1", against="model_4")  # 0.4 spreads
    assert checks.tie_or_lead(" Lead", which="model_5", candidate="m5_ema1", against="slim_5k_a")  # 2 spreads
    assert not checks.tie_or_lead("lead", which="model_4", candidate="m4_shift1", against="model_4")
    out = said(capsys)
    assert "Not quite" in out and "spreads" not in out.splitlines()[-1].split("Hint:")[0]
    assert not checks.tie_or_lead(0.4, which="model_4", candidate="m4_shift1", against="model_4")
    assert "No answer yet" in said(capsys)
    checks.tie_or_lead(None, show_answer=True)
    assert "a tie (less than one spread)" in said(capsys)
