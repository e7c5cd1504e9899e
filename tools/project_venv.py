"""Where ``make`` installs the kit: the chosen Python, or the project venv ``.venv/`` when pip may not install there.

    python3 tools/project_venv.py --which   # .venv's python if python3 is externally managed, else nothing
    python3 tools/project_venv.py --create  # make .venv/ from python3 (make does this once, then reuses it)

PEP 668: a Linux distribution's own Python (Debian 12, Ubuntu 24.04) carries an ``EXTERNALLY-MANAGED`` file in its
standard library, and pip refuses to install into it outside a virtual environment. A venv's Python (one made from
the system's included) and a conda environment's carry none, so they are used as they are. Standard library only:
this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

VENV = Path(__file__).resolve().parent.parent / ".venv"


def externally_managed() -> bool:
    """pip's own test (PEP 668): the marker in this Python's standard library, and no virtual environment."""
    marker = Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED"
    return sys.prefix == sys.base_prefix and marker.is_file()


def venv_python(where: Path = VENV) -> Path:
    return where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def create(where: Path = VENV) -> int:
    """Make the venv with pip in it; where this Python cannot (Debian and Ubuntu ship venv's pip separately), leave
    nothing half-made and name the package to install."""
    print(f"Making the project venv {where.name}/ from {sys.executable} (used from now on) ...", file=sys.stderr)
    try:
        import venv

        venv.EnvBuilder(with_pip=True).create(where)
    except (ImportError, subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(where, ignore_errors=True)
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        print(
            f"error: {sys.executable} cannot make a venv ({exc}). Install its venv module, the package python3-venv "
            f"(python{version}-venv for Python {version}): sudo apt install python3-venv; then run make again.",
            file=sys.stderr,
        )
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--which", action="store_true", help="print .venv's python if this Python is managed")
    action.add_argument("--create", action="store_true", help="make .venv/ from this Python")
    args = parser.parse_args(argv)
    if args.create:
        return create()
    if externally_managed():
        print(
            f"{sys.executable} is externally managed (PEP 668): make installs into and runs the project venv "
            f"{VENV.name}/ instead",
            file=sys.stderr,
        )
        print(venv_python())
    return 0


if __name__ == "__main__":
    sys.exit(main())
