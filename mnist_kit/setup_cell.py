"""The first code cell of every notebook, generated from one template: where the kit is importable it does nothing;
elsewhere (Colab, a bare Jupyter) it clones the course's repository (``launch.REPOSITORY``; the lessons read its
``results/``), installs the kit from it beside the torch already there (``bootstrap``) and prepares MNIST; on Colab
it turns on the custom widget manager that ipycanvas's draw-a-digit canvas needs.

``python -m mnist_kit.setup_cell [notebooks...]`` writes the cell into each notebook (default: every lesson and
solutions notebook, and those under ``assignment/``): it replaces an older set-up cell, or inserts one before the
first code cell with an empty output, shifting the recorded execution counts by one. Nothing is executed. Run it
again after changing ``launch.REPOSITORY``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .launch import REPOSITORY
from .paths import atomic_write_bytes, project_root

FIRST_LINE = "# Set-up: does nothing where the course is installed."
TEMPLATE = """\
{first_line} Elsewhere (Colab, a bare Jupyter) it fetches the course,
# installs it beside the torch already there, and prepares MNIST. (Generated from mnist_kit/setup_cell.py.)
import importlib.util
import os
import subprocess
import sys

REPOSITORY = "{repository}"  # set in mnist_kit/launch.py by whoever publishes the course
if importlib.util.find_spec("mnist_kit") is None:
    if not os.path.isdir("mnist-kit"):
        subprocess.run(["git", "clone", "--depth", "1", REPOSITORY, "mnist-kit"], check=True)
    sys.path.insert(0, os.path.abspath("mnist-kit"))
    from mnist_kit import bootstrap

    bootstrap.install("mnist-kit")
if "google.colab" in sys.modules:
    from google.colab import output

    output.enable_custom_widget_manager()  # the draw-a-digit canvas (ipycanvas) needs it
"""
CELL_ID = "set-up"


def cell_source(repository: str = REPOSITORY) -> str:
    return TEMPLATE.format(first_line=FIRST_LINE, repository=repository).rstrip("\n")


def course_notebooks(root: Path | None = None) -> list[Path]:
    """Every lesson, solutions and assignment notebook of the checkout."""
    root = Path(root or project_root())
    found = sorted((root / "notebooks").glob("*.ipynb")) + sorted((root / "notebooks" / "solutions").glob("*.ipynb"))
    return found + sorted(p for p in (root / "assignment").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def with_setup_cell(notebook: dict, source: str | None = None) -> dict:
    """``notebook`` (nbformat 4 JSON) with the set-up cell first among its code cells."""
    source = cell_source() if source is None else source
    cells = notebook["cells"]
    code = [i for i, c in enumerate(cells) if c["cell_type"] == "code"]
    if code and "".join(cells[code[0]]["source"]).startswith(FIRST_LINE):
        cells[code[0]]["source"] = _lines(source)
        return notebook
    for i in code:  # the new cell runs first: every recorded count moves up by one
        cell = cells[i]
        if cell.get("execution_count") is not None:
            cell["execution_count"] += 1
        for output in cell.get("outputs", []):
            if output.get("execution_count") is not None:
                output["execution_count"] += 1
    executed = any(cells[i].get("execution_count") is not None for i in code)
    new = {"cell_type": "code", "execution_count": 1 if executed else None, "id": CELL_ID, "metadata": {}}
    new.update(outputs=[], source=_lines(source))
    cells.insert(code[0] if code else len(cells), new)
    return notebook


def write(path: Path) -> bool:
    """Put the set-up cell into the notebook at ``path``; True if the file changed."""
    old = Path(path).read_text(encoding="utf-8")
    text = json.dumps(with_setup_cell(json.loads(old)), indent=1, ensure_ascii=False) + "\n"
    if text != old:
        atomic_write_bytes(Path(path), text.encode("utf-8"))
    return text != old


if __name__ == "__main__":
    paths = [Path(p) for p in sys.argv[1:]] or course_notebooks()
    for path in paths:
        print(f"{path}: {'set-up cell written' if write(path) else 'up to date'}")
