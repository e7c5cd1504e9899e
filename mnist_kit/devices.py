"""Which hardware a run uses: ``get_device`` (CUDA, else MPS on Apple silicon, else the CPU) and its name.

``engine.fit`` and ``python -m mnist_kit ... --device`` go through ``get_device``.
"""

from __future__ import annotations

import platform

import torch

DEVICES = ("cpu", "cuda", "mps")


def mps_available() -> bool:
    """Whether torch sees an Apple-silicon GPU (Metal Performance Shaders)."""
    return torch.backends.mps.is_available()


def get_device(name: str | None = None) -> torch.device:
    """``cuda`` when available, else ``mps`` (Apple silicon) when available, else ``cpu``; or the one asked for.

    Asking for a GPU that torch does not see is an error.
    """
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps" if mps_available() else "cpu")
    if name not in DEVICES:
        raise ValueError(f"unknown device {name!r}; choose one of: {', '.join(DEVICES)}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu")
    if name == "mps" and not mps_available():
        raise ValueError("device mps was asked for, but torch sees no Apple-silicon GPU (MPS) here; use --device cpu")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """Human name of the hardware, for records: the GPU model or the CPU and its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return f"Apple-silicon GPU (MPS, {platform.machine()})"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU: {cpu} ({torch.get_num_threads()} threads)"
