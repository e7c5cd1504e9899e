"""A class at once: every kind of bad submission gets a row with a clear reason and the others are still graded;
a network of the student's own is checked in a child process, never imported by the grader."""

import csv
import io
import json
import sys

import torch

from mnist_kit.__main__ import main
from mnist_kit.gradebook import COLUMNS, grade_class
from mnist_kit.paths import default_results_dir

RESULTS = default_results_dir()

WRAPPED = """import torch.nn as nn
from mnist_kit.models import get_model

print("importing the student's network")  # noise on stdout must not confuse the grader


class Wrapped(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = get_model("model_4")

    def forward(self, x):
        return self.inner(x)
"""
RAISES = (
    "import torch.nn as nn\n\nclass Broken(nn.Module):\n    def __init__(self):\n        raise RuntimeError('oops')\n"
)
HANGS = (
    "import time\nimport torch.nn as nn\n\nclass Slow(nn.Module):\n    def __init__(self):\n        time.sleep(600)\n"
)


def student(root, name, record=None, weights=RESULTS / "model_4.pt", source=None, model=None):
    folder = root / name
    folder.mkdir()
    data = json.loads((RESULTS / "model_4.json").read_text())
    if model is not None:
        data["model"] = model
    if record is not None:
        (folder / "run.json").write_text(record if isinstance(record, str) else json.dumps(data))
    if weights is not None:
        (folder / "run.pt").write_bytes(weights if isinstance(weights, bytes) else weights.read_bytes())
    if source is not None:
        (folder / "network.py").write_text(source)


def test_each_bad_submission_gets_its_row_and_the_rest_are_graded(tmp_path, capsys):
    subs = tmp_path / "submissions"
    subs.mkdir()
    student(subs, "a_copy", record=True)
    student(subs, "b_no_weights", record=True, weights=None)
    student(subs, "c_corrupt", record=True, weights=b"not a checkpoint")
    student(subs, "d_bad_json", record="{")
    student(subs, "e_empty", weights=None)
    student(subs, "f_wrong_network", record=True, weights=RESULTS / "model_3.pt")
    student(subs, "g_raises", record=True, source=RAISES, model="custom:Broken")
    student(subs, "h_no_source", record=True, model="custom:Missing")
    wrapped = torch.load(RESULTS / "model_4.pt", weights_only=True)
    buffer = io.BytesIO()
    torch.save({f"inner.{name}": tensor for name, tensor in wrapped.items()}, buffer)  # the wrapper's state_dict
    student(subs, "i_wrapped", record=True, weights=buffer.getvalue(), source=WRAPPED, model="custom:Wrapped")
    assert main(["grade", str(subs), "--csv", str(tmp_path / "g.csv"), "--feedback", str(tmp_path / "fb")]) == 0
    rows = {row["student"]: row for row in csv.DictReader(open(tmp_path / "g.csv"))}
    assert list(rows) == sorted(rows) and list(next(iter(rows.values()))) == list(COLUMNS)
    verdicts = {name: (row["verdict"], row["reasons"]) for name, row in rows.items()}
    assert verdicts["a_copy"] == ("copied", "the weights are identical to the course's checkpoint model_4.pt")
    assert verdicts["b_no_weights"][0] == "unverified" and "hand in the .pt file" in verdicts["b_no_weights"][1]
    assert verdicts["c_corrupt"][0] == "error" and "run.pt: not a readable checkpoint" in verdicts["c_corrupt"][1]
    assert max(len(row["reasons"]) for row in rows.values()) < 300  # a reason, not a traceback
    assert verdicts["d_bad_json"][0] == "error" and "run.json: unreadable" in verdicts["d_bad_json"][1]
    assert verdicts["e_empty"] == ("error", "no record (*.json) in the folder")
    assert verdicts["f_wrong_network"][0] == "error"
    assert "the weights do not fit the network 'model_4'" in verdicts["f_wrong_network"][1]
    assert verdicts["g_raises"] == (
        "error",
        "network.py: could not build Broken() from network.py (RuntimeError: oops)",
    )
    assert (
        verdicts["h_no_source"][0] == "error"
        and "no .py file beside the record defines class Missing" in (verdicts["h_no_source"][1])
    )
    # the student's class ran in a child process: it counted 7,774 parameters, and wrapping is still copying
    assert verdicts["i_wrapped"][0] == "copied" and rows["i_wrapped"]["parameters"] == "7774"
    assert "Wrapped" not in sys.modules and "submitted_network" not in sys.modules
    out = capsys.readouterr().out
    assert "9 submission(s): " in out and "g_raises: ERROR (network.py: could not build Broken()" in out
    assert sorted(p.name for p in (tmp_path / "fb").iterdir()) == [f"{name}.md" for name in rows]
    feedback = (tmp_path / "fb" / "b_no_weights.md").read_text()
    assert "**Verdict: unverified.** Your record could not be checked" in feedback
    assert "Nothing verified: every rule rests on the record alone." in feedback


def test_a_network_that_hangs_is_stopped_at_the_time_limit(tmp_path):
    student(tmp_path, "slow", record=True, source=HANGS, model="custom:Slow")
    (row,) = grade_class(tmp_path, timeout=3)
    assert row.verdict == "error" and row.result.reasons == ("network.py: building and evaluating Slow took over 3 s",)


def test_two_students_with_the_same_weights_are_both_copied(tmp_path):
    weights = RESULTS / "model_4.pt"
    for name in ("x", "y"):
        student(tmp_path, name, record=True, weights=weights)
    rows = grade_class(tmp_path, results_dir=tmp_path / "no_course")  # no course checkpoints to match
    assert [(r.student, r.verdict, r.result.reasons) for r in rows] == [
        ("x", "copied", ("the weights are identical to the weights handed in by y",)),
        ("y", "copied", ("the weights are identical to the weights handed in by x",)),
    ]


def test_retrain_compares_the_curves(capsys):
    from mnist_kit.records import Record, load_record
    from mnist_kit.retrain import compare

    record = load_record(RESULTS / "model_4.json")
    same = Record.from_dict(record.to_dict())
    assert compare("ada", record, same) == f"ada: reproduced bit for bit (15 epochs, {record.device_name})"
    moved = record.to_dict()
    moved["history"] = [dict(row, test_acc=row["test_acc"] - 0.05) for row in moved["history"]]
    moved["device_name"] = "NVIDIA H100"
    line = compare("ada", record, Record.from_dict(moved))
    assert line.startswith("ada: largest gap 0.05 points over 15 epochs; final 99.55 → 99.50 %")
    assert "spread of the course's seeds" in line  # Model_4 has a committed seed sweep
    # the command: a smoke retrain of the course's Model_4 (1 epoch on a subset) shows the recipe trains
    assert main(["grade", str(RESULTS / "model_4.json"), "--retrain", "--smoke", "--jobs", "1", "--device", "cpu"]) == 0
    assert "model_4: retrained as a smoke run (1 epoch on a subset)" in capsys.readouterr().out
