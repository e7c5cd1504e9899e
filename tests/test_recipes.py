import pytest

from mnist_kit.recipes import RECIPES, get_recipe


def test_recipes_follow_the_original_design():
    assert {r.model for r in RECIPES.values()} >= {"model_1", "model_2", "model_3", "model_4"}
    # a recipe is named after its network; Model_5's attempt 2 and Model_4's new recipe are their network under a
    # recipe of its own, and the frontier's second series is each network under attempt 2's recipe (<network>_b)
    second = {"model_5b", "model_4b", "slim_6k_b", "slim_4k_b", "slim_3k_b"}
    assert all(r.name == r.model for name, r in RECIPES.items() if name not in second)
    assert RECIPES["model_5b"].model == "model_5" and RECIPES["model_4b"].model == "model_4"
    assert all(RECIPES[name].model == name.removesuffix("_b") for name in second - {"model_5b", "model_4b"})
    assert all(r.epochs == 15 and r.batch_size == 128 for r in RECIPES.values())
    assert RECIPES["model_3"].scheduler == "multistep" and RECIPES["model_3"].jitter == 0
    assert RECIPES["model_1"].scheduler == RECIPES["model_2"].scheduler == "step"
    # Model_4 leaves the original's StepLR for one cycle (tuning, results/tuning/model_4.json) and drops the jitter.
    assert RECIPES["model_4"].scheduler == "onecycle" and RECIPES["model_4"].rotation == 5
    assert RECIPES["model_4"].jitter == 0
    with pytest.raises(ValueError, match="model_1, model_2, model_3, model_4"):
        get_recipe("model_9")


def test_overrides_keep_the_rest_and_schedule_names_its_fields():
    recipe = get_recipe("model_4").with_overrides(lr=0.05, seed=None)
    assert recipe.lr == 0.05 and recipe.seed == RECIPES["model_4"].seed
    assert recipe.schedule() == dict(
        scheduler="onecycle",
        lr=0.05,
        epochs=15,
        step_size=0,
        gamma=0.1,
        milestones=(),
        pct_start=0.3,
        final_div_factor=1e4,
        three_phase=False,
    )
