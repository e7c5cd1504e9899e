"""The grader: the assignment's three rules, each with how far a run is from it, on the committed records."""

import copy
import json

import pytest

from mnist_kit.__main__ import main
from mnist_kit.grade import grade
from mnist_kit.paths import default_results_dir
from mnist_kit.records import RecordError

RESULTS = default_results_dir()


def course_record(name: str) -> dict:
    return json.loads((RESULTS / f"{name}.json").read_text())


def with_accuracies(accs: list[float], parameters: int = 7774) -> dict:
    """Model_4's record with its parameter count and test accuracies replaced (one epoch per accuracy)."""
    record = copy.deepcopy(course_record("model_4"))
    rows = [dict(record["history"][0], epoch=i, test_acc=acc) for i, acc in enumerate(accs, start=1)]
    record.update(history=rows, epochs=len(rows), parameters=parameters)
    return record


def test_model_4_passes_every_rule():
    result = grade(RESULTS / "model_4.json")
    last3 = [row["test_acc"] for row in course_record("model_4")["history"][-3:]]
    assert result.passed and result.failed == [] and result.notes == ()
    params, accuracy, epochs = result.rules
    assert params.margin == 8000 - 7774 == 226 and "226 under the limit" in params.detail
    assert accuracy.margin == round(min(last3) - 99.4, 2) > 0
    assert epochs.passed and epochs.margin == 0


def test_model_1_fails_on_parameters_and_accuracy_by_the_right_amounts():
    result = grade(RESULTS / "model_1.json")
    last3 = [row["test_acc"] for row in course_record("model_1")["history"][-3:]]
    params, accuracy, epochs = result.rules
    assert not result.passed and result.failed == [params.name, accuracy.name]
    assert params.margin == 8000 - 8246 == -246
    assert "8,246, 246 over the limit (cut at least 247)" in params.detail  # 7,999 is the most allowed
    short = 99.4 - min(last3)
    assert accuracy.margin == pytest.approx(-short) and f"{short:.2f} points short" in accuracy.detail
    assert epochs.passed
    assert str(result).startswith(f"{RESULTS / 'model_1.json'}: fails 2 of 3 rules\n❌ Parameters under 8,000")


def test_a_validation_record_is_graded_on_the_same_rules_and_marked():
    path = sorted((RESULTS / "validation").glob("*.json"))[0]
    record = json.loads(path.read_text())
    result = grade(path)
    assert "not a test result" in result.notes[0] and "Note: not a test result" in str(result)
    accuracy = result.rules[1]
    assert accuracy.name.startswith("Validation accuracy")
    assert accuracy.margin == round(min(row["val_acc"] for row in record["history"][-3:]) - 99.4, 2)


@pytest.mark.parametrize(
    "parameters, accs, failed",
    [
        (7999, [99.4] * 15, []),  # the edges: under 8,000, and 99.40 % counts as at the target
        (8000, [99.4] * 15, ["Parameters under 8,000"]),
        (7000, [99.5] * 12 + [99.39, 99.5, 99.5], ["Test accuracy ≥ 99.4 % in each of the last 3 epochs"]),
        (7000, [99.5] * 16, ["At most 15 epochs"]),
        (7000, [99.5] * 2, ["Test accuracy ≥ 99.4 % in each of the last 3 epochs"]),  # too few epochs to judge
    ],
)
def test_each_rule_fails_on_its_own(parameters, accs, failed):
    result = grade(with_accuracies(accs, parameters))
    assert result.failed == failed


def test_the_margins_say_by_how_much():
    assert grade(with_accuracies([99.5] * 17)).rules[2].detail == "17, 2 too many"
    accuracy = grade(with_accuracies([99.5] * 12 + [99.39, 99.2, 99.5])).rules[1]
    assert accuracy.margin == pytest.approx(-0.2) and "0.20 points short, below in epoch(s) 13–14" in accuracy.detail


def test_the_command_line_exits_0_on_a_pass_1_on_a_fail_2_on_a_bad_file(tmp_path, capsys):
    assert main(["grade", str(RESULTS / "model_4.json")]) == 0
    assert "passes every rule" in capsys.readouterr().out
    assert main(["grade", str(RESULTS / "model_1.json")]) == 1
    assert "❌ Parameters under 8,000: 8,246" in capsys.readouterr().out
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    assert main(["grade", str(broken)]) == 2
    assert "unreadable" in capsys.readouterr().err
    with pytest.raises(RecordError):
        grade(tmp_path / "missing.json")


def test_a_notebook_shows_the_grade_as_a_checklist():
    shown = grade(sorted((RESULTS / "validation").glob("*.json"))[0])._repr_markdown_().splitlines()
    assert shown[2].startswith("- ✅ Parameters under 8,000: ") and len(shown) == 6
    assert shown[-1].startswith("- ℹ️ Not a test result")
