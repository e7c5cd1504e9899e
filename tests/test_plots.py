from pathlib import Path

import pytest
import torch
from test_report import fake_record

from mnist_kit import engine, plots
from mnist_kit.inference import Predictions
from mnist_kit.models import get_model
from mnist_kit.recipes import get_recipe
from mnist_kit.records import load_record

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def predictions():
    images = torch.rand(8, 1, 28, 28)
    labels = torch.tensor([0, 1, 1, 3, 4, 1, 6, 7])
    predicted = torch.tensor([0, 7, 2, 3, 9, 4, 6, 7])
    confidence = torch.tensor([0.9, 0.6, 0.8, 0.95, 0.5, 0.99, 0.7, 0.9])
    return Predictions(images, labels, predicted, confidence)


def test_augmented_grid_shows_originals_and_draws(mnist_root):
    fig = plots.show_augmented(get_recipe("model_3"), n=5, draws=2, data_root=mnist_root)
    axes = fig.get_axes()
    assert len(axes) == 3 * 5
    assert [ax.get_title() for ax in axes[:5]] == ["label 5", "label 0", "label 4", "label 1", "label 9"]
    assert axes[0].get_ylabel() == "original" and axes[10].get_ylabel() == "draw 2"
    originals = [ax.get_images()[0].get_array() for ax in axes[:5]]
    drawn = [ax.get_images()[0].get_array() for ax in axes[5:10]]
    assert all(image.shape == (28, 28) for image in originals + drawn)
    assert sum((a != b).any() for a, b in zip(originals, drawn, strict=True)) >= 4  # rotated, so (almost) all differ
    assert "±7°" in fig._suptitle.get_text() and "shift" not in fig._suptitle.get_text()
    shifted = plots.show_augmented(get_recipe("model_4b"), n=5, draws=1, data_root=mnist_root)
    assert "shift ±1 px" in shifted._suptitle.get_text()


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
    for row, raw in zip(record["history"], [97.0, 99.1, 99.38], strict=True):
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
    empty = plots.plot_sweep([]).get_axes()[0]
    assert "make sweep" in empty.texts[0].get_text()


def test_misclassified_grid_shows_the_surest_mistakes_first():
    images = torch.zeros(6, 1, 28, 28)
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    predicted = torch.tensor([0, 7, 2, 8, 4, 9])
    confidence = torch.tensor([0.9, 0.6, 0.8, 0.95, 0.5, 0.7])
    fig = plots.plot_misclassified(Predictions(images, labels, predicted, confidence), n=2, columns=2)
    titles = [ax.get_title() for ax in fig.get_axes() if ax.get_title()]
    assert titles == ["true 3 → 8\n95% sure", "true 5 → 9\n70% sure"]
    assert fig._suptitle.get_text().startswith("3 of 6 test digits misclassified")


def test_schedule_plot_marks_the_cuts_of_a_multistep_recipe():
    ax = plots.plot_schedule(get_recipe("model_3")).get_axes()[0]  # MultiStepLR, milestones 5 and 10, ×0.1
    rate, *cuts = ax.get_lines()
    assert rate.get_label() == "learning rate" and ax.get_yscale() == "log"
    assert list(rate.get_xdata()) == list(range(1, 17))  # one rate per epoch, the last drawn to the end of epoch 15
    assert list(rate.get_ydata()) == pytest.approx([0.01] * 5 + [0.001] * 5 + [0.0001] * 6)
    assert [c.get_label() for c in cuts] == ["from epoch 6: 0.01 → 0.001", "from epoch 11: 0.001 → 0.0001"]
    assert [c.get_xdata()[0] for c in cuts] == [6, 11]
    step = plots.plot_schedule(get_recipe("model_1")).get_axes()[0]  # StepLR every 6 epochs
    assert [line.get_label() for line in step.get_lines()[1:]] == [
        "from epoch 7: 0.01 → 0.001",
        "from epoch 13: 0.001 → 0.0001",
    ]


def test_schedule_plot_marks_the_onecycle_peak():
    ax = plots.plot_schedule(get_recipe("model_4"), steps_per_epoch=10).get_axes()[0]
    rate, peak = ax.get_lines()  # no cut lines: one cycle changes the rate every batch
    assert len(rate.get_ydata()) == 15 * 10 + 1 and max(rate.get_ydata()) == pytest.approx(0.2)
    # 30 % of 150 steps warm up: torch reaches the peak after 0.3 * 150 - 1 = 44 steps, 4.4 epochs in
    assert peak.get_xdata()[0] == pytest.approx(5.4) and peak.get_ydata()[0] == pytest.approx(0.2)
    assert [t.get_text() for t in ax.texts] == ["peak 0.2 in epoch 5"]


def test_iterations_plot_overlays_the_runs_and_the_original_log():
    records = [
        fake_record([99.0 + i / 10, 99.3, 99.4 + i / 100], recipe=f"model_{i}", parameters=p)
        for i, p in zip((1, 2, 3, 4), (8246, 7934, 7934, 7774), strict=True)
    ]
    ax = plots.plot_iterations(records).get_axes()[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines) == [
        "model_1 (8,246 parameters)",
        "model_2 (7,934 parameters)",
        "model_3 (7,934 parameters)",
        "model_4 (7,774 parameters)",
        "original write-up, Model_4",
        "target 99.4 %",
    ]
    assert list(lines["model_3 (7,934 parameters)"].get_ydata()) == [99.3, 99.3, 99.43]
    original = lines["original write-up, Model_4"]
    # copied from the write-up's "Logs from local model run" (../shared/seed/Assignment_7.md)
    assert list(original.get_ydata()) == [
        98.36,
        98.73,
        99.07,
        99.12,
        99.39,
        99.39,
        99.41,
        99.38,
        99.39,
        99.43,
        99.40,
        99.44,
        99.43,
        99.43,
        99.42,
    ]
    assert list(original.get_xdata()) == list(range(1, 16)) and original.get_linestyle() == "--"
    assert ax.get_ylim() == pytest.approx((99.0, 99.6))


def _stepped(recipe, steps_per_epoch: int) -> tuple[list[float], list[float]]:
    """Learning rate and momentum of every step of a real SGD optimizer driven as ``fit`` drives it."""
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    scheduler = engine.make_scheduler(optimizer, **recipe.schedule(), steps_per_epoch=steps_per_epoch)
    rates, momenta = [], []
    for _epoch in range(recipe.epochs):
        for _batch in range(steps_per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            momenta.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            if recipe.scheduler == "onecycle":
                scheduler.step()
        if recipe.scheduler != "onecycle":
            scheduler.step()
    return rates, momenta


def test_schedule_plot_shows_the_momentum_one_cycle_really_uses():
    recipe = get_recipe("model_4")  # OneCycleLR: torch cycles SGD's momentum against the learning rate
    rates, momenta = _stepped(recipe, 469)
    lr_ax, momentum_ax = plots.plot_schedule(recipe).get_axes()
    lr_drawn, momentum_drawn = lr_ax.get_lines()[0].get_ydata(), momentum_ax.get_lines()[0].get_ydata()
    assert list(lr_drawn[:-1]) == rates and list(momentum_drawn[:-1]) == momenta  # exactly what is plotted
    assert len(momenta) == 15 * 469 and momentum_ax.get_ylabel() == "momentum"
    peak = rates.index(max(rates))
    # the recipe's 0.9 is overridden: 0.95 at the start, 0.85 where the rate peaks, back to 0.95 at the end
    assert (momenta[0], momenta[peak], momenta[-1]) == (0.95, pytest.approx(0.85), pytest.approx(0.95, abs=1e-6))
    assert momentum_ax.get_title() == "momentum: 0.95 → 0.85 → 0.95"


def test_schedule_plot_keeps_the_momentum_of_a_step_schedule():
    recipe = get_recipe("model_1")  # StepLR: the schedule never touches the momentum
    momentum_ax = plots.plot_schedule(recipe).get_axes()[1]
    drawn = list(momentum_ax.get_lines()[0].get_ydata())
    assert drawn[:-1] == _stepped(recipe, 1)[1] == [0.9] * 15
    assert momentum_ax.get_title() == "momentum: 0.9 throughout"


def test_augmentation_figure_turns_the_digits(mnist_root):
    from mnist_kit.data import load_idx_tensors

    images = load_idx_tensors(mnist_root)[0][:4]
    fig = plots.augmentation_figure(images, rotation=30, brightness=0.5, contrast=1.0)
    axes = fig.get_axes()
    assert len(axes) == 8 and axes[0].get_ylabel() == "before" and axes[4].get_ylabel() == "after"
    before, after = axes[0].get_images()[0].get_array(), axes[4].get_images()[0].get_array()
    assert after.max() <= 0.5 + 1e-6 < before.max()  # half as bright
    assert "rotation +30.0°, brightness ×0.50" in fig._suptitle.get_text()
    same = plots.augmentation_figure(images)  # neutral sliders change nothing
    assert (same.get_axes()[0].get_images()[0].get_array() == same.get_axes()[4].get_images()[0].get_array()).all()


def test_mistakes_filter_and_order(predictions):
    assert plots.mistakes_of_class(predictions).tolist() == [5, 2, 1, 4]  # surest first
    assert plots.mistakes_of_class(predictions, 1).tolist() == [5, 2, 1]
    fig, shown = plots.mistake_figure(predictions, position=1, true_class=1)
    assert shown == {"index": 2, "true": 1, "predicted": 2, "confidence": pytest.approx(0.8), "position": 1, "count": 3}
    assert fig.get_axes()[0].get_title() == "true 1, predicted 2 (80% sure)\nmistake 2 of 3"
    _, none = plots.mistake_figure(predictions, true_class=0)
    assert none == {"count": 0}


def test_receptive_field_patch_of_the_last_conv():
    model = get_model("model_4")
    image = torch.zeros(28, 28, dtype=torch.uint8)
    fig, shown = plots.receptive_field_figure(model, image, "convblock6.0", x=0, y=5)
    # the first output pixel's centre sits at input pixel 8.5; 22 pixels wide -> 0..17 (x), row 5 -> 10..31 (y)
    assert shown["patch"] == pytest.approx((-2.0, 8.0, 19.0, 29.0))
    assert shown["receptive_field"] == 22 and shown["output_size"] == 6
    assert "sees 22×22 input pixels" in fig.get_axes()[0].get_title()
    _, gap = plots.receptive_field_figure(model, image, "gap")
    assert gap["patch"] == pytest.approx((-2.0, -2.0, 29.0, 29.0))  # the whole digit and then some
    with pytest.raises(ValueError, match="convblock1.0"):
        plots.receptive_field_figure(model, image, "nope")


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


def test_confusion_numbers_contrast_with_their_cell():
    """A count on a dark red cell is white, on a pale one black: every number readable."""
    import matplotlib.colors as mcolors

    labels = torch.tensor([1] * 20 + [2] * 2)
    guesses = torch.tensor([7] * 20 + [3] * 2)  # twenty 1s taken for 7 (darkest cell), two 2s for 3 (pale)
    predictions = Predictions(torch.rand(22, 1, 28, 28), labels, guesses, torch.full((22,), 0.9))
    mat_ax = plots.plot_confusion(predictions).get_axes()[0]
    image = mat_ax.get_images()[0]
    for text in mat_ax.texts:
        x, y = text.get_position()
        cell = image.cmap(image.norm(image.get_array()[int(y), int(x)]))
        luminance = 0.2126 * cell[0] + 0.7152 * cell[1] + 0.0722 * cell[2]
        assert (mcolors.to_rgb(text.get_color()) == (1, 1, 1)) == (luminance < 0.5), (text.get_text(), luminance)
    assert {t.get_text() for t in mat_ax.texts} == {"20", "2"}


def _every_figure(mnist_root, predictions):
    """One call of each plotting function of ``plots`` (name -> its figure), on small inputs."""
    from mnist_kit import features, records
    from mnist_kit.paths import default_results_dir

    model = get_model("model_1")
    image = torch.rand(1, 1, 28, 28)
    frontier = records.frontier_points(default_results_dir())
    return {
        "plot_history": plots.plot_history(fake_record([98.0, 99.3, 99.45])),
        "plot_sweep": plots.plot_sweep([fake_record([99.4, 99.5, 99.45]), fake_record([99.2, 99.3, 99.3])]),
        "plot_schedule": plots.plot_schedule(get_recipe("model_4"), steps_per_epoch=4),
        "plot_iterations": plots.plot_iterations([fake_record([99.1, 99.3, 99.45])]),
        "plot_frontier": plots.plot_frontier(frontier),
        "budget_figure": plots.budget_figure((8, 8, 10, 12, 12, 10)),
        "message_figure": plots.message_figure("no such schedule"),
        "plot_comparison": plots.plot_comparison({"yours": [98.0, 99.0, 99.3], "the course's": [98.5, 99.2, 99.4]}),
        "plot_digit_rows": plots.plot_digit_rows({"digits": torch.rand(3, 1, 28, 28)}, "three digits"),
        "show_augmented": plots.show_augmented(get_recipe("model_3"), n=2, draws=1, data_root=mnist_root),
        "augmentation_figure": plots.augmentation_figure(
            torch.randint(0, 256, (2, 28, 28), dtype=torch.uint8), rotation=10
        ),
        "plot_misclassified": plots.plot_misclassified(predictions, n=2, columns=2),
        "plot_confusion": plots.plot_confusion(predictions),
        "mistake_figure": plots.mistake_figure(predictions)[0],
        "receptive_field_figure": plots.receptive_field_figure(model, image[0, 0], "gap")[0],
        "feature_maps_figure": plots.feature_maps_figure(model, image)[0],
        "drawn_digit_figure": plots.drawn_digit_figure(model, features.rasterise_strokes(features.VERTICAL_STROKE))[0],
    }


def test_every_plotting_function_gives_its_figure_alt_text(mnist_root, predictions):
    """Issue 34 section 5: each figure says what it shows, in words, and a notebook output carries it as the
    image's alt text (nbconvert's and the course website's ``image/png`` metadata)."""
    import inspect

    from mnist_kit.plots.figure import Figure

    makers = {
        name for name in plots.__all__ if "Figure" in str(inspect.signature(getattr(plots, name)).return_annotation)
    }
    figures = _every_figure(mnist_root, predictions)
    assert set(figures) == makers, "a plotting function without a case here: add one"
    for name, fig in figures.items():
        assert isinstance(fig, Figure), name
        assert len(fig.alt.split()) >= 5, (name, fig.alt)  # a sentence, not a label
        data, metadata = fig._repr_mimebundle_()
        assert data["image/png"].startswith(b"\x89PNG") and metadata == {"image/png": {"alt": fig.alt}}, name
    empty = plots.mistake_figure(predictions, true_class=0)[0]
    assert "no mistakes" in empty.alt


def test_a_kit_figure_without_alt_text_is_refused():
    from mnist_kit.plots.figure import Figure

    with pytest.raises(TypeError):
        Figure(figsize=(2, 2))  # alt is required where the figure is made
    with pytest.raises(ValueError, match="alt text"):
        Figure(figsize=(2, 2), alt="  ")


def test_a_shown_figure_puts_its_alt_text_in_the_notebook_output():
    """What a notebook cell records when its last value is a kit figure, with the inline backend's own PNG
    formatter registered (as ``%matplotlib inline`` does): the PNG and, beside it, the alt text."""
    from IPython.core.formatters import DisplayFormatter
    from matplotlib.figure import Figure as PlainFigure

    formatter = DisplayFormatter()
    formatter.formatters["image/png"].for_type(PlainFigure, lambda fig: b"\x89PNG inline")
    fig = plots.message_figure("a note")
    data, metadata = formatter.format(fig)
    assert data["image/png"] == b"\x89PNG inline"
    assert metadata["image/png"] == {"alt": "A note: a note"}


def test_history_plot_of_a_validation_run_draws_its_validation_curves():
    """A validation record has ``val_*`` columns, no ``test_*``: its curves are named for the split they are on."""
    record = load_record(ROOT / "results" / "validation" / "m4_ema1-seed1.json")  # weight-averaged, validation
    assert record.split == "validation" and "test_loss" not in record.history[0]
    loss_ax, acc_ax = plots.plot_history(record).get_axes()
    losses = {line.get_label(): list(line.get_ydata()) for line in loss_ax.get_lines()}
    assert losses["validation"] == [row["val_loss"] for row in record.history]
    lines = {line.get_label(): list(line.get_ydata()) for line in acc_ax.get_lines()}
    assert lines["validation (weight average)"] == record.accuracies()
    assert lines["validation (raw weights)"] == record.accuracies(raw=True) != record.accuracies()
