"""The graded assignment end to end, on CPU, in a temporary copy of the course: ``make release``, four simulated
students, ``make autograde`` (nbgrader) and its gradebook, and the same four through ``python -m mnist_kit grade``.

The students: an honest pass (the course's Model_4 trained a few more steps, so its weights are its own, and its
last accuracy measured honestly), an honest miss (Model_3, likewise), an edited record (Model_3 trained on another
batch, every accuracy claimed 99.50) and a copy of the course's Model_4 as committed.
"""

import csv
import json
import os
import shutil
import subprocess
import sys

import nbformat
import pytest
import torch

from mnist_kit.__main__ import main
from mnist_kit.data import MEAN, STD, load_idx_tensors
from mnist_kit.models import get_model
from mnist_kit.paths import default_data_root, default_results_dir, project_root
from mnist_kit.records import load_record
from mnist_kit.settings import DATA_ENV
from mnist_kit.verify import verify

RESULTS = default_results_dir()
ROOT = project_root()
pytestmark = pytest.mark.skipif(shutil.which("make") is None or shutil.which("git") is None, reason="needs make, git")
SOLUTION = 'MODEL = "model_4"\nRECIPE = replace(get_recipe("model_4"), name="submission")'


def trained_further(model_name: str, steps: int, offset: int):
    """A course checkpoint trained ``steps`` more SGD steps (lr 0.001) on training images from ``offset``."""
    model = get_model(model_name)
    model.load_state_dict(torch.load(RESULTS / f"{model_name}.pt", weights_only=True))
    images, labels = load_idx_tensors(train=True)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    model.train()
    for step in range(steps):
        batch = slice(offset + 64 * step, offset + 64 * (step + 1))
        x = (images[batch].float().unsqueeze(1) / 255 - MEAN) / STD
        loss = torch.nn.functional.nll_loss(model(x), labels[batch].long())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}


def hand_in(folder, model_name: str, state=None, claim=None) -> None:
    """``submission.json`` and ``.pt``: the course's record with the last accuracy measured from ``state`` (honest),
    or every accuracy set to ``claim`` (edited); ``state`` None: the course's files as they are."""
    folder.mkdir(parents=True, exist_ok=True)
    if state is None:
        shutil.copy(RESULTS / f"{model_name}.json", folder / "submission.json")
        shutil.copy(RESULTS / f"{model_name}.pt", folder / "submission.pt")
        return
    torch.save(state, folder / "submission.pt")
    record = json.loads((RESULTS / f"{model_name}.json").read_text())
    (folder / "submission.json").write_text(json.dumps(record))
    measured = verify(folder / "submission.json", load_record(folder / "submission.json")).accuracy
    for row in record["history"][-1:] if claim is None else record["history"]:
        row["test_acc"] = measured if claim is None else claim
    (folder / "submission.json").write_text(json.dumps(record))


STUDENTS = {"ada": "pass", "bo": "fail", "cy": "tampered", "di": "copied"}


@pytest.fixture(scope="module")
def students(tmp_path_factory):
    """The four hand-ins, each a folder with submission.json and submission.pt."""
    root = tmp_path_factory.mktemp("handins")
    hand_in(root / "ada", "model_4", trained_further("model_4", 3, 0))
    hand_in(root / "bo", "model_3", trained_further("model_3", 3, 0))
    hand_in(root / "cy", "model_3", trained_further("model_3", 3, 5000), claim=99.50)
    hand_in(root / "di", "model_4")
    return root


def make(course, target: str) -> None:
    """A Makefile target in the course copy, without its package installs (``-o setup -o setup-test``: already
    installed; an install here would point this interpreter's editable install at the temporary copy)."""
    env = dict(os.environ, PYTHONPATH=str(course))
    env.setdefault(DATA_ENV, str(default_data_root()))  # the copy has no data/: its kernels read this checkout's MNIST
    command = ["make", "-o", "setup", "-o", "setup-test", target, f"PYTHON={sys.executable}"]
    done = subprocess.run(command, cwd=course, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_release_autograde_and_the_batch_command_agree(tmp_path, students):
    course = tmp_path / "course"
    names = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in names:
        if (ROOT / name).is_file():
            (course / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, course / name)
    subprocess.run(["git", "init", "-q"], cwd=course, check=True)
    subprocess.run(["git", "add", "-A"], cwd=course, check=True)  # tools/release.py copies the tracked files
    make(course, "release")

    released = (course / "assignment" / "release" / "cnn_budget" / "cnn_budget.ipynb").read_text()
    source = (course / "assignment" / "source" / "cnn_budget" / "cnn_budget.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" in source and "evidence.images == 10_000" in source
    assert "HIDDEN" not in released and "10_000" not in released and 'MODEL = \\"model_4\\"' not in released
    lessons = course / "release"
    assert not (lessons / "notebooks" / "solutions").exists() and (lessons / "assignment" / "cnn_budget.ipynb").exists()
    for path in [*lessons.rglob("*.ipynb"), *lessons.rglob("*.md")]:
        assert "solutions/" not in path.read_text() and "INSTRUCTOR.md" not in path.read_text(), path
    assert "ANSWERS_SHOWN = False" in (lessons / "mnist_kit" / "verdict.py").read_text()

    for student in STUDENTS:
        folder = course / "assignment" / "submitted" / student / "cnn_budget"
        shutil.copytree(students / student, folder)
        notebook = nbformat.read(course / "assignment" / "release" / "cnn_budget" / "cnn_budget.ipynb", 4)
        for cell in notebook.cells:
            cell.source = cell.source.replace("# YOUR CODE HERE\nraise NotImplementedError()", SOLUTION)
            cell.source = cell.source.replace("YOUR ANSWER HERE", "The one-cycle schedule did most of the work.")
        nbformat.write(notebook, folder / "cnn_budget.ipynb")
    make(course, "autograde")
    rows = {row["student_id"]: row for row in csv.DictReader(open(course / "assignment" / "grades.csv"))}
    lost = {student: rows[student]["failed_cells"] for student in STUDENTS}
    assert lost == {"ada": "", "bo": "accuracy", "cy": "accuracy record_matches_weights", "di": "own_weights"}
    assert {row["needs_manual_grade"] for row in rows.values()} == {"analysis"}  # the Analysis, by hand

    assert main(["grade", str(students), "--csv", str(tmp_path / "g.csv"), "--feedback", str(tmp_path / "fb")]) == 0
    graded = {row["student"]: row for row in csv.DictReader(open(tmp_path / "g.csv"))}
    assert {student: row["verdict"] for student, row in graded.items()} == STUDENTS
    assert graded["bo"]["failed_rules"] == "Test accuracy ≥ 99.4 % in each of the last 3 epochs"
    assert float(graded["bo"]["accuracy_margin"]) < 0 < float(graded["ada"]["accuracy_margin"])
    assert "the record says 99.50 % at its last epoch" in graded["cy"]["reasons"]
    assert graded["di"]["reasons"] == "the weights are identical to the course's checkpoint model_4.pt"
    feedback = (tmp_path / "fb" / "cy.md").read_text()
    assert feedback.startswith("# Feedback for cy\n\n**Verdict: tampered.** Your record does not match your weights")


def test_the_students_copy_shows_no_worked_answers(monkeypatch, capsys):
    import torch.nn as nn

    from mnist_kit import checks, verdict

    monkeypatch.setattr(verdict, "ANSWERS_SHOWN", False)  # what tools/release.py writes in the students' copy
    assert checks.reveal("output_size", model="model_1", block=1) is None
    checks.output_size(0, model="model_1", block=1, show_answer=True)
    out = capsys.readouterr().out
    assert out.count(verdict.NO_ANSWERS) == 2 and "The answer" not in out
    shown = repr(checks.network(nn.Sequential(nn.Conv2d(1, 3, 3)), "model_1", show_answer=True))
    assert shown.endswith(verdict.NO_ANSWERS) and "nn.Conv2d(1, 10" not in shown  # the build-it checkers too
