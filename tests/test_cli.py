import json
import os
import subprocess
import sys

import pytest
import torch

from mnist_kit.__main__ import main
from mnist_kit.paths import DATA_ENV, RESULTS_ENV, SMOKE_DIR_ENV
from mnist_kit.recipes import RECIPES


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["train", "model_9"], f"invalid choice: 'model_9' (choose from {', '.join(RECIPES)})"),
        (["train", "model_4", "--epochs", "0"], "must be at least 1"),
        (["train", "model_4", "--epochs", "ten"], "'ten' is not a whole number"),
        (["train", "model_4", "--device", "gpu"], "invalid choice: 'gpu' (choose from cpu, cuda)"),
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


def test_smoke_train_from_the_command_line(mnist_root, tmp_path):
    env = dict(
        os.environ,
        **{DATA_ENV: str(mnist_root), RESULTS_ENV: str(tmp_path / "results"), SMOKE_DIR_ENV: str(tmp_path / "smoke")},
    )
    done = subprocess.run(
        [sys.executable, "-m", "mnist_kit", "train", "model_1", "--smoke", "--device", "cpu"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Test set: Average loss:" in done.stdout and "Recorded smoke run" in done.stdout
    assert (tmp_path / "smoke" / "model_1-epochs1.json").is_file()
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
