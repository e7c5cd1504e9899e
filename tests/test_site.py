"""The course website (issue 33), built as `make book` builds it and read in headless Chromium (Playwright, as
``test_browser.py``): a lesson page shows its headings, its code, its figures with alt text and its Colab and Binder
buttons; "next" leads to the next lesson; the search box finds a word. A small notebook whose figure carries alt
text shows that the site puts it into ``<img alt>`` and never falls back to the image's file name."""

from __future__ import annotations

import base64
import functools
import http.server
import re
import threading
from pathlib import Path

import nbformat
import pytest

from mnist_kit import launch, plots, site
from mnist_kit.paths import project_root

ROOT = project_root()
pytest.importorskip("myst_nb", reason="the site builder is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The whole course website, built offline from the committed notebooks."""
    return site.build(ROOT, tmp_path_factory.mktemp("site") / "html").parent


@pytest.fixture(scope="module")
def served(built):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(built))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _images(html: str) -> list[tuple[str, str]]:
    """(src, alt) of each figure a notebook page shows (not the theme's logos)."""
    found = []
    for tag in re.findall(r"<img [^>]*>", html):
        src = re.search(r'src="([^"]*)"', tag).group(1)
        alt = re.search(r'alt="([^"]*)"', tag)
        if "/_images/" in src:
            found.append((src, alt.group(1) if alt else None))
    return found


def test_a_figures_alt_text_reaches_the_page_and_no_image_is_named_by_its_path(tmp_path, built):
    fig = plots.message_figure("the learning rate peaks at epoch 5")
    data, metadata = fig._repr_mimebundle_()
    data["image/png"] = base64.b64encode(data["image/png"]).decode()  # as the kernel sends it
    output = nbformat.v4.new_output("display_data", data=data, metadata=metadata)
    cell = nbformat.v4.new_code_cell("plots.message_figure('...')", execution_count=1, outputs=[output])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A small lesson"), cell])
    (tmp_path / "notebooks").mkdir()
    nbformat.write(notebook, tmp_path / launch.LESSONS[0].notebook)
    page = site.build(tmp_path, tmp_path / "_build" / "html").parent / "notebooks" / "01_model_1.html"
    assert _images(page.read_text()) == [(_images(page.read_text())[0][0], fig.alt)]
    for path in (built / "notebooks").rglob("*.html"):  # the course's own pages: words, never a file name
        for src, alt in _images(path.read_text()):
            assert alt and Path(src).name not in alt, (path.name, src)


def test_every_lesson_has_a_page_in_order_with_its_launch_buttons(built):
    for lesson in launch.LESSONS:
        html = (built / lesson.notebook.replace(".ipynb", ".html")).read_text()
        for service in (launch.COLAB, launch.BINDER):
            links = re.findall(rf'href="({re.escape(service)}[^"]*)"', html)
            assert links, (lesson.notebook, service)
            assert all(lesson.notebook in link for link in links) and (ROOT / lesson.notebook).is_file()
    index = (built / "index.html").read_text()
    pages = [lesson.notebook.replace(".ipynb", ".html") for lesson in launch.LESSONS]
    assert sorted(pages, key=index.index) == pages
    assert "Solutions" in index and (built / launch.LESSONS[0].solutions.replace(".ipynb", ".html")).is_file()


def test_a_student_reads_a_lesson_moves_on_and_searches(served):
    from test_browser import CHROMIUM, CHROMIUM_ARGS, playwright_api

    first, second = launch.LESSONS[:2]
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"{served}/{first.notebook.replace('.ipynb', '.html')}")
        assert page.locator("h1").first.inner_text().startswith(launch.title(ROOT / first.notebook))
        assert page.locator("main h2").count() >= 5
        assert page.locator("div.cell_input pre").count() >= 5  # the code, highlighted
        alts = page.locator("div.cell_output img").evaluate_all("imgs => imgs.map(i => i.alt)")
        assert alts and all(alt.strip() for alt in alts)
        page.locator("a.right-next").click()
        page.wait_for_url(f"**/{Path(second.notebook).stem}.html")
        assert page.locator("h1").first.inner_text().startswith(launch.title(ROOT / second.notebook))
        page.locator("button.search-button__button").first.click()
        box = page.locator("input[name='q']").first
        box.fill("receptive")
        box.press("Enter")
        page.wait_for_url("**/search.html?q=receptive*")
        hits = page.locator("#search-results ul.search li a")
        hits.first.wait_for(timeout=20_000)
        assert any("Model_1" in text for text in hits.all_inner_texts())
        browser.close()
