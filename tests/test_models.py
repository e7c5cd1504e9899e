import pytest
import torch
from seed_tables import SEED_TABLES

from mnist_kit import models
from mnist_kit.models import MODELS, count_parameters, get_model, layer_shapes, receptive_field_table, summary


@pytest.mark.parametrize("name", list(MODELS))
def test_layers_match_the_original_table(name):
    total, rows = SEED_TABLES[name]
    model = get_model(name)
    assert count_parameters(model) == total
    assert layer_shapes(model) == rows


@pytest.mark.parametrize("name", list(MODELS))
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
