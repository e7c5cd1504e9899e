"""Runs side by side (mnist_kit/parallel.py): the same records as one-thread runs in a row, nothing lost to a
failing seed or to Ctrl-C, readable progress, and the same through a local Ray."""

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from mnist_kit import parallel, paths, runs
from mnist_kit.__main__ import main
from mnist_kit.engine import fit
from mnist_kit.parallel import EpochLines, RunsFailed, count_cores

ROOT = Path(__file__).resolve().parent.parent


def _numbers(history):
    """A history without its timings (the only values that differ between two runs of one seed)."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


def _record(folder, stem):
    return json.loads((folder / f"{stem}.json").read_text())


@pytest.fixture(scope="module")
def one_thread_runs(mnist_root):
    """Seeds 5 and 6 of model_4, smoke runs one after another in this process on one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return {
            seed: _numbers(
                fit("model_4", smoke=True, seed=seed, device="cpu", data_root=mnist_root, progress=False).history
            )
            for seed in (5, 6)
        }
    finally:
        torch.set_num_threads(threads)


def test_hyper_thread_siblings_count_as_one_core():
    siblings = {0: "0,2", 1: "1,3", 2: "0,2", 3: "1,3"}  # 2 cores with 2 hyper-threads each
    assert count_cores([0, 1, 2, 3], siblings.get) == 2
    assert count_cores([0, 2], siblings.get) == 1  # an affinity mask of one core's two threads
    assert count_cores([0, 1], {0: "0", 1: "1"}.get) == 2


def test_default_jobs_one_per_core_on_cpu_and_four_per_gpu(monkeypatch):
    monkeypatch.setattr(parallel, "physical_cores", lambda: 16)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert parallel.default_jobs("cpu") == 16
    assert parallel.default_jobs(torch.device("cuda")) == 8


def test_each_evaluation_line_becomes_one_line_named_for_its_run():
    out = io.StringIO()
    lines = EpochLines("model_4-seed11", 2, out)
    lines.write("EPOCH: 1\n\nTest set: Average loss: 0.1000, Accuracy: 9/10 (90.00%)\n\nRaw weights (not av")
    lines.write("eraged): 80.00%\n\nEPOCH: 2\n\nTest set: Average loss: 0.0500, Accuracy: 10/10 (100.00%)\n")
    assert out.getvalue().splitlines() == [
        "[model_4-seed11] epoch 1/2: Test set: Average loss: 0.1000, Accuracy: 9/10 (90.00%)",
        "[model_4-seed11] epoch 2/2: Test set: Average loss: 0.0500, Accuracy: 10/10 (100.00%)",
    ]


def test_parallel_runs_match_one_thread_runs_and_a_failing_seed_loses_nothing(
    one_thread_runs, mnist_root, tmp_path, monkeypatch, capfd
):
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path))
    # seed -1 fails inside its worker (numpy takes seeds from 0 to 2**32 - 1); seeds 5 and 6 must not care
    with pytest.raises(RunsFailed, match=r"1 of 3 run\(s\) failed: model_4-seed-1 \(seed -1\)") as failure:
        runs.sweep("model_4", [5, -1, 6], smoke=True, jobs=2, device="cpu", data_root=mnist_root)
    assert [p.name for p in failure.value.batch.paths] == ["model_4-seed5.json", "model_4-seed6.json"]
    for seed in (5, 6):
        record = _record(tmp_path, f"model_4-seed{seed}")
        assert _numbers(record["history"]) == one_thread_runs[seed]
        assert record["device_name"].endswith("(1 threads)")
    out = capfd.readouterr().out.splitlines()
    for seed in (5, 6):
        assert sum(line.startswith(f"[model_4-seed{seed}] epoch 1/1: Test set: Average loss:") for line in out) == 1
        assert sum(line.startswith(f"[model_4-seed{seed}] finished: 1/1 epochs, test ") for line in out) == 1
    assert "[model_4-seed-1] FAILED (seed -1): ValueError: Seed must be between 0 and 2**32 - 1" in out
    assert not any("EPOCH" in line or "Loss=" in line for line in out)  # no bars, no unprefixed epoch lines


def _wait_for(proc, wanted, seen, timeout=300):
    """Read the child's output lines until every string of ``wanted`` began one of them."""
    deadline = time.monotonic() + timeout
    while not all(any(line.startswith(w) for line in seen) for w in wanted):
        assert time.monotonic() < deadline, f"timed out waiting for {wanted}; output so far: {seen}"
        line = proc.stdout.readline()
        assert line, f"the sweep ended early: {seen}"
        seen.append(line.rstrip("\n"))


def test_ctrl_c_stops_every_run_keeps_finished_epochs_and_exits_130(mnist_root, tmp_path):
    env = dict(os.environ, MNIST_KIT_DATA=str(mnist_root), MNIST_KIT_SMOKE_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "mnist_kit", "sweep", "model_4", "--seeds", "5", "6", "7"]
    command += ["--jobs", "2", "--epochs", "6", "--smoke", "--device", "cpu"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True)
    seen = []
    try:
        # fit records an epoch just after its evaluation line, so the second line vouches for the first epoch
        _wait_for(proc, ["[model_4-seed5-epochs6] epoch 2/6", "[model_4-seed6-epochs6] epoch 2/6"], seen)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        rest, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = seen + rest.splitlines()
    assert proc.returncode == 130, out
    for seed in (5, 6):
        record = _record(tmp_path, f"model_4-seed{seed}-epochs6")
        assert 1 <= record["epochs"] < 6 and not record["complete"]
        assert sum(line.startswith(f"[model_4-seed{seed}-epochs6] interrupted: ") for line in out) == 1
    assert not (tmp_path / "model_4-seed7-epochs6.json").exists()
    assert "[model_4-seed7-epochs6] not started (stopped)" in out


def test_ablation_records_each_change_and_seed_in_results_ablation(monkeypatch, tmp_path):
    batches = []

    def record_jobs(jobs, n_jobs, backend, ray_address):
        batches.append((jobs, n_jobs, backend, ray_address))
        return parallel.Batch([])

    monkeypatch.setattr(runs, "run_jobs", record_jobs)
    runs.ablation(["m1_width", "m2_jitter"], [1, 2], smoke=False, results_dir=tmp_path, jobs=3, epochs=4)
    [(jobs, n_jobs, backend, address)] = batches
    stems = ["m1_width-seed1", "m1_width-seed2", "m2_jitter-seed1", "m2_jitter-seed2"]
    assert [job.stem for job in jobs] == [f"{stem}-epochs4" for stem in stems]  # never over a full run's file
    assert (n_jobs, backend, address) == (3, "local", None)
    for job in jobs:  # what /work's interim driver did: fit(..., validation=True), save_run(..., folder="ablation")
        assert (job.results_dir, job.folder) == (tmp_path, "ablation")
        assert job.fit_args == dict(seed=job.seed, smoke=False, validation=True, epochs=4)
    assert jobs[0].recipe.model == "model_2" and jobs[2].recipe.jitter == 0.0
    with pytest.raises(ValueError, match="unknown ablation 'model_4'"):
        runs.ablation(["model_4"], [1])


def test_the_command_line_passes_jobs_and_backend(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(runs, "ablation", lambda *a, **k: calls.append((a, k)) or ([], True))
    monkeypatch.setattr(runs, "sweep", lambda *a, **k: calls.append((a, k)) or ([], False))
    assert main(["ablation", "--names", "m1_width", "--seeds", "3", "--jobs", "2", "--smoke"]) == 0
    assert calls[-1][0] == (["m1_width"], [3]) and calls[-1][1]["jobs"] == 2 and calls[-1][1]["backend"] == "local"
    assert main(["sweep", "model_4", "--seeds", "1", "--backend", "ray", "--ray-address", "10.0.0.1:6379"]) == 130
    assert calls[-1][1]["backend"] == "ray" and calls[-1][1]["ray_address"] == "10.0.0.1:6379"
    assert calls[-1][1]["device"] == "cpu" and calls[-1][1]["jobs"] == parallel.physical_cores()
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert f"{parallel.GPU_RUNS_PER_DEVICE} per GPU" in " ".join(capsys.readouterr().out.split())


def test_a_local_ray_gives_the_records_of_one_thread_runs(one_thread_runs, mnist_root, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")  # .ci/run installs the cluster extra, so CI runs this test
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path))
    ray.init(num_cpus=2, include_dashboard=False)
    try:
        found, finished = runs.sweep(
            "model_4", [5, 6], smoke=True, backend="ray", device="cpu", data_root=str(mnist_root)
        )
    finally:
        ray.shutdown()
    assert finished and [p.name for p in found] == ["model_4-seed5.json", "model_4-seed6.json"]
    for seed in (5, 6):
        record = _record(tmp_path, f"model_4-seed{seed}")  # written by this process, the driver
        assert _numbers(record["history"]) == one_thread_runs[seed]
        assert record["device_name"].endswith("(1 threads)")


def test_quick_sweep_benchmark_writes_a_record(mnist_root, tmp_path):
    out = tmp_path / "sweep_speed.json"
    command = [sys.executable, str(ROOT / "benchmarks" / "sweep_speed.py"), "--quick", "--runs", "2"]
    command += ["--modes", "sequential,jobs", "--data-root", str(mnist_root), "--out", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(out.read_text())
    assert record["quick"] and record["runs"] == 2 and record["torch"] == torch.__version__
    assert record["modes"]["jobs"]["jobs"] == 2 and record["modes"]["jobs"]["threads_per_run"] == 1
    seconds = {name: entry["seconds"] for name, entry in record["modes"].items()}
    assert record["ratios"] == {"sequential_over_jobs": seconds["sequential"] / seconds["jobs"]}
    assert "sequential_over_jobs: " in done.stdout


@pytest.mark.parametrize("target", ["reproduce", "sweep", "frontier", "ablation"])
def test_make_runs_side_by_side_unless_jobs_is_1(target):
    def training_commands(*extra):
        make = ["make", "-n", target, "PYTHON=python", *extra]
        out = subprocess.run(make, cwd=ROOT, capture_output=True, text=True, check=True).stdout
        return [line for line in out.splitlines() if re.search(r"mnist_kit study\b", line)]

    assert training_commands() and not any("--jobs" in line for line in training_commands())
    assert all(line.endswith(" --jobs 1") for line in training_commands("JOBS=1"))
