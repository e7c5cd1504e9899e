"""What the network sees: the output of every block for one digit, and a hand-drawn digit made to look
like an MNIST digit before the model reads it.

``block_activations`` catches each block's output with ``models.probe`` (the kit's one forward-hook probe), for
any registered network: every ``TinyNet`` names its blocks one way (``convblock1``, ``convblock2``,
``transition``, ``convblock3`` ...; ``model.block_names``). MNIST's digits were made like this (LeCun et al.):
each scanned digit was fitted into a 20×20 box, keeping its aspect ratio and anti-aliased to grey levels, then
placed in a 28×28 image so that its centre of mass sits in the middle. ``preprocess_drawing`` does the same to a
drawing, then normalises it like the training data. Taught in ``notebooks/04_model_4.ipynb`` ("What the network
sees").
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from .data import MEAN, STD
from .models import probe, receptive_field_table

CANVAS_SIZE = 280  # the drawing canvas, in pixels: ten canvas pixels to one MNIST pixel
STROKE_WIDTH = 20  # pen width on the canvas; after scaling to the 20-pixel box, about 2 MNIST pixels
# A scripted drawing for static figures and tests: one stroke, a list of (x, y) canvas points.
VERTICAL_STROKE = [[(140, 40), (140, 240)]]


def committed_model(name: str = "model_4", results_dir=None) -> torch.nn.Module:
    """The committed trained model ``results/<name>.json`` + ``.pt``, in eval mode (no training)."""
    from .paths import default_results_dir
    from .records import load_trained_model

    path = Path(results_dir or default_results_dir()) / f"{name}.json"
    if not path.with_suffix(".pt").is_file():
        raise FileNotFoundError(
            f"{path.with_suffix('.pt')} is missing: check out the committed results "
            f"(git checkout -- results/) or train it: python -m mnist_kit train {name}"
        )
    return load_trained_model(path)


def normalise(images: torch.Tensor) -> torch.Tensor:
    """uint8 MNIST digits (28×28 or N×28×28) as the model's input: N×1×28×28, scaled and normalised."""
    x = images.reshape(-1, 1, 28, 28).float() / 255
    return (x - MEAN) / STD


def block_activations(model: torch.nn.Module, image: torch.Tensor, blocks=None) -> dict[str, torch.Tensor]:
    """The output (channels × height × width) of each block (default: all of ``model.block_names``, in the
    order the image passes through them) for one normalised 1×1×28×28 image, caught by ``models.probe``."""
    names = set(blocks or model.block_names)
    return {name: out[0] for name, _module, out in probe(model, lambda name, _m: name in names, image)}


def block_receptive_fields(model: torch.nn.Module) -> dict[str, dict]:
    """For each block, the ``models.receptive_field_table`` row of its last conv or pooling layer:
    the receptive field of the block's output."""
    return {row["layer"].split(".")[0]: row for row in receptive_field_table(model)}


def predict_digit(model: torch.nn.Module, image: torch.Tensor) -> torch.Tensor:
    """The 10 class probabilities the model gives one normalised 1×1×28×28 image."""
    model.eval()
    with torch.inference_mode():
        return model(image).exp()[0]


def rasterise_strokes(strokes, size: int = CANVAS_SIZE, width: int = STROKE_WIDTH) -> np.ndarray:
    """Strokes (lists of (x, y) canvas points) drawn as thick round-ended lines: uint8 size×size, ink 255."""
    picture = Image.new("L", (size, size), 0)
    pen = ImageDraw.Draw(picture)
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            pen.line(points, fill=255, width=width, joint="curve")
        for x, y in points:  # round ends and joints, and a dot for a single click
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    return np.asarray(picture)


def preprocess_drawing(array) -> torch.Tensor:
    """A drawing (white ink on black, any size, uint8 0-255 or float 0-1) as MNIST made its digits:
    the ink's bounding box fitted into 20×20 (aspect kept, anti-aliased), centred by centre of mass
    in 28×28, then normalised like the training data. Returns 1×1×28×28."""
    ink = np.asarray(array, dtype=np.float32)
    ink = ink / 255 if ink.max() > 1 else ink
    rows, cols = np.nonzero(ink > 0.05)
    if len(rows) == 0:
        raise ValueError("the drawing is empty: draw a digit first")
    crop = ink[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    scale = 20 / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    small = Image.fromarray(np.uint8(crop * 255)).resize((width, height), Image.Resampling.LANCZOS)
    digit = np.asarray(small, dtype=np.float32) / 255
    digit = digit.clip(0, 1) / max(digit.max(), 1e-6)  # full-strength ink, as in MNIST
    return normalise_float(centre_by_mass(digit))


def centre_by_mass(digit: np.ndarray, size: int = 28) -> np.ndarray:
    """Paste ``digit`` (at most size - 8 pixels a side) into a size×size image with its centre of mass
    at (size / 2, size / 2), as near as whole-pixel shifts allow."""
    ys, xs = np.indices(digit.shape)
    total = digit.sum()
    cy, cx = (ys * digit).sum() / total, (xs * digit).sum() / total
    top = int(np.clip(round(size / 2 - cy), 0, size - digit.shape[0]))
    left = int(np.clip(round(size / 2 - cx), 0, size - digit.shape[1]))
    out = np.zeros((size, size), dtype=np.float32)
    out[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return out


def normalise_float(image: np.ndarray) -> torch.Tensor:
    """A 28×28 float image in [0, 1] as the model's 1×1×28×28 normalised input."""
    return ((torch.from_numpy(image) - MEAN) / STD).reshape(1, 1, 28, 28)


def unnormalise(image: torch.Tensor) -> torch.Tensor:
    """The model's input back in [0, 1] (28×28), for display."""
    return (image.reshape(28, 28) * STD + MEAN).clamp(0, 1)


def pick_digit(
    labels: torch.Tensor,
    source: str = "index",
    number: int = 0,
    digit_class: int = 0,
    wrong: torch.Tensor | None = None,
) -> int:
    """The index of a test digit: the ``number``-th of the test set (``source="index"``), of the digits
    labelled ``digit_class`` (``"class"``), or of the model's mistakes ``wrong`` (``"mistake"``)."""
    if source == "index":
        candidates = torch.arange(len(labels))
    elif source == "class":
        candidates = torch.nonzero(labels == digit_class).flatten()
    elif source == "mistake":
        if wrong is None:
            raise ValueError("pass wrong= (engine.predict_test_set(model).wrong) to pick a mistake")
        candidates = wrong
    else:
        raise ValueError(f"unknown source {source!r}; choose one of: index, class, mistake")
    if len(candidates) == 0:
        raise ValueError(f"no test digits for source {source!r}")
    return int(candidates[max(0, min(number, len(candidates) - 1))])
