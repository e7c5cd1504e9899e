"""Sliders for the notebooks. Each widget is a thin shell around a plain function that returns a
matplotlib ``Figure`` (and the numbers it shows), so everything it draws can be tested headless.

- ``augmentation_explorer``: rotation, brightness and contrast sliders on the same digits;
- ``mistake_browser``: step through the test mistakes, filtered by true class;
- ``schedule_preview``: StepLR / MultiStepLR / OneCycleLR learning rate against epochs;
- ``receptive_field_explorer``: pick a layer, see the patch of a digit one of its pixels sees;
- ``feature_map_explorer``: every block's channels for one test digit, and what one unit can see;
- ``draw_digit``: draw a digit with the mouse and watch the model read it.
"""

from __future__ import annotations

import contextlib

import ipywidgets as W
import torch
from IPython.display import Markdown, display
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import data as mnist_data
from . import features
from .engine import SCHEDULERS, lr_schedule, predict_test_set
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

    drawn = {}

    def redraw(_change=None):
        values = {name: c.value for name, c in controls.items()}
        if box.paused or values == drawn:
            return  # controls are still following each other, or nothing changed: no wasted redraw
        drawn.update(values)
        box.figure = draw(**values)
        _show_on(output, box.figure)

    for control in controls.values():
        control.observe(redraw, names="value")
    box.output, box.controls, box.redraw, box.paused = output, controls, redraw, False  # handles for tests
    redraw()
    return box


# --- augmentation -------------------------------------------------------------------------


def augmentation_figure(
    images: torch.Tensor, rotation: float = 0.0, brightness: float = 1.0, contrast: float = 1.0
) -> Figure:
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
    shown = {
        "index": i,
        "true": predictions.labels[i].item(),
        "predicted": predictions.predicted[i].item(),
        "confidence": predictions.confidence[i].item(),
        "position": position,
        "count": len(wrong),
    }
    ax.imshow(predictions.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
    ax.set_title(
        f"true {shown['true']}, predicted {shown['predicted']} ({100 * shown['confidence']:.0f}% sure)\n"
        f"mistake {position + 1} of {len(wrong)}",
        fontsize=10,
    )
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
    return _interactive(
        lambda position, true_class: mistake_figure(predictions, position, true_class)[0],
        {"position": position, "true_class": classes},
    )


# --- learning-rate schedule ---------------------------------------------------------------


def schedule_figure(steps_per_epoch: int = 20, **kwargs) -> Figure:
    rates = lr_schedule(steps_per_epoch=steps_per_epoch, **kwargs)
    fig = Figure(figsize=(6.5, 3.2))
    ax = fig.subplots()
    ax.step([1 + i / steps_per_epoch for i in range(len(rates))], rates, where="post")
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="learning rate", xticks=range(1, len(rates) // steps_per_epoch + 1))
    ax.set_title(
        f"{kwargs.get('scheduler', 'step')}: {rates[0]:.2g} → {max(rates):.2g} → {rates[-1]:.2g}"
        if kwargs.get("scheduler") == "onecycle"
        else f"{kwargs.get('scheduler', 'step')}: {rates[0]:g} → {rates[-1]:.2g}"
    )
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
        "lr": W.FloatLogSlider(
            value=recipe.lr,
            base=10,
            min=-3,
            max=-0.5,
            step=0.05,
            description="peak lr" if recipe.scheduler == "onecycle" else "start lr",
        ),
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
    fig = Figure(figsize=(4, 4.3))
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


def static_note(what: str = "widget") -> Markdown:
    """The line shown beside a static figure, for readers whose viewer cannot run the widget."""
    return Markdown(
        f"*Above: a static figure. Below it, in JupyterLab, the live {what}; GitHub and nbviewer "
        f"cannot show widgets, so there you see the figure only.*"
    )


def with_static_figure(box, what: str = "widget"):
    """Show a widget's figure at its default setting as a plain image first (what GitHub and nbviewer show,
    since they cannot run widgets), then the widget itself. Taught in every notebook with a widget."""
    display(box.figure, static_note(what))
    return box


# --- feature maps -------------------------------------------------------------------------


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
    fig = Figure(figsize=(13, 0.95 * len(maps) + 0.4))
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


def feature_map_explorer(model=None, data_root=None) -> W.VBox:
    """Pick a test digit (by index, by class, or one of the model's mistakes), see what every block
    makes of it, and pick a unit of one block to outline the part of the digit it can see.
    ``model`` defaults to the committed Model_4 (no training).

    Taught in ``notebooks/04_model_4.ipynb``.
    """
    model = model or features.committed_model()
    images, labels = mnist_data.load_idx_tensors(data_root, train=False)
    fields = features.block_receptive_fields(model)
    mistakes = {}  # the test set's mistakes, found the first time they are asked for

    def wrong():
        if "wrong" not in mistakes:
            mistakes["wrong"] = predict_test_set(model, data_root).wrong
        return mistakes["wrong"]

    controls = {
        "source": W.Dropdown(
            options=[("test index", "index"), ("class", "class"), ("mistake", "mistake")], description="digit from"
        ),
        "digit_class": W.Dropdown(options=list(range(10)), value=0, description="class"),
        "number": W.IntSlider(value=0, min=0, max=len(labels) - 1, description="number"),
        "block": W.Dropdown(options=list(model.block_names), value="convblock3", description="block"),
        "x": W.IntSlider(value=5, min=0, max=9, description="unit x"),
        "y": W.IntSlider(value=5, min=0, max=9, description="unit y"),
    }

    def follow_source(_change=None):
        source, digit_class = controls["source"].value, controls["digit_class"].value
        count = {
            "index": len(labels),
            "class": int((labels == digit_class).sum()),
            "mistake": len(wrong()) if source == "mistake" else 1,
        }[source]
        with paused():
            controls["number"].value, controls["number"].max = 0, max(0, count - 1)

    def follow_block(_change):
        size = fields[controls["block"].value]["output_size"]
        with paused():
            for axis in ("x", "y"):
                controls[axis].max, controls[axis].value = size - 1, size // 2

    @contextlib.contextmanager
    def paused():
        """Move several controls at once, then draw once."""
        box.paused = True
        try:
            yield
        finally:
            box.paused = False
            box.redraw()

    def draw(source, digit_class, number, block, x, y):
        i = features.pick_digit(labels, source, number, digit_class, wrong() if source == "mistake" else None)
        return feature_maps_figure(
            model, features.normalise(images[i]), block, x, y, caption=f"test digit {i}, label {labels[i].item()}"
        )[0]

    controls["source"].observe(follow_source, names="value")
    controls["digit_class"].observe(follow_source, names="value")
    controls["block"].observe(follow_block, names="value")
    box = _interactive(draw, controls)
    box.children[0].layout.flex_flow = "row wrap"
    return box


# --- draw your own digit ------------------------------------------------------------------


def drawn_digit_figure(model, drawing) -> tuple[Figure, dict]:
    """A drawing, the 28×28 image the model sees after ``features.preprocess_drawing``, and the
    model's class probabilities."""
    image = features.preprocess_drawing(drawing)
    probabilities = features.predict_digit(model, image)
    predicted = int(probabilities.argmax())
    fig = Figure(figsize=(9, 2.8))
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


def draw_digit(model=None):
    """A canvas to draw a digit on with the mouse, a Clear button, and live below it: the 28×28 image
    the model sees, its class probabilities and every block's feature maps. ``model`` defaults to the
    committed Model_4. Without ipycanvas it returns a note saying how to get it.

    Taught in ``notebooks/04_model_4.ipynb``.
    """
    try:
        from ipycanvas import Canvas
    except ImportError:
        return Markdown(
            "**Draw your own digit needs `ipycanvas`**: `pip install ipycanvas`, then restart "
            "JupyterLab. The static figure above shows what it does."
        )
    model = model or features.committed_model()
    size = features.CANVAS_SIZE
    canvas = Canvas(
        width=size, height=size, layout=W.Layout(width=f"{size}px", height=f"{size}px", border="2px solid #888")
    )
    canvas.line_width, canvas.line_cap, canvas.line_join = features.STROKE_WIDTH, "round", "round"
    clear = W.Button(description="Clear", icon="eraser")
    prediction = W.Label("Draw a digit with the mouse.").add_class("mnist-kit-prediction")
    output = W.Output()
    strokes, pen = [], {"down": False}  # the strokes, as lists of (x, y) canvas points

    def pen_down(x, y):
        pen["down"] = True
        strokes.append([(x, y)])

    def pen_move(x, y):
        if pen["down"] and strokes[-1][-1] != (x, y):
            canvas.stroke_line(*strokes[-1][-1], x, y)
            strokes[-1].append((x, y))

    def pen_up(x, y):
        if pen["down"]:
            pen_move(x, y)  # the last stretch, in case the browser sent no move for it
            pen["down"] = False
            show_prediction()

    def show_prediction():
        fig, shown = drawn_digit_figure(model, features.rasterise_strokes(strokes))
        maps = feature_maps_figure(model, shown["image"])[0]
        with output:
            output.clear_output(wait=True)
            display(fig, maps)
        prediction.value = f"Prediction: {shown['predicted']} ({100 * shown['probabilities'].max():.0f}% sure)"

    def clear_all(_button=None):
        strokes.clear()
        canvas.clear()
        output.clear_output()
        prediction.value = "Draw a digit with the mouse."

    canvas.on_mouse_down(pen_down)
    canvas.on_mouse_move(pen_move)
    canvas.on_mouse_up(pen_up)
    canvas.on_mouse_out(pen_up)
    clear.on_click(clear_all)
    box = W.VBox([W.HBox([canvas, W.VBox([clear, prediction])]), output])
    box.canvas, box.strokes, box.prediction, box.output = canvas, strokes, prediction, output  # for tests
    return box


# --- parameter budget ---------------------------------------------------------------------

WIDTH_NAMES = ("block 1", "block 2", "transition", "block 3", "block 4", "block 5", "block 6")


def budget_figure(widths: tuple[int, ...], budget: int = 5000) -> Figure:
    """Parameters per block (conv plus BatchNorm) of the network ``NetSpec.from_widths(widths)``, its total
    against ``budget`` and the course's 8,000. A ``0`` as the seventh width means no padded sixth block. The
    static figure beside ``budget_explorer``."""
    from .models import NetSpec, TinyNet, conv_budget

    widths = tuple(widths[:6]) + tuple(w for w in widths[6:] if w)
    rows = conv_budget(TinyNet(NetSpec.from_widths(widths)))
    total = sum(r["parameters"] for r in rows)
    fig = Figure(figsize=(8, 3.4))
    ax = fig.subplots()
    y = range(len(rows))[::-1]
    ax.barh(list(y), [r["conv_params"] for r in rows], color="steelblue", label="convolution weights")
    ax.barh(
        list(y),
        [r["bn_params"] for r in rows],
        left=[r["conv_params"] for r in rows],
        color="darkorange",
        label="BatchNorm scale and shift",
    )
    for yi, r in zip(y, rows, strict=True):
        ax.text(r["parameters"] + 20, yi, f"{r['parameters']:,}", va="center", fontsize=8)
    verdict = "within" if total <= budget else "over"
    ax.set(
        yticks=list(y),
        yticklabels=[f"{r['block']} ({r['conv']}, out {r['output']})" for r in rows],
        xlabel="parameters",
        title=f"{total:,} parameters: {verdict} {budget:,}" + ("" if total < 8000 else ", over the course's 8,000"),
    )
    ax.set_xlim(0, max(r["parameters"] for r in rows) * 1.18)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def budget_explorer(widths: tuple[int, ...], budget: int = 5000) -> W.VBox:
    """A slider per width of ``NetSpec.from_widths`` (block 6 at 0: left out); the bars show where the parameters go.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    padded = tuple(widths[6:7]) or (0,)
    controls = {
        f"c{i}": W.IntSlider(value=w, min=0 if i == 6 else 1, max=32, description=name)
        for i, (name, w) in enumerate(zip(WIDTH_NAMES, tuple(widths[:6]) + padded, strict=True))
    }

    def draw(**values):
        return budget_figure(tuple(values[f"c{i}"] for i in range(7)), budget)

    return _interactive(draw, controls, layout=W.Layout(flex_flow="column"))
