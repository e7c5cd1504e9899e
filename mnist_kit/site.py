"""The course as a website: ``make book`` (``python -m mnist_kit.site``) builds the lessons (in ``launch.LESSONS``'
order, each with its Colab and Binder launch buttons), their solutions (a section of their own), the README and the
instructor's docs (``docs/*.md``) into ``_build/html/``, offline, from the committed notebooks with their outputs:
nothing is executed.

Why Sphinx with myst-nb and sphinx-book-theme: jupyter-book 2 (mystmd) downloads its theme template at build time
and fails without a network; the Sphinx route installs from PyPI and builds offline. We call these three directly
(what jupyter-book 1.x wraps), with one ``book/conf.py``, rather than through jupyter-book 1.x's own configuration.

This module is also the Sphinx extension that gives every notebook figure its alt text: myst-nb takes an image's
alt only from cell metadata, so after each page is read, each image (named by the SHA-256 of its bytes) gets the
``alt`` that the notebook output's ``image/png`` metadata holds (``plots.figure.Figure`` writes it), else a plain
sentence, never the image's file name (Sphinx's fallback).
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sys
from pathlib import Path

from .launch import LESSONS
from .paths import project_root

NO_ALT = "A figure drawn by the code cell above (no description recorded with it)."


def figure_alt_texts(notebook: Path) -> dict[str, str]:
    """SHA-256 of each image output's bytes -> the alt text its metadata records."""
    found = {}
    for cell in json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]:
        for output in cell.get("outputs", []):
            for mime, data in output.get("data", {}).items():
                alt = output.get("metadata", {}).get(mime, {}).get("alt")
                if mime.startswith("image/") and mime != "image/svg+xml" and alt:
                    payload = base64.b64decode("".join(data) if isinstance(data, list) else data)
                    found[hashlib.sha256(payload).hexdigest()] = alt
    return found


def _set_alt_texts(app, doctree) -> None:
    from docutils import nodes

    source = Path(app.env.doc2path(app.env.docname))
    if source.suffix != ".ipynb":
        return
    alts = figure_alt_texts(source)
    for image in doctree.findall(nodes.image):
        if not image.get("alt"):
            image["alt"] = alts.get(Path(image["uri"]).stem, NO_ALT)


def setup(app):
    app.connect("doctree-read", _set_alt_texts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def index_markdown(root: Path) -> str:
    """The home page: a line about the course, then the table of contents (lessons, solutions, the course)."""
    here = [lesson for lesson in LESSONS if (root / lesson.notebook).is_file()]
    lessons = [lesson.notebook.removesuffix(".ipynb") for lesson in here]
    solutions = [s.removesuffix(".ipynb") for s in (lesson.solutions for lesson in here) if (root / s).is_file()]
    docs = sorted(str(p.relative_to(root).with_suffix("")) for p in (root / "docs").glob("*.md"))
    parts = ["# mnist-kit", "", "A tiny CNN reaches 99.4 % on MNIST with under 8,000 parameters, one lesson at a time."]
    for caption, pages in (
        ("Lessons", lessons),
        ("Solutions", solutions),
        ("The course", ["README"] * (root / "README.md").is_file() + docs),
    ):
        parts += ["", "```{toctree}", f":caption: {caption}", ":maxdepth: 1", "", *pages, "```"]
    return "\n".join(parts) + "\n"


def stage(root: Path, source: Path) -> Path:
    """``source``: the site's sources, copies of the checkout's README, notebooks and docs (times kept, so Sphinx
    rebuilds only what changed), and the home page."""
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    if (root / "README.md").is_file():
        shutil.copy2(root / "README.md", source / "README.md")
    for name in ("notebooks", "docs"):
        if (root / name).is_dir():
            shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (source / "index.md").write_text(index_markdown(root), encoding="utf-8")
    return source


def build(root: Path | None = None, out: Path | None = None, quiet: bool = True) -> Path:
    """Build the site into ``out`` (default ``<checkout>/_build/html``); return the path of its home page."""
    from sphinx.cmd.build import build_main

    root = Path(root or project_root())
    out = Path(out or root / "_build" / "html")
    source = stage(root, out.parent / "source")
    args = ["-b", "html", "-c", str(project_root() / "book"), "-d", str(out.parent / "doctrees"), str(source), str(out)]
    if build_main(args + (["-q"] if quiet else [])) != 0:
        raise RuntimeError(f"the site did not build (sphinx-build {' '.join(args)})")
    return out / "index.html"


if __name__ == "__main__":
    print(f"The course website: {build(quiet='-v' not in sys.argv)}")
