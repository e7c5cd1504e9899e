"""The committed notebooks read as lab reports of real full runs (nbval executes them separately)."""

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_reading import outputs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("0*.ipynb"))
# The case study trains nothing of its own (it reads the recorded sweeps): no course run to ask it for.
CASE_STUDIES = {"06_steady_or_lucky"}
LESSONS = [path for path in NOTEBOOKS if path.stem not in CASE_STUDIES]
LESSON_SOLUTIONS = [path for path in SOLUTIONS if path.stem.removesuffix("_solutions") not in CASE_STUDIES]


# The recipe each notebook trains: its name after the number, unless named here.
RECIPE_OF = {"05_smaller": "model_5"}


def test_there_are_four_iterations_the_smaller_networks_and_the_case_study():
    assert [p.name for p in NOTEBOOKS] == [
        "01_model_1.ipynb",
        "02_model_2.ipynb",
        "03_model_3.ipynb",
        "04_model_4.ipynb",
        "05_smaller.ipynb",
        "06_steady_or_lucky.ipynb",
    ]
    assert [p.name for p in SOLUTIONS] == [p.stem + "_solutions.ipynb" for p in NOTEBOOKS]


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
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
        "## Questionnaire",
        "## Exercises",
    ):
        assert section in headings, section
    assert headings[-3:] == ["## Takeaways", "## Questionnaire", "## Exercises"], "how a lesson closes"
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code), "every code cell keeps its execution count"
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "run top to bottom once"
    text = "".join(out.get("text", "") for cell in code for out in cell.outputs)
    assert "Full run" in text and "SMOKE RUN" not in text
    assert "Test set: Average loss:" in text and "EPOCH: 15" in text
    assert not any(out.output_type == "error" for cell in code for out in cell.outputs)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    analysis = markdown.split("\n## Analysis", 1)[1].split("\n## ", 1)[0]  # to the next section, across cells
    assert "To be written" not in analysis and len(analysis.split()) > 80


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
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
    assert "execution" not in nb.cells[0].metadata, "no per-run timings (tools/sync_notebooks.py)"
    assert (tmp_path / "text" / "tiny.md").is_file(), "its text pair, written beside it"


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


@pytest.mark.parametrize("path", NOTEBOOKS + SOLUTIONS, ids=lambda p: p.stem)
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


# A figure with two decimals (an accuracy like 99.42, a loss like 69.47 %): not part of a longer number or version.
TWO_DECIMALS = re.compile(r"(?<![\d.])(\d{2}\.\d\d)(?![\d.])")


def _shown_text(nb) -> str:
    """Everything a notebook's code cells printed or displayed as text (streams, Markdown, plain reprs)."""
    return "".join(outputs(cell) for cell in nb.cells if cell.cell_type == "code")


def _unshown_figures(nb) -> list[tuple[int, str]]:
    """(cell index, figure) for each two-decimal figure in the Markdown that no code output shows."""
    shown = _shown_text(nb)
    return [
        (i, m.group(1))
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "markdown"
        for m in TWO_DECIMALS.finditer(cell.source)
        if m.group(1) not in shown
    ]


@pytest.mark.parametrize("path", NOTEBOOKS + SOLUTIONS, ids=lambda p: p.stem)
def test_every_figure_the_prose_quotes_is_one_the_notebook_printed(path):
    """The Target, Results and Analysis are written from the run: a number typed into the prose that no output of
    the same notebook shows has drifted from the records (e.g. after a re-run) or was never measured."""
    missing = _unshown_figures(nbformat.read(path, as_version=4))
    assert not missing, f"(cell, figure) in the prose that no output shows: {missing}"


def test_the_prose_check_catches_a_figure_no_output_shows():
    printed = nbformat.v4.new_output("stream", text="Accuracy: 9941/10000 (99.41%); v2.14.1\n")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("It ended at 99.41 % after 98.70 %, on torch 2.14.1."),
            nbformat.v4.new_code_cell("print(...)", outputs=[printed]),
        ]
    )
    assert _unshown_figures(nb) == [(0, "98.70")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_iterations_table_shows_the_records_as_they_are(path):
    """Notebook k's side-by-side table reads the records of the iterations before it: it is stale when one of
    them was re-run after notebook k was executed (``make reproduce`` runs the notebooks in order to keep them
    so). Its best and final test accuracies must be today's records'."""
    nb = nbformat.read(path, as_version=4)
    tables = [
        out.get("data", {}).get("text/markdown", "")
        for cell in nb.cells
        if cell.cell_type == "code" and "report.iterations_table(" in cell.source
        for out in cell.outputs
    ]
    rows = [line.split("|")[1:-1] for table in tables for line in table.splitlines()[2:]]
    for row in rows:
        recipe, best, final = row[0].strip(), row[-3].strip(), row[-2].strip()
        test_acc = [h["test_acc"] for h in json.loads((ROOT / "results" / f"{recipe}.json").read_text())["history"]]
        assert (best, final) == (f"{max(test_acc):.2f} %", f"{test_acc[-1]:.2f} %"), f"{recipe} in {path.name}"
    assert not tables or rows, "an iterations table with no rows"


@pytest.mark.parametrize("path", LESSON_SOLUTIONS, ids=lambda p: p.stem)
def test_solutions_are_executed_in_full_with_their_times(path):
    """A worked solution shows the outputs of a full-length run, top to bottom, and says how long it takes."""
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), "run top to bottom once"
    assert not any(out.output_type == "error" for cell in code for out in cell.outputs)
    shown = _shown_text(nb)
    assert "Full run" in shown and "SMOKE RUN" not in shown
    assert "on a CPU" in shown and "on a GPU" in shown, "each solution says how long it takes on a CPU and a GPU"


def test_the_notebooks_weigh_at_most_2_mb_together():
    """Light in git and quick to open: the lessons, the case study and their solutions, outputs and figures included."""
    weight = sum(path.stat().st_size for path in NOTEBOOKS + SOLUTIONS)
    assert weight <= 2_000_000, f"{weight:,} bytes"
