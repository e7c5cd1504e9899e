"""Sliders for the notebooks, and only sliders: each widget is a thin shell of controls around a figure
builder of ``plots`` (which returns a matplotlib ``Figure`` and the numbers it shows), so everything it
draws is tested headless there.

- ``augmentation_explorer``: rotation, brightness and contrast sliders on the same digits;
- ``mistake_browser``: step through the test mistakes, filtered by true class;
- ``schedule_preview``: StepLR / MultiStepLR / OneCycleLR learning rate and momentum against epochs;
- ``receptive_field_explorer``: pick a layer, see the patch of a digit one of its pixels sees;
- ``feature_map_explorer``: every block's channels for one test digit, and what one unit can see;
- ``draw_digit``: draw a digit with the mouse and watch the model read it;
- ``budget_explorer``: a slider per width, the bars show where the parameters go.
"""

from __future__ import annotations

import contextlib

import ipywidgets as W
from IPython.display import Markdown, display

from . import data as mnist_data
from . import features, plots
from .course import MODEL_5_BUDGET
from .engine import SCHEDULERS
from .inference import predict_test_set
from .models import receptive_field_table
from .plots import drawn_digit_figure, feature_maps_figure  # noqa: F401 (older cells and tests read widgets.*)


def _show_on(output: W.Output, fig) -> None:
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


@contextlib.contextmanager
def _paused(box: W.VBox):
    """Move several of ``box``'s controls at once, then draw once."""
    box.paused = True
    try:
        yield
    finally:
        box.paused = False
        box.redraw()


# --- augmentation -------------------------------------------------------------------------


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
    return _interactive(lambda **v: plots.augmentation_figure(images, **v), controls)


# --- mistakes -----------------------------------------------------------------------------


def mistake_browser(predictions) -> W.VBox:
    """Step through the test mistakes, surest first; filter by the true class.

    Taught in ``notebooks/04_model_4.ipynb``: which digits does the final model still miss, and why?
    """
    classes = W.Dropdown(options=[("all", None)] + [(str(c), c) for c in range(10)], description="true class")
    position = W.IntSlider(value=0, min=0, max=max(0, len(predictions.wrong) - 1), description="mistake")

    def follow_class(_change):
        position.max = max(0, len(plots.mistakes_of_class(predictions, classes.value)) - 1)
        position.value = 0

    classes.observe(follow_class, names="value")
    return _interactive(
        lambda position, true_class: plots.mistake_figure(predictions, position, true_class)[0],
        {"position": position, "true_class": classes},
    )


# --- learning-rate schedule ---------------------------------------------------------------


def _parse_milestones(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted(int(part) for part in text.replace(" ", "").split(",") if part))
    except ValueError:
        raise ValueError(f"milestones must be whole numbers separated by commas, got {text!r}") from None
    return values


PREVIEW_STEPS = 40  # batches an epoch in the preview: fewer than the real 469, so a slider redraws at once


def schedule_preview(recipe) -> W.VBox:
    """Scheduler, learning rate, step size, gamma and milestones, drawn by ``plots.plot_schedule`` from
    ``recipe`` with the sliders' values (step size, gamma and milestones matter only to the schedulers that
    use them).

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
            chosen = recipe.with_overrides(milestones=_parse_milestones(milestones), **values)
            return plots.plot_schedule(chosen, steps_per_epoch=PREVIEW_STEPS)
        except ValueError as exc:
            return plots.message_figure(str(exc))

    return _interactive(draw, controls, layout=W.Layout(flex_flow="column"))


# --- receptive field ----------------------------------------------------------------------


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
    return _interactive(lambda **v: plots.receptive_field_figure(model, image, **v)[0], controls)


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


def _digit_controls(count: int, blocks: list[str]) -> dict[str, W.Widget]:
    """Where the digit comes from (test index, class or mistake), which one, and the block and unit to mark."""
    return {
        "source": W.Dropdown(
            options=[("test index", "index"), ("class", "class"), ("mistake", "mistake")], description="digit from"
        ),
        "digit_class": W.Dropdown(options=list(range(10)), value=0, description="class"),
        "number": W.IntSlider(value=0, min=0, max=count - 1, description="number"),
        "block": W.Dropdown(options=blocks, value="convblock3", description="block"),
        "x": W.IntSlider(value=5, min=0, max=9, description="unit x"),
        "y": W.IntSlider(value=5, min=0, max=9, description="unit y"),
    }


def _follow_controls(controls: dict, holder: dict, labels, wrong, fields: dict) -> None:
    """The number slider follows the source (its range: test digits, digits of a class, mistakes); the unit
    sliders follow the block (its output size). ``holder["box"]`` is the widget, set once it exists."""

    def follow_source(_change=None):
        source, digit_class = controls["source"].value, controls["digit_class"].value
        count = {
            "index": len(labels),
            "class": int((labels == digit_class).sum()),
            "mistake": len(wrong()) if source == "mistake" else 1,
        }[source]
        with _paused(holder["box"]):
            controls["number"].value, controls["number"].max = 0, max(0, count - 1)

    def follow_block(_change):
        size = fields[controls["block"].value]["output_size"]
        with _paused(holder["box"]):
            for axis in ("x", "y"):
                controls[axis].max, controls[axis].value = size - 1, size // 2

    controls["source"].observe(follow_source, names="value")
    controls["digit_class"].observe(follow_source, names="value")
    controls["block"].observe(follow_block, names="value")


def feature_map_explorer(model=None, data_root=None) -> W.VBox:
    """Pick a test digit (by index, by class, or one of the model's mistakes), see what every block
    makes of it (``plots.feature_maps_figure``), and pick a unit of one block to outline the part of the
    digit it can see. ``model`` defaults to the committed Model_4 (no training).

    Taught in ``notebooks/04_model_4.ipynb``.
    """
    model = model or features.committed_model()
    images, labels = mnist_data.load_idx_tensors(data_root, train=False)
    mistakes = {}  # the test set's mistakes, found the first time they are asked for

    def wrong():
        if "wrong" not in mistakes:
            mistakes["wrong"] = predict_test_set(model, data_root).wrong
        return mistakes["wrong"]

    def draw(source, digit_class, number, block, x, y):
        i = features.pick_digit(labels, source, number, digit_class, wrong() if source == "mistake" else None)
        caption = f"test digit {i}, label {labels[i].item()}"
        return plots.feature_maps_figure(model, features.normalise(images[i]), block, x, y, caption=caption)[0]

    controls, holder = _digit_controls(len(labels), list(model.block_names)), {}
    _follow_controls(controls, holder, labels, wrong, features.block_receptive_fields(model))  # before redraw's
    holder["box"] = box = _interactive(draw, controls)
    box.children[0].layout.flex_flow = "row wrap"
    return box


# --- draw your own digit ------------------------------------------------------------------


def _attach_pen(canvas, strokes: list, on_lift) -> None:
    """Record the mouse's strokes on ``canvas`` (lists of (x, y) points), drawing them as they go, and call
    ``on_lift()`` each time the pen is lifted or leaves the canvas."""
    pen = {"down": False}

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
            on_lift()

    canvas.on_mouse_down(pen_down)
    canvas.on_mouse_move(pen_move)
    canvas.on_mouse_up(pen_up)
    canvas.on_mouse_out(pen_up)


def draw_digit(model=None):
    """A canvas to draw a digit on with the mouse, a Clear button, and live below it: the 28×28 image
    the model sees, its class probabilities and every block's feature maps (``plots.drawn_digit_figure``,
    ``plots.feature_maps_figure``). ``model`` defaults to the committed Model_4. Without ipycanvas it
    returns a note saying how to get it.

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
    output, strokes = W.Output(), []

    def show_prediction():
        fig, shown = plots.drawn_digit_figure(model, features.rasterise_strokes(strokes))
        maps = plots.feature_maps_figure(model, shown["image"])[0]
        with output:
            output.clear_output(wait=True)
            display(fig, maps)
        prediction.value = f"Prediction: {shown['predicted']} ({100 * shown['probabilities'].max():.0f}% sure)"

    def clear_all(_button=None):
        strokes.clear()
        canvas.clear()
        output.clear_output()
        prediction.value = "Draw a digit with the mouse."

    _attach_pen(canvas, strokes, show_prediction)
    clear.on_click(clear_all)
    box = W.VBox([W.HBox([canvas, W.VBox([clear, prediction])]), output])
    box.canvas, box.strokes, box.prediction, box.output = canvas, strokes, prediction, output  # for tests
    return box


# --- parameter budget ---------------------------------------------------------------------

WIDTH_NAMES = ("block 1", "block 2", "transition", "block 3", "block 4", "block 5", "block 6")


def budget_explorer(widths: tuple[int, ...], budget: int = MODEL_5_BUDGET) -> W.VBox:
    """A slider per width of ``NetSpec.from_widths`` (block 6 at 0: left out); the bars show where the parameters go.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    padded = tuple(widths[6:7]) or (0,)
    controls = {
        f"c{i}": W.IntSlider(value=w, min=0 if i == 6 else 1, max=32, description=name)
        for i, (name, w) in enumerate(zip(WIDTH_NAMES, tuple(widths[:6]) + padded, strict=True))
    }

    def draw(**values):
        return plots.budget_figure(tuple(values[f"c{i}"] for i in range(7)), budget)

    return _interactive(draw, controls, layout=W.Layout(flex_flow="column"))
