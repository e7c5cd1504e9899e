"""A trained network's answers: every image of a loader with its true label, the network's guess and how sure it
was (``Predictions``), for the mistakes grid, the confusion matrix and the widgets. Training and its per-epoch
evaluation are ``engine``'s; this module only reads a network. Taught in every notebook's Results.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from . import fast_data
from .data import MEAN, STD


@dataclass
class Predictions:
    """Every image of a loader with its true label, the model's guess and how sure it was."""

    images: torch.Tensor  # N x 1 x 28 x 28, back in [0, 1] for display
    labels: torch.Tensor
    predicted: torch.Tensor
    confidence: torch.Tensor  # softmax probability of the guess

    @property
    def wrong(self) -> torch.Tensor:
        """Indices of the mistakes, surest mistakes first."""
        index = torch.nonzero(self.predicted != self.labels).flatten()
        return index[torch.argsort(self.confidence[index], descending=True)]


def predict(model, loader, device=None) -> Predictions:
    """Run the model over a loader (no augmentation expected). Taught in every notebook's Results."""
    device = device or next(model.parameters()).device
    model.eval()
    parts = []
    with torch.inference_mode():
        for images, labels in loader:
            probs = model(images.to(device)).exp()
            confidence, predicted = probs.max(dim=1)
            parts.append((images.cpu() * STD + MEAN, labels.cpu(), predicted.cpu(), confidence.cpu()))
    return Predictions(*(torch.cat(column) for column in zip(*parts, strict=True)))


def predict_test_set(model, data_root=None) -> Predictions:
    """The whole unaugmented test set through ``model``, for the mistakes grid and widgets."""
    device = next(model.parameters()).device
    return predict(model, fast_data.fast_test_loader(data_root, device), device)
