"""The stronger-recipe search: its candidates are what the rule says, under their budgets, counted by hand."""

import json

import pytest

from mnist_kit import records
from mnist_kit.course import MODEL_5_BUDGET
from mnist_kit.models import conv_budget, count_parameters, get_model
from mnist_kit.paths import default_results_dir
from mnist_kit.recipes import RECIPES, SEARCH_MODEL_4, SEARCH_MODEL_5, SEARCH_SEEDS, Recipe

# Worked by hand: a k x k convolution costs k*k*c_in*c_out, a BatchNorm 2*c_out, a 1x1 conv c_in*c_out; a
# depthwise-separable block k*k*c_in + c_in*c_out (+ its BatchNorm).
# Rows: block 1, block 2, transition, blocks 3-5, head.
BY_HAND = {
    "m5_early": [9 * 10 + 20, 9 * 10 * 16 + 32, 16 * 8, 9 * 8 * 8 + 16, 9 * 8 * 12 + 24, 9 * 12 * 14 + 28, 14 * 10],
    "m5_5x5": [25 * 8 + 16, 9 * 8 * 12 + 24, 12 * 8, 9 * 8 * 10 + 20, 9 * 10 * 12 + 24, 9 * 12 * 16 + 32, 16 * 10],
    "m5_sep": [9 * 10 + 20, 9 * 10 * 14 + 28, 14 * 8, 9 * 8 * 12 + 24, 9 * 12 + 12 * 16 + 32, 9 * 16 * 14 + 28, 140],
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_new_model_5_networks_count_as_worked_by_hand(name):
    model = get_model(name)
    assert [row["parameters"] for row in conv_budget(model)] == BY_HAND[name]
    assert count_parameters(model) == sum(BY_HAND[name]) < MODEL_5_BUDGET


def test_the_search_has_the_candidates_the_issue_asks_for():
    assert len(SEARCH_MODEL_5) >= 10 and len(SEARCH_MODEL_4) >= 5  # Model_4: today's recipe and 4 candidates
    assert all(count_parameters(get_model(r.model)) <= MODEL_5_BUDGET for r in SEARCH_MODEL_5.values())
    assert all(r.model == "model_4" for r in SEARCH_MODEL_4.values())  # recipe ideas on Model_4's own network
    assert SEARCH_MODEL_4["model_4"] == RECIPES["model_4"]
    assert SEARCH_SEEDS == {"model_5": (1, 2), "model_4": (1, 2, 3, 4)}  # tuning seeds, never a sweep's
    # every candidate but the attempt-1 designs differs from its base in exactly one setting
    for name, recipe in {**SEARCH_MODEL_5, **SEARCH_MODEL_4}.items():
        base = RECIPES["model_4"] if name.startswith("m4_") or name == "model_4" else RECIPES["model_5"]
        changed = {k for k, v in recipe.to_dict().items() if v != base.to_dict()[k]} - {"name", "model"}
        assert len(changed) <= 1, (name, changed)


def test_records_from_before_the_new_fields_group_with_todays(tmp_path):
    """A record written before ``translate``, ``final_div_factor`` and ``three_phase`` existed reads them at their
    defaults, the values its run used, so committed sweeps stay one configuration with new runs of the same recipe."""
    old = json.loads((default_results_dir() / "sweep" / "model_4-seed11.json").read_text())
    assert not {"translate", "final_div_factor", "three_phase"} & set(old["config"])  # written before them
    record = records.load_record(default_results_dir() / "sweep" / "model_4-seed11.json")
    defaults = Recipe("x", "model_4", rotation=0, jitter=0, lr=0.1, scheduler="onecycle")
    assert (record["config"]["translate"], record["config"]["three_phase"]) == (0.0, False)
    assert record["config"]["final_div_factor"] == defaults.final_div_factor
    # against a config written today (every field present), the old record differs in nothing but its seed
    today = RECIPES["model_4"].with_overrides(seed=11).to_dict()
    assert records.config_changes(old["config"], today) == {}
    assert records.config_changes(old["config"], {**today, "translate": 1.0}) == {"translate": (0.0, 1.0)}
