import dataclasses
import json
import os
from pathlib import Path

import pytest
import torch

from mnist_kit import paths, records, splits, stats
from mnist_kit.recipes import get_recipe
from mnist_kit.records import RecordError, load_record, load_trained_model, save_run

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def full_run(smoke_run):
    """The real smoke run relabelled as a finished full run of 2 epochs, to exercise the full-record path."""
    return dataclasses.replace(smoke_run, recipe=smoke_run.recipe.with_overrides(epochs=2), smoke=False)


@pytest.fixture(autouse=True)
def scratch_smoke_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path / "smoke"))


def test_record_round_trip(full_run, tmp_path):
    path = save_run(full_run, tmp_path / "results")
    assert path == tmp_path / "results" / "model_4-epochs2.json"  # a 2-epoch variant keeps off model_4.json
    record = load_record(path)
    assert record["parameters"] == 7774 and record["complete"] and not record["smoke"]
    assert record["history"] == json.loads(json.dumps(full_run.history))
    assert record["device_name"].startswith("CPU") and record["versions"]["torch"] == torch.__version__
    assert set(record["data_md5"]) == {
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    }
    model = load_trained_model(path)
    probe = torch.randn(3, 1, 28, 28)
    full_run.model.eval()
    assert torch.equal(model(probe), full_run.model(probe))


def test_smoke_run_never_replaces_a_full_record(full_run, smoke_run, tmp_path):
    results = tmp_path / "results"
    full_path = save_run(full_run, results)
    before = full_path.read_bytes(), full_path.with_suffix(".pt").read_bytes()
    smoke_path = save_run(smoke_run, results)
    assert smoke_path.parent == tmp_path / "smoke"
    assert (full_path.read_bytes(), full_path.with_suffix(".pt").read_bytes()) == before


def test_interrupted_run_goes_to_partial(full_run, tmp_path):
    cut = dataclasses.replace(full_run, history=full_run.history[:1], interrupted=True)
    path = save_run(cut, tmp_path / "results")
    assert path == tmp_path / "results" / "partial" / "model_4-epochs2.json"
    assert load_record(path)["complete"] is False


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    paths.atomic_write_bytes(target, b"old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        paths.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temp file left behind


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda r: r.pop("history"), "'history' missing"),
        (lambda r: r.update(epochs=99), "history length"),
        (lambda r: r["history"][0].update(test_acc=float("nan")), "not a finite number"),
        (lambda r: r["history"][0].update(test_acc=120.0), "accuracy out of range"),
        (lambda r: r.update(format=0), "format"),
    ],
)
def test_malformed_records_are_named(full_run, tmp_path, damage, message):
    path = save_run(full_run, tmp_path)
    record = json.loads(path.read_text())
    damage(record)
    path.write_text(json.dumps(record))
    with pytest.raises(RecordError, match=message):
        load_record(path)


def test_unreadable_and_missing_records(tmp_path):
    bad = tmp_path / "model_4.json"
    bad.write_text("{ not json")
    with pytest.raises(RecordError, match="unreadable"):
        load_record(bad)
    with pytest.raises(RecordError, match="python -m mnist_kit train model_2"):
        load_record(tmp_path / "model_2.json")


def test_validation_runs_have_a_folder_of_their_own(full_run, tmp_path):
    rows = [{k.replace("test_", "val_"): v for k, v in row.items()} for row in full_run.history]
    val_run = dataclasses.replace(full_run, evaluated_on="validation", history=rows)
    path = save_run(val_run, tmp_path / "results")
    assert path == tmp_path / "results" / "validation" / "model_4-epochs2.json"
    record = load_record(path)
    assert record["evaluated_on"] == "validation" and "val_acc" in record["history"][0]


def test_saved_average_loads_into_a_bare_model(mnist_root, tmp_path):
    from mnist_kit.engine import fit
    from mnist_kit.models import get_model
    from mnist_kit.recipes import get_recipe

    run = fit(
        get_recipe("model_4").with_overrides(ema_epochs=1.0, epochs=1),
        smoke=True,
        device="cpu",
        data_root=mnist_root,
        progress=False,
    )
    path = save_run(dataclasses.replace(run, smoke=False), tmp_path / "results")
    state = torch.load(path.with_suffix(".pt"), weights_only=True)
    assert not any(k.startswith("module.") or k == "n_averaged" for k in state)
    get_model("model_4").load_state_dict(state)  # strict: every key matches the plain network
    probe = torch.randn(2, 1, 28, 28)
    assert torch.equal(load_trained_model(path)(probe), run.model.eval()(probe))


def test_full_disk_keeps_the_run_and_says_where(full_run, tmp_path, monkeypatch, capsys):
    import errno

    results = tmp_path / "results"
    real_write = paths.atomic_write_bytes

    def full_disk(path, payload):
        if results in path.parents:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        real_write(path, payload)

    monkeypatch.setattr(records, "atomic_write_bytes", full_disk)
    path = save_run(full_run, results)
    assert path == tmp_path / "smoke" / "rescued" / "model_4-epochs2.json"
    assert load_record(path)["complete"] and path.with_suffix(".pt").is_file()
    said = capsys.readouterr().out
    assert str(results) in said and "MiB" in said and str(path.parent) in said
    assert not results.exists() or not list(results.rglob("*.json"))


def test_a_variant_never_takes_the_name_of_the_recipe_it_changes():
    from mnist_kit.recipes import get_recipe

    recipe = get_recipe("model_1")
    assert records.record_stem(recipe) == "model_1"
    assert records.record_stem(recipe.with_overrides(seed=7, pipeline="classic")) == "model_1-classic-seed7"
    assert records.record_stem(recipe.with_overrides(epochs=5, rotation=15.0)) == "model_1-rotation15-epochs5"
    assert records.record_stem(recipe.with_overrides(milestones=(3, 9))) == "model_1-milestones3_9"


def _committed(path: str) -> dict:
    return json.loads((ROOT / "results" / path).read_text())


def test_a_record_reads_as_attributes_and_as_the_json_it_came_from():
    record = load_record(ROOT / "results" / "model_4.json")
    raw = _committed("model_4.json")
    assert isinstance(record, records.Record)
    assert record.history is record["history"] and record["history"] == raw["history"]
    assert record["config"]["dropout"] == record.config["dropout"] == raw["config"]["dropout"]
    assert record.get("evaluated_on") == "test" and record.get("no such key", 7) == 7 and "seed" in record
    # the JSON format, keys in order, unchanged; the config gains any Recipe setting added since, at its default
    assert record.to_dict() == {**raw, "config": records.complete_config(raw["config"])} and list(record) == list(raw)
    assert list(record.config)[: len(raw["config"])] == list(raw["config"])  # the recorded settings come first
    with pytest.raises(KeyError):
        record["no such key"]


def test_a_record_older_than_a_setting_reads_it_at_its_default():
    raw = _committed("sweep/model_4-seed1.json")  # recorded before ema_epochs and evaluated_on existed
    assert "ema_epochs" not in raw["config"] and "evaluated_on" not in raw
    record = records.Record.from_dict(raw)
    assert record.config["ema_epochs"] == 0.0 and record.evaluated_on == "test"
    assert list(record.config) == list(get_recipe("model_4").to_dict())  # Recipe field order


def test_an_old_record_pools_with_todays_when_only_the_missing_setting_is_new(tmp_path):
    today = records.Record.from_dict(_committed("sweep/model_4-seed1.json")).to_dict()  # ema_epochs 0 filled in
    old = _committed("sweep/model_4-seed2.json")  # the same recipe, ema_epochs absent
    (tmp_path / "a-seed1.json").write_text(json.dumps(today))
    (tmp_path / "b-seed2.json").write_text(json.dumps(old))
    assert [[r.seed for r in group] for group in records.sweeps(tmp_path)] == [[1, 2]]
    changed = dict(old, seed=3, config=dict(old["config"], seed=3, dropout=0.0))
    (tmp_path / "c-seed3.json").write_text(json.dumps(changed))
    assert [[r.seed for r in group] for group in records.sweeps(tmp_path)] == [[1, 2], [3]]


def test_one_diff_names_files_labels_candidates_and_fills_the_lesson_table():
    from mnist_kit import lessons

    base = get_recipe("slim_5k_a")
    variant = base.with_overrides(dropout=0.0, seed=4, milestones=(3, 9))
    changes = records.config_changes(base.to_dict(), variant.to_dict())
    assert changes == {"milestones": ([], [3, 9]), "dropout": (0.05, 0.0), "seed": (1, 4)}  # Recipe field order
    assert records.record_stem(variant) == "slim_5k_a-seed4-milestones3_9-dropout0"
    record = {"recipe": "slim_5k_a", "config": variant.to_dict()}
    assert records.candidate_label(record) == "slim_5k_a, milestones [3, 9], dropout 0"  # the seed left out
    rows = lessons.recipe_changes(base, variant).splitlines()[2:]
    assert rows == ["| milestones | none | 3, 9 |", "| dropout | 0.05 | 0 |", "| seed | 1 | 4 |"]
    # a setting one side lacks reads as its default (a record older than the weight average ran without it)
    assert records.config_changes(base.to_dict(), {"dropout": 0.05}) == {"ema_epochs": (0.5, 0.0)}


def test_the_frontier_points_of_the_committed_results():
    points = records.frontier_points(ROOT / "results")
    assert [p.name for p in points] == ["model_4", "slim_6k", "model_5", "slim_4k", "slim_3k"]
    assert all(p.stats.seeds == [11, 12, 13] for p in points)
    assert points[0].parameters == 7774 and points[0].stats.n == 3


def test_a_record_knows_its_split_and_its_accuracies():
    """``Record.split`` and ``Record.accuracies`` (``splits``): the column of the split the run was evaluated on, and
    with ``raw=True`` the raw weights' where the run evaluated a weight average (else the evaluated weights')."""
    averaged = load_record(ROOT / "results" / "model_4.json")
    assert averaged.split == "test" and averaged.accuracies() == [row["test_acc"] for row in averaged.history]
    assert averaged.accuracies(raw=True) == [row["raw_test_acc"] for row in averaged.history] != averaged.accuracies()
    validation = load_record(ROOT / "results" / "validation" / "m4_ema1-seed1.json")
    assert validation.split == "validation" and validation.accuracies() == [r["val_acc"] for r in validation.history]
    assert validation.accuracies(raw=True) == [row["raw_val_acc"] for row in validation.history]
    plain = _committed("sweep/model_4-seed1.json")  # no weight average, no evaluated_on: a test run
    assert records.Record.from_dict(plain).split == "test" == splits.split_of(plain)
    assert splits.accuracies(plain) == splits.accuracies(plain, raw=True) == [r["test_acc"] for r in plain["history"]]
    assert stats.accuracies(plain) == splits.accuracies(plain) and stats.accuracies(averaged, "raw_test_acc") == (
        averaged.accuracies(raw=True)
    )
    with pytest.raises(ValueError, match="evaluated_on is 'train'"):
        splits.split_of({"evaluated_on": "train"})
