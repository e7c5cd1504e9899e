"""Where the course lives and how a student opens a lesson: the repository's address (set once, here), the lessons
in order, and the links that open each one in Colab, on Binder or on a university JupyterHub (nbgitpuller).

Read by the notebooks' set-up cell (``setup_cell``, which copies the address into every notebook), the README's
lesson table (``python -m mnist_kit report``) and the course website (``site``, its launch buttons).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

# The course's public git repository. The kit has no public address yet: the instructor who publishes the course
# sets it here, then runs `python -m mnist_kit.setup_cell` (the notebooks' first cells) and
# `python -m mnist_kit report` (the README's links). Colab and Binder links need a GitHub address.
REPOSITORY = "https://github.com/YOUR-ORG/mnist-kit"
BRANCH = "main"
WORDS_PER_MINUTE = 200  # reading speed behind the lesson table's reading times (Markdown words only)
BINDER = "https://mybinder.org"
COLAB = "https://colab.research.google.com"


@dataclass(frozen=True)
class Lesson:
    notebook: str  # from the repository root
    teaches: str

    @property
    def solutions(self) -> str:
        path = Path(self.notebook)
        return str(path.parent / "solutions" / f"{path.stem}_solutions.ipynb")


# The lessons in the order a student takes them; the README table, the website and the tests read this list.
LESSONS = (
    Lesson(
        "notebooks/01_model_1.ipynb",
        "you write the network all four iterations share and its training step, each checked against the kit's; "
        "output size, receptive field and parameters worked by hand; the first loss and one batch learned by heart",
    ),
    Lesson(
        "notebooks/02_model_2.ipynb",
        "you narrow the network to fit the parameter budget, checked block by block; what each change does on its "
        "own, against the spread across seeds",
    ),
    Lesson(
        "notebooks/03_model_3.ipynb",
        "you write the learning-rate schedule, checked step by step; what the augmentation and the schedule each "
        "buy, with the network unchanged",
    ),
    Lesson(
        "notebooks/04_model_4.ipynb",
        "you write the one-cycle schedule and the weight average; choosing on validation, reporting on test; the "
        "four side by side; what the network sees, and a digit you draw",
    ),
    Lesson(
        "notebooks/05_smaller.ipynb",
        "where the parameters go and the moves that save them; you write a smaller network chosen on validation, "
        "checked block by block",
    ),
    Lesson(
        "notebooks/06_steady_or_lucky.ipynb",
        "a case study in research method, read from the recorded runs: seeds and spread, hold rates with their "
        "Wilson intervals, validation against test, a search round and its tie, a challenger recipe against Model_4, "
        "the frontier's second series; it trains nothing",
    ),
)


def github_name(repository: str = REPOSITORY) -> str:
    """``owner/name`` of a GitHub address; Colab and Binder open GitHub repositories by it."""
    found = re.fullmatch(r"https://github\.com/([^/]+/[^/]+?)(?:\.git)?/?", repository)
    if not found:
        raise ValueError(f"{repository!r} is not a GitHub repository address (https://github.com/owner/name)")
    return found.group(1)


def colab_url(notebook: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    return f"{COLAB}/github/{github_name(repository)}/blob/{branch}/{notebook}"


def binder_url(notebook: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    return f"{BINDER}/v2/gh/{github_name(repository)}/{branch}?labpath={quote(notebook, safe='')}"


def nbgitpuller_url(hub: str, notebook: str, repository: str = REPOSITORY, branch: str = BRANCH) -> str:
    """A link that clones (or updates) the course into a student's home on ``hub`` and opens ``notebook``."""
    folder = github_name(repository).split("/")[1]
    query = urlencode({"repo": repository, "branch": branch, "urlpath": f"lab/tree/{folder}/{notebook}"})
    return f"{hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def _markdown_cells(path: Path) -> list[str]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def title(path: Path) -> str:
    """The notebook's first Markdown heading."""
    for text in _markdown_cells(path):
        for line in text.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    raise ValueError(f"{path} has no '# ' heading")


def markdown_words(path: Path) -> int:
    """How many words a notebook's Markdown cells hold (its code and outputs aside): what a reader reads."""
    return sum(len(text.split()) for text in _markdown_cells(path))


def reading_minutes(path: Path) -> int:
    return math.ceil(markdown_words(path) / WORDS_PER_MINUTE)


def lessons_table(root: Path) -> str:
    """The README's lesson table: lesson | what it teaches | reading time | Colab | Binder."""
    rows = ["| lesson | what it teaches | reading time | Colab | Binder |", "| --- | --- | ---: | --- | --- |"]
    for lesson in LESSONS:
        path = Path(root) / lesson.notebook
        rows.append(
            f"| [{title(path)}]({lesson.notebook}) | {lesson.teaches} | {reading_minutes(path)} min "
            f"| [Open in Colab]({colab_url(lesson.notebook)}) | [Launch Binder]({binder_url(lesson.notebook)}) |"
        )
    note = f"_Reading time: the lesson's Markdown at {WORDS_PER_MINUTE} words a minute, its code and runs aside._"
    return "\n".join(rows) + "\n\n" + note
