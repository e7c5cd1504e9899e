"""The kit's one figure class: a matplotlib ``Figure`` that carries alt text, a sentence saying what it shows.

Every plotting function passes ``alt=`` where it makes its figure (a missing or empty one is an error), and a
notebook cell that shows the figure writes that sentence into the output's metadata
(``{"image/png": {"alt": ...}}``, the key nbconvert's HTML templates read), so the course website
(``mnist_kit.site``) and screen readers get words, never the image's file name.
"""

from __future__ import annotations

import io

from matplotlib import figure


class Figure(figure.Figure):
    """``matplotlib.figure.Figure`` with ``alt``: what the figure shows, in words (required, non-empty)."""

    def __init__(self, *args, alt: str, **kwargs):
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError("a kit figure needs alt text: a sentence saying what it shows")
        super().__init__(*args, **kwargs)
        self.alt = " ".join(alt.split())

    def _repr_mimebundle_(self, include=None, exclude=None):
        """The PNG (as ``%matplotlib inline`` draws it) and, in the output's metadata, the alt text."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", bbox_inches="tight")
        data = {"image/png": buffer.getvalue(), "text/plain": repr(self)}
        return data, {"image/png": {"alt": self.alt}}
