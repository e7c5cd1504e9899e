"""The students' copy of the course (``make release``): the lessons without their solutions, and the assignment.

    python tools/release.py release/          # after `nbgrader generate_assignment` (make release runs both)

Copies the checkout's tracked files into the folder, leaving out ``notebooks/solutions/``, the instructor's
``assignment/`` (the students get its nbgrader release, ``assignment/release/cnn_budget/``, as ``assignment/``),
``tools/release.py``, the tests and ``docs/INSTRUCTOR.md``. In the copy, each lesson's sentence pointing at its worked
solutions is removed (nothing links to what is left out), the code a student writes in a build-it cell (between
``### BEGIN SOLUTION`` and ``### END SOLUTION``, as nbgrader marks it) is blanked to ``raise NotImplementedError``, and
the checkers (``mnist_kit/verdict.py``'s switch) show
no worked answers
(``ANSWERS_SHOWN = False``: ``reveal()`` and ``show_answer=True`` say to ask the instructor). The folder is replaced
as a whole.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LEFT_OUT = (
    "notebooks/solutions/",
    "notebooks/text/",
    "assignment/",
    "tools/release.py",
    "tests/",
    "docs/INSTRUCTOR.md",
)
POINTERS = ("solutions/", "INSTRUCTOR.md")  # a sentence naming one of these points at what the copy leaves out
ASSIGNMENT = ROOT / "assignment" / "release" / "cnn_budget"
# "Worked solutions, with how long each takes: [solutions/...](solutions/...)." in each lesson's exercises
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z*_`\[-])")  # where one sentence ends and the next begins
SOLUTIONS_LINK = re.compile(r"\s*Worked solutions[^\[]*\[solutions/[^\]]*\]\(solutions/[^)]*\)\.?")


def tracked_files(root: Path) -> list[str]:
    """The checkout's files under version control (what a fresh clone has), as relative paths."""
    listed = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True, check=True).stdout
    return [name for name in listed.splitlines() if (root / name).is_file()]


def without_solution_sentences(markdown: str) -> str:
    """Markdown without the sentences that point at what the copy leaves out (``POINTERS``); other paragraphs stay."""
    paragraphs = []
    for paragraph in markdown.split("\n\n"):
        if any(p in paragraph for p in POINTERS) and not paragraph.lstrip().startswith(("```", "|")):
            kept = [s for s in SENTENCE_END.split(paragraph) if not any(p in s for p in POINTERS)]
            paragraph = " ".join(kept)
        if paragraph.strip() or not paragraphs:
            paragraphs.append(paragraph)
    return "\n\n".join(paragraphs)


def strip_solution_links(path: Path) -> None:
    """Remove the pointers to the worked solutions from a Markdown file or every Markdown cell of a notebook."""
    if path.suffix == ".md":
        path.write_text(without_solution_sentences(path.read_text()))
        return
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = without_solution_sentences(SOLUTIONS_LINK.sub("", cell.source))
    nbformat.write(notebook, path)


SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n.*?^[ \t]*### END SOLUTION[ \t]*$", re.M | re.S)
BLANK = '{0}# YOUR CODE HERE\n{0}raise NotImplementedError("write this part, then run the checker below")'


def blank_solutions(source: str) -> str:
    """A build-it cell's source with each marked answer replaced by a placeholder at the answer's indentation."""
    return SOLUTION.sub(lambda m: BLANK.format(m.group(1)), source)


def blank_build_cells(path: Path) -> int:
    """Blank every marked answer in a notebook's code cells and clear those cells' outputs; returns how many."""
    notebook, blanked = nbformat.read(path, as_version=4), 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and SOLUTION.search(cell.source):
            cell.source, cell.outputs, cell.execution_count = blank_solutions(cell.source), [], None
            blanked += 1
    if blanked:
        nbformat.write(notebook, path)
    return blanked


def hide_answers(checks: Path) -> None:
    """Turn the worked answers off in the copy's ``mnist_kit/verdict.py``."""
    text = checks.read_text()
    if "ANSWERS_SHOWN = True" not in text:
        raise SystemExit(f"{checks}: no ANSWERS_SHOWN switch to turn off")
    checks.write_text(text.replace("ANSWERS_SHOWN = True", "ANSWERS_SHOWN = False", 1))


def release(out: Path, root: Path = ROOT, assignment: Path = ASSIGNMENT) -> Path:
    """Write the students' copy into ``out`` (replaced); returns it."""
    if not (assignment / "cnn_budget.ipynb").exists():
        raise SystemExit(f"{assignment} has no student notebook: run `make release` (nbgrader generate_assignment)")
    if out.exists():
        shutil.rmtree(out)
    for name in tracked_files(root):
        if not name.startswith(LEFT_OUT):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, out / name)
    shutil.copytree(assignment, out / "assignment")
    for lesson in [*sorted((out / "notebooks").glob("*.ipynb")), *sorted(out.rglob("*.md"))]:
        strip_solution_links(lesson)
    for lesson in sorted((out / "notebooks").glob("*.ipynb")):
        blank_build_cells(lesson)
    hide_answers(out / "mnist_kit" / "verdict.py")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to write (replaced), e.g. release/")
    args = parser.parse_args(argv)
    print(f"The students' copy: {release(args.out.resolve())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
