"""Shared fixtures: the real MNIST (prepared once per session) and one real smoke run."""

from __future__ import annotations

import pytest

from mnist_kit.data import prepare_mnist
from mnist_kit.paths import default_data_root


@pytest.fixture(scope="session")
def mnist_root():
    """The data root with the four verified MNIST files (``make test`` prepares them first)."""
    root = default_data_root()
    prepare_mnist(root)
    return root


@pytest.fixture(scope="session")
def smoke_run(mnist_root):
    """A real 2-epoch fit of model_4 on the small MNIST subset, shared by the engine and record tests."""
    from mnist_kit.engine import fit

    return fit("model_4", smoke=True, epochs=2, device="cpu", data_root=mnist_root, progress=False)
