"""What the network sees, headless: activations per block, a drawing made into an MNIST digit, the
prediction, and the figures of the feature-map explorer and the draw-your-own-digit widget."""

import math
import re

import ipywidgets as W
import numpy as np
import pytest
import torch

from mnist_kit import features, widgets
from mnist_kit.data import MEAN, STD, load_idx_tensors
from mnist_kit.models import get_model


@pytest.fixture(scope="module")
def model():
    return features.committed_model("model_4")


def loop_strokes(cx=140, cy=140, rx=70, ry=100, points=48):
    """A closed loop (a drawn 0), as canvas points."""
    return [
        [
            (cx + rx * math.sin(2 * math.pi * t / points), cy - ry * math.cos(2 * math.pi * t / points))
            for t in range(points + 1)
        ]
    ]


def ink_box(image: torch.Tensor) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the pixels with ink in a normalised 1x1x28x28 image."""
    rows, cols = np.nonzero(features.unnormalise(image).numpy() > 0.05)
    return rows.min(), rows.max(), cols.min(), cols.max()


def centre_of_mass(image: torch.Tensor) -> tuple[float, float]:
    pixels = features.unnormalise(image).numpy()
    ys, xs = np.indices(pixels.shape)
    return (ys * pixels).sum() / pixels.sum(), (xs * pixels).sum() / pixels.sum()


def test_a_stroke_in_a_corner_becomes_a_centred_20_pixel_digit():
    # a short vertical stroke far off centre, on a canvas of another size than the default
    drawing = features.rasterise_strokes([[(30, 20), (30, 120)]], size=400, width=14)
    image = features.preprocess_drawing(drawing)
    assert image.shape == (1, 1, 28, 28) and image.dtype == torch.float32
    top, bottom, left, right = ink_box(image)
    assert bottom - top + 1 == 20  # the longest side fills the 20-pixel box ...
    assert right - left + 1 <= 4  # ... and the aspect ratio is kept: still a thin line
    cy, cx = centre_of_mass(image)
    assert abs(cy - 14) <= 0.75 and abs(cx - 14) <= 0.75
    assert image.min().item() == pytest.approx(-MEAN / STD)  # background normalised like the training data
    assert image.max().item() == pytest.approx((1 - MEAN) / STD)  # full-strength ink


def test_a_wide_loop_keeps_its_aspect_ratio():
    image = features.preprocess_drawing(features.rasterise_strokes(loop_strokes(rx=100, ry=50)))
    top, bottom, left, right = ink_box(image)
    assert right - left + 1 == 20 and 10 <= bottom - top + 1 <= 13


def test_preprocessing_accepts_floats_and_refuses_an_empty_drawing():
    drawing = features.rasterise_strokes(features.VERTICAL_STROKE)
    assert torch.equal(features.preprocess_drawing(drawing), features.preprocess_drawing(drawing / 255.0))
    with pytest.raises(ValueError, match="draw a digit first"):
        features.preprocess_drawing(np.zeros((280, 280), dtype=np.uint8))


def test_real_test_digits_keep_their_prediction(model, mnist_root):
    images, labels = load_idx_tensors(mnist_root, train=False)
    images, labels = images[:300], labels[:300]
    with torch.no_grad():
        as_trained = model(features.normalise(images)).argmax(1)
        redone = model(torch.cat([features.preprocess_drawing(d.numpy()) for d in images])).exp()
    assert redone.shape == (300, 10) and torch.allclose(redone.sum(1), torch.ones(300))
    assert (redone.argmax(1) == as_trained).float().mean() >= 0.99
    assert (redone.argmax(1) == labels).float().mean() >= 0.97


def test_scripted_stroke_and_loop_read_as_1_and_0(model):
    def read(strokes):
        return features.predict_digit(model, features.preprocess_drawing(features.rasterise_strokes(strokes)))

    assert read(features.VERTICAL_STROKE).argmax().item() == 1 and read(loop_strokes()).argmax().item() == 0


def test_block_activations_are_the_blocks_outputs(model, mnist_root):
    image = features.normalise(load_idx_tensors(mnist_root, train=False)[0][0])
    maps = features.block_activations(model, image)
    assert list(maps) == model.block_names  # in the order the image passes through them
    assert {name: tuple(m.shape) for name, m in maps.items()} == {
        "convblock1": (10, 26, 26),
        "convblock2": (12, 24, 24),
        "transition": (10, 12, 12),
        "convblock3": (10, 10, 10),
        "convblock4": (14, 8, 8),
        "convblock5": (16, 6, 6),
        "convblock6": (14, 6, 6),
    }
    with torch.no_grad():
        assert torch.allclose(maps["convblock1"], model.convblock1(image)[0])
    assert not model.convblock1._forward_hooks  # the hooks are gone afterwards


def test_pick_digit_by_index_class_and_mistake():
    labels = torch.tensor([3, 1, 4, 1, 5, 9, 2, 6])
    assert features.pick_digit(labels, "index", 5) == 5
    assert features.pick_digit(labels, "class", 1, digit_class=1) == 3
    assert features.pick_digit(labels, "class", 99, digit_class=1) == 3  # clamped to the last one
    assert features.pick_digit(labels, "mistake", 0, wrong=torch.tensor([6, 2])) == 6
    with pytest.raises(ValueError, match="wrong="):
        features.pick_digit(labels, "mistake", 0)
    with pytest.raises(ValueError, match="no test digits"):
        features.pick_digit(labels, "class", 0, digit_class=7)


def test_feature_maps_figure_has_a_row_per_block_and_outlines_the_unit(model, mnist_root):
    image = features.normalise(load_idx_tensors(mnist_root, train=False)[0][0])
    fig, shown = widgets.feature_maps_figure(model, image, "convblock6", x=0, y=5)
    digit_fig, blocks_fig = fig.subfigs
    rows = blocks_fig.subfigs
    assert len(rows) == 7
    channels = {
        "convblock1": 10,
        "convblock2": 12,
        "transition": 10,
        "convblock3": 10,
        "convblock4": 14,
        "convblock5": 16,
        "convblock6": 14,
    }
    fields = {
        "convblock1": 3,
        "convblock2": 5,
        "transition": 6,
        "convblock3": 10,
        "convblock4": 14,
        "convblock5": 18,
        "convblock6": 22,
    }
    for row, (name, count) in zip(rows, channels.items(), strict=True):
        assert len(row.axes) == count  # one panel a channel
        size = shown["blocks"][name]["shape"][1]
        assert row._suptitle.get_text().startswith(
            f"{name}: {count}×{size}×{size}, receptive field {fields[name]}×{fields[name]}"
        )
    # unit (0, 5) of convblock6 sees input columns -2..19 and rows 8..29 (see test_widgets)
    outline = digit_fig.axes[0].patches[0]
    assert outline.get_xy() == (-2.5, 7.5) and outline.get_width() == outline.get_height() == 22
    assert shown["patch"] == (-2.0, 8.0, 19.0, 29.0) and shown["predicted"] == 7
    assert all(len(ax.patches) == 1 for ax in rows[-1].axes) and not rows[0].axes[0].patches
    plain, _ = widgets.feature_maps_figure(model, image)  # no block: nothing outlined
    assert not plain.subfigs[0].axes[0].patches


def test_feature_map_explorer_follows_its_controls(model, mnist_root):
    box = widgets.feature_map_explorer(model, data_root=mnist_root)
    title = box.figure.subfigs[0].axes[0].get_title()
    assert title.startswith("test digit 0, label 7") and "convblock3 unit (5, 5)" in title
    box.controls["number"].value = 1
    assert box.figure.subfigs[0].axes[0].get_title().startswith("test digit 1, label 2")
    box.controls["source"].value = "class"
    box.controls["digit_class"].value = 4
    assert box.controls["number"].max == 981  # 982 fours in the test set
    assert ", label 4" in box.figure.subfigs[0].axes[0].get_title()
    drawn = box.figure
    box.controls["block"].value = "convblock1"
    assert box.figure is not drawn
    assert box.controls["x"].max == 25 and box.controls["x"].value == 13
    assert "convblock1 unit (13, 13)" in box.figure.subfigs[0].axes[0].get_title()
    box.controls["source"].value = "mistake"  # the surest mistake of the committed Model_4
    assert 20 < box.controls["number"].max < 100
    label, predicted = re.search(r"label (\d)\npredicted (\d)", box.figure.subfigs[0].axes[0].get_title()).groups()
    assert label != predicted


def test_feature_maps_and_a_drawn_digit_of_model_5_without_a_sixth_block():
    model_5 = get_model("model_5").eval()
    image = features.preprocess_drawing(features.rasterise_strokes(features.VERTICAL_STROKE))
    fig, shown = widgets.feature_maps_figure(model_5, image, "convblock5", x=0, y=0)
    assert list(shown["blocks"]) == ["convblock1", "convblock2", "transition", "convblock3", "convblock4", "convblock5"]
    assert shown["blocks"]["convblock5"] == {"shape": (16, 6, 6), "receptive_field": 18}  # 22 with block 6
    assert len(fig.subfigs[1].subfigs) == 6 and shown["unit"] == (0, 0)
    _, drawn = widgets.drawn_digit_figure(model_5, features.rasterise_strokes(features.VERTICAL_STROKE))
    assert 0 <= drawn["predicted"] <= 9


def test_drawn_digit_figure_shows_the_scripted_stroke(model):
    fig, shown = widgets.drawn_digit_figure(model, features.rasterise_strokes(features.VERTICAL_STROKE))
    raw_ax, seen_ax, bar_ax = fig.axes
    assert shown["predicted"] == 1 and bar_ax.get_title().startswith("prediction: 1 (")
    assert raw_ax.get_images()[0].get_array().shape == (280, 280)
    assert seen_ax.get_images()[0].get_array().shape == (28, 28)
    heights = [p.get_height() for p in bar_ax.patches]
    assert len(heights) == 10 and heights.index(max(heights)) == 1 and sum(heights) == pytest.approx(1, abs=1e-4)


def mouse(canvas, event: str, x: float, y: float) -> None:
    """Send the canvas the message its browser view sends on a mouse event."""
    canvas._handle_frontend_event(None, {"event": event, "x": x, "y": y}, [])


def draw_with_mouse(canvas, strokes) -> None:
    for stroke in strokes:
        mouse(canvas, "mouse_down", *stroke[0])
        for point in stroke[1:]:
            mouse(canvas, "mouse_move", *point)
        mouse(canvas, "mouse_up", *stroke[-1])


def test_draw_digit_widget_follows_the_mouse_predicts_and_clears(model):
    box = widgets.draw_digit(model)
    assert isinstance(box, W.VBox)
    mouse(box.canvas, "mouse_move", 10, 10)  # moving without a button pressed draws nothing
    assert box.strokes == [] and box.prediction.value == "Draw a digit with the mouse."
    draw_with_mouse(box.canvas, [[(140, 40), (140, 140), (140, 240)]])
    assert box.strokes == [[(140, 40), (140, 140), (140, 240)]]
    assert box.prediction.value.startswith("Prediction: 1 ")
    clear = box.children[0].children[1].children[0]
    assert isinstance(clear, W.Button) and clear.description == "Clear"
    clear.click()
    assert box.strokes == [] and box.prediction.value == "Draw a digit with the mouse."
    draw_with_mouse(box.canvas, loop_strokes())
    assert box.prediction.value.startswith("Prediction: 0 ")


def test_draw_digit_says_what_to_install_without_ipycanvas(model, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_ipycanvas(name, *args, **kwargs):
        if name == "ipycanvas":
            raise ImportError("no ipycanvas")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ipycanvas)
    note = widgets.draw_digit(model)
    assert "pip install ipycanvas" in note.data
