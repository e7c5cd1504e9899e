"""The classic pipeline: torchvision datasets, per-image transforms, DataLoaders and the validation split."""

import pytest
import torch

from mnist_kit import loaders
from mnist_kit.data import MEAN, STD, VALIDATION_START, load_idx_tensors


def test_classic_transforms_normalise():
    from PIL import Image

    image = Image.new("L", (28, 28), color=0)
    tensor = loaders.classic_transforms(rotation=5, jitter=0.1)(image)
    assert tensor.shape == (1, 28, 28)
    assert torch.allclose(tensor, torch.full_like(tensor, -MEAN / STD))


def test_classic_loaders_on_a_subset(mnist_root):
    train, test = loaders.classic_loaders(
        rotation=5, jitter=0.1, data_root=mnist_root, train_subset=300, test_subset=200
    )
    assert len(train.dataset) == 300 and len(test.dataset) == 200
    images, labels = next(iter(train))
    assert images.shape == (128, 1, 28, 28) and labels.dtype == torch.int64
    assert abs(images.mean().item()) < 0.5  # normalised around zero


def test_subset_must_be_positive(mnist_root):
    with pytest.raises(ValueError, match="positive"):
        loaders.classic_loaders(data_root=mnist_root, train_subset=0)


def test_validation_split_holds_out_the_last_10000_training_images(mnist_root):
    train, held_out = loaders.classic_loaders(data_root=mnist_root, validation=True)
    assert len(train.dataset) == VALIDATION_START and len(held_out.dataset) == 10_000
    images, labels = load_idx_tensors(mnist_root, train=True)
    first_images, first_labels = next(iter(held_out))
    assert torch.equal(first_labels, labels[VALIDATION_START : VALIDATION_START + len(first_labels)])
    expected = (images[VALIDATION_START].float() / 255 - MEAN) / STD
    assert torch.allclose(first_images[0, 0], expected, atol=1e-6)  # unaugmented, like the test set
