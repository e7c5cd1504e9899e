"""The validation split of both pipelines: the images trained on and the images held out never overlap, and
together they are exactly the 60,000 training images (no test image, none lost, none twice)."""

import pytest
import torch
from torch.utils.data import Subset

from mnist_kit import fast_data, loaders
from mnist_kit.data import load_idx_tensors


def _signatures(images: torch.Tensor) -> torch.Tensor:
    """One number per image, sorted: a fixed random weighted sum of its 784 pixels. Every partial sum is a whole
    number below 2**53, so float64 holds it exactly in any order of summation; equal multisets of images give
    equal signatures."""
    weights = torch.randint(0, 2**20, (28 * 28,), generator=torch.Generator().manual_seed(0)).double()
    return (images.reshape(len(images), -1).double() @ weights).sort().values


def _base_images(dataset) -> torch.Tensor:
    """The raw uint8 images a (possibly nested) ``Subset`` of a torchvision MNIST dataset picks out."""
    index = torch.arange(len(dataset))
    while isinstance(dataset, Subset):
        index = torch.as_tensor(dataset.indices)[index]
        dataset = dataset.dataset
    assert dataset.train, "the split draws on the test set"
    return dataset.data[index]


def _assert_a_partition_of_the_training_images(trained, held_out, all_training):
    assert len(trained) == 50_000 and len(held_out) == 10_000
    assert torch.equal(_signatures(torch.cat([trained, held_out])), _signatures(all_training))


def test_classic_validation_split_partitions_the_training_images(mnist_root):
    train, held_out = loaders.classic_loaders(data_root=mnist_root, validation=True)
    all_training, _ = load_idx_tensors(mnist_root, train=True)
    trained, kept = _base_images(train.dataset), _base_images(held_out.dataset)
    _assert_a_partition_of_the_training_images(trained, kept, all_training)


def test_fast_validation_split_partitions_the_training_images(mnist_root):
    train, held_out = fast_data.fast_loaders(data_root=mnist_root, validation=True)
    all_training, _ = load_idx_tensors(mnist_root, train=True)
    _assert_a_partition_of_the_training_images(train.images, held_out.images, all_training)


def test_the_partition_check_notices_an_overlap(mnist_root):
    all_training, _ = load_idx_tensors(mnist_root, train=True)
    overlapping = all_training[10_000:]  # 50,000 that include the last 10,000
    with pytest.raises(AssertionError):
        _assert_a_partition_of_the_training_images(overlapping, all_training[50_000:], all_training)
