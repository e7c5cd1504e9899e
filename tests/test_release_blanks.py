"""The students' copy blanks what a build-it cell asks them to write (``tools/release.py``), and only that."""

import ast
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from release import blank_build_cells, blank_solutions  # noqa: E402

CELL = """class MyModel1(nn.Module):
    def __init__(self):
        super().__init__()
        ### BEGIN SOLUTION
        self.conv = nn.Conv2d(1, 10, 3, bias=False)
        ### END SOLUTION

    def forward(self, x):
        ### BEGIN SOLUTION
        return self.conv(x)
        ### END SOLUTION
"""


def test_each_marked_answer_becomes_a_placeholder_at_its_indentation():
    blanked = blank_solutions(CELL)
    assert "nn.Conv2d" not in blanked and "self.conv(x)" not in blanked and "SOLUTION" not in blanked
    assert blanked.count('        raise NotImplementedError("write this part') == 2
    assert blanked.startswith("class MyModel1(nn.Module):\n    def __init__(self):\n        super().__init__()\n")
    ast.parse(blanked)  # the student's copy still parses: running it says what to write
    assert blank_solutions("x = 1\n") == "x = 1\n"


def test_a_notebooks_build_cells_lose_their_answers_and_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    answer = nbformat.v4.new_code_cell(CELL, outputs=[nbformat.v4.new_output("stream", text="shown\n")])
    checker = nbformat.v4.new_code_cell('checks.network(MyModel1(), "model_1")')
    nb.cells = [nbformat.v4.new_markdown_cell("# A lesson"), answer, checker]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nb, path)
    assert blank_build_cells(path) == 1
    cells = nbformat.read(path, as_version=4).cells
    assert cells[1].outputs == [] and "NotImplementedError" in cells[1].source
    assert cells[2].source == checker.source and cells[0].source == "# A lesson"


def test_every_build_it_answer_in_the_lessons_is_marked_and_blanks_to_code_that_parses():
    root = Path(__file__).resolve().parent.parent / "notebooks"
    marked = 0
    for path in sorted(root.glob("0[1-5]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
                marked += 1
                assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION"), path.name
                ast.parse(blank_solutions(cell.source))
    assert marked >= 5, "each lesson's build-it cells carry the answer between markers"
