"""Every widget, driven headless: its controls, and that a change of one redraws ``plots``' figure."""

import ipywidgets as W
import pytest
import torch

from mnist_kit import widgets
from mnist_kit.inference import Predictions
from mnist_kit.models import get_model
from mnist_kit.recipes import get_recipe


@pytest.fixture
def predictions():
    images = torch.rand(8, 1, 28, 28)
    labels = torch.tensor([0, 1, 1, 3, 4, 1, 6, 7])
    predicted = torch.tensor([0, 7, 2, 3, 9, 4, 6, 7])
    confidence = torch.tensor([0.9, 0.6, 0.8, 0.95, 0.5, 0.99, 0.7, 0.9])
    return Predictions(images, labels, predicted, confidence)


def test_augmentation_explorer_redraws_on_a_slider_change(mnist_root):
    box = widgets.augmentation_explorer(n=3, data_root=mnist_root)
    assert isinstance(box.controls["rotation"], W.FloatSlider)
    assert "rotation +7.0°" in box.figure._suptitle.get_text()
    box.controls["rotation"].value = -20.0
    assert "rotation -20.0°" in box.figure._suptitle.get_text()


def test_mistake_browser_follows_the_class_filter(predictions):
    box = widgets.mistake_browser(predictions)
    slider, classes = box.controls["position"], box.controls["true_class"]
    assert slider.max == 3
    classes.value = 1
    assert slider.max == 2 and slider.value == 0


def test_schedule_preview_draws_the_recipe_and_reports_bad_milestones():
    box = widgets.schedule_preview(get_recipe("model_3"))
    assert box.controls["scheduler"].value == "multistep" and box.controls["milestones"].value == "5,10"
    assert list(box.figure.get_axes()[0].get_lines()[0].get_ydata()) == pytest.approx(
        [0.01] * 5 + [0.001] * 5 + [0.0001] * 6  # per epoch, the last drawn to the end of epoch 15
    )
    assert box.controls["scheduler"].options == ("step", "multistep", "onecycle")
    with pytest.raises(ValueError, match="whole numbers"):
        widgets._parse_milestones("5, ten")
    assert box.figure.get_axes()[0].get_title() == "model_3: multistep, 0.01 → 0.0001"
    box.controls["scheduler"].value = "onecycle"  # the same figure as plots.plot_schedule, momentum panel included
    assert box.figure.get_axes()[1].get_title() == "momentum: 0.95 → 0.85 → 0.95"
    box.controls["milestones"].value = "5, ten"  # the widget shows the message instead of failing
    assert "whole numbers" in box.figure.texts[0].get_text()


def test_receptive_field_explorer_lists_the_layers(mnist_root):
    box = widgets.receptive_field_explorer(get_model("model_1"), data_root=mnist_root)
    assert box.controls["layer"].options[0] == "convblock1.0"
    box.controls["layer"].value = "gap"
    assert box.figure.get_axes()[0].get_title().startswith("gap: output 1×1")


def test_widgets_hold_controls_only_and_plots_draw():
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(widgets))
    called = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"Figure", "Rectangle"}, "widgets.py builds a figure itself; figure builders live in plots"
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(m and m.startswith("matplotlib") for m in imported)
    assert len(inspect.getsource(widgets).splitlines()) < 400
