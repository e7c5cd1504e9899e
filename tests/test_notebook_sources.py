"""The notebooks and the library keep each other honest.

(a) A cell that calls ``lessons.show_source(...)`` must have, as its committed output, exactly what
    ``source_markdown`` gives for the same objects today: change a function a lesson shows and this
    fails until the notebook is run again.
(b) Every docstring pointer "``notebooks/NN_name.ipynb``" (or "``NN_name.ipynb``") in ``mnist_kit/*.py``
    names a notebook that exists, and that notebook's text (its cells' sources, markdown and code) names
    what the docstring documents:
    - a function's or class's docstring: its own name, as a whole word;
    - a module's docstring: the module in use (``models.``, ``mnist_kit.models`` or ``mnist_kit/models.py``)
      or, as a whole word, any public name defined at the top of the module.
    Phrases like "every notebook's Results section" are not pointers to a file and are not checked.
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

from mnist_kit import lessons

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
POINTER = re.compile(r"(?:notebooks/)?(\d\d_\w+\.ipynb)")
NAMESPACE_IMPORT = (
    "from mnist_kit import data, engine, fast_data, loaders, models, plots, records, report, runs, "
    "widgets, lessons, recipes, stats, tuning"
)


def _code(source: str) -> str:
    """A cell's source without IPython's magics and shell lines, so ``ast`` can parse it."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _show_source_calls(source: str) -> list[ast.Call]:
    calls = [node for node in ast.walk(ast.parse(_code(source))) if isinstance(node, ast.Call)]
    return sorted(
        (c for c in calls if getattr(c.func, "attr", getattr(c.func, "id", None)) == "show_source"),
        key=lambda c: (c.lineno, c.col_offset),
    )


def _markdown_outputs(cell) -> list[str]:
    return [
        out["data"]["text/markdown"]
        for out in cell.get("outputs", [])
        if out.get("output_type") in ("execute_result", "display_data") and "text/markdown" in out.get("data", {})
    ]


def _source_cells(path: Path) -> list:
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and "show_source" in c.source and _show_source_calls(c.source)]


def _shown_and_expected(path: Path) -> list[tuple[str, list[str], list[str]]]:
    """(cell source, its committed Markdown outputs, what ``source_markdown`` gives now) per show_source cell."""
    namespace: dict = {}
    exec(NAMESPACE_IMPORT, namespace)
    found = []
    for cell in _source_cells(path):
        code = _code(cell.source)
        expected = [
            lessons.source_markdown(*(eval(ast.get_source_segment(code, arg), namespace) for arg in call.args))
            for call in _show_source_calls(cell.source)
        ]
        found.append((cell.source, _markdown_outputs(cell), expected))
    return found


# Notebook 3 changes only the recipe (its network is Model_2's), so it shows no library source: checking it
# would check nothing. Every other notebook must show some, or this check could pass by having nothing to check.
SHOWING_SOURCE = [path for path in NOTEBOOKS if not path.name.startswith("03_")]


@pytest.mark.parametrize("path", SHOWING_SOURCE, ids=lambda p: p.stem)
def test_shown_source_is_the_current_source(path):
    found = _shown_and_expected(path)
    assert found, f"{path.name} has no lessons.show_source cell to check"
    for source, shown, expected in found:
        assert shown == expected, (
            f"{path.name}: the source shown by `{source.strip()[:80]}` is stale or missing; "
            "run the notebook again (tools/run_notebooks.py)"
        )


def test_a_stale_shown_source_is_caught(tmp_path):
    from mnist_kit import engine, models

    cell = nbformat.v4.new_code_cell("%matplotlib inline\nlessons.show_source(models.conv_block, engine.train)")
    now = lessons.source_markdown(models.conv_block, engine.train)
    cell.outputs = [nbformat.v4.new_output("execute_result", data={"text/markdown": now}, execution_count=1)]
    path = tmp_path / "lesson.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    assert _shown_and_expected(path) == [(cell.source, [now], [now])]
    cell.outputs[0]["data"]["text/markdown"] = now.replace("bias=False", "bias=True")  # the library moved on
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), path)
    [(_, shown, expected)] = _shown_and_expected(path)
    assert shown != expected


def _pointers() -> list[tuple[str, str, str, list[str]]]:
    """(module file, documented name, notebook file, names that count as a mention) for every pointer."""
    found = []
    for module_path in sorted((ROOT / "mnist_kit").glob("*.py")):
        tree, module = ast.parse(module_path.read_text()), module_path.stem
        public = [
            n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")
        ]
        documented = [
            (
                tree,
                f"module {module}",
                [rf"\b{module}\.", rf"mnist_kit[./]{module}\b", *(rf"\b{name}\b" for name in public)],
            )
        ]
        documented += [
            (node, node.name, [rf"\b{node.name}\b"])
            for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        ]
        for node, name, patterns in documented:
            for notebook in POINTER.findall(ast.get_docstring(node) or ""):
                found.append((module_path.name, name, notebook, patterns))
    return found


POINTERS = _pointers()


def test_the_docstrings_do_point_at_notebooks():
    assert len(POINTERS) >= 10 and {p[2] for p in POINTERS} == {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize(
    "module_file, name, notebook, patterns", POINTERS, ids=[f"{m}:{n}->{nb[:2]}" for m, n, nb, _ in POINTERS]
)
def test_docstring_pointer_names_a_notebook_that_teaches_it(module_file, name, notebook, patterns):
    path = ROOT / "notebooks" / notebook
    assert path.exists(), f"mnist_kit/{module_file}: {name} points at {notebook}, which does not exist"
    text = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    assert any(re.search(pattern, text) for pattern in patterns), (
        f"mnist_kit/{module_file}: {name} says it is taught in {notebook}, but that notebook never mentions it"
    )
