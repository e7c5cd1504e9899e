"""Notebook 4 (Model_4), what only it needs beyond the shape every lesson has (tests/test_lesson_shape.py): its
learning-rate try-its come before anything prints a rate, and its solutions read the sweep from the records."""

import re
from pathlib import Path

from notebook_reading import outputs as _outputs
from notebook_reading import read as _nb

from mnist_kit import checks

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "notebooks" / "04_model_4.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "04_model_4_solutions.ipynb"


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


def test_the_solutions_read_the_sweep_from_its_records():
    code = "\n".join(c.source for c in _nb(SOLUTIONS).cells if c.cell_type == "code")
    assert "records.current_sweep(" in code and "len(sweep)" in code
