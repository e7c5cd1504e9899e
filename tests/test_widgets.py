"""Every widget's drawing function, called headless: what it draws and the numbers it shows."""

import ipywidgets as W
import pytest
import torch

from mnist_kit import plots, widgets
from mnist_kit.engine import Predictions
from mnist_kit.models import get_model
from mnist_kit.recipes import get_recipe


@pytest.fixture
def predictions():
    images = torch.rand(8, 1, 28, 28)
    labels = torch.tensor([0, 1, 1, 3, 4, 1, 6, 7])
    predicted = torch.tensor([0, 7, 2, 3, 9, 4, 6, 7])
    confidence = torch.tensor([0.9, 0.6, 0.8, 0.95, 0.5, 0.99, 0.7, 0.9])
    return Predictions(images, labels, predicted, confidence)


def test_augmentation_figure_turns_the_digits(mnist_root):
    from mnist_kit.data import load_idx_tensors

    images = load_idx_tensors(mnist_root)[0][:4]
    fig = widgets.augmentation_figure(images, rotation=30, brightness=0.5, contrast=1.0)
    axes = fig.get_axes()
    assert len(axes) == 8 and axes[0].get_ylabel() == "before" and axes[4].get_ylabel() == "after"
    before, after = axes[0].get_images()[0].get_array(), axes[4].get_images()[0].get_array()
    assert after.max() <= 0.5 + 1e-6 < before.max()  # half as bright
    assert "rotation +30.0°, brightness ×0.50" in fig._suptitle.get_text()
    same = widgets.augmentation_figure(images)  # neutral sliders change nothing
    assert (same.get_axes()[0].get_images()[0].get_array() == same.get_axes()[4].get_images()[0].get_array()).all()


def test_augmentation_explorer_redraws_on_a_slider_change(mnist_root):
    box = widgets.augmentation_explorer(n=3, data_root=mnist_root)
    assert isinstance(box.controls["rotation"], W.FloatSlider)
    assert "rotation +7.0°" in box.figure._suptitle.get_text()
    box.controls["rotation"].value = -20.0
    assert "rotation -20.0°" in box.figure._suptitle.get_text()


def test_mistakes_filter_and_order(predictions):
    assert widgets.mistakes_of_class(predictions).tolist() == [5, 2, 1, 4]  # surest first
    assert widgets.mistakes_of_class(predictions, 1).tolist() == [5, 2, 1]
    fig, shown = widgets.mistake_figure(predictions, position=1, true_class=1)
    assert shown == {"index": 2, "true": 1, "predicted": 2, "confidence": pytest.approx(0.8), "position": 1, "count": 3}
    assert fig.get_axes()[0].get_title() == "true 1, predicted 2 (80% sure)\nmistake 2 of 3"
    _, none = widgets.mistake_figure(predictions, true_class=0)
    assert none == {"count": 0}


def test_mistake_browser_follows_the_class_filter(predictions):
    box = widgets.mistake_browser(predictions)
    slider, classes = box.controls["position"], box.controls["true_class"]
    assert slider.max == 3
    classes.value = 1
    assert slider.max == 2 and slider.value == 0


def test_schedule_preview_draws_the_recipe_and_reports_bad_milestones():
    box = widgets.schedule_preview(get_recipe("model_3"))
    assert box.controls["scheduler"].value == "multistep" and box.controls["milestones"].value == "5,10"
    fig = widgets.schedule_figure(scheduler="multistep", lr=0.01, epochs=15, gamma=0.1, step_size=5, milestones=(5, 10))
    line = fig.get_axes()[0].get_lines()[0]
    assert list(line.get_ydata()) == pytest.approx([0.01] * 100 + [0.001] * 100 + [0.0001] * 100)
    assert box.controls["scheduler"].options == ("step", "multistep", "onecycle")
    with pytest.raises(ValueError, match="whole numbers"):
        widgets._parse_milestones("5, ten")
    assert box.figure.get_axes()[0].get_title() == "multistep: 0.01 → 0.0001"
    box.controls["milestones"].value = "5, ten"  # the widget shows the message instead of failing
    assert "whole numbers" in box.figure.texts[0].get_text()


def test_receptive_field_patch_of_the_last_conv():
    model = get_model("model_4")
    image = torch.zeros(28, 28, dtype=torch.uint8)
    fig, shown = widgets.receptive_field_figure(model, image, "convblock6.0", x=0, y=5)
    # the first output pixel's centre sits at input pixel 8.5; 22 pixels wide -> 0..17 (x), row 5 -> 10..31 (y)
    assert shown["patch"] == pytest.approx((-2.0, 8.0, 19.0, 29.0))
    assert shown["receptive_field"] == 22 and shown["output_size"] == 6
    assert "sees 22×22 input pixels" in fig.get_axes()[0].get_title()
    _, gap = widgets.receptive_field_figure(model, image, "gap")
    assert gap["patch"] == pytest.approx((-2.0, -2.0, 29.0, 29.0))  # the whole digit and then some
    with pytest.raises(ValueError, match="convblock1.0"):
        widgets.receptive_field_figure(model, image, "nope")


def test_receptive_field_explorer_lists_the_layers(mnist_root):
    box = widgets.receptive_field_explorer(get_model("model_1"), data_root=mnist_root)
    assert box.controls["layer"].options[0] == "convblock1.0"
    box.controls["layer"].value = "gap"
    assert box.figure.get_axes()[0].get_title().startswith("gap: output 1×1")


def test_confusion_matrix_and_per_class_accuracy(predictions):
    matrix = plots.confusion_matrix(predictions)
    assert matrix.sum() == 8 and matrix[1, 7] == 1 and matrix[1, 1] == 0 and matrix[3, 3] == 1
    accuracy = plots.per_class_accuracy(predictions)
    assert accuracy[1] == 0 and accuracy[3] == 100 and accuracy[2] == 0  # no true 2s: 0, not a division error
    fig = plots.plot_confusion(predictions)
    mat_ax, bar_ax = fig.get_axes()[:2]
    assert mat_ax.get_title() == "Mistakes: 4 of 8"
    assert sorted(t.get_text() for t in mat_ax.texts) == ["1", "1", "1", "1"]
    assert [round(p.get_height()) for p in bar_ax.patches][:4] == [100, 0, 0, 100]
