import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from mnist_kit import __main__ as cli
from mnist_kit import data, engine, parallel, runs
from mnist_kit.__main__ import main
from mnist_kit.paths import DATA_ENV, RESULTS_ENV, SMOKE_DIR_ENV
from mnist_kit.recipes import RECIPES, get_recipe

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "model_9"], f"invalid choice: 'model_9' (choose from {', '.join(RECIPES)})"),
        (["train", "model_4", "--epochs", "0"], "must be at least 1"),
        (["train", "model_4", "--epochs", "ten"], "'ten' is not a whole number"),
        (["train", "model_4", "--device", "gpu"], "invalid choice: 'gpu' (choose from cpu, cuda, mps)"),
        (["train", "model_4", "--smoke", "--full"], "argument --full: not allowed with argument --smoke"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_list_the_choices(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert expected.replace("'", "") in capsys.readouterr().err.replace("'", "")


def test_cuda_asked_for_on_a_cpu_machine(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "model_4", "--device", "cuda", "--smoke"]) == 2
    assert "no CUDA GPU" in capsys.readouterr().err


def test_smoke_train_from_the_command_line_logs_two_lines_per_epoch(mnist_root, tmp_path):
    """MNIST_KIT_SMOKE=1 alone makes a smoke run; piped, each epoch is its bar's last state and the Test line."""
    env = dict(
        os.environ,
        **{DATA_ENV: str(mnist_root), RESULTS_ENV: str(tmp_path / "results"), SMOKE_DIR_ENV: str(tmp_path / "smoke")},
        MNIST_KIT_SMOKE="1",
    )
    done = subprocess.run(
        [sys.executable, "-m", "mnist_kit", "train", "model_1", "--epochs", "2", "--device", "cpu"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "\r" not in done.stdout  # no bar redraws in a pipe
    lines = done.stdout.splitlines()
    batches = math.ceil(engine.SMOKE_TRAIN_IMAGES / get_recipe("model_1").batch_size)
    assert lines[0].startswith("model_1: ") and lines[0].endswith("[smoke: small subset]")
    for epoch, (bar, test_line) in enumerate([lines[1:3], lines[3:5]], start=1):
        # the bar ends where its count does: no clock (elapsed time, rate) in a log
        assert bar.startswith(f"EPOCH: {epoch}/2 Loss=") and bar.endswith(f"100%|██████████| {batches}/{batches}")
        assert re.fullmatch(r"Test set: Average loss: \d\.\d{4}, Accuracy: \d+/1000 \(\d+\.\d\d%\)", test_line)
    assert lines[5:] == ["Recorded smoke run: model_1-epochs2.json in smoke/"]
    record = json.loads((tmp_path / "smoke" / "model_1-epochs2.json").read_text())
    assert lines[4].endswith(f"({record['history'][1]['test_acc']:.2f}%)")
    assert not (tmp_path / "results").exists()


def test_validation_run_from_the_command_line(mnist_root, tmp_path, capsys, monkeypatch):
    from mnist_kit.__main__ import main

    monkeypatch.setenv(SMOKE_DIR_ENV, str(tmp_path / "smoke"))
    assert (
        main(
            [
                "train",
                "model_4",
                "--val",
                "--epochs",
                "1",
                "--device",
                "cpu",
                "--data-root",
                str(mnist_root),
                "--results-dir",
                str(tmp_path / "results"),
                "--smoke",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Validation set: Average loss:" in out and "Test set" not in out
    record = json.loads((tmp_path / "smoke" / "model_4-epochs1.json").read_text())
    assert record["evaluated_on"] == "validation" and "val_acc" in record["history"][0]


def test_data_command_reports_a_missing_source(tmp_path, monkeypatch, capsys):
    from mnist_kit import data

    def offline(root, log):
        raise OSError("no network")

    monkeypatch.setattr(data, "_write_from_hub", offline)
    monkeypatch.setattr(data, "_write_from_torchvision", offline)
    assert main(["data", "--data-root", str(tmp_path)]) == 2
    assert "Fix:" in capsys.readouterr().err


def _record_smoke(monkeypatch):
    """Replace the training by a note of the ``smoke`` (and device) each run was asked for."""
    asked = []

    def fake_train_and_record(recipe, *, smoke=None, **fit_args):
        asked.append(SimpleNamespace(smoke=smoke, device=fit_args["device"]))
        return SimpleNamespace(interrupted=False), Path("fake.json")

    def fake_run_jobs(jobs, *args):  # every study's runs: note each, train none
        asked.extend(SimpleNamespace(smoke=job.fit_args["smoke"], device=job.fit_args["device"]) for job in jobs)
        return parallel.Batch([])

    monkeypatch.setattr(runs, "train_and_record", fake_train_and_record)
    monkeypatch.setattr(runs, "run_jobs", fake_run_jobs)
    return asked


@pytest.mark.parametrize(
    "switch, flags, smoke",
    [
        ("1", [], True),
        ("0", [], False),
        (None, [], False),
        ("1", ["--full"], False),
        ("0", ["--smoke"], True),
        (None, ["--smoke"], True),
    ],
)
def test_the_smoke_switch_reaches_the_command_line_and_flags_override_it(monkeypatch, switch, flags, smoke):
    if switch is None:
        monkeypatch.delenv(runs.SMOKE_ENV, raising=False)
    else:
        monkeypatch.setenv(runs.SMOKE_ENV, switch)
    asked = _record_smoke(monkeypatch)
    assert main(["train", "model_1", "--device", "cpu", *flags]) == 0
    assert main(["sweep", "model_1", "--seeds", "3", "4", "--device", "cpu", "--jobs", "1", *flags]) == 0
    assert [a.smoke for a in asked] == [smoke] * 3


def test_a_bad_smoke_switch_stops_the_command_line(monkeypatch, capsys):
    monkeypatch.setenv(runs.SMOKE_ENV, "yes")
    asked = _record_smoke(monkeypatch)
    assert main(["train", "model_1", "--device", "cpu"]) == 2
    assert "MNIST_KIT_SMOKE must be 1 (smoke runs) or 0 (full runs), got 'yes'" in capsys.readouterr().err
    assert asked == []


def test_device_mps_where_torch_has_it(monkeypatch, capsys):
    from mnist_kit import devices

    assert cli.DEVICES == devices.DEVICES
    asked = _record_smoke(monkeypatch)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert main(["train", "model_1", "--device", "mps", "--smoke"]) == 0
    assert asked[0].device == torch.device("mps")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert main(["train", "model_1", "--device", "mps", "--smoke"]) == 2
    assert "no Apple-silicon GPU (MPS)" in capsys.readouterr().err and len(asked) == 1


def test_the_test_command_runs_what_make_test_ran(monkeypatch, tmp_path):
    prepared, commands = [], []
    monkeypatch.setattr(data, "prepare_mnist", prepared.append)

    def fake_run(command, **kwargs):
        commands.append((command, kwargs["cwd"]))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert main(["test", "--data-root", str(tmp_path)]) == 0
    assert prepared == [str(tmp_path)]
    assert commands == [
        ([sys.executable, "-m", "ruff", "check", "."], ROOT),
        ([sys.executable, "-m", "ruff", "format", "--check", "."], ROOT),
        ([sys.executable, "-m", "pytest", "--nbval-lax"], ROOT),
        ([sys.executable, "-m", "mnist_kit", "report", "--check"], ROOT),
    ]


def test_the_test_command_stops_at_the_first_failure(monkeypatch):
    commands = []
    monkeypatch.setattr(data, "prepare_mnist", lambda root: None)

    def fake_run(command, **kwargs):
        commands.append(command[2])
        return subprocess.CompletedProcess(command, 1 if command[2] == "pytest" else 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    assert main(["test"]) == 1
    assert commands == ["ruff", "ruff", "pytest"]  # the tables' check is not reached


@pytest.mark.parametrize("uid, root_flag", [(0, ["--allow-root"]), (1000, [])])
def test_the_lab_command_opens_the_notebooks(monkeypatch, uid, root_flag):
    started = []
    monkeypatch.setattr(data, "prepare_mnist", lambda root: started.append("data"))
    monkeypatch.setattr(os, "getuid", lambda: uid)

    class FakeServer:
        def __init__(self, command, cwd):
            started.append((command, cwd))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakeServer)
    assert main(["lab"]) == 0
    assert started == ["data", ([sys.executable, "-m", "jupyter", "lab", *root_flag, "notebooks"], ROOT)]


def test_make_lab_and_make_test_call_the_command_line():
    makefile = (ROOT / "Makefile").read_text()
    assert "lab: setup\n\t$(PYTHON) -m mnist_kit lab\n" in makefile
    assert "test: setup-test\n\t$(PYTHON) -m mnist_kit test\n" in makefile  # the test extra on top of lab's install
    last = (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1].split()
    assert last[0] == "make" and last[-1] == "test"  # CI runs the README's command (after the cluster extra's set-up)
    assert cli.TEST_STEPS[2] == ("-m", "pytest", "--nbval-lax")  # every test and notebook, nothing weaker
