"""The classic input pipeline: torchvision's MNIST datasets, per-image PIL transforms and DataLoaders.

This is the original assignment's pipeline (``--pipeline classic``); ``fast_data`` does the same work
on whole batches. Taught in ``notebooks/01_model_1.ipynb`` (the transforms).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from .data import MEAN, STD, VALIDATION_START, fixed_subset_indices, prepare_mnist, verify_mnist
from .paths import default_data_root


def classic_transforms(rotation: float = 0.0, jitter: float = 0.0, translate: float = 0.0):
    """The original torchvision pipeline: ColorJitter, RandomRotation(±rotation), ToTensor, Normalize, with
    ``RandomAffine`` shifting the digit by up to ±``translate`` pixels (rounded to whole pixels) after the rotation.

    Only brightness and contrast are jittered: saturation and hue do nothing to a grey digit.
    Taught in ``notebooks/01_model_1.ipynb``.
    """
    from torchvision import transforms as T

    steps = []
    if jitter:
        steps.append(T.ColorJitter(brightness=jitter, contrast=jitter))
    if rotation:
        steps.append(T.RandomRotation((-rotation, rotation), fill=0))
    if translate:
        steps.append(T.RandomAffine(degrees=0, translate=(translate / 28, translate / 28), fill=0))
    steps += [T.ToTensor(), T.Normalize((MEAN,), (STD,))]
    return T.Compose(steps)


def _fixed_subset(dataset, size: int | None):
    keep = fixed_subset_indices(len(dataset), size)
    return dataset if keep is None else Subset(dataset, keep.tolist())


def mnist_datasets(root=None, train_transform=None, test_transform=None, *, prepare: bool = True):
    """torchvision MNIST train and test sets from verified files (prepared first unless ``prepare=False``)."""
    from torchvision import datasets

    root = Path(root if root is not None else default_data_root())
    prepare_mnist(root) if prepare else verify_mnist(root)
    train = datasets.MNIST(str(root), train=True, download=False, transform=train_transform or classic_transforms())
    test = datasets.MNIST(str(root), train=False, download=False, transform=test_transform or classic_transforms())
    return train, test


def classic_loaders(
    *,
    rotation=0.0,
    jitter=0.0,
    translate=0.0,
    batch_size=128,
    test_batch_size=1000,
    device="cpu",
    data_root=None,
    train_subset=None,
    test_subset=None,
    seed=1,
    num_workers=None,
    validation=False,
):
    """Train and test DataLoaders with the original per-image transforms.

    ``validation=True`` trains on the first 50,000 training images and evaluates on the last 10,000
    instead of the test set: what tuning looks at, so the test set stays unseen until the end.

    Workers and pinned memory help only when a GPU waits on the CPU; on a CPU run the worker
    processes compete for the cores the model trains on (``benchmarks/epoch_speed.py`` measures
    both). ``num_workers`` overrides that choice.
    """
    train, test = mnist_datasets(data_root, classic_transforms(rotation, jitter, translate), classic_transforms())
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
