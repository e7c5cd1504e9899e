"""House rules of issue 31, read from the source (``ast`` and text), so each check costs milliseconds.

- Size: no module of ``mnist_kit/`` over 400 lines, no function or method over 50. A module past 400 lines holds
  more than one concern; a function past 50 does more than one thing.
- One place for each idea: the environment is read only in ``settings.py`` (every variable named there), the smoke
  switch is resolved only there, and which split a history column belongs to is decided only in ``splits.py``.
"""

import ast
import re
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


def _code_of(path: Path, leave_out: tuple[str, ...] = ()) -> str:
    """A module's source without its docstrings, its comments and the functions named in ``leave_out``."""
    tree = ast.parse(path.read_text())
    tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in leave_out)]
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            body[0] = ast.Pass()
    return ast.unparse(tree)


def _outside(module: str, pattern: str, leave_out: dict[str, tuple[str, ...]] | None = None) -> list[str]:
    """The modules other than ``module`` whose code matches ``pattern``."""
    leave_out = leave_out or {}
    return [p.name for p in MODULES if p.name != module and re.search(pattern, _code_of(p, leave_out.get(p.name, ())))]


def test_the_environment_is_read_in_settings_only():
    assert _outside("settings.py", r"os\.getenv|environ\.get\(|environ\[") == []
    assert _outside("settings.py", r"[\'\"](MNIST_KIT_[A-Z_]+|RAY_ADDRESS|RAY_DEDUP_LOGS)[\'\"]") == []


def test_the_smoke_switch_is_resolved_in_one_place():
    assert _outside("settings.py", r"smoke_mode\(\) if") == []


def test_which_split_a_column_belongs_to_is_decided_in_splits_only():
    # engine.evaluate writes the columns; notebook 1 shows its source as it is (tests/test_notebook_sources.py),
    # so it changes when that lesson is next run. Every other module asks splits.
    pattern = r"[\'\"](val|test)_(acc|loss)[\'\"]|[\'\"]val[\'\"]"
    assert _outside("splits.py", pattern, {"engine.py": ("evaluate",)}) == []
