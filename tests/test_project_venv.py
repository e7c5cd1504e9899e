"""`make` on an externally managed Python (PEP 668: Debian's or Ubuntu's own python3, where pip refuses to install):
the install targets make the project venv .venv/, say so in one line, install into it and reuse it next time; any
other Python is used as it is (tools/project_venv.py decides).

The stand-in for a distribution's Python is this Python's executable beside its standard library (symlinks) with
the EXTERNALLY-MANAGED marker added, which is all that pip and PEP 668 look at. The cheap tests install a stub
project; the opt-in one (marker ``fresh_env``, `make test-fresh-env`) installs the kit itself, torch included.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STUB_PYPROJECT = """\
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = "stub-kit"
version = "0"
dependencies = []

[project.optional-dependencies]
test = []

[tool.setuptools]
py-modules = []
"""

if shutil.which("make") is None or os.name != "posix":
    pytest.skip("needs make and a POSIX Python layout", allow_module_level=True)


def _managed_python(where: Path, leave_out: tuple[str, ...] = ()) -> Path:
    """An externally managed Python in ``where``, without the stdlib modules named in ``leave_out``."""
    stdlib = Path(sysconfig.get_path("stdlib"))
    lib = where / stdlib.relative_to(Path(sys.base_prefix))
    lib.mkdir(parents=True)
    for entry in stdlib.iterdir():
        if entry.name not in leave_out and entry.name != "EXTERNALLY-MANAGED":
            (lib / entry.name).symlink_to(entry)
    (lib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=a distribution's Python, for a test\n")
    (where / "bin").mkdir()
    python = where / "bin" / "python3"
    shutil.copy2(os.path.realpath(getattr(sys, "_base_executable", sys.executable)), python)
    probe = [str(python), "-c", "import sys; print(sys.prefix == sys.base_prefix)"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.stdout.strip() != "True" or not _is_managed(python):
        pytest.skip(f"this Python cannot be copied into a stand-in prefix: {found.stderr[-300:]}")
    return python


def _is_managed(python: Path) -> bool:
    command = [str(python), str(ROOT / "tools" / "project_venv.py"), "--which"]
    return bool(subprocess.run(command, capture_output=True, text=True).stdout.strip())


def _project(where: Path, pyproject: str = STUB_PYPROJECT) -> Path:
    (where / "tools").mkdir(parents=True)
    shutil.copy2(ROOT / "Makefile", where / "Makefile")
    shutil.copy2(ROOT / "tools" / "project_venv.py", where / "tools" / "project_venv.py")
    (where / "pyproject.toml").write_text(pyproject)
    return where


def _clean_env() -> dict:
    """This environment without what would point a Python elsewhere than where make put the kit."""
    return {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}


def _make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", *args], cwd=project, env=_clean_env(), capture_output=True, text=True, timeout=1800)


def test_a_managed_python_gets_the_project_venv_made_used_and_reused(tmp_path):
    python, project = _managed_python(tmp_path / "system"), _project(tmp_path / "clone")
    first = _make(project, "setup", f"PYTHON={python}")
    assert first.returncode == 0, first.stdout + first.stderr
    said = [line for line in first.stderr.splitlines() if "externally managed (PEP 668)" in line]
    assert len(said) == 1 and ".venv/" in said[0], first.stderr
    venv_python = project / ".venv" / "bin" / "python"
    show = [str(venv_python), "-m", "pip", "show", "stub-kit"]
    shown = subprocess.run(show, env=_clean_env(), capture_output=True, text=True)
    assert shown.returncode == 0, "the kit went into .venv/"
    made = (project / ".venv" / "pyvenv.cfg").stat().st_mtime_ns

    again = _make(project, "setup", f"PYTHON={python}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "Making the project venv" not in again.stderr and "pip install" not in again.stdout, again.stdout
    assert (project / ".venv" / "pyvenv.cfg").stat().st_mtime_ns == made, "the venv is reused, not made again"
    planned = _make(project, "-n", "lab", "test", f"PYTHON={python}").stdout
    assert f"{venv_python} -m mnist_kit lab" in planned and f"{venv_python} -m mnist_kit test" in planned
    assert f"{venv_python} -m pip install --disable-pip-version-check -q -e '.[test]'" in planned


def test_a_managed_python_without_venv_names_the_package_to_install(tmp_path):
    python = _managed_python(tmp_path / "system", leave_out=("venv", "ensurepip"))
    project = _project(tmp_path / "clone")
    result = _make(project, "setup", f"PYTHON={python}")
    assert result.returncode != 0
    assert "python3-venv" in result.stderr and "apt install" in result.stderr, result.stderr
    assert not (project / ".venv").exists(), "nothing half-made is left"


def test_any_other_python_is_used_as_it_is(tmp_path):
    if _is_managed(Path(sys.executable)):
        pytest.skip("the Python running the tests is itself externally managed")
    planned = _make(_project(tmp_path / "clone"), "-n", "setup", "lab", f"PYTHON={sys.executable}")
    assert planned.returncode == 0, planned.stderr
    assert f"{sys.executable} -m pip install --disable-pip-version-check -q -e .\n" in planned.stdout
    assert f"{sys.executable} -m mnist_kit lab" in planned.stdout and ".venv" not in planned.stdout + planned.stderr


def _fresh_clone(where: Path) -> Path:
    """The checkout's files as git would clone them (tracked, and new ones not ignored), without data or venvs."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (where / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, where / name)
    return where


def _has(python: Path, module: str) -> bool:
    found = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    return subprocess.run([str(python), "-c", found], env=_clean_env()).returncode == 0


@pytest.mark.fresh_env
def test_make_setup_on_a_fresh_clone_whose_python_is_managed(tmp_path):
    """The kit for real (torch afresh: minutes, gigabytes): `make setup` (what `make lab` installs) puts the kit and
    JupyterLab in .venv/ and no test tool; `make setup-test` (what `make test` installs) adds them."""
    debian = Path("/usr/bin/python3")
    python = debian if debian.is_file() and _is_managed(debian) else _managed_python(tmp_path / "system")
    clone = _fresh_clone(tmp_path / "clone")
    result = _make(clone, "setup", f"PYTHON={python}")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    venv_python = clone / ".venv" / "bin" / "python"
    where = [str(venv_python), "-c", "import mnist_kit; print(mnist_kit.__file__)"]
    found = subprocess.run(where, cwd=tmp_path, env=_clean_env(), capture_output=True, text=True)
    assert found.stdout.startswith(str(clone)), found
    assert _has(venv_python, "jupyterlab") and _has(venv_python, "torch")
    assert not any(_has(venv_python, tool) for tool in ("pytest", "nbval", "playwright", "ruff", "jupytext"))
    result = _make(clone, "setup-test", f"PYTHON={python}")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert all(_has(venv_python, tool) for tool in ("pytest", "nbval", "playwright", "ruff", "jupytext"))
    checked = subprocess.run([str(venv_python), "tools/sync_notebooks.py", "--check"], cwd=clone, env=_clean_env())
    assert checked.returncode == 0, "the test extra's notebook tools run in the venv"
