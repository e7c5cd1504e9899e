"""A student's experiments land in my_runs/ (or the scratch folder when smoke), never in the course's results/,
and compare with the course's committed run; the command line routes a changed recipe the same way."""

import dataclasses
import importlib.util
import json
import os

import pytest
import torch.nn.functional as F
from torch import nn

from mnist_kit import experiments, paths, runs
from mnist_kit.__main__ import main
from mnist_kit.engine import Run
from mnist_kit.experiments import compare, experiment, run_lesson
from mnist_kit.recipes import get_recipe
from mnist_kit.records import load_record

RESULTS = paths.default_results_dir()
ROOT = paths.project_root()


def snapshot(folder) -> dict:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


@pytest.fixture
def my_runs(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.MY_RUNS_ENV, str(tmp_path / "my_runs"))
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path / "smoke"))
    return tmp_path / "my_runs"


class StudentNet(nn.Module):
    """A network a student might define in a notebook: 1·4·9 + 4·10 = 76 weights and 10 biases."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, bias=False)
        self.head = nn.Linear(4, 10)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(F.relu(self.conv(x)), 1).flatten(1)
        return F.log_softmax(self.head(x), dim=-1)


def test_an_exercise_leaves_the_course_records_untouched(mnist_root, my_runs, tmp_path):
    before = snapshot(RESULTS)
    recipe = dataclasses.replace(get_recipe("model_1"), rotation=0)
    fit_args = dict(device="cpu", data_root=mnist_root, progress=False)
    run, path = experiment(recipe, name="no_rotation", **fit_args)  # smoke: the root conftest sets the switch
    assert path == tmp_path / "smoke" / "no_rotation.json"
    record = load_record(path)
    assert record["recipe"] == "no_rotation" and record["config"]["rotation"] == 0 and record["smoke"]
    run, path = experiment(StudentNet, name="student_net", base="model_4", **fit_args)
    record = load_record(path)
    assert record["model"] == "custom:StudentNet" and record["parameters"] == 1 * 4 * 9 + 4 * 10 + 10
    assert record["config"]["scheduler"] == "onecycle"  # trained on its base's recipe
    run_lesson("model_1", **fit_args)
    assert (tmp_path / "smoke" / "model_1.json").is_file()
    assert snapshot(RESULTS) == before
    assert not my_runs.exists()  # smoke runs go to the scratch folder, like every smoke run


def test_a_full_experiment_is_recorded_in_my_runs(smoke_run, my_runs, monkeypatch):
    """The real smoke run relabelled as a finished full run stands in for a full-length training."""

    def fake_fit(recipe, *, epochs, smoke, model, **fit_args):
        return dataclasses.replace(smoke_run, recipe=recipe.with_overrides(epochs=2), smoke=False)

    before = snapshot(RESULTS)
    monkeypatch.setattr(experiments, "fit", fake_fit)
    _run, path = experiment("model_4", name="my_model_4", smoke=False)
    assert path == my_runs / "my_model_4.json" and (my_runs / "my_model_4.pt").is_file()
    assert load_record(path)["recipe"] == "my_model_4"
    assert snapshot(RESULTS) == before


def test_a_name_must_be_a_plain_file_name_and_a_network_a_module(my_runs):
    with pytest.raises(ValueError, match="plain file name"):
        experiment("model_1", name="../results/model_1")
    with pytest.raises(TypeError, match="nn.Module"):
        experiment(42, name="answer")


def test_compare_puts_a_run_beside_the_courses():
    mine = json.loads((RESULTS / "model_4.json").read_text())
    mine["history"][-1]["test_acc"] = 99.12
    table, figure = compare(mine, "model_1")
    lines = table.splitlines()
    assert lines[0] == "| | yours: model_4 | the course's: model_1 |"
    assert (
        "| final accuracy | 99.12 % | " + f"{load_record(RESULTS / 'model_1.json')['history'][-1]['test_acc']:.2f} % |"
        in lines
    )
    assert "| parameters | 7,774 | 8,246 |" in lines
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["yours: model_4, 7,774 parameters", "the course's: model_1, 8,246 parameters", "target 99.4 %"]
    assert list(figure.axes[0].get_lines()[0].get_ydata())[-1] == 99.12


def test_compare_warns_when_the_splits_differ():
    validation = sorted((RESULTS / "validation").glob("*.json"))[0]
    table, _figure = compare(validation, RESULTS / "model_4.json")
    assert "| evaluated on | validation | test |" in table and "do not compare" in table


@pytest.mark.parametrize(
    "argv, where",
    [
        (["train", "model_1", "--epochs", "5"], "my_runs"),  # a changed recipe: the student's
        (["train", "model_1", "--seed", "7"], "my_runs"),
        (["train", "model_1", "--epochs", "5", "--out", "elsewhere"], "elsewhere"),
        (["train", "model_1"], None),  # the recipe as written: the course's results/
        (["train", "model_4", "--pipeline", "classic"], None),
        (["train", "model_4", "--val", "--epochs", "5"], None),  # a tuning run: results/validation/
        (["train", "model_1", "--epochs", "15"], None),  # 15 is the recipe's own
    ],
)
def test_the_command_line_records_a_changed_recipe_in_my_runs(argv, where, my_runs, monkeypatch, capsys):
    calls = []

    def fake_train_and_record(recipe, **kwargs):
        calls.append(kwargs)
        return Run(recipe, nn.Identity(), "cpu", "CPU", False, "now"), None

    monkeypatch.setattr(runs, "train_and_record", fake_train_and_record)
    assert main([*argv, "--device", "cpu", "--full"]) == 0  # --full: pytest's MNIST_KIT_SMOKE=1 would make it smoke
    expected = {"my_runs": my_runs, "elsewhere": "elsewhere", None: None}[where]
    assert calls[0]["results_dir"] == expected
    assert ("recording in" in capsys.readouterr().out) == (where == "my_runs")


def test_a_lesson_run_is_the_students_unless_the_instructor_reproduces_the_course(
    smoke_run, my_runs, tmp_path, monkeypatch
):
    """``run_lesson`` records in my_runs/ for a student; ``make reproduce`` (``tools/run_notebooks.py --course``
    sets MNIST_KIT_COURSE_RUN=1) records the course's run in results/ instead. The real smoke run relabelled
    as a full one stands in for the training."""

    def fake_fit(recipe, *, smoke, **fit_args):  # a finished 2-epoch run of the recipe
        return dataclasses.replace(smoke_run, recipe=recipe.with_overrides(epochs=2), smoke=False)

    monkeypatch.setattr(experiments, "fit", fake_fit)
    monkeypatch.setattr(runs, "fit", fake_fit)
    monkeypatch.delenv(experiments.COURSE_RUN_ENV, raising=False)
    assert not experiments.course_run()
    before = snapshot(RESULTS)
    _, path = run_lesson("model_1", smoke=False)  # shown beside the course's results/model_1.json
    assert path == my_runs / "model_1.json" and snapshot(RESULTS) == before
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "course"))
    monkeypatch.setenv(experiments.COURSE_RUN_ENV, "1")
    assert experiments.course_run()
    _, path = run_lesson("model_1", smoke=False)
    assert path == tmp_path / "course" / "model_1-epochs2.json" and load_record(path)["recipe"] == "model_1"
    monkeypatch.setenv(experiments.COURSE_RUN_ENV, "yes")
    with pytest.raises(ValueError, match="MNIST_KIT_COURSE_RUN must be 1"):
        experiments.course_run()


def test_the_notebook_runner_makes_the_lessons_the_courses_only_when_asked(monkeypatch, tmp_path):
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    seen = []
    monkeypatch.setattr(runner, "run_notebook", lambda path: seen.append(os.environ.get(runner.COURSE_RUN_ENV)) or 0)
    monkeypatch.setenv(experiments.COURSE_RUN_ENV, "0")  # restored after the test, whatever the runner sets
    notebook = tmp_path / "x.ipynb"
    notebook.write_text("{}")
    assert runner.main([str(notebook)]) == 0
    assert runner.main(["--course", str(notebook)]) == 0
    assert seen == ["0", "1"]
