"""The notebooks' set-up cell (issue 33): one template, first in every notebook; a no-op where the kit is
importable; elsewhere it clones the course and installs it beside the torch already there; on Colab it turns on
the widget manager. The Colab and missing-kit paths run with their outside world mocked."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import types

import pytest

from mnist_kit import bootstrap, launch, setup_cell
from mnist_kit.paths import project_root

ROOT = project_root()


def _first_code_cell(path):
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return next(c for c in cells if c["cell_type"] == "code")


def test_every_notebook_opens_with_the_set_up_cell():
    notebooks = setup_cell.course_notebooks(ROOT)
    assert len(notebooks) >= 10  # five lessons and their solutions
    for path in notebooks:
        cell = _first_code_cell(path)
        assert "".join(cell["source"]) == setup_cell.cell_source(), f"{path}: run `python -m mnist_kit.setup_cell`"
        assert cell["outputs"] == [], path  # it printed nothing when the notebook was executed in the checkout
    assert launch.REPOSITORY in setup_cell.cell_source()  # the address, named once in launch.py


def _run_cell(monkeypatch, tmp_path, run):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr("subprocess.run", run)
    exec(compile(setup_cell.cell_source(), "set-up cell", "exec"), {})


def test_the_set_up_cell_does_nothing_where_the_kit_is_importable(monkeypatch, tmp_path, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)

    def refuse(*args, **kwargs):
        raise AssertionError(f"the set-up cell ran {args} in a checkout")

    _run_cell(monkeypatch, tmp_path, refuse)
    assert capsys.readouterr() == ("", "")
    assert list(tmp_path.iterdir()) == []


def test_without_the_kit_it_clones_and_installs_with_no_torch_pin(monkeypatch, tmp_path, capsys):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "mnist_kit" else find_spec(name))
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        if command[:2] == ["git", "clone"]:  # the clone: a checkout's pyproject.toml is all install reads
            (tmp_path / command[-1]).mkdir()
            shutil.copy(ROOT / "pyproject.toml", tmp_path / command[-1])

    _run_cell(monkeypatch, tmp_path, run)
    clone, kit, requirements, data = commands
    assert clone == ["git", "clone", "--depth", "1", launch.REPOSITORY, "mnist-kit"]
    assert kit[-3:] == ["--no-deps", "-e", str(tmp_path / "mnist-kit")]
    asked = requirements[requirements.index("--disable-pip-version-check") + 1 :]
    assert asked and not [r for r in asked if bootstrap._name(r) in ("torch", "torchvision", "jupyterlab")]
    assert "ipycanvas>=0.13" in asked  # the rest of the kit's dependencies, as pyproject.toml states them
    assert data[1:] == ["-m", "mnist_kit", "data"]
    assert "$ pip install" in capsys.readouterr().out


def test_an_old_or_missing_torch_is_asked_for_at_the_minimum_without_a_cap():
    requirements = ["torch>=2.2,<2.15", "torchvision>=0.17,<0.30", "jupyterlab>=4.0", "numpy>=1.24"]
    assert bootstrap.requirements_keeping_torch(requirements, {"torch": "2.1.2", "torchvision": None}.get) == [
        "torch>=2.2",
        "torchvision>=0.17",
        "numpy>=1.24",
    ]
    newer = {"torch": "2.99.0+cu128", "torchvision": "0.40.1"}.get  # a newer Colab than the kit was tested with
    assert bootstrap.requirements_keeping_torch(requirements, newer) == ["numpy>=1.24"]


def test_on_colab_it_turns_on_the_custom_widget_manager(monkeypatch, tmp_path):
    calls = []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("enabled"))
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    _run_cell(monkeypatch, tmp_path, lambda *a, **k: pytest.fail("the kit is importable here"))
    assert calls == ["enabled"]


def test_inserting_the_cell_shifts_the_counts_and_keeps_the_outputs():
    result = {"output_type": "execute_result", "execution_count": 2, "data": {"text/plain": ["4"]}, "metadata": {}}
    notebook = {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Title"]},
            {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 1, "outputs": [], "source": ["x = 2"]},
            {"cell_type": "code", "id": "c", "metadata": {}, "execution_count": 2, "outputs": [result], "source": []},
        ]
    }
    once = setup_cell.with_setup_cell(json.loads(json.dumps(notebook)))
    assert [c["id"] for c in once["cells"]] == ["a", "set-up", "b", "c"]
    assert [c.get("execution_count") for c in once["cells"]] == [None, 1, 2, 3]
    assert once["cells"][1]["outputs"] == [] and once["cells"][3]["outputs"][0]["execution_count"] == 3
    again = setup_cell.with_setup_cell(json.loads(json.dumps(once)))
    assert again == once  # a second run changes nothing
