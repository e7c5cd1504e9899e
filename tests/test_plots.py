import pytest
import torch

from mnist_kit import plots
from mnist_kit.engine import Predictions
from mnist_kit.recipes import get_recipe
from test_report import fake_record


def test_augmented_grid_shows_originals_and_draws(mnist_root):
    fig = plots.show_augmented(get_recipe("model_3"), n=5, draws=2, data_root=mnist_root)
    axes = fig.get_axes()
    assert len(axes) == 3 * 5
    assert [ax.get_title() for ax in axes[:5]] == ["label 5", "label 0", "label 4", "label 1", "label 9"]
    assert axes[0].get_ylabel() == "original" and axes[10].get_ylabel() == "draw 2"
    originals = [ax.get_images()[0].get_array() for ax in axes[:5]]
    drawn = [ax.get_images()[0].get_array() for ax in axes[5:10]]
    assert all(image.shape == (28, 28) for image in originals + drawn)
    assert sum((a != b).any() for a, b in zip(originals, drawn)) >= 4  # rotated, so (almost) all differ
    assert "±7°" in fig._suptitle.get_text()


def test_history_plot_has_both_curves_and_the_target_line():
    fig = plots.plot_history(fake_record([98.0, 99.3, 99.45]))
    loss_ax, acc_ax = fig.get_axes()
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "test"]
    labels = [line.get_label() for line in acc_ax.get_lines()]
    assert labels == ["train", "test", "target 99.4 %"]
    assert list(acc_ax.get_lines()[1].get_ydata()) == [98.0, 99.3, 99.45]
    assert acc_ax.get_lines()[2].get_ydata()[0] == pytest.approx(99.4)


def test_history_plot_shows_the_raw_weights_beside_the_average():
    record = fake_record([98.0, 99.3, 99.45])
    for row, raw in zip(record["history"], [97.0, 99.1, 99.38]):
        row["raw_test_acc"] = raw
    acc_ax = plots.plot_history(record).get_axes()[1]
    lines = {line.get_label(): list(line.get_ydata()) for line in acc_ax.get_lines()}
    assert lines["test (weight average)"] == [98.0, 99.3, 99.45]
    assert lines["test (raw weights)"] == [97.0, 99.1, 99.38]


def test_sweep_plot_marks_each_seed_against_the_target():
    records = [fake_record([99.0, 99.2, 99.41, 99.45, 99.43, 99.5], seed=s) for s in (11, 12)]
    records[1]["history"][-2]["test_acc"] = 99.38
    ax = plots.plot_sweep(records).get_axes()[0]
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    assert lines["final epoch"] == [99.5, 99.5]
    assert lines["lowest of last 3"] == [99.43, 99.38]
    assert lines["lowest of last 5"] == [99.2, 99.2]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["11", "12"]


def test_misclassified_grid_shows_the_surest_mistakes_first():
    images = torch.zeros(6, 1, 28, 28)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    predicted = torch.tensor([0, 7, 2, 8, 4, 9])
    confidence = torch.tensor([0.9, 0.6, 0.8, 0.95, 0.5, 0.7])
    fig = plots.plot_misclassified(Predictions(images, labels, predicted, confidence), n=2, columns=2)
    titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
    assert titles == ["true 3 → 8\n95% sure", "true 5 → 9\n70% sure"]
    assert fig._suptitle.get_text().startswith("3 of 6 test digits misclassified")
