"""The README is a student's front page: short, its commands the ones CI runs, its lessons' reading times and its
course numbers from the kit; the links of all three documents lead somewhere. (That `report --check` covers
README.md, docs/RESULTS.md and docs/INSTRUCTOR.md is tests/test_report.py's.)"""

import re
from pathlib import Path

import pytest

from mnist_kit import launch
from mnist_kit.course import MODEL_5_BUDGET, PARAMETER_BUDGET, TARGET
from mnist_kit.grade import MAX_EPOCHS
from mnist_kit.readme import DOCUMENTS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("0*.ipynb"))


def test_the_readme_is_a_front_page():
    assert len(README.splitlines()) <= 200


def test_the_readme_names_the_two_commands_and_ci_runs_its_test_command():
    commands = README.split("```bash\n", 1)[1].split("```", 1)[0]
    assert [line.split("#")[0].strip() for line in commands.splitlines()] == ["make lab", "make test"]
    last = (ROOT / ".ci" / "run").read_text().rstrip().splitlines()[-1].split()
    assert last[0] == "make" and last[-1] == "test", last  # the README's test command, last (after any set-up)


def test_the_readme_states_the_course_numbers_of_the_kit():
    intro = README.split("\n## ", 1)[0]
    assert f"≥ {TARGET} % test\naccuracy" in intro
    assert f"fewer than {PARAMETER_BUDGET:,} parameters, in at most {MAX_EPOCHS} epochs" in intro
    assert f"at most {MODEL_5_BUDGET:,} parameters" in intro


def test_the_lessons_are_listed_in_order_from_the_kits_one_list():
    section = README.split("\n## The lessons\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| \[[^]]+\]\(notebooks/([^)]+)\) \| [^|]+ \| (\d+) min \|", section, re.M)
    assert [name for name, _ in rows] == LESSONS
    assert [Path(lesson.notebook).name for lesson in launch.LESSONS] == LESSONS
    assert [int(m) for _, m in rows] == [launch.reading_minutes(ROOT / "notebooks" / n) for n in LESSONS]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


@pytest.mark.parametrize("document", list(DOCUMENTS))
def test_every_relative_link_leads_to_a_file_and_heading(document):
    path = ROOT / document
    for target in re.findall(r"\]\(([^)\s]+)\)", path.read_text()):
        if target.startswith(("http://", "https://")):
            continue
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        assert linked.exists(), f"{document}: {target} leads nowhere"
        if anchor:
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            assert anchor in {_slug(h) for h in headings}, f"{document}: no heading for #{anchor}"
