"""Networks below Model_4's budget (notebook 5): given by their widths, the frontier and the Model_5 candidates."""

import copy
import dataclasses
import json
import subprocess
from pathlib import Path

import pytest
import torch

from mnist_kit import parallel, plots, records, report, runs
from mnist_kit.__main__ import main
from mnist_kit.models import (
    SLIM_WIDTHS,
    NetSpec,
    TinyNet,
    channel_widths,
    count_parameters,
    get_model,
    layer_shapes,
    receptive_field_table,
)
from mnist_kit.recipes import (
    FRONTIER,
    FRONTIER_2,
    FRONTIER_2_CHANGE,
    RECIPES,
    get_recipe,
)
from mnist_kit.records import RecordError, run_record
from mnist_kit.studies import of_kind

ROOT = Path(__file__).resolve().parent.parent

# Worked by hand, layer by layer: a 3x3 conv has 9 * c_in * c_out weights (no bias), a BatchNorm 2 * c (scale and
# shift), a 1x1 conv c_in * c_out. ReLU, Dropout and the pools have none. (Type, output shape, parameters.)
HAND_COUNTS = {
    "model_5": [  # = slim_5k_a. Channels 8, 12 | 1x1 to 8 | 10, 12, 16; no padded block
        ("Conv2d", (8, 26, 26), 9 * 1 * 8),  # 72
        ("BatchNorm2d", (8, 26, 26), 2 * 8),  # 16
        ("Conv2d", (12, 24, 24), 9 * 8 * 12),  # 864
        ("BatchNorm2d", (12, 24, 24), 2 * 12),  # 24
        ("Conv2d", (8, 24, 24), 12 * 8),  # 96: the 1x1 transition
        ("MaxPool2d", (8, 12, 12), 0),
        ("Conv2d", (10, 10, 10), 9 * 8 * 10),  # 720
        ("BatchNorm2d", (10, 10, 10), 2 * 10),  # 20
        ("Conv2d", (12, 8, 8), 9 * 10 * 12),  # 1,080
        ("BatchNorm2d", (12, 8, 8), 2 * 12),  # 24
        ("Conv2d", (16, 6, 6), 9 * 12 * 16),  # 1,728
        ("BatchNorm2d", (16, 6, 6), 2 * 16),  # 32
        ("AvgPool2d", (16, 1, 1), 0),
        ("Conv2d", (10, 1, 1), 16 * 10),  # 160: the head
    ],
    "slim_5k_b": [  # channels 8, 10 | 1x1 to 8 | 8, 10, 12 and a padded 10
        ("Conv2d", (8, 26, 26), 72),
        ("BatchNorm2d", (8, 26, 26), 16),
        ("Conv2d", (10, 24, 24), 9 * 8 * 10),  # 720
        ("BatchNorm2d", (10, 24, 24), 20),
        ("Conv2d", (8, 24, 24), 10 * 8),  # 80
        ("MaxPool2d", (8, 12, 12), 0),
        ("Conv2d", (8, 10, 10), 9 * 8 * 8),  # 576
        ("BatchNorm2d", (8, 10, 10), 16),
        ("Conv2d", (10, 8, 8), 9 * 8 * 10),  # 720
        ("BatchNorm2d", (10, 8, 8), 20),
        ("Conv2d", (12, 6, 6), 9 * 10 * 12),  # 1,080
        ("BatchNorm2d", (12, 6, 6), 24),
        ("Conv2d", (10, 6, 6), 9 * 12 * 10),  # 1,080: padded, keeps 6x6
        ("BatchNorm2d", (10, 6, 6), 20),
        ("AvgPool2d", (10, 1, 1), 0),
        ("Conv2d", (10, 1, 1), 10 * 10),  # 100
    ],
}
HAND_TOTALS = {"model_5": 4_836, "slim_5k_b": 4_544}


@pytest.mark.parametrize("name", list(HAND_COUNTS))
def test_layer_by_layer_counts_worked_by_hand(name):
    model = get_model(name)
    rows = [row for row in layer_shapes(model) if row[0] not in ("ReLU", "Dropout")]
    assert rows == HAND_COUNTS[name]
    assert sum(r[2] for r in HAND_COUNTS[name]) == HAND_TOTALS[name] == count_parameters(model)
    assert HAND_TOTALS[name] <= 5_000


def test_model_4s_widths_make_model_4():
    slim, model_4 = TinyNet(NetSpec.from_widths((10, 12, 10, 10, 14, 16, 14))), get_model("model_4")
    assert layer_shapes(slim) == layer_shapes(model_4)
    assert list(slim.state_dict()) == list(model_4.state_dict())
    assert channel_widths(slim) == channel_widths(model_4) == (10, 12, 10, 10, 14, 16, 14)
    assert [r["receptive_field"] for r in receptive_field_table(slim)] == [
        r["receptive_field"] for r in receptive_field_table(model_4)
    ]


def test_dropping_the_padded_block_shrinks_the_receptive_field_before_gap():
    rows = {r["layer"]: r for r in receptive_field_table(get_model("slim_5k_a"))}
    # 3, 5 (two 3x3), 5 (1x1), 6 (pool, jump 2), then +4 per 3x3 block: 10, 14, 18; GAP sees the whole 6x6 map.
    assert [r["receptive_field"] for r in rows.values()] == [3, 5, 5, 6, 10, 14, 18, 28, 28]
    assert rows["gap"]["receptive_field"] == 28


def test_frontier_networks_shrink_and_forward():
    sizes = [count_parameters(get_model(name)) for name in FRONTIER]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 7_774 and sizes[-1] < 3_500
    out = get_model(FRONTIER[-1])(torch.zeros(2, 1, 28, 28))
    assert out.shape == (2, 10) and torch.allclose(out.exp().sum(1), torch.ones(2))


@pytest.mark.parametrize("widths", [(8, 8, 8, 8, 8), (8, 0, 8, 8, 8, 8)])
def test_bad_widths_are_refused(widths):
    with pytest.raises(ValueError, match="widths needs at least 6"):
        NetSpec.from_widths(widths)


def test_unknown_model_names_the_slim_networks_too():
    with pytest.raises(ValueError, match="slim_3k"):
        get_model("slim_2k")


def test_the_frontier_uses_model_4s_recipe_unchanged():
    base = get_recipe("model_4").to_dict()
    for name in FRONTIER:
        config = get_recipe(name).to_dict()
        assert {k: v for k, v in config.items() if k not in ("name", "model")} == {
            k: v for k, v in base.items() if k not in ("name", "model")
        }
    assert set(SLIM_WIDTHS) <= set(RECIPES)


def test_the_second_series_is_attempt_2s_recipe_change_on_the_3k_to_6k_networks():
    change = recipe_change(get_recipe("model_5b"), get_recipe("model_5"))
    assert change and change == FRONTIER_2_CHANGE  # attempt 2 changed the recipe (all of it), so the curve is rerun
    series = {s.title: s.recipe_names for s in of_kind("frontier")}
    assert series == {"Model_4's recipe": FRONTIER, "attempt 2's recipe": FRONTIER_2}
    assert [get_recipe(n).model for n in FRONTIER_2] == ["slim_6k", "model_5", "slim_4k", "slim_3k"]
    for name in FRONTIER_2:  # each is its network's first-series recipe plus the change, nothing else
        first = next(r for r in FRONTIER if get_recipe(r).model == get_recipe(name).model)
        assert recipe_change(get_recipe(name), get_recipe(first)) == change
        assert 3_000 <= count_parameters(get_model(get_recipe(name).model)) <= 6_100


def recipe_change(recipe, base) -> dict:
    """What ``recipe`` sets differently from ``base``, name and network aside (``records.config_changes``)."""
    return {k: v for k, (_, v) in records.config_changes(base.to_dict(), recipe.to_dict(), ("name", "model")).items()}


def _record(smoke_run, name, seed, **changes):
    """A record of ``name`` on its current recipe (its history is the smoke run's, 2 epochs)."""
    record = run_record(dataclasses.replace(smoke_run, smoke=False))
    recipe = get_recipe(name).with_overrides(seed=seed, **changes)
    model = get_model(recipe.model)
    return dict(
        record, recipe=name, model=recipe.model, seed=seed, config=recipe.to_dict(), parameters=count_parameters(model)
    )


def _write(folder, stem, record):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{stem}.json").write_text(json.dumps(record))


def test_frontier_reads_both_folders_its_seeds_and_its_recipe_only(tmp_path, smoke_run):
    results = tmp_path / "results"
    for seed in (11, 12, 19):  # 19: a sweep seed outside the frontier's
        _write(results / "sweep", f"model_4-seed{seed}", _record(smoke_run, "model_4", seed))
    _write(results / "frontier", "slim_3k-seed11", _record(smoke_run, "slim_3k", 11))
    _write(results / "frontier", "slim_3k-dropout0-seed12", _record(smoke_run, "slim_3k", 12, dropout=0.0))
    assert [r["seed"] for r in records.frontier_records(results, get_recipe("model_4"))] == [11, 12]
    assert [r["seed"] for r in records.frontier_records(results, get_recipe("slim_3k"))] == [11]
    points = records.frontier_points(results)
    assert [(p.name, p.stats.n) for p in points] == [("model_4", 2), ("slim_3k", 1)]
    _write(results / "frontier", "slim_3k_b-seed13", _record(smoke_run, "slim_3k_b", 13))
    second = records.frontier_points(results, FRONTIER_2)
    assert [(p.name, p.stats.seeds) for p in second] == [("slim_3k_b", [13])]
    table = report.frontier_table(results)
    assert "| Model_4's recipe | model_4 | 10, 12, 10, 10, 14, 16, 14 | 7,774 | 11, 12 |" in table
    assert f"| Model_4's recipe | slim_3k | {', '.join(map(str, SLIM_WIDTHS['slim_3k']))} |" in table
    assert f"| attempt 2's recipe | slim_3k_b | {', '.join(map(str, SLIM_WIDTHS['slim_3k']))} | 3,096 | 13 |" in table
    fig = plots.plot_frontier(points, [_record(smoke_run, "model_1", 1)], second=second)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("original write-up" in t for t in labels) and any("Models 1–4" in t for t in labels)
    assert "attempt 2's recipe: mean over seeds" in labels
    offsets = {t.get_text(): t.xyann[1] for t in fig.axes[0].texts}  # a name's offset from its point, in points
    assert offsets["model_4"] > 0 > offsets["slim_3k_b"]  # the second series is named under its points
    assert report.frontier_table(tmp_path / "empty").startswith("_No frontier recorded yet")


def test_frontier_trains_only_the_seeds_not_yet_recorded(tmp_path, smoke_run, monkeypatch):
    results = tmp_path / "results"
    _write(results / "sweep", "model_4-seed11", _record(smoke_run, "model_4", 11))
    calls = []

    def run_jobs(jobs, n_jobs, backend, ray_address):  # what the frontier asks to train, in one batch
        calls.append([(job.recipe.name, job.seed, job.folder) for job in jobs])
        written = [results / job.folder / f"{job.stem}.json" for job in jobs if job.seed != 99]
        return parallel.Batch(
            [parallel.Outcome(p.stem, 0, p) for p in written]
            + [parallel.Outcome(job.stem, job.seed, interrupted=True) for job in jobs if job.seed == 99]
        )

    monkeypatch.setattr(runs, "run_jobs", run_jobs)
    paths, finished = runs.frontier(["model_4", "slim_3k"], [11, 12], smoke=False, results_dir=results)
    assert len(paths) == 3 and finished
    assert calls == [[("model_4", 12, "frontier"), ("slim_3k", 11, "frontier"), ("slim_3k", 12, "frontier")]]
    _write(results / "frontier", "slim_3k-seed11", _record(smoke_run, "slim_3k", 11))
    calls.clear()
    runs.frontier(["model_4", "slim_3k"], [11], smoke=False, results_dir=results)
    assert calls == [[]]  # resumed: nothing left
    calls.clear()
    runs.frontier(["model_4", "slim_3k"], [11], again=True, smoke=False, results_dir=results)
    assert calls == [[("slim_3k", 11, "frontier")]]  # the sweep's seed is still read, never trained again
    calls.clear()
    assert runs.frontier(["slim_4k", "slim_3k"], [99], smoke=False, results_dir=results) == ([], False)


def test_frontier_command_smoke_run_stays_out_of_results(mnist_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MNIST_KIT_SMOKE_DIR", str(tmp_path / "smoke"))
    argv = ["frontier", "--networks", "slim_3k", "--seeds", "5", "--smoke", "--device", "cpu"]
    assert main([*argv, "--data-root", str(mnist_root), "--results-dir", str(tmp_path / "results")]) == 0
    assert (tmp_path / "smoke" / "slim_3k-seed5.json").exists() and not (tmp_path / "results").exists()
    with pytest.raises(SystemExit):
        main(["frontier", "--networks", "slim_2k"])
    assert "invalid choice: 'slim_2k'" in capsys.readouterr().err


def test_validation_table_pools_seeds_and_refuses_test_runs(smoke_run):
    val = dataclasses.replace(smoke_run, smoke=False, evaluated_on="validation")
    record = copy.deepcopy(run_record(val))  # its history rows are the shared fixture's own
    for row in record["history"]:
        row["val_acc"] = row.pop("test_acc")
    a = dict(record, recipe="slim_5k_a", model="slim_5k_a", parameters=4836, config=get_recipe("slim_5k_a").to_dict())
    b = dict(a, seed=2, config=dict(a["config"], seed=2))
    c = dict(a, config=dict(a["config"], dropout=0.0))
    table = report.validation_table([a, b, c])
    assert "| slim_5k_a | 8, 12, 8, 10, 12, 16 | 4,836 | 1, 2 |" in table
    assert "| slim_5k_a, dropout 0 |" in table
    worse = copy.deepcopy(dict(b, recipe="slim_5k_b", model="slim_5k_b", config=get_recipe("slim_5k_b").to_dict()))
    for row in worse["history"]:
        row["val_acc"] -= 1  # a point lower every epoch: ranked below the others though it comes first
    rows = report.validation_table([worse, a, b, c]).splitlines()[2:]
    assert rows[0].startswith("| slim_5k_a |") and rows[-1].startswith("| slim_5k_b |")
    with pytest.raises(RecordError, match="not a validation run"):
        report.validation_table([run_record(smoke_run)])


def test_budget_table_and_widget_add_up():
    from mnist_kit import lessons, widgets

    table = lessons.budget_markdown(["model_4", "slim_5k_a"])
    lines = table.splitlines()
    assert [line.split(" | ")[0].strip("| ") for line in lines[2:]] == [
        "block 1",
        "block 2",
        "transition",
        "block 3",
        "block 4",
        "block 5",
        "block 6",
        "head",
        "**total**",
    ]
    assert "| block 6 | 16→14: 2,044 | – |" in table and "| **total** | **7,774** | **4,836** |" in table
    fig = plots.budget_figure((8, 12, 8, 10, 12, 16))
    assert fig.axes[0].get_title() == "4,836 parameters: within 5,000"
    box = widgets.budget_explorer((8, 10, 8, 8, 10, 12, 10))
    assert box.figure.axes[0].get_title() == "4,544 parameters: within 5,000"
    box.controls["c6"].value = 0  # no padded sixth block
    assert box.figure.axes[0].get_title() == "3,464 parameters: within 5,000"  # 4,544 - 1,100 - 100 + 12 * 10
    box.controls["c4"].value = 32  # block 4: 8 -> 32 and block 5: 32 -> 12
    assert box.figure.axes[0].get_title() == "7,468 parameters: over 5,000"
    box.controls["c5"].value = 16
    assert box.figure.axes[0].get_title() == "8,668 parameters: over 5,000, over the course's 8,000"


def test_summary_of_a_network_the_write_up_never_had(smoke_run):
    record = _record(smoke_run, "slim_3k", 1)
    assert "| Parameters | 3,096 | – |" in report.summary_markdown(record)


def test_make_frontier_runs_the_frontier_and_leaves_attempt_1s_sweep_as_recorded():
    out = subprocess.run(
        ["make", "-n", "frontier", "PYTHON=python"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    commands = [line for line in out.splitlines() if "mnist_kit" in line]
    frontier = "MNIST_KIT_SMOKE=0 python -m mnist_kit study frontier frontier_b --again"
    assert commands[-2:] == [frontier, "python -m mnist_kit report"]
    assert not [c for c in commands if " model_5 " in c + " "]


def test_model_5_was_chosen_on_other_seeds_than_it_is_judged_on():
    from mnist_kit.records import load_record

    chosen_on = [load_record(p) for p in sorted((ROOT / "results" / "validation").glob("slim_5k_*.json"))]
    judged_on = records.current_sweep(ROOT / "results" / "sweep", get_recipe("model_5"))
    assert len({r["recipe"] for r in chosen_on}) == 3 and all(r["evaluated_on"] == "validation" for r in chosen_on)
    assert len(judged_on) == 5 and all(r["evaluated_on"] == "test" and r["complete"] for r in judged_on)
    assert not {r["seed"] for r in chosen_on} & {r["seed"] for r in judged_on}
    assert SLIM_WIDTHS["model_5"] in {SLIM_WIDTHS[r["recipe"]] for r in chosen_on}


def test_an_interrupted_frontier_exits_130(monkeypatch):
    monkeypatch.setattr(runs, "frontier", lambda *args, **kwargs: ([], False))
    assert main(["frontier", "--networks", "slim_3k", "--device", "cpu"]) == 130
    monkeypatch.setattr(runs, "frontier", lambda *args, **kwargs: ([], True))
    assert main(["frontier", "--device", "cpu"]) == 0


def test_plain_frontier_trains_both_series(monkeypatch):
    called = {}
    monkeypatch.setattr(
        runs, "frontier", lambda names, *args, **kwargs: (called.setdefault("names", names), [], True)[1:]
    )
    assert main(["frontier", "--device", "cpu"]) == 0  # what `make frontier` runs (test above)
    assert list(called["names"]) == [*FRONTIER, *FRONTIER_2]
