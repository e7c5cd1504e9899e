"""Training runs that leave a record, and the one switch that makes them smoke runs."""

import os
from pathlib import Path

import pytest

from mnist_kit import paths, runs
from mnist_kit.runs import SMOKE_ENV, smoke_mode

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, expected", [("1", True), ("0", False), (None, False)])
def test_one_switch_decides_smoke_runs(monkeypatch, value, expected):
    monkeypatch.setenv("CI", "true")  # CI alone decides nothing: .ci/run sets the switch itself
    if value is None:
        monkeypatch.delenv(SMOKE_ENV, raising=False)
    else:
        monkeypatch.setenv(SMOKE_ENV, value)
    assert smoke_mode() is expected


def test_a_bad_switch_value_is_refused(monkeypatch):
    monkeypatch.setenv(SMOKE_ENV, "yes")
    with pytest.raises(ValueError, match="MNIST_KIT_SMOKE must be 1"):
        smoke_mode()


def test_pytest_and_ci_set_the_switch():
    assert os.environ.get(SMOKE_ENV) == "1"  # the root conftest.py set it for this run
    assert "export MNIST_KIT_SMOKE=1" in (ROOT / ".ci" / "run").read_text()


def test_nothing_else_decides_the_run_length():
    """CI, pytest's own variables or a second switch never make a run short: only MNIST_KIT_SMOKE does."""
    for path in sorted((ROOT / "mnist_kit").glob("*.py")):
        text = path.read_text()
        for name in ("PYTEST_CURRENT_TEST", "MNIST_KIT_FULL", '"CI"', "'CI'"):
            assert name not in text, f"{path.name} reads {name}"


def test_sweep_records_one_run_per_seed_out_of_results_when_smoke(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path / "smoke"))
    found, finished = runs.sweep(
        "model_4",
        [5, 6],
        smoke=True,
        results_dir=tmp_path / "results",
        device="cpu",
        data_root=mnist_root,
        progress=False,
    )
    assert [p.name for p in found] == ["model_4-seed5.json", "model_4-seed6.json"] and finished
    assert all(p.parent == tmp_path / "smoke" for p in found)  # smoke runs never land in results/
    assert not (tmp_path / "results").exists()
