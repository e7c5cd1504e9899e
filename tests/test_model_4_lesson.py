"""Notebook 4 (Model_4) and its solutions: a lesson the student builds (the one-cycle scheduler and the weight
average, each checked), a demo at each new idea, try-its that give nothing away, no count typed into the prose,
and the closing sections. Reads the notebooks only: well under a second."""

import re
from pathlib import Path

import nbformat
import pytest

from mnist_kit import checks, launch

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "04_model_4.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "04_model_4_solutions.ipynb"


def _nb(path):
    return nbformat.read(path, as_version=4)


def _markdown(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "markdown"]


def _outputs(cell) -> str:
    texts = []
    for out in cell.get("outputs", []):
        texts.append(out.get("text", ""))
        texts += [out.get("data", {}).get(kind, "") for kind in ("text/markdown", "text/plain")]
    return "".join(t if isinstance(t, str) else "".join(t) for t in texts)


def _section(nb, heading: str) -> str:
    found, inside = [], False
    for source in _markdown(nb):
        if source.startswith("## "):
            inside = source.splitlines()[0] == heading
        if inside:
            found.append(source)
    return "\n".join(found)


def test_it_reads_within_35_minutes():
    assert launch.markdown_words(LESSON) <= 2500


def test_it_closes_with_takeaways_a_questionnaire_and_exercises_each_answered():
    nb, solutions = _nb(LESSON), _nb(SOLUTIONS)
    headings = [s.splitlines()[0] for s in _markdown(nb) if s.startswith("## ")]
    assert headings[-3:] == ["## Takeaways", "## Questionnaire", "## Exercises"]
    assert "**Terms introduced here:**" in _section(nb, "## Takeaways")
    questions = re.findall(r"^(\d+)\. ", _section(nb, "## Questionnaire"), re.M)
    assert 8 <= len(questions) <= 10 and questions == [str(i) for i in range(1, len(questions) + 1)]
    assert re.findall(r"^(\d+)\. ", _section(solutions, "## Questionnaire"), re.M) == questions
    exercises = re.findall(r"^(\d+)\. \*\*(.+?)\*\*", _section(nb, "## Exercises"), re.M)
    solved = [s.splitlines()[0] for s in _markdown(solutions) if re.match(r"## \d+\. ", s)]
    assert exercises and solved == [f"## {n}. {title.rstrip('.')}" for n, title in exercises]


@pytest.mark.parametrize("idea", ["OneCycleLR", "weight average"])
def test_each_new_idea_has_its_demo_with_printed_output(idea):
    cells = [c for c in _nb(LESSON).cells if c.cell_type == "code" and c.source.startswith(f"# Demo: {idea}\n")]
    assert len(cells) == 1 and _outputs(cells[0]).count("\n") >= 3


@pytest.mark.parametrize(
    ("function", "checker"),
    [
        ("def make_scheduler(optimizer, steps_per_epoch):", 'checks.scheduler(make_scheduler, recipe="model_4")'),
        ("def update(average, weights, decay):", "checks.weight_average(update)"),
    ],
)
def test_the_student_builds_each_piece_and_the_next_cell_checks_it(function, checker):
    cells = _nb(LESSON).cells
    i = next(i for i, c in enumerate(cells) if c.cell_type == "code" and c.source.startswith(function))
    assert "    ### BEGIN SOLUTION\n" in cells[i].source and "    ### END SOLUTION" in cells[i].source
    assert cells[i + 1].source.strip() == checker
    assert _outputs(cells[i + 1]).startswith("✅"), "the committed answer passes its checker"


def _lr_answers() -> list[str]:
    values = [checks.EXPECTED["lr_at_step"](recipe="model_4", step=0).value]
    values.append(checks.EXPECTED["lr_at_step"](recipe="model_4", epoch=8).value)
    return [pattern for v in values for pattern in (f"{v:g}", f"{v:.4f}", f"{v:.3g}")]


def test_try_its_print_their_verdict_only_and_nothing_above_answers_them():
    cells = _nb(LESSON).cells
    try_its = [i for i, c in enumerate(cells) if c.cell_type == "code" and "checks.lr_at_step(" in c.source]
    assert len(try_its) == 2
    above = "".join(_outputs(c) for c in cells[: try_its[-1]] if c.cell_type == "code")
    assert not [a for a in _lr_answers() if re.search(rf"(?<![\d.]){re.escape(a)}(?!\d)", above)]
    for i in try_its:
        assert "answer = None" in cells[i].source and cells[i].source.rstrip().endswith(";")
        assert len(_outputs(cells[i]).strip().splitlines()) == 1


def test_the_answer_check_would_catch_a_giveaway():
    shown = "".join(_outputs(c) for c in _nb(LESSON).cells if c.cell_type == "code")
    assert any(re.search(rf"(?<![\d.]){re.escape(a)}(?!\d)", shown) for a in _lr_answers())  # the checker's ✅ line


def test_hold_rate_is_defined_where_it_is_first_used():
    sources = ["\n".join(ln for ln in s.splitlines() if not ln.startswith("#")) for s in _markdown(_nb(LESSON))]
    first = next(s for s in sources if re.search(r"\bhold rate\b", s, re.I))
    assert "**hold rate**" in first.lower()


@pytest.mark.parametrize("path", [LESSON, SOLUTIONS], ids=lambda p: p.stem)
def test_no_count_typed_and_no_word_about_how_it_was_made(path):
    for source in _markdown(_nb(path)):
        assert not re.findall(r"\b\d+ of \d+\b|\b\d+ (?:seeds|candidates|rounds|runs)\b", source), source[:200]
        for phrase in ("committed", "added later", "the issue", "make reproduce", "repository", "instructor"):
            assert phrase not in source.lower(), f"{path.name}: {phrase!r}"


def test_the_solutions_read_the_sweep_from_its_records():
    code = "\n".join(c.source for c in _nb(SOLUTIONS).cells if c.cell_type == "code")
    assert "records.current_sweep(" in code and "len(sweep)" in code


def test_every_plot_is_shown():
    for path in (LESSON, SOLUTIONS):
        for cell in _nb(path).cells:
            if cell.cell_type == "code" and "plots." in cell.source:
                assert any("image/png" in out.get("data", {}) for out in cell.outputs), cell.source
