"""The house's size rule (issue 31): no module of ``mnist_kit/`` over 400 lines, no function or method over 50.

A module that grows past 400 lines holds more than one concern; a function past 50 does more than one thing.
Both are read from the source (``ast``), so the check costs a few milliseconds.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mnist_kit"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 400, 50


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function or method longer than ``limit`` lines, decorators included."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - first + 1
            if length > limit:
                found.append((node.name, first, length))
    return found


def test_the_package_is_found():
    assert len(MODULES) > 20 and PACKAGE / "engine.py" in MODULES


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_module_over_400_lines_and_no_function_over_50(path):
    source = path.read_text()
    lines = len(source.splitlines())
    assert lines <= MAX_MODULE_LINES, f"{path.name} has {lines} lines; split it by concern"
    too_long = [f"{name} (line {first}: {length} lines)" for name, first, length in long_functions(source)]
    assert not too_long, f"{path.name}: over {MAX_FUNCTION_LINES} lines: {', '.join(too_long)}"


def test_the_check_sees_a_long_function_and_a_long_method():
    body = "".join(f"    x{i} = {i}\n" for i in range(50))  # with its def line: 51 lines
    method = body.replace("    x", "        x")
    source = (
        f"def short():\n    return 1\n\n\ndef long():\n{body}\n\nclass A:\n    @staticmethod\n    def m():\n{method}"
    )
    assert [(name, length) for name, _first, length in long_functions(source)] == [("long", 51), ("m", 52)]
    assert long_functions(f"def fits():\n{body[: body.rindex('    x')]}") == []  # 50 lines: allowed
