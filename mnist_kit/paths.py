"""Where the kit keeps data and results, and how it writes files safely.

Defaults point at the repository's own ``data/`` and ``results/`` folders when
the kit runs from a checkout (the usual course set-up), so a notebook started in
``notebooks/`` and a command started at the repo root agree on one data copy.
Environment variables override them for shared machines and CI.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .settings import DATA_ENV, MY_RUNS_ENV, RESULTS_ENV, SMOKE_DIR_ENV, env

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The checkout the kit runs from, or the working directory for an installed copy."""
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file():
        return checkout
    return Path.cwd()


def _folder(variable: str, default: Path) -> Path:
    """The folder an environment variable names (``~`` expanded), else ``default``."""
    value = env(variable)
    return Path(value).expanduser() if value else default


def default_data_root() -> Path:
    """``$MNIST_KIT_DATA``, else ``<checkout>/data``."""
    return _folder(DATA_ENV, project_root() / "data")


def default_results_dir() -> Path:
    """``$MNIST_KIT_RESULTS``, else ``<checkout>/results``: where full runs are recorded."""
    return _folder(RESULTS_ENV, project_root() / "results")


def my_runs_dir() -> Path:
    """``$MNIST_KIT_MY_RUNS``, else ``<checkout>/my_runs``: a student's own runs (git-ignored), never ``results/``."""
    return _folder(MY_RUNS_ENV, project_root() / "my_runs")


def smoke_results_dir() -> Path:
    """Smoke runs are recorded here, away from the committed full records."""
    return _folder(SMOKE_DIR_ENV, Path(tempfile.gettempdir()) / "mnist_kit_smoke")


def atomic_write_bytes(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that a reader sees the old file or the new one, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
