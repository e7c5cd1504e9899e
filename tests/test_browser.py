"""End to end, as a student meets the kit: JupyterLab in headless Chromium runs a notebook.

JupyterLab is started on localhost over a copy of ``notebooks/01_model_1.ipynb`` (so autosave can
never touch the committed notebook); Playwright drives Debian's Chromium (``/usr/bin/chromium``,
or ``$CHROMIUM``), runs every cell in smoke mode, checks that no cell failed, then moves the
augmentation explorer's rotation slider and checks that the figure below it is redrawn.
A second test opens a scratch notebook with the draw-your-own-digit widget and the feature-map
explorer, draws a vertical stroke and (after Clear) a closed loop with the mouse, and checks that the
model reads them as 1 and 0 (``drawn-digits.json``), then picks another digit in the explorer.
Screenshots (``browser-notebook.png``, ``browser-draw-stroke.png``, ...) are saved in
``$MNIST_KIT_ARTIFACTS`` (default: ``.artifacts/`` in the checkout). Skips, saying why, where Chromium
or Playwright cannot be had.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# Flags for a closed network: without the background-networking ones Chromium keeps dialling out.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAB_SETTINGS = {
    # Render every cell (JupyterLab 4 otherwise draws only the cells in view) and skip the news pop-up.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false", "checkForUpdates": False},
}

playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
)
if not Path(CHROMIUM).is_file():
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on localhost over a copy of notebook 01, in smoke mode; yields its base URL."""
    work = tmp_path / "lab"
    work.mkdir()
    notebook = nbformat.read(ROOT / "notebooks" / "01_model_1.ipynb", as_version=4)
    for cell in notebook.cells:  # start from a blank page: the committed outputs are a full run's
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.write(notebook, work / "01_model_1.ipynb")
    settings = tmp_path / "settings"
    for name, values in LAB_SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    port, token = _free_port(), "mnist-kit-test"
    # A workspace of its own: JupyterLab would otherwise reopen the tabs another run left in ~/.jupyter.
    env = dict(
        os.environ,
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
        MNIST_KIT_SMOKE="1",
        MNIST_KIT_SMOKE_DIR=str(tmp_path / "smoke"),
    )
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={work}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    log = open(tmp_path / "server.log", "wb")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.time() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(tmp_path / 'server.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield base, token, work
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _artifacts() -> Path:
    folder = Path(os.environ.get("MNIST_KIT_ARTIFACTS", ROOT / ".artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _accept_dialogs(page) -> list[str]:
    """Accept any modal JupyterLab raised while starting (e.g. "Select Kernel" when the kernel is slow
    to come up on a loaded machine); returns their texts for the failure message."""
    seen = []
    for _ in range(3):
        dialog = page.locator(".jp-Dialog")
        if not dialog.count():
            break
        seen.append(dialog.first.inner_text())
        accept = dialog.first.locator(".jp-Dialog-button.jp-mod-accept")
        if accept.count():
            accept.first.click()
        else:
            page.keyboard.press("Escape")
        page.wait_for_timeout(500)
    return seen


def _kernel_states(base: str, token: str, notebook: str) -> list[str]:
    """The execution states of the kernels the server runs for ``notebook`` (its REST API, not the page)."""
    try:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as reply:
            sessions = json.load(reply)
    except OSError:
        return []
    mine = [s for s in sessions if s.get("path", "").endswith(notebook) and s.get("kernel")]
    return [s["kernel"]["execution_state"] for s in mine]


def _started(page) -> bool:
    """Whether the first code cell shows it is queued or done ("[*]:" or "[1]:")."""
    return page.evaluate(
        """() => {
        const first = document.querySelector('.jp-CodeCell .jp-InputPrompt');
        return !!first && /^\\[(\\*|\\d+)\\]:$/.test(first.textContent.trim());
    }"""
    )


def _open_and_run_all(page, base: str, token: str, notebook: str, failure_png: str = "browser-failure.png") -> None:
    """Open ``notebook`` in JupyterLab, run all its cells and wait until every one has finished.

    On a loaded machine the kernel can take a minute to come up, and a "Run All" clicked before the page
    has connected to it is dropped without a word. So: wait until the server reports the notebook's
    kernel idle, then click "Run All" until the first cell shows it is queued; if it never does, reload
    the page (a fresh connection to the same kernel) and try again.
    """
    dialogs: list[str] = []
    for _load in range(3):
        page.goto(f"{base}/lab/tree/{notebook}?token={token}")
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
        deadline = time.time() + 180
        while "idle" not in _kernel_states(base, token, notebook) and time.time() < deadline:
            dialogs += _accept_dialogs(page)
            time.sleep(1)
        for _attempt in range(8):
            dialogs += _accept_dialogs(page)
            page.click(".lm-MenuBar-itemLabel:text-is('Run')")
            page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
            clicked = time.time()
            while not _started(page) and time.time() < clicked + 10:
                time.sleep(0.25)
            if _started(page):
                break
        if _started(page):
            break
    else:
        page.screenshot(path=str(_artifacts() / failure_png), full_page=True)
        pytest.fail(
            f"'Run All' never started a cell after 3 page loads; kernel states "
            f"{_kernel_states(base, token, notebook)}, dialogs {dialogs}; screenshot in {_artifacts()}"
        )
    try:
        page.wait_for_function(
            """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
                .map(e => e.textContent.trim());
            return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
        }""",
            timeout=300_000,
        )
    except playwright_api.TimeoutError:
        page.screenshot(path=str(_artifacts() / failure_png), full_page=True)
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        pytest.fail(
            f"cells did not all finish; prompts: {prompts}; kernel states {_kernel_states(base, token, notebook)}; "
            f"screenshot in {_artifacts()}"
        )


def _type_into_readout(page, readout, text: str) -> None:
    """Type a new value into a slider's readout, as a student would."""
    readout.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def _wait_for_new_figure(output, before: str | None, seconds: float = 30) -> bool:
    """Wait until the first figure in ``output`` is another image than ``before``: the kernel redrew it
    and the Output widget swapped in a new <img>."""
    deadline = time.time() + seconds
    while output.locator("img").first.get_attribute("src") == before and time.time() < deadline:
        time.sleep(0.25)
    return output.locator("img").first.get_attribute("src") != before


def test_notebook_runs_in_jupyterlab_and_a_slider_responds(lab):
    base, token, work = lab
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _open_and_run_all(page, base, token, "01_model_1.ipynb")
        shown = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not [text for text in shown if "Traceback" in text or "Error:" in text], "a cell failed"
        assert any("SMOKE RUN" in text for text in shown)
        assert page.locator(".jp-OutputArea-output img").count() >= 5  # figures really rendered

        # The augmentation explorer: its first slider is rotation. Type a new value into its readout.
        explorer = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")).first
        explorer.scroll_into_view_if_needed()
        before = explorer.locator("img").first.get_attribute("src")
        readout = explorer.locator(".widget-readout").first
        assert readout.inner_text() == "7.00"
        _type_into_readout(page, readout, "-30")
        redrawn = _wait_for_new_figure(explorer, before)
        explorer.screenshot(path=str(_artifacts() / "browser-slider.png"))
        assert readout.inner_text().replace("\u2212", "-") == "-30.00"  # ipywidgets prints a real minus sign
        assert redrawn, "the figure did not change"
        page.screenshot(path=str(_artifacts() / "browser-notebook.png"), full_page=True)

        page.keyboard.press("Escape")
        page.keyboard.press("Control+S")  # save, so the file's outputs can be checked too
        page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
        browser.close()

    saved = nbformat.read(work / "01_model_1.ipynb", as_version=4)
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code)
    assert not [out for cell in code for out in cell.outputs if out.output_type == "error"]


# The cells a student runs to draw a digit and explore the feature maps (notebook 4 has them too).
DRAW_CELLS = [
    "%matplotlib inline\nfrom mnist_kit import features, widgets\n\nmodel = features.committed_model('model_4')",
    "widgets.draw_digit(model)",
    "widgets.feature_map_explorer(model)",
]


def _draw(page, canvas, points) -> None:
    """One stroke with the mouse through canvas points (x, y), button held down between them."""
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=4)
    page.mouse.up()


def _prediction_after(page, label, previous: str) -> str:
    """The digit the widget shows once its prediction text changes from ``previous`` ("" if none came)."""
    try:
        page.wait_for_function(
            "([el, old]) => el.textContent.trim() !== old && el.textContent.includes('Prediction')",
            arg=[label.element_handle(), previous],
            timeout=60_000,
        )
    except playwright_api.TimeoutError:
        return ""
    return label.inner_text().split("Prediction:")[1].split()[0]


def _screenshot_when_drawn(drawing, name: str) -> None:
    """Wait for the two figures below the canvas (probabilities, feature maps), then take a screenshot."""
    try:
        drawing.locator("img").nth(1).wait_for(timeout=30_000)
    finally:
        drawing.screenshot(path=str(_artifacts() / name))


def test_draw_a_digit_and_explore_its_feature_maps(lab):
    base, token, work = lab
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in DRAW_CELLS], metadata=kernel),
        work / "draw.ipynb",
    )
    shown = {}
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1800})  # room for the figures below the canvas
        _open_and_run_all(page, base, token, "draw.ipynb", "browser-draw-failure.png")
        texts = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not [text for text in texts if "Traceback" in text or "Error:" in text], "a cell failed"

        drawing = page.locator(".jp-OutputArea-output").filter(has=page.locator("canvas")).first
        canvas, label = drawing.locator("canvas").first, drawing.locator(".mnist-kit-prediction")
        drawing.scroll_into_view_if_needed()
        start = label.inner_text().strip()
        _draw(page, canvas, [(140, 40 + 20 * i) for i in range(11)])  # a vertical stroke
        shown["stroke"] = _prediction_after(page, label, start)
        _screenshot_when_drawn(drawing, "browser-draw-stroke.png")

        drawing.locator("button:has-text('Clear')").click()
        page.wait_for_function(
            "el => el.textContent.includes('Draw a digit')", arg=label.element_handle(), timeout=30_000
        )
        loop = [
            (140 + 70 * math.sin(2 * math.pi * t / 24), 140 - 100 * math.cos(2 * math.pi * t / 24)) for t in range(25)
        ]
        _draw(page, canvas, loop)  # a closed loop
        shown["loop"] = _prediction_after(page, label, label.inner_text().strip())
        _screenshot_when_drawn(drawing, "browser-draw-loop.png")
        (_artifacts() / "drawn-digits.json").write_text(json.dumps(shown) + "\n")

        # The feature-map explorer: its first slider picks the test digit. Type another one.
        explorer = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")).last
        explorer.scroll_into_view_if_needed()
        before = explorer.locator("img").first.get_attribute("src")
        _type_into_readout(page, explorer.locator(".widget-readout").first, "1")
        redrawn = _wait_for_new_figure(explorer, before, seconds=60)
        explorer.screenshot(path=str(_artifacts() / "browser-explorer.png"))
        browser.close()

    assert shown == {"stroke": "1", "loop": "0"}, f"the model read the drawings as {shown}"
    assert redrawn, "the explorer's figure did not change with the digit"
