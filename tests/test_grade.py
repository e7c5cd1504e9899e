"""The grader: the assignment's three rules, each with how far a run is from it, on the committed records; and the
verified grade, on what the weights confirm (tampered, copied, unverified)."""

import copy
import json

import pytest
import torch

from mnist_kit.__main__ import main
from mnist_kit.grade import grade, grade_verified
from mnist_kit.paths import default_results_dir
from mnist_kit.records import RecordError
from mnist_kit.verify import TOLERANCE_IMAGES, fingerprint

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


# --- verified grading: the weights are the evidence (issue 32) -----------------------------------


def hand_in(folder, record: dict, weights=RESULTS / "model_4.pt", stem="model_4"):
    """A record (and its weights, unless None) written into ``folder`` as a student would hand them in."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(record))
    if weights is not None:
        (folder / f"{stem}.pt").write_bytes(weights.read_bytes())
    return folder / f"{stem}.json"


def test_the_course_model_4_passes_as_verified_where_it_is(capsys):
    result = grade_verified(RESULTS / "model_4.json")
    assert result.verdict == "pass" and result.exit_status == 0 and result.evidence.parameters == 7774
    assert result.evidence.correct == round(course_record("model_4")["history"][-1]["test_acc"] * 100)
    assert main(["grade", str(RESULTS / "model_4.json")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Verdict: PASS") and "verified from the weights: 7,774 trainable parameters" in out
    assert "on the record alone: the accuracies of the earlier epochs in the window (epochs 13–14)" in out


def test_an_edited_parameter_count_is_tampered_and_names_7774(tmp_path, capsys):
    record = course_record("model_4")
    record["parameters"] = 7000
    path = hand_in(tmp_path / "ann", record)
    assert grade(path).passed  # on the record alone it would pass with "1,000 under the limit"
    assert main(["grade", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Verdict: TAMPERED" in out and "the record says 7,000 parameters" in out and "has 7,774" in out
    assert "✅ Parameters under 8,000: 7,774, 226 under the limit" in out  # the rule is judged on the recount


def test_edited_accuracies_are_tampered_with_both_numbers(tmp_path):
    record = course_record("model_3")
    for row in record["history"]:
        row["test_acc"] = 99.50
    path = hand_in(tmp_path / "bo", record, RESULTS / "model_3.pt", "model_3")
    assert grade(path).passed
    result = grade_verified(path)
    true = course_record("model_3")["history"][-1]["test_acc"]
    assert result.verdict == "tampered" and result.exit_status == 1 and result.grade.failed
    assert f"the record says 99.50 % at its last epoch; the weights score {true:.2f} %" in result.reasons[0]
    assert f"{round((99.5 - true) * 100)} images apart (at most {TOLERANCE_IMAGES} allowed)" in result.reasons[0]


def test_the_course_files_handed_in_are_copied_and_without_weights_unverified(tmp_path, capsys):
    copied = grade_verified(hand_in(tmp_path / "cy", course_record("model_4")))
    assert copied.verdict == "copied" and copied.reasons == ("the weights are identical to the course's checkpoint "
                                                            "model_4.pt",)  # fmt: skip
    bare = hand_in(tmp_path / "di", course_record("model_4"), weights=None)
    assert grade_verified(bare).verdict == "unverified"
    assert main(["grade", str(bare)]) == 3
    assert "Verdict: UNVERIFIED" in capsys.readouterr().out


def test_the_fingerprint_ignores_names_and_sees_one_changed_value():
    state = torch.load(RESULTS / "model_4.pt", weights_only=True)
    renamed = {f"body.{name}": tensor for name, tensor in reversed(state.items())}
    assert fingerprint(renamed) == fingerprint(state)
    changed = dict(state)
    first = next(iter(changed))
    changed[first] = changed[first].clone()
    changed[first].view(-1)[0] += 1e-6
    assert fingerprint(changed) != fingerprint(state)
