"""Sliders for the notebooks. Each widget is a thin shell around a plain function that returns a
matplotlib ``Figure`` (and the numbers it shows), so everything it draws can be tested headless.

- ``augmentation_explorer``: rotation, brightness and contrast sliders on the same digits;
- ``mistake_browser``: step through the test mistakes, filtered by true class;
- ``schedule_preview``: StepLR / MultiStepLR / OneCycleLR learning rate against epochs;
- ``receptive_field_explorer``: pick a layer, see the patch of a digit one of its pixels sees.
"""
from __future__ import annotations

import ipywidgets as W
import torch
from IPython.display import display
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import data as mnist_data
from .engine import SCHEDULERS, lr_schedule
from .fast_data import adjust_brightness_contrast, rotate_by
from .models import receptive_field_table


def _show_on(output: W.Output, fig: Figure) -> None:
    with output:
        output.clear_output(wait=True)
        display(fig)


def _interactive(draw, controls: dict, **layout) -> W.VBox:
    """Sliders above an Output that redraws ``draw(**values)`` whenever one of them changes."""
    output = W.Output()
    box = W.VBox([W.HBox(list(controls.values())), output], **layout)

    def redraw(_change=None):
        box.figure = draw(**{name: c.value for name, c in controls.items()})
        _show_on(output, box.figure)

    for control in controls.values():
        control.observe(redraw, names="value")
    box.output, box.controls = output, controls  # handles for tests and notebooks
    redraw()
    return box


# --- augmentation -------------------------------------------------------------------------

def augmentation_figure(images: torch.Tensor, rotation: float = 0.0, brightness: float = 1.0,
                        contrast: float = 1.0) -> Figure:
    """The same uint8 digits before (top) and after (bottom) a fixed rotation and brightness/contrast."""
    before = images.unsqueeze(1).float() / 255
    after = adjust_brightness_contrast(before.clone(), brightness, contrast)
    after = rotate_by(after, torch.full((len(images),), float(rotation)))
    n = len(images)
    fig = Figure(figsize=(1.1 * n, 2.6))
    axes = fig.subplots(2, n, squeeze=False)
    for row, batch in enumerate((before, after)):
        for col in range(n):
            ax = axes[row][col]
            ax.imshow(batch[col, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
        axes[row][0].set_ylabel("before" if row == 0 else "after", fontsize=9)
    fig.suptitle(f"rotation {rotation:+.1f}°, brightness ×{brightness:.2f}, contrast ×{contrast:.2f}")
    fig.tight_layout()
    return fig


def augmentation_explorer(n: int = 8, data_root=None) -> W.VBox:
    """Sliders for rotation, brightness and contrast over the first ``n`` training digits.

    Taught in ``notebooks/01_model_1.ipynb``: how far can a digit turn before it stops being itself?
    """
    images = mnist_data.load_idx_tensors(data_root, train=True)[0][:n]
    controls = {
        "rotation": W.FloatSlider(value=7.0, min=-45, max=45, step=0.5, description="rotation °"),
        "brightness": W.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05, description="brightness"),
        "contrast": W.FloatSlider(value=1.0, min=0.2, max=2.0, step=0.05, description="contrast"),
    }
    return _interactive(lambda **v: augmentation_figure(images, **v), controls)


# --- mistakes -----------------------------------------------------------------------------

def mistakes_of_class(predictions, true_class: int | None = None) -> torch.Tensor:
    """Indices of the mistakes (surest first), only those whose true label is ``true_class`` if given."""
    wrong = predictions.wrong
    if true_class is not None:
        wrong = wrong[predictions.labels[wrong] == true_class]
    return wrong


def mistake_figure(predictions, position: int = 0, true_class: int | None = None) -> tuple[Figure, dict]:
    """The ``position``-th mistake (of ``true_class``, or of all) with its label, guess and confidence."""
    wrong = mistakes_of_class(predictions, true_class)
    fig = Figure(figsize=(3.2, 3.4))
    ax = fig.subplots()
    ax.set_xticks([]), ax.set_yticks([])
    if len(wrong) == 0:
        ax.set_title("no mistakes in this class")
        return fig, {"count": 0}
    position = max(0, min(position, len(wrong) - 1))
    i = wrong[position].item()
    shown = {"index": i, "true": predictions.labels[i].item(), "predicted": predictions.predicted[i].item(),
             "confidence": predictions.confidence[i].item(), "position": position, "count": len(wrong)}
    ax.imshow(predictions.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"true {shown['true']}, predicted {shown['predicted']} ({100 * shown['confidence']:.0f}% sure)\n"
                 f"mistake {position + 1} of {len(wrong)}", fontsize=10)
    fig.tight_layout()
    return fig, shown


def mistake_browser(predictions) -> W.VBox:
    """Step through the test mistakes, surest first; filter by the true class.

    Taught in ``notebooks/04_model_4.ipynb``: which digits does the final model still miss, and why?
    """
    classes = W.Dropdown(options=[("all", None)] + [(str(c), c) for c in range(10)], description="true class")
    position = W.IntSlider(value=0, min=0, max=max(0, len(predictions.wrong) - 1), description="mistake")

    def follow_class(_change):
        position.max = max(0, len(mistakes_of_class(predictions, classes.value)) - 1)
        position.value = 0

    classes.observe(follow_class, names="value")
    return _interactive(lambda position, true_class: mistake_figure(predictions, position, true_class)[0],
                        {"position": position, "true_class": classes})


# --- learning-rate schedule ---------------------------------------------------------------

def schedule_figure(steps_per_epoch: int = 20, **kwargs) -> Figure:
    rates = lr_schedule(steps_per_epoch=steps_per_epoch, **kwargs)
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.subplots()
    ax.step([1 + i / steps_per_epoch for i in range(len(rates))], rates, where="post")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate", xticks=range(1, len(rates) // steps_per_epoch + 1))
    ax.set_title(f"{kwargs.get('scheduler', 'step')}: {rates[0]:.2g} → {max(rates):.2g} → {rates[-1]:.2g}"
                 if kwargs.get("scheduler") == "onecycle" else
                 f"{kwargs.get('scheduler', 'step')}: {rates[0]:g} → {rates[-1]:.2g}")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    return fig


def _parse_milestones(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted(int(part) for part in text.replace(" ", "").split(",") if part))
    except ValueError:
        raise ValueError(f"milestones must be whole numbers separated by commas, got {text!r}") from None
    return values


def schedule_preview(recipe) -> W.VBox:
    """Scheduler, learning rate, step size, gamma and milestones against epochs, from ``recipe``'s values
    (step size, gamma and milestones matter only to the schedulers that use them).

    Taught in ``notebooks/03_model_3.ipynb`` (MultiStepLR) and ``notebooks/04_model_4.ipynb`` (OneCycleLR).
    """
    controls = {
        "scheduler": W.Dropdown(options=list(SCHEDULERS), value=recipe.scheduler, description="scheduler"),
        "lr": W.FloatLogSlider(value=recipe.lr, base=10, min=-3, max=-0.5, step=0.05,
                               description="peak lr" if recipe.scheduler == "onecycle" else "start lr"),
        "step_size": W.IntSlider(value=recipe.step_size or 5, min=1, max=15, description="step size"),
        "gamma": W.FloatSlider(value=recipe.gamma, min=0.05, max=0.9, step=0.05, description="gamma"),
        "milestones": W.Text(value=",".join(map(str, recipe.milestones or (5, 10))), description="milestones"),
    }

    def draw(milestones, **values):
        try:
            return schedule_figure(milestones=_parse_milestones(milestones), epochs=recipe.epochs, **values)
        except ValueError as exc:
            fig = Figure(figsize=(6.5, 1))
            fig.text(0.02, 0.5, str(exc))
            return fig

    return _interactive(draw, controls, layout=W.Layout(flex_flow="column"))


# --- receptive field ----------------------------------------------------------------------

def receptive_field_patch(row: dict, position: int, image_size: int = 28) -> tuple[float, float]:
    """The input pixels (first, last; may lie outside the image, in the padding) that output pixel
    ``position`` of a layer sees along one axis."""
    centre = row["start"] + position * row["jump"]
    half = (row["receptive_field"] - 1) / 2
    return centre - half, centre + half


def receptive_field_figure(model, image: torch.Tensor, layer: str, x: int | None = None,
                           y: int | None = None) -> tuple[Figure, dict]:
    """A digit with the patch that output pixel (x, y) of ``layer`` sees (default: the middle pixel)."""
    rows = {r["layer"]: r for r in receptive_field_table(model)}
    if layer not in rows:
        raise ValueError(f"unknown layer {layer!r}; choose one of: {', '.join(rows)}")
    row = rows[layer]
    size = row["output_size"]
    x = size // 2 if x is None else max(0, min(x, size - 1))
    y = size // 2 if y is None else max(0, min(y, size - 1))
    (x0, x1), (y0, y1) = receptive_field_patch(row, x), receptive_field_patch(row, y)
    fig = Figure(figsize=(4, 4.3))
    ax = fig.subplots()
    ax.imshow(image.numpy(), cmap="gray", vmin=0, vmax=255 if image.dtype == torch.uint8 else 1)
    ax.add_patch(Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0 + 1, y1 - y0 + 1, fill=False, edgecolor="orange",
                           linewidth=2))
    ax.set_xlim(min(-0.5, x0 - 1), max(27.5, x1 + 1)), ax.set_ylim(max(27.5, y1 + 1), min(-0.5, y0 - 1))
    ax.set_title(f"{layer}: output {size}×{size}, pixel ({x}, {y})\n"
                 f"sees {row['receptive_field']}×{row['receptive_field']} input pixels, jump {row['jump']}", fontsize=10)
    fig.tight_layout()
    return fig, {"layer": layer, "output_size": size, "receptive_field": row["receptive_field"],
                 "jump": row["jump"], "patch": (x0, y0, x1, y1)}


def receptive_field_explorer(model, data_root=None) -> W.VBox:
    """Pick a layer and an output pixel; the orange square is all of the digit that pixel can see.

    Taught in ``notebooks/01_model_1.ipynb``.
    """
    image = mnist_data.load_idx_tensors(data_root, train=False)[0][0]
    layers = [r["layer"] for r in receptive_field_table(model)]
    controls = {
        "layer": W.Dropdown(options=layers, value=layers[-3], description="layer"),
        "x": W.IntSlider(value=3, min=0, max=27, description="pixel x"),
        "y": W.IntSlider(value=3, min=0, max=27, description="pixel y"),
    }
    return _interactive(lambda **v: receptive_field_figure(model, image, **v)[0], controls)
