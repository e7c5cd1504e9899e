"""The fast input pipeline: the whole split held once as a tensor on the training device.

Batches are cut, augmented (the same ColorJitter, RandomRotation and RandomAffine translation as the classic
pipeline, pixel for pixel the same rotation and shift) and normalised there, with no per-image Python work.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .data import MEAN, STD, VALIDATION_START, fixed_subset_indices, load_idx_tensors, prepare_mnist
from .paths import default_data_root


def jitter_batch(x: torch.Tensor, strength: float, generator: torch.Generator) -> torch.Tensor:
    """ColorJitter(brightness, contrast) on a batch in [0, 1], one draw per image, as torchvision draws it:
    each factor uniform in [1 - strength, 1 + strength], the two applied in a random order."""
    draws = torch.rand(x.shape[0], 3, generator=generator).to(x.device)
    brightness = 1 - strength + 2 * strength * draws[:, 0]
    contrast = 1 - strength + 2 * strength * draws[:, 1]
    return adjust_brightness_contrast(x, brightness, contrast, brightness_first=draws[:, 2] < 0.5)


def adjust_brightness_contrast(x, brightness, contrast, brightness_first=True) -> torch.Tensor:
    """Scale each image's brightness (towards black) and contrast (towards its own mean grey) by its factor.

    As PIL's ``Image.blend`` does it (what torchvision's ``adjust_brightness`` and ``adjust_contrast`` call on
    the classic path): in whole grey levels, the factor in single precision, each step clipped and truncated
    back to 256 levels (without that the fast path runs measurably brighter). Factors are numbers or one per image.
    """
    n = x.shape[0]

    def per_image(value):
        return torch.as_tensor(value, dtype=torch.float32, device=x.device).expand(n).reshape(n, 1, 1, 1)

    brightness, contrast = per_image(brightness), per_image(contrast)
    first = torch.as_tensor(brightness_first, device=x.device).expand(n).reshape(n, 1, 1, 1)
    levels = x.float().mul(255).round_()  # x holds whole grey levels / 255

    def blend(towards, t, factor):  # PIL: (uint8) clip(towards + factor * (t - towards)), in float32
        return (towards + factor * (t - towards)).clamp_(0, 255).floor_()

    def bright(t):
        return blend(torch.zeros_like(t), t, brightness)

    def contrasted(t):
        grey = t.double().mean(dim=(1, 2, 3), keepdim=True).add(0.5).floor().float()  # PIL's integer mean
        return blend(grey, t, contrast)

    out = torch.where(first, contrasted(bright(levels)), bright(contrasted(levels)))
    return out.div_(255).to(x.dtype)


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


def draw_shifts(n: int, pixels: float, generator: torch.Generator) -> torch.Tensor:
    """n (dx, dy) shifts in whole pixels, as ``RandomAffine(translate=pixels / 28)`` draws them: each uniform in
    [-pixels, pixels], rounded to the nearest whole pixel (halves to even, like Python's ``round``)."""
    return torch.round((torch.rand(n, 2, generator=generator) * 2 - 1) * pixels)


def translate_by(x: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Move each image of a batch right by ``dx`` and down by ``dy`` whole pixels (``shifts``: N x 2), zero fill.

    Pixel for pixel the same as torchvision's ``affine(..., translate=[dx, dy], NEAREST, fill=0)``.
    """
    n, _, h, w = x.shape
    shifts = shifts.to(x.device, x.dtype)
    one, zero = torch.ones(n, device=x.device, dtype=x.dtype), torch.zeros(n, device=x.device, dtype=x.dtype)
    # affine_grid works in [-1, 1] coordinates: one pixel is 2 / size; output pixel p samples input p - shift.
    matrix = torch.stack(
        [torch.stack([one, zero, -2 * shifts[:, 0] / w], 1), torch.stack([zero, one, -2 * shifts[:, 1] / h], 1)], 1
    )
    grid = torch.nn.functional.affine_grid(matrix, list(x.shape), align_corners=False)
    return torch.nn.functional.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)


def augment_batch(
    images: torch.Tensor, rotation: float, jitter: float, generator: torch.Generator, translate: float = 0.0
) -> torch.Tensor:
    """uint8 digits (N x 28 x 28) to augmented floats in [0, 1] (N x 1 x 28 x 28), in the classic order:
    ColorJitter, RandomRotation, then the translation (``RandomAffine``). Normalisation is left to the caller."""
    x = images.unsqueeze(1).float().div_(255)
    if jitter:
        x = jitter_batch(x, jitter, generator)
    if rotation:
        x = rotate_batch(x, rotation, generator)
    if translate:
        x = translate_by(x, draw_shifts(x.shape[0], translate, generator))
    return x


class TensorLoader:
    """The whole split held once as a tensor on the device; batches are cut, augmented and
    normalised there, with no per-image Python work. Iterates like a DataLoader: ``(images, labels)``.

    Taught in ``notebooks/02_model_2.ipynb`` (why the fast path exists and what it must match).
    """

    def __init__(
        self,
        images,
        labels,
        *,
        batch_size=128,
        shuffle=False,
        rotation=0.0,
        jitter=0.0,
        translate=0.0,
        device="cpu",
        seed=1,
    ):
        self.device = torch.device(device)
        self.images = images.to(self.device)  # uint8: a quarter of float32's memory
        self.labels = labels.to(self.device)
        self.dataset = torch.utils.data.TensorDataset(self.images, self.labels)  # for len(loader.dataset)
        self.batch_size, self.shuffle, self.rotation, self.jitter = batch_size, shuffle, rotation, jitter
        self.translate = translate
        # Random draws come from a CPU generator, so a seed gives the same run on any device.
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return (len(self.labels) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.labels)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        order = order.to(self.device)
        for start in range(0, n, self.batch_size):
            index = order[start : start + self.batch_size]
            x = augment_batch(self.images[index], self.rotation, self.jitter, self.generator, self.translate)
            yield x.sub_(MEAN).div_(STD), self.labels[index]


def _fixed_subset_tensors(images, labels, size):
    keep = fixed_subset_indices(len(labels), size)
    return (images, labels) if keep is None else (images[keep], labels[keep])


def fast_loaders(
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
    validation=False,
):
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
    return (
        TensorLoader(
            *train,
            batch_size=batch_size,
            shuffle=True,
            rotation=rotation,
            jitter=jitter,
            translate=translate,
            device=device,
            seed=seed,
        ),
        eval_loader,
    )


def fast_test_loader(data_root=None, device="cpu", batch_size=1000, subset=None) -> TensorLoader:
    """The unaugmented test set as a ``TensorLoader``, in file order (no training split loaded)."""
    test = _fixed_subset_tensors(*load_idx_tensors(data_root, train=False), subset)
    return TensorLoader(*test, batch_size=batch_size, device=device)
