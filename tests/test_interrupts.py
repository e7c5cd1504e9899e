"""Ctrl-C during a sweep or the frontier: the loop stops (the next seed is not trained), every finished run
and every finished epoch is kept (an interrupted seed's epochs under ``partial/``), and the command exits 130."""

import pytest

from mnist_kit import engine, parallel, runs
from mnist_kit.__main__ import main
from mnist_kit.records import load_record


@pytest.fixture
def quick_full_runs(monkeypatch):
    """Full (not smoke) runs, so records go to ``results/`` and ``partial/``, in which every epoch trains and
    evaluates at once (24 batches, nothing learnt); returns the (network, seed) of every run started, in order."""
    real_fit, started = parallel.fit, []

    def fit(recipe, **kwargs):
        started.append((getattr(recipe, "name", recipe), kwargs["seed"]))
        return real_fit(recipe, **kwargs)

    monkeypatch.setattr(engine, "make_loaders", lambda *args, **kwargs: (range(24), range(1)))
    monkeypatch.setattr(engine, "test", lambda *args, **kwargs: (2.3, 10.0))
    monkeypatch.setattr(parallel, "fit", fit)  # every study runs through parallel.run_jobs (one slot: in here)
    return started


def ctrl_c_in_epoch(monkeypatch, n: int) -> None:
    """The n-th epoch trained (counting across runs) is interrupted by Ctrl-C; the others finish at once."""
    calls = []

    def train(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return 2.3, 10.0

    monkeypatch.setattr(engine, "train", train)


def _recorded(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*.json"))


def test_sweep_stops_at_ctrl_c_and_keeps_every_finished_run_and_epoch(
    mnist_root, tmp_path, monkeypatch, quick_full_runs
):
    ctrl_c_in_epoch(monkeypatch, 4)  # seed 1: epochs 1 and 2; seed 2: epoch 1, then Ctrl-C in epoch 2
    found, finished = runs.sweep(
        "model_4", [1, 2, 3], results_dir=tmp_path, smoke=False, epochs=2, device="cpu", data_root=mnist_root
    )
    assert quick_full_runs == [("model_4", 1), ("model_4", 2)] and not finished  # seed 3 never started
    assert _recorded(tmp_path) == ["sweep/model_4-seed1-epochs2.json", "sweep/partial/model_4-seed2-epochs2.json"]
    assert found == [
        tmp_path / "sweep/model_4-seed1-epochs2.json",
        tmp_path / "sweep/partial/model_4-seed2-epochs2.json",
    ]
    first, cut = load_record(found[0]), load_record(found[1])
    assert (first["complete"], first["epochs"]) == (True, 2) and (cut["complete"], cut["epochs"]) == (False, 1)


def test_frontier_stops_at_ctrl_c_and_keeps_every_finished_run_and_epoch(
    mnist_root, tmp_path, monkeypatch, quick_full_runs
):
    ctrl_c_in_epoch(monkeypatch, 4)  # model_4 seed 1 finishes; seed 2 is cut in its second epoch
    found, finished = runs.frontier(
        ["model_4", "slim_3k"], [1, 2], results_dir=tmp_path, smoke=False, epochs=2, device="cpu", data_root=mnist_root
    )
    assert quick_full_runs == [("model_4", 1), ("model_4", 2)] and not finished  # slim_3k never started
    assert _recorded(tmp_path) == ["frontier/model_4-seed1-epochs2.json", "frontier/partial/model_4-seed2-epochs2.json"]
    assert found == [
        tmp_path / "frontier/model_4-seed1-epochs2.json",
        tmp_path / "frontier/partial/model_4-seed2-epochs2.json",
    ]


@pytest.mark.parametrize(
    "argv",
    [["sweep", "model_4", "--seeds", "1", "2"], ["frontier", "--networks", "model_4", "slim_3k", "--seeds", "1", "2"]],
    ids=["sweep", "frontier"],
)
def test_the_command_exits_130_after_ctrl_c_in_its_last_seed(mnist_root, tmp_path, monkeypatch, quick_full_runs, argv):
    ctrl_c_in_epoch(monkeypatch, 4)  # Ctrl-C in the second seed's second epoch: a partial record is still written
    options = ["--epochs", "2", "--device", "cpu", "--data-root", str(mnist_root), "--results-dir", str(tmp_path)]
    options.append("--full")  # full (2-epoch) runs that record in --results-dir, despite pytest's MNIST_KIT_SMOKE=1
    options += ["--jobs", "1"]  # in this process, where the stand-in training and the planted Ctrl-C can reach it
    assert main([*argv, *options]) == 130
    assert len(_recorded(tmp_path)) == 2  # the finished run and the interrupted one's epoch


def test_the_command_exits_0_when_every_seed_finishes(mnist_root, tmp_path, monkeypatch, quick_full_runs):
    ctrl_c_in_epoch(monkeypatch, 99)  # never
    options = ["--epochs", "2", "--device", "cpu", "--data-root", str(mnist_root), "--results-dir", str(tmp_path)]
    options.append("--full")  # full (2-epoch) runs that record in --results-dir, despite pytest's MNIST_KIT_SMOKE=1
    options += ["--jobs", "1"]  # in this process, where the stand-in training and the planted Ctrl-C can reach it
    assert main(["sweep", "model_4", "--seeds", "1", "2", *options]) == 0
    assert _recorded(tmp_path) == ["sweep/model_4-seed1-epochs2.json", "sweep/model_4-seed2-epochs2.json"]
