"""Every notebook is reviewable in git: no volatile metadata, and a MyST text pair that agrees with it
(tools/sync_notebooks.py, `make pair`); pytest collects the notebooks, never their pairs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sync_notebooks  # noqa: E402

NOTEBOOKS = sync_notebooks.notebooks()


def test_the_lessons_and_the_solutions_are_all_found():
    names = {path.relative_to(ROOT / "notebooks").as_posix() for path in NOTEBOOKS}
    assert {"01_model_1.ipynb", "05_smaller.ipynb", "solutions/05_smaller_solutions.ipynb"} <= names, names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_volatile_metadata_and_its_pair_agrees(path):
    assert sync_notebooks.problems(path) == []


def test_no_pair_without_its_notebook():
    assert sync_notebooks.orphan_pairs() == []


def test_the_check_catches_what_a_run_or_an_edit_leaves_and_the_sync_mends_it(tmp_path):
    source = ROOT / "notebooks" / "solutions" / "02_model_2_solutions.ipynb"
    path = tmp_path / "notebooks" / source.name
    path.parent.mkdir()
    shutil.copy(source, path)
    sync_notebooks.pair_of(path).parent.mkdir()
    shutil.copy(sync_notebooks.pair_of(source), sync_notebooks.pair_of(path))
    assert sync_notebooks.problems(path) == []
    notebook = nbformat.read(path, as_version=4)
    outputs = [cell.get("outputs") for cell in notebook.cells]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    notebook.cells[1].metadata["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
    markdown = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    markdown.source += "\nA sentence added in the notebook, not in its pair."
    nbformat.write(notebook, path)
    found = "\n".join(sync_notebooks.problems(path))
    assert "metadata.widgets" in found and "cell.metadata.execution" in found and "disagrees" in found, found

    assert sync_notebooks.sync(path) == [path, sync_notebooks.pair_of(path)]
    assert sync_notebooks.problems(path) == [] and sync_notebooks.sync(path) == []
    mended = nbformat.read(path, as_version=4)
    assert [cell.get("outputs") for cell in mended.cells] == outputs, "outputs stay"
    assert "A sentence added" in sync_notebooks.pair_of(path).read_text(encoding="utf-8")
    path.unlink()
    assert sync_notebooks.orphan_pairs(tmp_path) == [sync_notebooks.pair_of(path)]


def test_pytest_collects_the_notebooks_not_their_pairs():
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval-lax", "-p", "no:cacheprovider"]
    listed = subprocess.run([*command, "notebooks"], cwd=ROOT, capture_output=True, text=True)
    assert listed.returncode == 0, listed.stdout[-2000:] + listed.stderr[-2000:]
    files = {line.split("::")[0] for line in listed.stdout.splitlines() if "::" in line}
    assert files == {path.relative_to(ROOT).as_posix() for path in NOTEBOOKS}, files
