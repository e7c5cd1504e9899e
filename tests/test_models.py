import hashlib
import json
from pathlib import Path

import pytest
import torch
from seed_tables import SEED_TABLES

from mnist_kit import engine, features, lessons, models, records
from mnist_kit.models import (
    MODELS,
    Block,
    NetSpec,
    TinyNet,
    conv_budget,
    count_parameters,
    get_model,
    layer_shapes,
    receptive_field_table,
    summary,
)
from mnist_kit.report import signed

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", list(SEED_TABLES))
def test_layers_match_the_original_table(name):
    total, rows = SEED_TABLES[name]
    model = get_model(name)
    assert count_parameters(model) == total
    assert layer_shapes(model) == rows


@pytest.mark.parametrize("name", list(SEED_TABLES))
def test_summary_text_lists_every_seed_row(name):
    total, rows = SEED_TABLES[name]
    text = summary(get_model(name), show=False)
    assert f"Total params: {total:,}" in text
    lines = [line.split() for line in text.splitlines() if "[-1," in line]
    assert [line[0].rsplit("-", 1)[0] for line in lines] == [r[0] for r in rows]
    assert [int(line[-1].replace(",", "")) for line in lines] == [r[2] for r in rows]


def test_summary_leaves_rng_and_batchnorm_alone():
    model = get_model("model_4")
    model(torch.randn(4, 1, 28, 28))  # move the running stats off their initial values
    stats_before = {k: v.clone() for k, v in model.state_dict().items()}
    rng_before = torch.get_rng_state()
    summary(model, show=False)
    assert torch.equal(torch.get_rng_state(), rng_before)
    for key, value in model.state_dict().items():
        assert torch.equal(value, stats_before[key]), key
    assert model.training  # the caller's mode is kept


def test_summary_of_a_cpu_model_when_cuda_is_reported(monkeypatch):
    # torchsummary defaults to device="cuda" and builds CUDA inputs when CUDA exists; a CPU model
    # on a GPU machine must still be summarised. Simulate the GPU machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert "Total params: 7,774" in summary(get_model("model_4"), show=False)


def test_receptive_field_table_of_model_4():
    rows = receptive_field_table(get_model("model_4"))
    assert [r["layer"] for r in rows] == [
        "convblock1.0",
        "convblock2.0",
        "transition.0",
        "transition.1",
        "convblock3.0",
        "convblock4.0",
        "convblock5.0",
        "convblock6.0",
        "gap",
        "head",
    ]
    # r_out = r_in + (k-1) * j_in, worked by hand for this network
    assert [r["receptive_field"] for r in rows] == [3, 5, 5, 6, 10, 14, 18, 22, 32, 32]
    assert [r["jump"] for r in rows] == [1, 1, 1, 2, 2, 2, 2, 2, 12, 12]
    # the output sizes agree with the shapes the layers really produce
    conv_pool = [
        shape[-1] for typ, shape, _ in layer_shapes(get_model("model_4")) if typ in ("Conv2d", "MaxPool2d", "AvgPool2d")
    ]
    assert [r["output_size"] for r in rows] == conv_pool


def test_receptive_field_follows_the_modules():
    # A wider kernel in one layer must change the table: it is computed, not typed.
    model = get_model("model_1")
    model.convblock3[0] = torch.nn.Conv2d(10, 10, kernel_size=5, padding=1, bias=False)
    rows = {r["layer"]: r for r in receptive_field_table(model)}
    assert rows["convblock3.0"]["receptive_field"] == 6 + 4 * 2
    assert rows["convblock3.0"]["kernel"] == 5


def test_unknown_model_name_lists_choices():
    with pytest.raises(ValueError, match="model_1, model_2, model_3, model_4"):
        get_model("model_9")


def test_format_table_aligns_columns():
    text = models.format_table([{"a": 1, "bb": 22}, {"a": 333, "bb": 4}])
    lines = text.splitlines()
    assert lines[0].split() == ["a", "bb"] and lines[2].split() == ["1", "22"] and lines[3].split() == ["333", "4"]
    assert len({len(line) for line in lines}) == 1


# sha256 (first 16 hex digits) of each network's initial state_dict after torch.manual_seed(1): every key with
# its shape and dtype, then its values' bytes, in state_dict order. Computed once from the code before the one
# class (TinyNet's Model1 ... Model4 and SlimNet, whose blocks after the pool were named blocks.0, blocks.1 ...,
# counted here as convblock3, convblock4 ...) and hardcoded: the one class must create its modules in the same
# order, so a committed seed still gives a record's first epochs exactly.
INITIAL_WEIGHTS = {
    "model_1": "f5180d41c3afec1c",
    "model_2": "b366311b13966dae",
    "model_3": "b366311b13966dae",
    "model_4": "8c15d0a43d943179",
    "slim_6k": "f7618f87d805668f",
    "slim_5k_a": "b89e4df255c71faa",
    "slim_5k_b": "245b531489cc4ec9",
    "slim_5k_c": "65491c550e1bddc5",
    "slim_4k": "f572dc79afe99e43",
    "slim_3k": "d44c3574a1174209",
    "model_5": "b89e4df255c71faa",
    # Model_5's attempt-2 candidates: digests taken when they were registered (they had no earlier class), so that a
    # later change to the class cannot silently change the runs recorded for them
    "m5_early": "e68c78b44e622a0d",
    "m5_5x5": "c5f6d31fe18dd755",
    "m5_sep": "94b443e2ddb40c0c",
}


def weights_digest(model: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for key, value in model.state_dict().items():
        digest.update(f"{key}:{tuple(value.shape)}:{value.dtype};".encode())
        digest.update(value.contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


@pytest.mark.parametrize("name", list(MODELS))
def test_a_seed_gives_the_initial_weights_it_gave_before_the_one_class(name):
    torch.manual_seed(1)
    assert weights_digest(get_model(name)) == INITIAL_WEIGHTS[name]
    assert set(INITIAL_WEIGHTS) == set(MODELS)  # a new network gets its digest here


@pytest.mark.parametrize("name", list(MODELS))
def test_every_block_is_named_one_way(name):
    model = get_model(name)
    after_pool = len(MODELS[name].after_pool)
    convblocks = [f"convblock{i}" for i in range(1, 3 + after_pool)]
    assert model.block_names == [*convblocks[:2], "transition", *convblocks[2:]]
    assert [n for n, _ in model.named_children()] == [*model.block_names, "gap", "head"]


@pytest.mark.parametrize("name", list(MODELS))
def test_every_tool_works_on_every_registered_model(name):
    model = get_model(name).eval()
    total = count_parameters(model)
    assert f"Total params: {total:,}" in summary(model, show=False)
    assert receptive_field_table(model)[-1]["layer"] == "head"
    budget = conv_budget(model)
    assert [row["block"] for row in budget] == [n.replace("convblock", "block ") for n in model.block_names] + ["head"]
    assert sum(row["parameters"] for row in budget) == total
    image = features.preprocess_drawing(features.rasterise_strokes(features.VERTICAL_STROKE))
    maps = features.block_activations(model, image)
    assert list(maps) == model.block_names and set(features.block_receptive_fields(model)) >= set(maps)
    assert torch.allclose(features.predict_digit(model, image).sum(), torch.tensor(1.0))  # a drawn digit is read
    last = lessons.model_changes("model_4", name).splitlines()[-1]
    assert last.endswith(f"**7,774 → {total:,} ({signed(total - 7_774)})** |")


def test_model_changes_model_4_to_model_5_lists_the_dropped_block():
    # By hand: block 1 1 -> 10 (90 + 20 = 110) becomes 1 -> 8 (72 + 16 = 88); Model_5 has no block 6, whose
    # 16 -> 14 cost 2,016 + 28 = 2,044; the head reads 16 channels instead of 14: 140 -> 160.
    lines = lessons.model_changes("model_4", "model_5").splitlines()
    assert lines[2] == "| convblock1 | 1 → 10 | 1 → 8 | 110 → 88 (−22) |"
    assert "| convblock6 | 16 → 14 | – | 2,044 → 0 (−2,044) |" in lines
    assert lines[-2:] == [
        "| head | 14 → 10 | 16 → 10 | 140 → 160 (+20) |",
        "| **total** |  |  | **7,774 → 4,836 (−2,938)** |",
    ]
    back = lessons.model_changes("model_5", "model_4").splitlines()
    assert (
        back[-3] == "| convblock6 | – | 16 → 14 | 0 → 2,044 (+2,044) |"
    )  # in its place: after block 5, before the head


def test_a_separable_block_and_another_kernel_size_are_counted_by_hand():
    # Model_5 with block 5 depthwise-separable (3x3 per channel: 9 * 12, then 1x1: 12 * 16, BatchNorm 2 * 16) and
    # block 3 a 5x5 padded by 1 (25 * 8 * 10 + BatchNorm 20; 12 -> 10 as the 3x3 it replaces).
    model_5 = MODELS["model_5"]
    spec = NetSpec(
        before_pool=model_5.before_pool,
        transition=model_5.transition,
        after_pool=(Block(10, kernel_size=5, padding=1), Block(12), Block(16, separable=True)),
    )
    model = TinyNet(spec)
    rows = {row["block"]: row for row in conv_budget(model)}
    assert rows["block 5"]["conv"] == "3×3 per channel + 1×1, 12→16" and rows["block 5"]["parameters"] == 108 + 192 + 32
    assert rows["block 3"]["conv"] == "5×5, 8→10" and rows["block 3"]["parameters"] == 2_000 + 20
    assert rows["block 5"]["output"] == "16×6×6" and model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert count_parameters(model) == 4_836 - (720 + 20) + 2_020 - (1_728 + 32) + 332
    assert spec.widths == model_5.widths


# A few committed checkpoints, each re-evaluated on the 10,000 test images: Model_4's (saved by the old Model4)
# and two saved by the old SlimNet, whose keys were blocks.0, blocks.1 ... All 41 committed checkpoints were checked
# once when the class changed (33 on the test set, the 8 of results/validation/ on the validation split): all exact.
CHECKPOINTS = ["model_4.pt", "model_5.pt", "frontier/slim_3k-seed11.pt"]


@pytest.mark.parametrize("checkpoint", CHECKPOINTS)
def test_committed_checkpoints_reevaluate_to_their_recorded_accuracy(checkpoint, mnist_root):
    path = ROOT / "results" / checkpoint
    recorded = json.loads(path.with_suffix(".json").read_text())["history"][-1]["test_acc"]
    predictions = engine.predict_test_set(records.load_trained_model(path.with_suffix(".json")), mnist_root)
    assert 100 * (predictions.predicted == predictions.labels).sum().item() / len(predictions.labels) == recorded


def test_a_checkpoint_from_before_the_one_class_loads():
    model = get_model("model_5")
    old_names = {}  # the keys SlimNet saved: blocks.0 ... for the blocks after the pool
    for key, value in model.state_dict().items():
        for i in (3, 4, 5):
            key = key.replace(f"convblock{i}.", f"blocks.{i - 3}.")
        old_names[key] = value
    assert "blocks.2.2.running_mean" in old_names and not any(k.startswith("convblock3") for k in old_names)
    fresh = get_model("model_5")
    fresh.load_state_dict(old_names)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in fresh.state_dict().items())
