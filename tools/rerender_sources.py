"""Re-render, in place, only the notebook cells that show the library's source (``lessons.show_source``).

    python tools/rerender_sources.py notebooks/0*.ipynb

When a function or class a lesson shows changes, its cell's committed output goes stale
(``tests/test_notebook_sources.py`` fails) while every number the notebook shows stays right. Running the
whole notebook again would retrain; this tool recomputes only those outputs. The notebook's own import
statements are run in a fresh namespace, each ``show_source(...)`` call's arguments are evaluated there, and the
cell's Markdown output is replaced by the bundle a kernel would display (``text/markdown`` plus IPython's
``text/plain``), with the cell's execution count kept. Every other cell, and a cell's other outputs, are left
as they were; the file is replaced atomically (its final newline, or none, kept), and only when something changed.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_kit import lessons  # noqa: E402
from mnist_kit.paths import atomic_write_bytes  # noqa: E402


def _code(source: str) -> str:
    """A cell's source without IPython's magics and shell lines, so ``ast`` can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _show_source_calls(code: str) -> list[ast.Call]:
    calls = [node for node in ast.walk(ast.parse(code)) if isinstance(node, ast.Call)]
    picked = [c for c in calls if getattr(c.func, "attr", getattr(c.func, "id", None)) == "show_source"]
    return sorted(picked, key=lambda c: (c.lineno, c.col_offset))


def _import_namespace(notebook) -> dict:
    """The notebook's import statements (from every code cell), run in a fresh namespace."""
    namespace: dict = {}
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        code = _code(cell.source)
        for node in ast.parse(code).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                exec(ast.get_source_segment(code, node), namespace)
    return namespace


def _rendered(cell, namespace: dict) -> list:
    """The cell's outputs with each ``show_source`` result computed afresh, its other outputs kept."""
    code = _code(cell.source)
    kept = [out for out in cell.outputs if "text/markdown" not in out.get("data", {})]
    for call in _show_source_calls(code):
        shown = lessons.show_source(*(eval(ast.get_source_segment(code, arg), namespace) for arg in call.args))
        data = {"text/markdown": shown.data, "text/plain": repr(shown)}
        kept.append(nbformat.v4.new_output("execute_result", data=data, execution_count=cell.execution_count))
    return kept


def rerender(path: Path) -> int:
    """Re-render the source cells of one notebook; returns how many of them changed."""
    notebook = nbformat.read(path, as_version=4)
    namespace = _import_namespace(notebook)
    changed = 0
    for cell in notebook.cells:
        if cell.cell_type == "code" and "show_source" in cell.source and _show_source_calls(_code(cell.source)):
            outputs = _rendered(cell, namespace)
            if outputs != cell.outputs:
                cell.outputs, changed = outputs, changed + 1
    if changed:
        text = nbformat.writes(notebook)
        ending = "\n" if path.read_text(encoding="utf-8").endswith("\n") and not text.endswith("\n") else ""
        atomic_write_bytes(path, (text + ending).encode())  # the file's own last line kept as it was
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if not path.is_file():
            parser.error(f"no such notebook: {path}")
    for path in args.notebooks:
        print(f"{path}: {rerender(path)} source cell(s) re-rendered", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
