"""The fast path must give the network what the classic pipeline gives it, only sooner."""

import pytest
import torch
import torchvision.transforms.functional as TF
from torchvision import datasets

from mnist_kit import fast_data
from mnist_kit.data import VALIDATION_START, load_idx_tensors
from mnist_kit.fast_data import TensorLoader, draw_angles, rotate_by
from mnist_kit.loaders import classic_transforms

N = 4000  # images per comparison: enough that sampling noise stays well inside the tolerances
# Tolerances in normalised units (one unit = one std of MNIST pixels). Two classic draws with
# different seeds differ by about 0.0025 (mean map) and 0.0078 (std map); a ±15° rotation
# instead of ±5° moves them to 0.014 and 0.020, and jitter 0.4 instead of 0.1 to 0.042 and 0.054.
TOLERANCE = {"mean_map": 0.005, "std_map": 0.012, "global_mean": 0.002, "global_std": 0.003}


@pytest.fixture(scope="module")
def train_tensors(mnist_root):
    images, labels = load_idx_tensors(mnist_root, train=True)
    return images[:N], labels[:N]


@pytest.fixture(scope="module")
def classic_batch(mnist_root):
    dataset = datasets.MNIST(str(mnist_root), train=True, download=False)
    torch.manual_seed(0)
    transform = classic_transforms(rotation=5, jitter=0.1)
    return torch.stack([transform(dataset[i][0]) for i in range(N)])


def fast_batch(train_tensors, rotation, jitter, seed=0):
    loader = TensorLoader(*train_tensors, batch_size=N, rotation=rotation, jitter=jitter, seed=seed)
    return next(iter(loader))[0]


def distance(a, b):
    return {
        "mean_map": (a.mean(0) - b.mean(0)).abs().mean().item(),
        "std_map": (a.std(0) - b.std(0)).abs().mean().item(),
        "global_mean": abs(a.mean() - b.mean()).item(),
        "global_std": abs(a.std() - b.std()).item(),
    }


def within(measured):
    return all(measured[key] <= limit for key, limit in TOLERANCE.items())


def test_fast_augmentation_matches_classic_in_distribution(train_tensors, classic_batch):
    measured = distance(fast_batch(train_tensors, 5, 0.1), classic_batch)
    assert within(measured), measured


@pytest.mark.parametrize("rotation, jitter", [(15, 0.1), (5, 0.4), (0, 0)])
def test_the_parity_check_notices_a_different_augmentation(train_tensors, classic_batch, rotation, jitter):
    assert not within(distance(fast_batch(train_tensors, rotation, jitter), classic_batch))


def test_rotation_equals_torchvision_for_the_same_angle(train_tensors):
    images = train_tensors[0][:32].unsqueeze(1).float() / 255
    for angle in (-7.0, 3.5, 30.0):
        ours = rotate_by(images, torch.full((32,), angle))
        theirs = TF.rotate(images, angle, interpolation=TF.InterpolationMode.NEAREST, fill=0)
        assert torch.equal(ours, theirs), angle


@pytest.mark.parametrize("brightness, contrast", [(0.9, 1.1), (1.3, 0.6), (0.6, 1.4), (1.0, 0.75)])
def test_jitter_equals_torchvision_for_the_same_factors(train_tensors, brightness, contrast):
    images = train_tensors[0][:32]
    x = images.unsqueeze(1).float() / 255
    for brightness_first in (True, False):
        ours = fast_data.adjust_brightness_contrast(x, brightness, contrast, brightness_first=brightness_first)
        theirs = []
        for image in images:
            pil = TF.to_pil_image(image)  # ColorJitter on the classic path works on PIL images
            if brightness_first:
                pil = TF.adjust_contrast(TF.adjust_brightness(pil, brightness), contrast)
            else:
                pil = TF.adjust_brightness(TF.adjust_contrast(pil, contrast), brightness)
            theirs.append(TF.to_tensor(pil))
        assert torch.equal(ours, torch.stack(theirs)), brightness_first


def test_angles_stay_in_range_and_cover_it():
    angles = draw_angles(20000, 7.0, torch.Generator().manual_seed(3))
    assert angles.abs().max() <= 7
    assert angles.min() < -6.9 and angles.max() > 6.9
    counts = torch.histc(angles, bins=14, min=-7, max=7)
    assert counts.min() > 0.85 * 20000 / 14  # uniform: no empty or starved band


def test_without_augmentation_the_batches_equal_the_classic_ones(mnist_root):
    classic = datasets.MNIST(str(mnist_root), train=False, download=False, transform=classic_transforms())
    fast = TensorLoader(*load_idx_tensors(mnist_root, train=False), batch_size=256)
    images, labels = next(iter(fast))
    expected = torch.stack([classic[i][0] for i in range(256)])
    assert torch.allclose(images, expected, atol=1e-6)
    assert labels.tolist() == [classic.targets[i].item() for i in range(256)]


def test_same_seed_same_batches_and_fresh_shuffle_each_epoch(train_tensors):
    def first_batches(seed):
        loader = TensorLoader(*train_tensors, batch_size=128, shuffle=True, rotation=5, jitter=0.1, seed=seed)
        return [next(iter(loader)) for _ in range(2)]  # two epochs' first batches

    (a1, la1), (a2, la2) = first_batches(1)
    (b1, lb1), _ = first_batches(1)
    (c1, lc1), _ = first_batches(2)
    assert torch.equal(a1, b1) and torch.equal(la1, lb1)
    assert not torch.equal(la1, la2)  # a new order every epoch
    assert not torch.equal(la1, lc1)


def test_fast_loaders_cover_the_split(mnist_root):
    train, test = fast_data.fast_loaders(rotation=5, jitter=0.1, data_root=mnist_root)
    assert len(train) == 469 and len(train.dataset) == 60000
    assert len(test) == 10 and len(test.dataset) == 10000
    seen = torch.cat([labels for _, labels in test])
    assert torch.equal(seen, load_idx_tensors(mnist_root, train=False)[1])


def test_fast_validation_split_matches_the_classic_one(mnist_root):
    train, held_out = fast_data.fast_loaders(data_root=mnist_root, validation=True)
    assert len(train.dataset) == VALIDATION_START and len(held_out.dataset) == 10_000
    images, labels = load_idx_tensors(mnist_root, train=True)
    assert torch.equal(held_out.labels, labels[VALIDATION_START:])
    assert torch.equal(train.labels, labels[:VALIDATION_START])
    # no image is in both
    assert not set(map(bytes, held_out.images[:50].numpy())) & set(map(bytes, train.images.numpy()))


def test_translation_equals_torchvision_for_the_same_shift(train_tensors):
    images = train_tensors[0][:32].unsqueeze(1).float() / 255
    for dx, dy in ((1, 0), (0, -2), (-1, 2), (2, 2)):
        ours = fast_data.translate_by(images, torch.tensor([[dx, dy]] * 32))
        theirs = TF.affine(
            images, angle=0.0, translate=[dx, dy], scale=1.0, shear=[0.0], interpolation=TF.InterpolationMode.NEAREST
        )
        assert torch.equal(ours, theirs), (dx, dy)
        assert not torch.equal(ours, images)  # a shift that did nothing would pass the line above too


def test_shifts_are_whole_pixels_within_range_and_cover_it():
    shifts = fast_data.draw_shifts(20000, 2.0, torch.Generator().manual_seed(3))
    assert torch.equal(shifts, shifts.round()) and shifts.abs().max() == 2
    # round(uniform(-2, 2)): -2 and 2 each take a quarter-pixel band (1/8), -1, 0 and 1 a whole one (1/4)
    for value, share in ((-2, 1 / 8), (-1, 1 / 4), (0, 1 / 4), (1, 1 / 4), (2, 1 / 8)):
        assert abs((shifts == value).float().mean().item() - share) < 0.015, value


def test_fast_translation_matches_classic_in_distribution(mnist_root, train_tensors):
    dataset = datasets.MNIST(str(mnist_root), train=True, download=False)
    torch.manual_seed(0)
    transform = classic_transforms(rotation=5, translate=2)
    classic = torch.stack([transform(dataset[i][0]) for i in range(N)])
    loader = TensorLoader(*train_tensors, batch_size=N, rotation=5, translate=2, seed=0)
    # Shifts spread each pixel's values, so two classic draws (seeds 0 and 1) already differ by 0.010 (mean map) and
    # 0.016 (std map), fast against classic by 0.009-0.011 and 0.016-0.017; the same digits unshifted by 0.047, 0.066.
    limits = {**TOLERANCE, "mean_map": 0.02, "std_map": 0.03}

    def close(measured):
        return all(measured[key] <= limit for key, limit in limits.items())

    assert close(distance(next(iter(loader))[0], classic))
    assert not close(distance(fast_batch(train_tensors, 5, 0.0), classic))  # the same, unshifted, is told apart


def test_no_translation_draws_nothing(train_tensors):
    """translate=0 (every recipe before the field existed) leaves the random stream, and so old runs, unchanged."""
    plain = TensorLoader(*train_tensors, batch_size=256, shuffle=True, rotation=5, seed=4)
    zero = TensorLoader(*train_tensors, batch_size=256, shuffle=True, rotation=5, translate=0, seed=4)
    assert all(torch.equal(a[0], b[0]) for a, b in zip(plain, zero, strict=True))
