"""A checkpoint is data, never code: every loader of ``.pt`` files refuses a pickle that would run something."""

import ast
import pathlib
import pickle
from pathlib import Path

import pytest
import torch

from mnist_kit import features
from mnist_kit.engine import Run
from mnist_kit.models import get_model
from mnist_kit.recipes import get_recipe
from mnist_kit.records import load_trained_model, save_run

ROOT = Path(__file__).resolve().parent.parent


class TouchOnLoad:
    """Unpickling this calls ``Path(marker).touch()``: harmless, and visible afterwards."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


@pytest.fixture
def poisoned_record(tmp_path):
    """A valid record ``results/model_4.json`` (an untrained network: no training needed) whose ``.pt`` is
    a pickle that touches a marker file when unpickled."""
    recipe = get_recipe("model_4").with_overrides(epochs=1)
    row = dict(epoch=1, lr=0.1, train_loss=2.3, train_acc=10.0, test_loss=2.3, test_acc=10.0, seconds=1.0)
    run = Run(recipe, get_model("model_4"), "cpu", "CPU", False, "2026-01-01T00:00:00+00:00", history=[row])
    json_path = save_run(run, tmp_path / "results", stem="model_4")
    marker = tmp_path / "code-ran"
    torch.save({"conv.weight": TouchOnLoad(marker)}, json_path.with_suffix(".pt"))
    return json_path, marker


def test_the_poisoned_checkpoint_does_run_code_when_unpickled_blindly(poisoned_record):
    json_path, marker = poisoned_record  # proves the payload is live, so the refusals below mean something
    torch.load(json_path.with_suffix(".pt"), weights_only=False)
    assert marker.exists()


def test_load_trained_model_refuses_a_checkpoint_that_would_run_code(poisoned_record):
    json_path, marker = poisoned_record
    with pytest.raises(pickle.UnpicklingError):
        load_trained_model(json_path)
    assert not marker.exists()


def test_the_committed_model_loader_refuses_a_checkpoint_that_would_run_code(poisoned_record):
    json_path, marker = poisoned_record
    with pytest.raises(pickle.UnpicklingError):
        features.committed_model("model_4", results_dir=json_path.parent)
    assert not marker.exists()


def _torch_load_calls():
    """(file, line, the ``weights_only`` argument as written, or None) for every ``torch.load(...)`` in the kit."""
    found = []
    for path in sorted((ROOT / "mnist_kit").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "torch.load":
                value = next((ast.unparse(k.value) for k in node.keywords if k.arg == "weights_only"), None)
                found.append((path.name, node.lineno, value))
    return found


def test_every_torch_load_in_the_kit_loads_weights_only():
    calls = _torch_load_calls()
    assert calls, "no torch.load found: the scan is broken"
    assert all(weights_only == "True" for _, _, weights_only in calls), calls
