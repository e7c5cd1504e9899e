"""The kit's figure style (mnist_kit/plots/style.py), set in one place: every figure takes it, and a notebook's PNG
of a typical figure weighs much less than matplotlib's default while it stays a full-colour-looking plot."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from IPython.core.pylabtools import print_figure
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from mnist_kit import plots
from mnist_kit.plots import style

ROOT = Path(__file__).resolve().parent.parent


def test_every_figure_of_the_kit_is_made_by_the_style():
    makers = {
        path.name: re.findall(r"\bFigure\(", path.read_text(encoding="utf-8"))
        for path in (ROOT / "mnist_kit" / "plots").glob("*.py")
        if path.name not in ("style.py", "figure.py")  # the style, and the class it makes
    }
    assert not any(makers.values()), f"a figure made without plots.style.new_figure: {makers}"
    figure = plots.plot_history(json.loads((ROOT / "results" / "model_4.json").read_text()))
    assert figure.dpi == style.DPI and isinstance(figure.canvas, style.PaletteCanvas)


def test_a_typical_figure_shown_in_a_notebook_weighs_under_40_percent_of_matplotlibs_default():
    record = json.loads((ROOT / "results" / "model_4.json").read_text())
    kit = print_figure(plots.plot_history(record), "png")  # what IPython puts in the notebook
    default = plots.plot_history(record)
    default.set_dpi(100)  # matplotlib's own default, which the committed notebooks were drawn at
    FigureCanvasAgg(default)
    before = print_figure(default, "png")
    image = Image.open(io.BytesIO(kit))
    assert image.mode == "P" and abs(image.width - 11 * style.DPI) < 0.05 * 11 * style.DPI, image
    assert len(kit) < 0.4 * len(before), (len(kit), len(before))


def test_saved_figures_keep_their_metadata_and_transparency():
    figure = plots.plot_history(json.loads((ROOT / "results" / "model_4.json").read_text()))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Title": "Model_4"}, transparent=True)
    image = Image.open(buffer)
    assert image.info["Title"] == "Model_4" and "Software" not in image.info
    assert image.convert("RGBA").getextrema()[3][0] == 0, "the transparent background stays transparent"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="pdf")  # other formats as matplotlib writes them
    assert buffer.getvalue().startswith(b"%PDF")
