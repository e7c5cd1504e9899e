"""Figures of digits: a recipe's augmentation, the test mistakes (a grid, and one at a time), the confusion
matrix and per-class accuracy."""

from __future__ import annotations

import torch

from .. import data as mnist_data
from ..course import TARGET
from ..fast_data import adjust_brightness_contrast, augment_batch, rotate_by
from .figure import Figure
from .style import new_figure


def plot_digit_rows(rows: dict[str, torch.Tensor], title: str, labels: list[int] | None = None) -> Figure:
    """The one grid of digits: a row per entry of ``rows`` (name: an N×1×28×28 batch in [0, 1]), the name at
    the left, each column's label above the first row when given."""
    batches = list(rows.values())
    n = len(batches[0])
    alt = f"A grid of handwritten digits, {n} a row, rows {' and '.join(rows)}: {title}."
    fig = new_figure(figsize=(1.1 * n, 1.2 * len(rows) + (0.0 if labels is not None else 0.2)), alt=alt)
    axes = fig.subplots(len(rows), n, squeeze=False)
    for r, (name, batch) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(batch[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0 and labels is not None:
                ax.set_title(f"label {labels[c]}", fontsize=9)
        axes[r][0].set_ylabel(name, fontsize=9)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def show_augmented(recipe, n: int = 8, draws: int = 3, data_root=None, seed: int = 0) -> Figure:
    """The first ``n`` training digits (top row) and ``draws`` random augmentations of each by ``recipe``.

    Taught in every notebook's data section: what the network really sees.
    """
    images, labels = mnist_data.load_idx_tensors(data_root, train=True)
    images, labels = images[:n], labels[:n]
    generator = torch.Generator().manual_seed(seed)
    rows = {"original": images.unsqueeze(1).float() / 255}
    for draw in range(1, draws + 1):
        rows[f"draw {draw}"] = augment_batch(images, recipe.rotation, recipe.jitter, generator, recipe.translate)
    title = f"{recipe.name}: rotation ±{recipe.rotation:g}°, brightness/contrast jitter {recipe.jitter:g}"
    if recipe.translate:
        title += f", shift ±{recipe.translate:g} px"
    return plot_digit_rows(rows, title, labels.tolist())


def augmentation_figure(
    images: torch.Tensor, rotation: float = 0.0, brightness: float = 1.0, contrast: float = 1.0
) -> Figure:
    """The same uint8 digits before (top) and after (bottom) one fixed rotation and brightness/contrast: the
    figure ``widgets.augmentation_explorer`` redraws."""
    before = images.unsqueeze(1).float() / 255
    after = adjust_brightness_contrast(before.clone(), brightness, contrast)
    after = rotate_by(after, torch.full((len(images),), float(rotation)))
    title = f"rotation {rotation:+.1f}°, brightness ×{brightness:.2f}, contrast ×{contrast:.2f}"
    return plot_digit_rows({"before": before, "after": after}, title)


def plot_misclassified(predictions, n: int = 20, columns: int = 10) -> Figure:
    """The ``n`` test digits the model got wrong with the most confidence: true label, guess, confidence."""
    wrong = predictions.wrong[:n]
    rows = max(1, -(-len(wrong) // columns))
    alt = f"The {len(wrong)} test digits the model got wrong most confidently, of {len(predictions.wrong)} "
    alt += "mistakes, each with its true label, the model's guess and its confidence."
    fig = new_figure(figsize=(1.3 * columns, 1.9 * rows + 0.4), alt=alt)
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist(), strict=False):  # more axes than mistakes
        ax.imshow(predictions.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(
            f"true {predictions.labels[i].item()} → {predictions.predicted[i].item()}\n"
            f"{100 * predictions.confidence[i].item():.0f}% sure",
            fontsize=8,
        )
    total = len(predictions.wrong)
    fig.suptitle(f"{total} of {len(predictions.labels):,} test digits misclassified; the {len(wrong)} surest mistakes")
    fig.tight_layout()
    return fig


def confusion_matrix(predictions, classes: int = 10) -> torch.Tensor:
    """Counts: row = true digit, column = predicted digit."""
    flat = predictions.labels * classes + predictions.predicted
    return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(predictions, classes: int = 10) -> torch.Tensor:
    """Accuracy in % for each true digit."""
    matrix = confusion_matrix(predictions, classes).double()
    return 100 * matrix.diag() / matrix.sum(dim=1).clamp(min=1)


def plot_confusion(predictions) -> Figure:
    """Confusion matrix (mistakes only, so the few that matter stand out) and per-class accuracy."""
    matrix = confusion_matrix(predictions)
    accuracy = per_class_accuracy(predictions)
    mistakes = matrix.clone()
    mistakes.fill_diagonal_(0)
    alt = f"Left: a confusion matrix of the {mistakes.sum().item()} mistakes among {matrix.sum().item():,} test "
    alt += "digits, true digit against predicted. Right: bars of the accuracy per digit class, lowest "
    alt += f"{accuracy.min().item():.1f} % for digit {accuracy.argmin().item()}."
    fig = new_figure(figsize=(11, 4.5), alt=alt)
    mat_ax, bar_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    mat_ax.imshow(mistakes.numpy(), cmap="Reds", vmin=0, vmax=max(1, mistakes.max().item()))
    dark = mistakes.max().item() / 2  # white numbers on the darker half of the colour scale, black on the lighter
    for t in range(10):
        for p in range(10):
            count = matrix[t, p].item()
            if count and t != p:
                colour = "white" if count > dark else "black"
                mat_ax.text(p, t, str(count), ha="center", va="center", fontsize=10, color=colour, fontweight="bold")
    mat_ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"Mistakes: {mistakes.sum().item()} of {matrix.sum().item():,}",
    )
    bars = bar_ax.bar(range(10), accuracy.numpy(), color="steelblue")
    bar_ax.bar_label(bars, labels=[f"{a:.1f}" for a in accuracy.tolist()], fontsize=8)
    bar_ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"{TARGET} %")
    bar_ax.set_ylim(max(0, accuracy.min().item() - 1), 100.4)
    bar_ax.set(xticks=range(10), xlabel="true digit", ylabel="accuracy (%)", title="Per-class accuracy")
    bar_ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def mistakes_of_class(predictions, true_class: int | None = None) -> torch.Tensor:
    """Indices of the mistakes (surest first), only those whose true label is ``true_class`` if given."""
    wrong = predictions.wrong
    if true_class is not None:
        wrong = wrong[predictions.labels[wrong] == true_class]
    return wrong


def mistake_figure(predictions, position: int = 0, true_class: int | None = None) -> tuple[Figure, dict]:
    """The ``position``-th mistake (of ``true_class``, or of all) with its label, guess and confidence."""
    wrong = mistakes_of_class(predictions, true_class)
    if len(wrong) == 0:
        fig = new_figure(figsize=(3.2, 3.4), alt="An empty panel: the model made no mistakes in this class.")
        ax = fig.subplots()
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title("no mistakes in this class")
        return fig, {"count": 0}
    position = max(0, min(position, len(wrong) - 1))
    i = wrong[position].item()
    shown = {
        "index": i,
        "true": predictions.labels[i].item(),
        "predicted": predictions.predicted[i].item(),
        "confidence": predictions.confidence[i].item(),
        "position": position,
        "count": len(wrong),
    }
    alt = f"A handwritten {shown['true']} that the model read as {shown['predicted']}, "
    alt += f"{100 * shown['confidence']:.0f}% sure: mistake {position + 1} of {len(wrong)}."
    fig = new_figure(figsize=(3.2, 3.4), alt=alt)
    ax = fig.subplots()
    ax.set_xticks([]), ax.set_yticks([])
    ax.imshow(predictions.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(
        f"true {shown['true']}, predicted {shown['predicted']} ({100 * shown['confidence']:.0f}% sure)\n"
        f"mistake {position + 1} of {len(wrong)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig, shown
