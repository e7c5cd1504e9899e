"""Lessons 1-5 as a student meets them (issue 34): each builds its new piece and checks it, demos each new idea at
first use, defines its terms before using them, reads in 35 minutes, and closes with takeaways, a questionnaire and
exercises. Their prose carries no count typed from the records, nothing about how the course was made, no timing
noise, no try-it answered above it and no table shown twice. (Notebook 6 has its own: tests/test_case_study.py.)"""

import ast
import re
from pathlib import Path

import pytest
from notebook_reading import markdown as _markdown
from notebook_reading import outputs as _outputs
from notebook_reading import read as _nb
from notebook_reading import section as _section

from mnist_kit import launch

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0[1-5]_*.ipynb"))
SOLUTIONS = {p: ROOT / "notebooks" / "solutions" / f"{p.stem}_solutions.ipynb" for p in LESSONS}
ids = [p.stem for p in LESSONS]

MAX_WORDS = 2500  # 35 minutes at about 70 words a minute of careful reading, code and runs aside
# What each lesson has the student write, and the checker that judges it (a call in the cell after the answer).
BUILD_CHECKERS = {
    "01_model_1": {"network", "initial_loss", "train_step", "evaluate", "overfit_one_batch", "quick_run"},
    "02_model_2": {"network"},
    "03_model_3": {"scheduler"},
    "04_model_4": {"scheduler", "weight_average"},
    "05_smaller": {"network"},
}
DEMOS = {
    "01_model_1": [
        "BatchNorm",
        "dropout",
        "max-pooling",
        "1×1 convolution",
        "global average pooling",
        "log-softmax and NLL",
    ],
    "04_model_4": ["OneCycleLR", "weight average"],
}
TERMS = ("receptive field", "overfitting", "hold rate", "three-phase")  # defined in bold where first used
TYPED_COUNT = re.compile(r"\b\d+ of \d+\b|\b\d+ (?:seeds|candidates|rounds|runs)\b")
ABOUT_THE_MAKING = ("committed", "added later", "the issue", "make reproduce", "repository", "ten sweep seeds")
CLOCK = re.compile(r"\[\d+:\d\d(?::\d\d)?<\d+:\d\d")  # a progress bar's [elapsed<remaining]
NUMBER_CHECKERS = {"output_size", "receptive_field", "block_parameters", "first_epoch_at_target", "lr_at_step"}


def _headings(nb) -> list[str]:
    return [line for s in _markdown(nb) for line in s.splitlines() if line.startswith("## ")]


def _calls(source: str) -> list[str]:
    """The names of the ``checks.<name>(...)`` calls in a cell."""
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics
        return re.findall(r"\bchecks\.(\w+)\(", source)
    return [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and getattr(node.func.value, "id", None) == "checks"
    ]


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_a_lesson_reads_in_35_minutes(path):
    assert launch.markdown_words(path) <= MAX_WORDS, f"{launch.markdown_words(path)} words of Markdown"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_the_student_builds_the_new_piece_and_a_checker_judges_it(path):
    cells = [c for c in _nb(path).cells if c.cell_type == "code"]
    judged = set()
    for answer, checker in zip(cells, cells[1:], strict=False):
        if "### BEGIN SOLUTION" in answer.source:
            names = set(_calls(checker.source))
            assert names, f"the cell after a build-it answer runs its checker: {checker.source[:80]}"
            judged |= names
            said = _outputs(checker)
            assert said.strip().startswith(("✅", "❌")), f"the checker shows its verdict line: {said[:120]}"
            assert "✅" in said, f"the answer the lesson carries passes its checker: {said[:200]}"
    builders = set().union(*BUILD_CHECKERS.values())
    for cell in cells:  # the sanity checks run the student's pieces too (the first loss, one batch, a quick run)
        if set(_calls(cell.source)) & builders:
            assert "✅" in _outputs(cell), f"the lesson's own answers pass: {_outputs(cell)[:200]}"
            judged |= set(_calls(cell.source)) & builders
    assert judged >= BUILD_CHECKERS[path.stem], f"missing build-it checks: {BUILD_CHECKERS[path.stem] - judged}"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_each_new_idea_has_its_demo_before_the_training_run(path):
    cells = _nb(path).cells
    training = next(i for i, c in enumerate(cells) if "run_lesson(" in c.source)
    demos = {
        c.source.splitlines()[0].removeprefix("# Demo: "): i
        for i, c in enumerate(cells)
        if c.source.startswith("# Demo: ")
    }
    for idea in DEMOS.get(path.stem, []):
        assert idea in demos, f"no demo of {idea!r}"
        assert demos[idea] < training, f"the {idea} demo comes after the training run"
        assert _outputs(cells[demos[idea]]).strip(), f"the {idea} demo prints what it shows"


def test_terms_are_defined_where_the_course_first_uses_them():
    cells = [(p.stem, s) for p in LESSONS for s in _markdown(_nb(p))]
    text = [(stem, "\n".join(line for line in s.splitlines() if not line.startswith("#"))) for stem, s in cells]
    for term in TERMS:
        first = next(((stem, s) for stem, s in text if re.search(rf"\b{term}\b", s, re.I)), None)
        if first is not None:
            assert f"**{term}**" in first[1].lower(), f"{term!r} is first used in {first[0]} without its definition"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_it_closes_with_takeaways_a_questionnaire_and_exercises(path):
    nb, solutions = _nb(path), _nb(SOLUTIONS[path])
    assert _headings(nb)[-3:] == ["## Takeaways", "## Questionnaire", "## Exercises"]
    assert "**Terms introduced here:**" in _section(nb, "## Takeaways")
    questions = re.findall(r"^(\d+)\. ", _section(nb, "## Questionnaire"), re.M)
    assert 8 <= len(questions) <= 10 and questions == [str(i) for i in range(1, len(questions) + 1)]
    answers = re.findall(r"^(\d+)\. ", _section(solutions, "## Questionnaire"), re.M)
    assert answers == questions, "every question is answered in the solutions notebook"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_the_long_library_source_waits_until_how_the_kit_does_it(path):
    headings = _headings(_nb(path))
    if "## How the kit does it" in headings:
        assert headings.index("## How the kit does it") == len(headings) - 4, "just before the takeaways"
    if path.stem == "01_model_1":
        body = _nb(path).cells
        end = next(i for i, c in enumerate(body) if c.source.startswith("## How the kit does it"))
        early = " ".join(c.source for c in body[:end] if c.cell_type == "code")
        assert "models.TinyNet" not in early and "engine.prepare" not in early, "TinyNet and prepare are shown last"


@pytest.mark.parametrize("path", LESSONS + list(SOLUTIONS.values()), ids=lambda p: p.stem)
def test_the_prose_is_about_mnist_with_no_counts_typed_in(path):
    for source in _markdown(_nb(path)):
        assert not TYPED_COUNT.findall(source), f"typed counts {TYPED_COUNT.findall(source)}"
        lowered = source.lower()
        for phrase in ABOUT_THE_MAKING:
            assert phrase not in lowered, f"{phrase!r} in: {source[:120]}"


@pytest.mark.parametrize("path", LESSONS + list(SOLUTIONS.values()), ids=lambda p: p.stem)
def test_no_timing_noise_and_no_table_twice(path):
    tables = []
    for cell in _nb(path).cells:
        if cell.cell_type == "code":
            said = _outputs(cell)
            assert not CLOCK.search(said), f"a progress bar's clock in an output: {CLOCK.search(said).group(0)}"
            tables += [said] if said.lstrip().startswith("|") else []
    assert len(tables) == len(set(tables)), "a table shown twice"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_a_try_it_prints_its_verdict_only(path):
    for cell in _nb(path).cells:
        if cell.cell_type == "code" and set(_calls(cell.source)) & NUMBER_CHECKERS:
            assert cell.source.rstrip().endswith(";"), f"no stray True/False: end the call with ';' ({cell.source})"
            said = _outputs(cell).strip().splitlines()
            assert len(said) == 1 and said[0][0] in "❓❌✅", f"one verdict line: {said}"


@pytest.mark.parametrize("path", LESSONS, ids=ids)
def test_every_plot_is_shown(path):
    for cell in _nb(path).cells:
        if cell.cell_type == "code" and re.search(r"\bplots\.\w+\(", cell.source):
            assert any("image/png" in out.get("data", {}) for out in cell.outputs), cell.source
