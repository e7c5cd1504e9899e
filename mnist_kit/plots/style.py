"""The kit's figure style, decided once: every figure of ``plots`` is made by ``new_figure``
(with its alt text, ``figure.Figure``).

A notebook shows a figure as a PNG, drawn at the figure's own dpi (IPython's inline display and ``savefig`` both
read it), and that PNG is what the notebook commits. ``DPI`` and a palette of at most 256 colours keep it sharp
enough to read on GitHub and in JupyterLab and light in git: a typical figure (``plot_history`` of
``results/model_4.json``) weighs under 40 % of its PNG at matplotlib's default 100 dpi in full colour
(``tests/test_plot_style.py`` measures it).
"""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .figure import Figure

# 80 dpi: a 11-inch two-panel figure is 880 pixels wide, about the width GitHub gives a notebook, so its 10-point
# text shows at its own size there instead of shrunk (matplotlib's 100 dpi made most figures wider than that).
DPI = 80
# A plot has few colours (lines, a colour map, grey digits); a palette of 256 keeps them all, at a third of the bytes.
PALETTE_COLOURS = 256


class PaletteCanvas(FigureCanvasAgg):
    """matplotlib's Agg canvas, writing PNGs with a palette of at most ``PALETTE_COLOURS`` colours (other formats,
    PDF or SVG, as matplotlib writes them). No version string goes into the file, so re-drawing the same figure
    with another matplotlib gives the same bytes."""

    def print_png(self, filename_or_obj, *, metadata=None, pil_kwargs=None, **_print_figure_options):
        FigureCanvasAgg.draw(self)
        image = Image.fromarray(np.asarray(self.buffer_rgba()))
        if image.getextrema()[3][0] == 255:  # opaque (the kit's figures are): the best palette for RGB
            image = image.convert("RGB").quantize(PALETTE_COLOURS)
        else:  # a transparent background: the one quantiser that keeps alpha
            image = image.quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
        info = PngInfo()
        for key, value in (metadata or {}).items():
            if value is not None:
                info.add_text(key, value)
        options = {"pnginfo": info, "dpi": (self.figure.dpi, self.figure.dpi), **(pil_kwargs or {})}
        image.save(filename_or_obj, format="png", **options)


def new_figure(figsize: tuple[float, float], alt: str) -> Figure:
    """An empty figure in the kit's style: ``DPI``, drawn to PNG by ``PaletteCanvas``, with its alt text (``alt``:
    what it shows, in words; ``figure.Figure``)."""
    figure = Figure(figsize=figsize, dpi=DPI, alt=alt)
    PaletteCanvas(figure)
    return figure
