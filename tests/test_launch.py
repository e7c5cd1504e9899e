"""Launch links (issue 33): every lesson in the README has its "Open in Colab" and "Launch Binder" links, built from
the one repository address in ``launch.py``, and every such link names a notebook that exists."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

import pytest

from mnist_kit import launch
from mnist_kit.paths import project_root

ROOT = project_root()
OWNER_NAME = launch.github_name()


def notebook_of(url: str) -> str:
    """The repository path a Colab, Binder or nbgitpuller link opens."""
    parsed = urlparse(url)
    if parsed.netloc == urlparse(launch.COLAB).netloc:
        prefix = f"/github/{OWNER_NAME}/blob/{launch.BRANCH}/"
        assert parsed.path.startswith(prefix), url
        return unquote(parsed.path.removeprefix(prefix))
    query = parse_qs(parsed.query)
    if parsed.netloc == urlparse(launch.BINDER).netloc:
        assert parsed.path == f"/v2/gh/{OWNER_NAME}/{launch.BRANCH}", url
        return query["labpath"][0]
    assert query["repo"] == [launch.REPOSITORY] and query["branch"] == [launch.BRANCH], url
    return query["urlpath"][0].removeprefix(f"lab/tree/{OWNER_NAME.split('/')[1]}/")


def launch_links(text: str) -> list[str]:
    return re.findall(r"\((https://(?:colab\.research\.google\.com|mybinder\.org)/[^)\s]+)\)", text)


def test_every_lesson_in_the_readme_has_its_colab_and_binder_links():
    links = launch_links((ROOT / "README.md").read_text(encoding="utf-8"))
    opened = [notebook_of(url) for url in links]
    for lesson in launch.LESSONS:
        assert opened.count(lesson.notebook) == 2, f"{lesson.notebook}: one Colab and one Binder link"
    for path in opened:
        assert (ROOT / path).is_file(), f"a launch link names {path}, which does not exist"


def test_every_lesson_and_its_solutions_exist():
    for lesson in launch.LESSONS:
        assert (ROOT / lesson.notebook).is_file() and (ROOT / lesson.solutions).is_file(), lesson


def test_an_nbgitpuller_link_clones_the_course_and_opens_the_lesson():
    url = launch.nbgitpuller_url("https://hub.example.edu/", "notebooks/01_model_1.ipynb")
    assert url.startswith("https://hub.example.edu/hub/user-redirect/git-pull?repo=")
    assert notebook_of(url) == "notebooks/01_model_1.ipynb"


def test_a_repository_that_is_not_on_github_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="not a GitHub repository address"):
        launch.colab_url("notebooks/01_model_1.ipynb", repository="https://gitlab.com/a/b")


def test_the_instructors_nbgitpuller_example_is_what_the_kit_writes():
    text = (ROOT / "docs" / "INSTRUCTOR.md").read_text(encoding="utf-8")
    example = launch.nbgitpuller_url(
        "https://HUB-ADDRESS", "notebooks/01_model_1.ipynb", repository="https://github.com/OWNER/NAME"
    )
    assert "## Open anywhere" in text and example in text
