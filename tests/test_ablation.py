"""What each change did on its own (``mnist_kit.ablation``): numbers pooled over seeds, judged against the spread."""

import json

import pytest

from mnist_kit import ablation
from mnist_kit.recipes import ABLATIONS
from mnist_kit.records import RecordError


def write_run(results, name, seed, val_accs, train_acc=99.0, smoke=False):
    """A validation record of ``recipes.ABLATIONS[name]`` for these tests (not a result of any run)."""
    history = [
        dict(epoch=i + 1, lr=0.01, train_loss=0.1, train_acc=train_acc, val_loss=0.05, val_acc=acc, seconds=1.0)
        for i, acc in enumerate(val_accs)
    ]
    recipe = ABLATIONS[name]
    data = dict(
        format=1,
        recipe=name,
        model=recipe.model,
        parameters=7934,
        seed=seed,
        config={**recipe.to_dict(), "seed": seed},
        epochs=len(history),
        complete=True,
        smoke=smoke,
        evaluated_on="validation",
        device="cpu",
        device_name="CPU: test",
        wall_seconds=1.0,
        history=history,
    )
    (results / "ablation").mkdir(exist_ok=True)
    (results / "ablation" / f"{name}-seed{seed}.json").write_text(json.dumps(data))


@pytest.fixture
def results(tmp_path):
    # model_1: lowest of last 3 = 99.10 and 99.20 (mean 99.15, std 0.0707); train 98.9 and 99.1 (std 0.1414)
    write_run(tmp_path, "model_1", 1, [98.0, 99.3, 99.1, 99.2], train_acc=98.9)
    write_run(tmp_path, "model_1", 2, [98.0, 99.2, 99.3, 99.3], train_acc=99.1)
    # m1_width: 99.17 and 99.19 (mean 99.18: +0.03, within the spread 0.07)
    write_run(tmp_path, "m1_width", 1, [98.0, 99.17, 99.2, 99.2], train_acc=99.0)
    write_run(tmp_path, "m1_width", 2, [98.0, 99.19, 99.3, 99.3], train_acc=99.0)
    # m1_rotation: 98.90 and 98.92 (mean 98.91: -0.24, lower by more than the spread); train 99.5 (+0.5, higher)
    write_run(tmp_path, "m1_rotation", 1, [98.0, 98.9, 99.0, 99.0], train_acc=99.5)
    write_run(tmp_path, "m1_rotation", 2, [98.0, 98.92, 99.0, 99.0], train_acc=99.5)
    return tmp_path


def test_each_change_is_judged_against_the_larger_spread(results):
    found = {
        e.name: e for e in ablation.effects("model_1", ["m1_width", "m1_rotation", "model_2"], results_dir=results)
    }
    assert found["model_1"].verdict == "baseline" and found["model_1"].mean == pytest.approx(99.15)
    width = found["m1_width"]
    assert width.seeds == (1, 2) and width.delta == pytest.approx(0.03) and width.noise == pytest.approx(0.0707, 1e-3)
    assert width.verdict == "within the noise"
    assert found["m1_rotation"].verdict == "lower" and found["m1_rotation"].delta == pytest.approx(-0.24)
    assert found["model_2"].verdict == "not yet run" and found["model_2"].mean is None
    train = {e.name: e.verdict for e in ablation.effects("model_1", ["m1_rotation"], "train", results_dir=results)}
    assert train["m1_rotation"] == "higher"


def test_a_difference_equal_to_the_spread_as_shown_is_no_evidence(tmp_path):
    write_run(tmp_path, "model_2", 1, [99.0, 99.0, 99.0])
    write_run(tmp_path, "model_2", 2, [99.1, 99.1, 99.1])  # mean 99.05, std 0.0707
    write_run(tmp_path, "m2_jitter", 1, [99.12, 99.12, 99.12])
    write_run(tmp_path, "m2_jitter", 2, [99.12, 99.12, 99.12])  # +0.07 against a spread of 0.07 (as shown)
    (effect,) = ablation.effects("model_2", ["m2_jitter"], results_dir=tmp_path)[1:]
    assert effect.verdict == "within the noise"


def test_one_seed_has_no_spread_to_judge_by(tmp_path):
    write_run(tmp_path, "model_2", 1, [99.0, 99.0, 99.0])
    write_run(tmp_path, "model_2", 2, [99.1, 99.1, 99.1])
    write_run(tmp_path, "m2_rotation", 1, [98.0, 98.0, 98.0])
    (effect,) = ablation.effects("model_2", ["m2_rotation"], results_dir=tmp_path)[1:]
    assert effect.verdict == "one seed"
    assert "only one seed" in ablation.effects_markdown("model_2", ["m2_rotation"], results_dir=tmp_path)


def test_table_names_each_change_and_says_what_is_not_run(results):
    table = ablation.effects_table("model_1", ["m1_width", "m1_rotation", "model_2"], results_dir=results)
    rows = {line.split(" | ")[0][2:]: line for line in table.splitlines()[2:]}
    assert rows["model_1"].startswith("| model_1 | the baseline: model_1 as it is | 1, 2 | 99.15 ± 0.07 % | – |")
    assert "| network model_1 → model_2 | 1, 2 | 99.18 ± 0.01 % | +0.03 (spread 0.07): within the noise |" in table
    assert "| rotation 7 → 5 |" in rows["m1_rotation"]
    assert "-0.24 (spread 0.07): lower" in rows["m1_rotation"] and "+0.50 (spread 0.14): higher" in rows["m1_rotation"]
    assert rows["model_2"] == "| model_2 | all of model_2's changes at once | not yet run | – | – | – | – |"


def test_a_missing_baseline_or_folder_renders_rather_than_fails(tmp_path):
    table = ablation.effects_table("model_2", ["m2_rotation", "m2_jitter", "m2_schedule", "model_3"], tmp_path)
    assert table.count("not yet run") == 5 and "milestones none → 5, 10" in table
    write_run(tmp_path, "m2_jitter", 1, [99.0, 99.0, 99.0])
    write_run(tmp_path, "m2_jitter", 2, [99.0, 99.0, 99.0])
    assert "model_2 not yet run" in ablation.effects_table("model_2", ["m2_jitter"], tmp_path)
    said = ablation.effects_markdown("model_2", ["m2_jitter", "m2_schedule"], tmp_path)
    assert "not judged yet: model_2 not yet run" in said and "**m2_schedule**" in said and "not yet run (" in said


def test_sentences_and_takeaway_follow_the_verdicts(results):
    names = ["m1_width", "m1_rotation", "model_2"]
    said = ablation.effects_markdown("model_1", names, results_dir=results).splitlines()
    assert len(said) == 3 and said[0].startswith("- **m1_width** (network model_1 → model_2): +0.03 points")
    assert "no evidence that the change moved it" in said[0]
    assert "lower by more than the spread" in said[1] and "higher by more than the spread" in said[1]
    takeaway = ablation.takeaway_markdown("model_1", names, results_dir=results)
    assert takeaway == (
        "On the lowest of the last 3 validation accuracies, against model_1: m1_rotation (lower) moved it by more "
        "than the spread across seeds (a hint, not a proof); m1_width stayed within the spread: no evidence that it "
        "matters; model_2 (not yet run) not judged yet."
    )


def test_a_smoke_record_in_the_ablation_folder_is_refused(tmp_path):
    write_run(tmp_path, "model_1", 1, [99.0], smoke=True)
    with pytest.raises(RecordError, match="smoke"):
        ablation.effects_table("model_1", ["m1_width"], tmp_path)


def test_expected_range_moves_the_course_record_by_the_effect(results):
    record = json.loads((results / "ablation" / "model_1-seed1.json").read_text())
    history = [
        {
            "epoch": i + 1,
            "lr": 0.01,
            "train_loss": 0.1,
            "train_acc": 99.0,
            "test_loss": 0.05,
            "test_acc": acc,
            "seconds": 1.0,
        }
        for i, acc in enumerate([99.0, 99.3, 99.4, 99.35])
    ]
    record.update(evaluated_on="test", history=history, epochs=4)
    (results / "model_1.json").write_text(json.dumps(record))
    said = ablation.expected_markdown("model_1", "m1_rotation", results_dir=results)
    # the course's lowest of the last 3: 99.30; moved by -0.24, ± 2 × 0.0707
    assert said.startswith("Expect the lowest of your run's last 3 test accuracies between about 98.92 and 99.20 %")
    assert "holds 99.30 %" in said and "-0.24 points (lower, spread across seeds 0.07)" in said
    assert ablation.expected_markdown("model_1", "model_2", results_dir=results).startswith("No range yet")
