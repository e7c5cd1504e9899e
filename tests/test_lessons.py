"""What a lesson shows: the library's real source, and the diffs between iterations."""

import inspect
import json
from pathlib import Path

import torch
from IPython.display import Markdown

from mnist_kit import engine, lessons, models
from mnist_kit.inference import Predictions
from mnist_kit.models import get_model, layer_shapes
from mnist_kit.recipes import Recipe, get_recipe


def test_source_markdown_holds_the_current_source():
    text = lessons.source_markdown(models.conv_block, engine.train)
    for obj, path in ((models.conv_block, "mnist_kit/models.py"), (engine.train, "mnist_kit/engine.py")):
        header = f"**`{path}`** · `{obj.__name__}`"
        assert f"{header}\n\n```python\n{inspect.getsource(obj)}```" in text
    assert text.index("conv_block") < text.index("def train(")  # in the order asked for


def test_source_markdown_dedents_a_method():
    text = lessons.source_markdown(Recipe.schedule)
    assert "**`mnist_kit/recipes.py`** · `Recipe.schedule`" in text
    assert "```python\ndef schedule(self) -> dict:\n" in text  # not indented as in the class
    assert "return dict(" in text and "scheduler=self.scheduler" in text


def test_show_source_is_the_markdown_for_a_notebook():
    shown = lessons.show_source(models.conv_block)
    assert isinstance(shown, Markdown) and shown.data == lessons.source_markdown(models.conv_block)


def test_recipe_changes_lists_only_what_differs():
    text = lessons.recipe_changes(get_recipe("model_2"), get_recipe("model_3"))
    lines = text.splitlines()
    assert lines[0] == "| setting | model_2 | model_3 |"
    for row in (
        "| rotation | 5 | 7 |",
        "| jitter | 0.1 | 0 |",
        "| scheduler | step | multistep |",
        "| step_size | 6 | 0 |",
        "| milestones | none | 5, 10 |",
    ):
        assert row in lines
    assert get_recipe("model_2").lr == get_recipe("model_3").lr  # equal, so not listed
    assert not any(line.startswith(("| lr ", "| name ", "| epochs ", "| dropout ")) for line in lines)
    same = lessons.recipe_changes(get_recipe("model_4"), get_recipe("model_4").with_overrides(seed=1))
    assert "share every setting" in same


def test_model_changes_model_1_to_model_2():
    # Worked out by hand (as in the write-up's tables): block 6 goes from 16 -> 14 to 16 -> 12 channels,
    # Conv 16*14*9 = 2,016 + BatchNorm 2*14 = 28 -> 2,044; Conv 16*12*9 = 1,728 + BatchNorm 24 -> 1,752: -292.
    # The head takes 14 -> 12 inputs: 140 -> 120 (-20). Blocks 4 and 5 are the same in both.
    assert (layer_shapes(get_model("model_1"))[22:26], layer_shapes(get_model("model_2"))[22:26]) == (
        [
            ("Conv2d", (14, 6, 6), 2016),
            ("ReLU", (14, 6, 6), 0),
            ("BatchNorm2d", (14, 6, 6), 28),
            ("Dropout", (14, 6, 6), 0),
        ],
        [
            ("Conv2d", (12, 6, 6), 1728),
            ("ReLU", (12, 6, 6), 0),
            ("BatchNorm2d", (12, 6, 6), 24),
            ("Dropout", (12, 6, 6), 0),
        ],
    )
    lines = lessons.model_changes("model_1", "model_2").splitlines()
    assert lines[2:] == [
        "| convblock6 | 16 → 14 | 16 → 12 | 2,044 → 1,752 (−292) |",
        "| head | 14 → 10 | 12 → 10 | 140 → 120 (−20) |",
        "| **total** |  |  | **8,246 → 7,934 (−312)** |",  # tables.markdown_table: an inner empty cell is "|  |"
    ]


def test_model_changes_model_3_to_model_4():
    # By hand: block 4 10 -> 16 (1,440 + 32) becomes 10 -> 14 (1,260 + 28): 1,472 -> 1,288 (-184);
    # block 5 16 -> 16 (2,304 + 32) becomes 14 -> 16 (2,016 + 32): 2,336 -> 2,048 (-288);
    # block 6 16 -> 12 (1,752) becomes 16 -> 14 (2,044): +292; head 120 -> 140: +20. Total 7,934 -> 7,774.
    lines = lessons.model_changes("model_3", "model_4").splitlines()
    assert lines[2:] == [
        "| convblock4 | 10 → 16 | 10 → 14 | 1,472 → 1,288 (−184) |",
        "| convblock5 | 16 → 16 | 14 → 16 | 2,336 → 2,048 (−288) |",
        "| convblock6 | 16 → 12 | 16 → 14 | 1,752 → 2,044 (+292) |",
        "| head | 12 → 10 | 14 → 10 | 120 → 140 (+20) |",
        "| **total** |  |  | **7,934 → 7,774 (−160)** |",
    ]
    assert lessons.model_changes("model_2", "model_3").splitlines()[2:] == [
        "| **total** |  |  | **7,934 → 7,934 (±0)** |"
    ]  # the same network


def _record_with(test_accs: list[float], train_accs: list[float], lrs: list[float], scheduler: str = "step") -> dict:
    """A valid record (the committed Model_1's, for its fields) with a made-up history."""
    record = json.loads((Path(__file__).resolve().parent.parent / "results" / "model_1.json").read_text())
    history = [
        dict(epoch=i + 1, lr=lr, train_loss=0.1, train_acc=train, test_loss=0.05, test_acc=test, seconds=1.0)
        for i, (test, train, lr) in enumerate(zip(test_accs, train_accs, lrs, strict=True))
    ]
    return {
        **record,
        "epochs": len(history),
        "history": history,
        "config": {**record["config"], "scheduler": scheduler},
    }


def test_analysis_numbers_reads_the_cuts_and_the_gap_from_the_record():
    record = _record_with(
        test_accs=[98.0, 98.5, 99.0, 99.3, 99.2, 99.25],
        train_accs=[90.0, 98.9, 98.8, 99.0, 99.5, 99.1],
        lrs=[0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001],
    )
    text = lessons.analysis_numbers(record).data
    assert "Epoch 1 ended at 98.00 % test accuracy (train 90.00 %); the best epoch, 4 of 6, reached 99.30 %." in text
    # the first cut: 98.50 at epoch 2, the best of epochs 3-4 is 99.30; the second: 99.30 at epoch 4, best 99.25
    assert (
        "After epoch 2 the learning rate fell from 0.01 to 0.001: test accuracy 98.50 % at epoch 2, "
        "best 99.30 % in epochs 3–4 (+0.80 points)." in text
    )
    assert (
        "After epoch 4 the learning rate fell from 0.001 to 0.0001: test accuracy 99.30 % at epoch 4, "
        "best 99.25 % in epochs 5–6 (-0.05 points)." in text
    )
    assert "Training accuracy was below test accuracy in 4 of 6 epochs." in text  # epochs 1, 3, 4, 6
    assert "misread" not in text  # no predictions given, no mistakes line


def test_analysis_numbers_reads_no_cuts_from_a_one_cycle_record():
    record = _record_with([98.0, 99.0], [97.0, 99.5], [0.01, 0.05], scheduler="onecycle")
    text = lessons.analysis_numbers(record).data
    assert "learning rate fell" not in text and "below test accuracy in 1 of 2 epochs" in text


def test_analysis_numbers_names_the_most_frequent_mistakes():
    labels = torch.tensor([2, 2, 2, 6, 6, 5, 1, 1, 0, 0])
    guesses = torch.tensor([7, 7, 2, 5, 6, 3, 1, 1, 0, 0])  # 2 -> 7 twice, 6 -> 5, 5 -> 3; no 3 at all
    predictions = Predictions(torch.zeros(10, 1, 28, 28), labels, guesses, torch.full((10,), 0.9))
    text = lessons.analysis_numbers(_record_with([99.0], [98.0], [0.01]), predictions, most=2).data
    assert (
        "4 test digits are misread; the most frequent confusions: 2 read as 7 (2 times), 5 read as 3 (1 time)." in text
    )
    assert "The weakest digit is 5: 0.00 % of its test images are read right." in text


def _sweep_run(seed: int, averaged: list[float], raw: list[float]) -> dict:
    history = [
        {"epoch": e, "test_acc": a, "raw_test_acc": r}
        for e, (a, r) in enumerate(zip(averaged, raw, strict=True), start=1)
    ]
    return {"seed": seed, "evaluated_on": "test", "history": history}


def test_hold_rates_name_the_seeds_that_held_with_a_wilson_interval():
    runs = [
        _sweep_run(11, [99.0, 99.41, 99.40, 99.45, 99.50, 99.42], [99.0, 99.3, 99.5, 99.5, 99.5, 99.5]),  # both windows
        _sweep_run(12, [99.0, 99.30, 99.39, 99.45, 99.50, 99.42], [99.0, 99.3, 99.3, 99.3, 99.3, 99.3]),  # last 3 only
        _sweep_run(13, [99.0, 99.50, 99.50, 99.50, 99.39, 99.50], [99.0, 99.3, 99.5, 99.5, 99.5, 99.5]),  # neither
        _sweep_run(14, [99.0, 99.3, 99.3, 99.3, 99.3, 99.3], [99.0, 99.3, 99.3, 99.3, 99.3, 99.3]),
        _sweep_run(15, [99.0, 99.3, 99.3, 99.3, 99.3, 99.3], [99.0, 99.3, 99.3, 99.3, 99.3, 99.3]),
    ]
    lines = lessons.hold_rates_markdown(runs).splitlines()
    # Wilson by hand, z = 1.96: 2 of 5 -> (2 + 1.92) / 8.84 ± 1.96 / 8.84 * sqrt(2 * 3 / 5 + 0.96) = 0.118, 0.769;
    # 1 of 5 -> 0.036, 0.624 (scipy.stats.binomtest(k, 5).proportion_ci(method="wilson") agrees).
    assert lines[2:] == [
        "| weight average | last 3 epochs | 11, 12 | 2 of 5 | 12–77 % |",
        "| weight average | last 5 epochs | 11 | 1 of 5 | 4–62 % |",
    ]
    raw = lessons.hold_rates_markdown(runs, raw=True).splitlines()
    assert raw[4:] == [
        "| raw weights | last 3 epochs | 11, 13 | 2 of 5 | 12–77 % |",
        "| raw weights | last 5 epochs | none | 0 of 5 | 0–43 % |",
    ]
