"""Keep every notebook reviewable in git: strip its volatile metadata (outputs kept) and write its text pair.

    python tools/sync_notebooks.py          # what `make pair` runs: every notebook under notebooks/
    python tools/sync_notebooks.py --check  # change nothing; exit 1 naming each notebook that is out of step

The ``.ipynb`` is the source: it holds the outputs, JupyterLab and the site read it, and it is what you edit. Its
text pair, ``text/<name>.md`` in a folder beside it (MyST Markdown, written by jupytext), is generated from it for
review: the lesson's prose and code without its images, so a re-executed notebook's diff reads as text. Edit the
notebook, then run ``make pair``; ``tests/test_notebook_pairs.py`` fails while a pair disagrees with its notebook.

Volatile metadata is what changes on every run or save without changing the lesson: nbclient's per-cell execution
timestamps, saved widget state (``metadata.widgets``), the Python version that last ran the notebook, view state.
nbstripout removes it, keeping outputs, execution counts and cell ids; ``tools/run_notebooks.py`` does the same
after it executes a notebook.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

import jupytext
import nbformat
from jupytext.compare import NotebookDifference, compare_notebooks
from nbstripout import strip_output

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mnist_kit.paths import atomic_write_bytes  # noqa: E402

PAIR_FOLDER = "text"  # notebooks/text/01_model_1.md, notebooks/solutions/text/01_model_1_solutions.md
# MyST Markdown, without jupytext's own version in the header (another jupytext writes the same pair).
PAIR_FORMAT = {
    "extension": ".md",
    "format_name": "myst",
    "notebook_metadata_filter": "-jupytext.text_representation.jupytext_version",
}
# nbstripout's own list (its command line's defaults), and the Python version in language_info.
VOLATILE = [
    "metadata.signature",
    "metadata.widgets",
    "metadata.language_info.version",
    "cell.metadata.collapsed",
    "cell.metadata.ExecuteTime",
    "cell.metadata.execution",
    "cell.metadata.heading_collapsed",
    "cell.metadata.hidden",
    "cell.metadata.scrolled",
]


def notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook under ``root/notebooks``: the lessons, the solutions, any folder added later."""
    found = (root / "notebooks").rglob("*.ipynb")
    return sorted(path for path in found if ".ipynb_checkpoints" not in path.parts)


def pair_of(path: Path) -> Path:
    return path.parent / PAIR_FOLDER / f"{path.stem}.md"


def orphan_pairs(root: Path = ROOT) -> list[Path]:
    """Text pairs whose notebook is gone (renamed or deleted)."""
    pairs = {pair_of(path) for path in notebooks(root)}
    found = (root / "notebooks").rglob(f"{PAIR_FOLDER}/*.md")
    return sorted(path for path in found if path not in pairs and ".ipynb_checkpoints" not in path.parts)


def stripped(notebook, keys: list[str] = VOLATILE):
    """A copy of ``notebook`` without its volatile metadata; outputs, execution counts and cell ids kept."""
    notebook = copy.deepcopy(notebook)
    return strip_output(notebook, keep_output=True, keep_count=True, keep_id=True, extra_keys=keys)


def pair_text(notebook) -> str:
    return jupytext.writes(notebook, fmt=PAIR_FORMAT)


def problems(path: Path) -> list[str]:
    """What is out of step for one notebook: volatile metadata, a missing pair, a pair that disagrees."""
    notebook = nbformat.read(path, as_version=4)
    found = []
    if stripped(notebook) != notebook:
        keys = [key for key in VOLATILE if stripped(notebook, [key]) != notebook]
        found.append(f"{path}: volatile metadata: {', '.join(keys)}")
    pair = pair_of(path)
    if not pair.is_file():
        return [*found, f"{path}: no text pair {pair}"]
    try:
        compare_notebooks(jupytext.read(pair), notebook, fmt=PAIR_FORMAT)
    except NotebookDifference as difference:
        found.append(f"{path}: its text pair {pair} disagrees with it:\n{difference}")
    return found


def sync(path: Path) -> list[Path]:
    """Strip ``path``'s volatile metadata and write its pair, each only where it changes; returns what changed."""
    notebook = nbformat.read(path, as_version=4)
    clean = stripped(notebook)
    changed = []
    if clean != notebook:
        atomic_write_bytes(path, (nbformat.writes(clean) + "\n").encode())
        changed.append(path)
    pair, text = pair_of(path), pair_text(clean)
    if not pair.is_file() or pair.read_text(encoding="utf-8") != text:
        atomic_write_bytes(pair, text.encode())
        changed.append(pair)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook under notebooks/")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook is out of step")
    args = parser.parse_args(argv)
    paths = args.notebooks or notebooks()
    for path in paths:
        if not path.is_file():
            parser.error(f"no such notebook: {path}")
    if args.check:
        found = [problem for path in paths for problem in problems(path)]
        found += [f"{pair}: a text pair without its notebook" for pair in orphan_pairs()]
        print("\n".join(found) + "\nRun `make pair`." if found else f"{len(paths)} notebooks and their pairs in step.")
        return 1 if found else 0
    for written in [changed for path in paths for changed in sync(path)]:
        print(f"wrote {written}")
    if not args.notebooks:
        for pair in orphan_pairs():
            pair.unlink()
            print(f"removed {pair} (its notebook is gone)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
