"""Execute notebooks in place, as the committed lab reports are made (``make reproduce``).

    MNIST_KIT_SMOKE=0 python tools/run_notebooks.py --course notebooks/0*.ipynb notebooks/solutions/*.ipynb

``--course`` makes the lessons' training cells (``experiments.run_lesson``) record the course's runs in
``results/`` (``MNIST_KIT_COURSE_RUN=1`` in the kernels' environment); without it they go to ``my_runs/``,
as a student's do. Exercises always record in ``my_runs/``.

Each notebook runs top to bottom in a fresh ``python3`` kernel started in its own folder. Progress-bar
redraws are collapsed to what a terminal would finally show, and the file is replaced atomically
only when every cell succeeded, so a failed or interrupted run leaves the committed notebook as it was.
Then its volatile metadata (timings, widget state) goes and its text pair is rewritten (``sync_notebooks.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
from sync_notebooks import sync  # noqa: E402

from mnist_kit.paths import atomic_write_bytes  # noqa: E402
from mnist_kit.settings import COURSE_RUN_ENV  # noqa: E402


def run_notebook(path: Path) -> float:
    notebook = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        notebook, timeout=None, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    notebook, _ = CoalesceStreamsPreprocessor().preprocess(notebook, {})
    atomic_write_bytes(path, nbformat.writes(notebook).encode())
    sync(path)
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--course", action="store_true", help="the lessons record the course's runs in results/")
    args = parser.parse_args(argv)
    if args.course:
        os.environ[COURSE_RUN_ENV] = "1"  # the kernels inherit it
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no such notebook: {path}")
    for path in args.notebooks:
        print(f"running {path} ...", flush=True)
        print(f"  done in {run_notebook(path):.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
