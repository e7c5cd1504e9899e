"""Figures of what a network sees: the receptive field of a layer's pixel, every block's feature maps for one
digit, and a drawn digit as the model reads it."""

from __future__ import annotations

import torch
from matplotlib.patches import Rectangle

from .. import features
from ..models import receptive_field_table
from .figure import Figure
from .style import new_figure


def receptive_field_patch(row: dict, position: int, image_size: int = 28) -> tuple[float, float]:
    """The input pixels (first, last; may lie outside the image, in the padding) that output pixel
    ``position`` of a layer sees along one axis."""
    centre = row["start"] + position * row["jump"]
    half = (row["receptive_field"] - 1) / 2
    return centre - half, centre + half


def receptive_field_figure(
    model, image: torch.Tensor, layer: str, x: int | None = None, y: int | None = None
) -> tuple[Figure, dict]:
    """A digit with the patch that output pixel (x, y) of ``layer`` sees (default: the middle pixel)."""
    rows = {r["layer"]: r for r in receptive_field_table(model)}
    if layer not in rows:
        raise ValueError(f"unknown layer {layer!r}; choose one of: {', '.join(rows)}")
    row = rows[layer]
    size = row["output_size"]
    x = size // 2 if x is None else max(0, min(x, size - 1))
    y = size // 2 if y is None else max(0, min(y, size - 1))
    (x0, x1), (y0, y1) = receptive_field_patch(row, x), receptive_field_patch(row, y)
    rf = row["receptive_field"]
    alt = f"A handwritten digit with an orange square outlining the {rf}×{rf} input pixels that pixel ({x}, {y}) "
    alt += f"of {layer} ({size}×{size} output) sees."
    fig = new_figure(figsize=(4, 4.3), alt=alt)
    ax = fig.subplots()
    ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=255 if image.dtype == torch.uint8 else 1)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, edgecolor="orange", linewidth=2))
    ax.set_xlim(min(-0.5, x0 - 1), max(27.5, x1 + 1)), ax.set_ylim(max(27.5, y1 + 1), min(-0.5, y0 - 1))
    ax.set_title(
        f"{layer}: output {size}×{size}, pixel ({x}, {y})\n"
        f"sees {row['receptive_field']}×{row['receptive_field']} input pixels, jump {row['jump']}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig, {
        "layer": layer,
        "output_size": size,
        "receptive_field": row["receptive_field"],
        "jump": row["jump"],
        "patch": (x0, y0, x1, y1),
    }


def feature_maps_figure(
    model, image: torch.Tensor, block: str | None = None, x: int | None = None, y: int | None = None, caption: str = ""
) -> tuple[Figure, dict]:
    """Every block's output for one normalised 1×1×28×28 ``image``: a row of channel images per block,
    titled with its shape and receptive field. With ``block``, unit (x, y) of that block is marked
    on its maps and the input pixels it can see are outlined on the digit (default: the middle unit)."""
    maps = features.block_activations(model, image)
    fields = features.block_receptive_fields(model)
    probabilities = features.predict_digit(model, image)
    columns = max(m.shape[0] for m in maps.values())
    alt = f"A digit the model reads as {int(probabilities.argmax())}, and beside it a row of channel images for "
    alt += f"each of its {len(maps)} blocks ({', '.join(maps)}): what each block's filters respond to."
    fig = new_figure(figsize=(13, 0.95 * len(maps) + 0.4), alt=alt)
    left, right = fig.subfigures(1, 2, width_ratios=(1.2, 4))
    shown = {"blocks": {}, "predicted": int(probabilities.argmax())}
    for row_fig, (name, activation) in zip(right.subfigures(len(maps), 1), maps.items(), strict=True):
        shape, rf = "×".join(map(str, activation.shape)), fields[name]["receptive_field"]
        shown["blocks"][name] = {"shape": tuple(activation.shape), "receptive_field": rf}
        _channel_row(row_fig, activation, columns, f"{name}: {shape}, receptive field {rf}×{rf}")
    ax = left.subplots()
    left.subplots_adjust(left=0.05, right=0.95, top=0.8, bottom=0.05)
    ax.imshow(features.unnormalise(image).numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([]), ax.set_yticks([])
    title = f"{caption}\n" if caption else ""
    title += f"predicted {shown['predicted']} ({100 * probabilities.max():.0f}% sure)"
    if block is not None:
        shown.update(_mark_unit(ax, right.subfigs[list(maps).index(block)], fields[block], x, y))
        title += f"\n{block} unit ({shown['unit'][0]}, {shown['unit'][1]})\nsees the orange square"
    ax.set_title(title, fontsize=9)
    return fig, shown


def _channel_row(row_fig, activation: torch.Tensor, columns: int, title: str) -> None:
    """One block's channels side by side (empty slots removed, so the row has one axes per channel)."""
    axes = row_fig.subplots(1, columns)
    row_fig.subplots_adjust(left=0.01, right=0.99, top=0.76, bottom=0.02, wspace=0.1)
    row_fig.suptitle(title, x=0.01, ha="left", fontsize=9)
    for channel, ax in enumerate(axes):
        if channel >= activation.shape[0]:
            ax.remove()
            continue
        ax.imshow(activation[channel].numpy(), cmap="viridis")  # each map on its own colour scale
        ax.set_xticks([]), ax.set_yticks([])


def _mark_unit(digit_ax, row_fig, field: dict, x: int | None, y: int | None) -> dict:
    """Mark unit (x, y) on a block's maps and outline the input patch it sees on the digit."""
    size = field["output_size"]
    x = size // 2 if x is None else max(0, min(x, size - 1))
    y = size // 2 if y is None else max(0, min(y, size - 1))
    for ax in row_fig.axes:
        ax.add_patch(Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, edgecolor="orange", linewidth=1.5))
    row_fig.suptitle(
        row_fig._suptitle.get_text() + f"  ← unit ({x}, {y})",
        x=0.01,
        ha="left",
        fontsize=9,
        color="darkorange",
        fontweight="bold",
    )
    (x0, x1), (y0, y1) = receptive_field_patch(field, x), receptive_field_patch(field, y)
    digit_ax.add_patch(
        Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, edgecolor="orange", linewidth=2)
    )
    digit_ax.set_xlim(min(-0.5, x0 - 1), max(27.5, x1 + 1)), digit_ax.set_ylim(max(27.5, y1 + 1), min(-0.5, y0 - 1))
    return {"unit": (x, y), "patch": (x0, y0, x1, y1)}


def drawn_digit_figure(model, drawing) -> tuple[Figure, dict]:
    """A drawing, the 28×28 image the model sees after ``features.preprocess_drawing``, and the
    model's class probabilities."""
    image = features.preprocess_drawing(drawing)
    probabilities = features.predict_digit(model, image)
    predicted = int(probabilities.argmax())
    alt = "Three panels: a hand-drawn digit, the 28×28 image the model sees, and bars of its probability for each "
    alt += f"digit; it predicts {predicted} ({100 * probabilities[predicted]:.0f}% sure)."
    fig = new_figure(figsize=(9, 2.8), alt=alt)
    raw_ax, seen_ax, bar_ax = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.6]})
    raw_ax.imshow(drawing, cmap="gray_r", vmin=0, vmax=255)
    seen_ax.imshow(features.unnormalise(image).numpy(), cmap="gray", vmin=0, vmax=1)
    for ax, title in ((raw_ax, "your drawing"), (seen_ax, "what the model sees (28×28)")):
        ax.set_xticks([]), ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    bars = bar_ax.bar(range(10), probabilities.numpy(), color="lightsteelblue")
    bars[predicted].set_color("darkorange")
    bar_ax.set(xticks=range(10), ylim=(0, 1), xlabel="digit", ylabel="probability")
    bar_ax.set_title(f"prediction: {predicted} ({100 * probabilities[predicted]:.0f}% sure)", fontsize=10)
    fig.tight_layout()
    return fig, {"predicted": predicted, "probabilities": probabilities, "image": image}
