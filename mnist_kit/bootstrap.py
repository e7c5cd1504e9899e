"""Installing the course where it is missing: what the notebooks' set-up cell runs on Colab or a bare Jupyter,
after it has cloned the repository. Standard library only: it runs before the kit's dependencies are installed.

It never replaces the torch (or torchvision) already there when it meets the kit's minimum, and puts no upper
bound on it: a Colab install cell that pins torch breaks every notebook when Colab moves on. JupyterLab is left
out too (the cell runs inside a Jupyter already).
"""

from __future__ import annotations

import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

KEEP_IF_PRESENT = ("torch", "torchvision")  # kept as they are when they meet the kit's minimum
NOT_IN_A_NOTEBOOK = ("jupyterlab",)  # the set-up cell already runs inside a Jupyter


def kit_requirements(checkout: Path) -> list[str]:
    """The ``dependencies`` of the checkout's ``pyproject.toml``."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pip's vendored copy of the same parser
        from pip._vendor import tomli as tomllib
    with open(Path(checkout) / "pyproject.toml", "rb") as fh:
        return list(tomllib.load(fh)["project"]["dependencies"])


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version.split("+")[0])[:3])


def _installed(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def requirements_keeping_torch(requirements: list[str], installed=_installed) -> list[str]:
    """``requirements`` less JupyterLab, with torch and torchvision left out where the version ``installed``
    meets the requirement's minimum, else asked for at that minimum with no upper bound."""
    kept = []
    for requirement in requirements:
        name = _name(requirement)
        if name in NOT_IN_A_NOTEBOOK:
            continue
        if name in KEEP_IF_PRESENT:
            minimum = re.search(r">=\s*([\d.]+)", requirement)
            have = installed(name)
            if have and (minimum is None or _numbers(have) >= _numbers(minimum.group(1))):
                continue
            requirement = f"{name}>={minimum.group(1)}" if minimum else name
        kept.append(requirement)
    return kept


def install_commands(checkout: Path, python: str = sys.executable, installed=_installed) -> list[list[str]]:
    """The commands ``install`` runs: the kit from the checkout (editable, so it finds the course's ``results/``),
    its dependencies (``requirements_keeping_torch``), then MNIST."""
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    return [
        [*pip, "--no-deps", "-e", str(checkout)],
        [*pip, *requirements_keeping_torch(kit_requirements(checkout), installed)],
        [python, "-m", "mnist_kit", "data"],
    ]


def install(checkout: str | Path, run=None) -> None:
    """Install the course from ``checkout`` into this Python and prepare MNIST (the set-up cell's slow path)."""
    run = run or subprocess.run
    checkout = Path(checkout).resolve()
    for command in install_commands(checkout):
        print("$", " ".join(command[2:] if command[1] == "-m" else command), flush=True)
        run(command, check=True, cwd=checkout)
    importlib.invalidate_caches()
