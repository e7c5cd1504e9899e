"""The committed notebooks read as lab reports of real full runs (nbval executes them separately)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))


# The recipe each notebook trains: its name after the number, unless named here.
RECIPE_OF = {"05_smaller": "model_5"}


def test_there_are_four_iterations_and_the_smaller_networks():
    assert [p.name for p in NOTEBOOKS] == [
        "01_model_1.ipynb",
        "02_model_2.ipynb",
        "03_model_3.ipynb",
        "04_model_4.ipynb",
        "05_smaller.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_a_full_run_lab_report(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    headings = [
        line
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]
    for section in (
        "## Target",
        "## The data",
        "## The model",
        "## Training",
        "## Results",
        "## Analysis",
        "## Target against achieved",
        "## Takeaways",
        "## Exercises",
    ):
        assert section in headings, section
    assert headings[-2:] == ["## Takeaways", "## Exercises"], "a lesson ends with takeaways, then exercises"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "every code cell keeps its execution count"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "run top to bottom once"
    text = "".join(out.get("text", "") for cell in code for out in cell.outputs)
    assert "Full run" in text and "SMOKE RUN" not in text
    assert "Test set: Average loss:" in text and "EPOCH: 15" in text
    assert not any(out.output_type == "error" for cell in code for out in cell.outputs)
    analysis = next(c.source for c in nb.cells if c.cell_type == "markdown" and c.source.startswith("## Analysis"))
    assert "To be written" not in analysis and len(analysis.split()) > 80


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_outputs_agree_with_the_committed_record(path):
    nb = nbformat.read(path, as_version=4)
    recipe = RECIPE_OF.get(path.stem, path.stem.split("_", 1)[1])
    record = json.loads((ROOT / "results" / f"{recipe}.json").read_text())
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    last = record["history"][-1]
    assert f"({last['test_acc']:.2f}%)" in text.split("EPOCH: 15")[-1]


def test_run_notebooks_tool_executes_and_tidies(tmp_path):
    code = (
        "import time\nfrom tqdm import tqdm\nfrom mnist_kit.runs import smoke_mode\n"
        "print('smoke' if smoke_mode() else 'full')\n"
        "for _ in tqdm(range(3), file=__import__('sys').stdout, mininterval=0): time.sleep(0.01)"
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "tiny.ipynb"
    nbformat.write(notebook, path)
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    nb = nbformat.read(path, as_version=4)
    text = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs)
    assert text.startswith("smoke")  # the kernel inherited the switch
    assert "\r" not in text and "3/3" in text  # progress-bar redraws collapsed to the last one
    assert nb.cells[0].execution_count == 1


def test_failed_notebook_is_left_untouched(tmp_path):
    broken = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("raise RuntimeError('boom')")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    before = path.read_bytes()
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_notebooks.py"), str(path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0 and "boom" in done.stderr
    assert path.read_bytes() == before


WIDGET = "application/vnd.jupyter.widget-view+json"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_reads_on_github_without_a_kernel(path):
    """No red stderr boxes, no absolute path of the machine that ran it, a static figure beside every widget."""
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for i, cell in enumerate(code):
        stderr = "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stderr").strip()
        assert not stderr, f"code cell {i + 1} writes to stderr: {stderr[:200]}"
        dumped = json.dumps([dict(o) for o in cell.outputs])
        assert not re.search(r"/(work|tmp|home|root|Users)/[\w.-]+/", dumped), f"code cell {i + 1}: an absolute path"
        if any(WIDGET in o.get("data", {}) for o in cell.outputs):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), f"code cell {i + 1}: widget, no figure"
