"""Runs side by side: one process per run on this machine (``--jobs N``), or one Ray task per run (``--backend ray``).

Owns the job list a sweep becomes (``Job``), how many runs share the machine (``default_jobs``), the workers,
the executors (the standard library's ``ProcessPoolExecutor`` with the "spawn" start method, or Ray) and the
progress lines (one per finished epoch per run, prefixed with the run's name, and one per finished run).
``runs.sweep``, ``runs.frontier`` and ``runs.ablation`` build the jobs; ``records.save_run`` writes every
record, so a parallel run is recorded exactly as a sequential one. A run's numbers depend on its thread count,
so each parallel run trains on one thread (its record's ``device_name`` says so): a parallel run of a seed
gives the record of a sequential one-thread run of that seed.
"""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch

from .engine import fit
from .recipes import Recipe
from .records import save_run
from .settings import RAY_ADDRESS_ENV, RAY_DEDUP_LOGS_ENV, env
from .splits import PREFIXES, column

# Runs that share one GPU by default: a guess, not yet measured here (no GPU on the machines this was written
# on). Model_4 leaves a GPU mostly idle: eight runs side by side on one H100 took about as long as two in a row.
GPU_RUNS_PER_DEVICE = 4
THREADS_PER_RUN = 1
BACKENDS = ("local", "ray")


def count_cores(cpus, siblings_of) -> int:
    """Physical cores among ``cpus``: logical CPUs that list the same hyper-thread siblings are one core."""
    return max(1, len({siblings_of(cpu) for cpu in cpus}))


def _siblings(cpu: int) -> str:
    try:
        return Path(f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list").read_text().strip()
    except OSError:  # no sysfs (not Linux, or a sandbox): count every logical CPU as a core
        return str(cpu)


def physical_cores() -> int:
    """Physical cores this process may run on: the CPUs of its affinity mask (``os.cpu_count()`` counts every
    logical CPU of the machine), grouped by hyper-thread siblings as Linux reports them."""
    cpus = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    return count_cores(cpus, _siblings)


def default_jobs(device) -> int:
    """One run per physical core on a CPU; ``GPU_RUNS_PER_DEVICE`` runs per GPU."""
    if torch.device(device).type == "cuda":
        return GPU_RUNS_PER_DEVICE * max(1, torch.cuda.device_count())
    return physical_cores()


@dataclass(frozen=True)
class Job:
    """One run: ``fit(recipe, **fit_args)`` recorded by ``save_run(run, results_dir, stem, folder)``."""

    recipe: Recipe
    seed: int
    stem: str  # the record's file name, and the run's name in the progress lines
    results_dir: Path | None = None
    folder: str | None = None
    fit_args: dict = field(default_factory=dict)  # seed, smoke, epochs, device, data_root, validation, ...

    @property
    def epochs(self) -> int:
        return self.fit_args.get("epochs") or (1 if self.fit_args.get("smoke") else self.recipe.epochs)


@dataclass
class Outcome:
    """What became of one job, for its summary line."""

    name: str
    seed: int
    path: Path | None = None
    epochs: int = 0
    of: int = 0
    interrupted: bool = False
    started: bool = True
    error: str | None = None
    seconds: float = 0.0
    last: str = ""  # the last epoch's evaluation, e.g. "test 99.41%"

    def line(self) -> str:
        if self.error is not None:
            return f"[{self.name}] FAILED (seed {self.seed}): {self.error}"
        if not self.started:
            return f"[{self.name}] not started (stopped)"
        if self.path is None:
            return f"[{self.name}] stopped; no finished epoch to record"
        state = "interrupted" if self.interrupted else "finished"
        where = f"{self.path.parent.name}/{self.path.name}"
        return f"[{self.name}] {state}: {self.epochs}/{self.of} epochs, {self.last}, {self.seconds:.0f} s; {where}"


def outcome_of(job: Job, run, path) -> Outcome:
    """The summary of a finished (or interrupted) ``Run``."""
    last = ""
    if run.history:
        last = f"{PREFIXES[run.evaluated_on]} {run.history[-1][column(run.evaluated_on)]:.2f}% at the last epoch"
    return Outcome(
        job.stem, job.seed, path, len(run.history), job.epochs, run.interrupted, seconds=run.seconds, last=last
    )


class EpochLines(io.TextIOBase):
    """Stands in for stdout while a worker trains: each evaluation line ``fit`` prints (``Test set: ...`` or
    ``Validation set: ...``, one per epoch) becomes one line prefixed with the run's name; the rest is dropped.
    Each line goes out in one write, so lines of runs side by side never mix."""

    KEEP = ("Test set:", "Validation set:", "Interrupted")

    def __init__(self, name: str, epochs: int, out):
        self.name, self.epochs, self.out, self.epoch, self.pending = name, epochs, out, 0, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            line = line.strip()
            if line.startswith(self.KEEP):
                self.epoch += not line.startswith("Interrupted")
                shown = line if line.startswith("Interrupted") else f"epoch {self.epoch}/{self.epochs}: {line}"
                self.out.write(f"[{self.name}] {shown}\n")
                self.out.flush()
        return len(text)


# The worker's state: whether it is training (a first Ctrl-C then stops the run, which fit records as partial),
# and whether it was told to stop (it then starts no further job). Set by _init_worker in each pool process.
_worker = {"busy": False, "stopped": False, "stop": None}


def _init_worker(threads: int, stop) -> None:
    torch.set_num_threads(threads)
    _worker["stop"] = stop
    signal.signal(signal.SIGINT, _on_sigint)


def _on_sigint(signum, frame) -> None:
    first = not _worker["stopped"]
    _worker["stopped"] = True
    if first and _worker["busy"]:  # later signals never interrupt the saving of the partial run
        raise KeyboardInterrupt


def _fit_quietly(job: Job):
    """``fit`` with progress bars off and only the per-epoch lines shown; None if stopped before it began."""
    with contextlib.redirect_stdout(EpochLines(job.stem, job.epochs, sys.stdout)):
        try:
            return fit(job.recipe, progress=False, **job.fit_args)
        except KeyboardInterrupt:
            return None


def pool_job(job: Job) -> Outcome:
    """A pool worker's task: train one job and record it with ``save_run`` here, as a sequential run would."""
    stop = _worker["stop"]
    if _worker["stopped"] or (stop is not None and stop.is_set()):
        return Outcome(job.stem, job.seed, started=False)
    _worker["busy"] = True
    try:
        run = _fit_quietly(job)
    finally:
        _worker["busy"] = False
    if run is None:
        return Outcome(job.stem, job.seed, interrupted=True, of=job.epochs)
    path = save_run(run, job.results_dir, job.stem, job.folder) if run.history else None
    return outcome_of(job, run, path)


def ray_job(job: Job):
    """A Ray task: train one job on one thread and RETURN the run (history, device and weights, on the CPU); the
    driver records it with ``save_run``, so no node needs the driver's file system (the record's ``versions`` are
    the driver's: install the same checkout on every node)."""
    torch.set_num_threads(THREADS_PER_RUN)
    run = _fit_quietly(job)
    if run is None:
        return None
    return replace(run, model=run.model.cpu(), raw_model=run.raw_model.cpu() if run.raw_model is not None else None)


@dataclass
class Batch:
    """The outcomes of a list of jobs, in the jobs' order."""

    outcomes: list[Outcome]

    @property
    def paths(self) -> list[Path]:
        return [o.path for o in self.outcomes if o.path is not None]

    @property
    def finished(self) -> bool:
        """False when Ctrl-C stopped the batch."""
        return all(o.started and not o.interrupted for o in self.outcomes if o.error is None)

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]


class RunsFailed(RuntimeError):
    """Some runs raised an error; every other run was recorded (``paths``)."""

    def __init__(self, batch: Batch):
        self.batch = batch
        names = ", ".join(f"{o.name} (seed {o.seed})" for o in batch.failed)
        super().__init__(f"{len(batch.failed)} of {len(batch.outcomes)} run(s) failed: {names}")


def run_jobs(jobs: list[Job], n_jobs: int = 1, backend: str = "local", ray_address: str | None = None) -> Batch:
    """Train every job, ``n_jobs`` at a time (``local``), or as Ray tasks; print one line per finished run.

    ``n_jobs=1`` on the local backend trains in this process, one run after another, as before. Ctrl-C stops
    every run (each keeps its finished epochs) and starts no other; returns a ``Batch`` whose ``finished`` is then
    False. Raises ``RunsFailed`` after all runs are done when some raised an error (and none was interrupted).
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
    if n_jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {n_jobs}")
    if not jobs:
        return Batch([])
    if backend == "ray":
        outcomes = _run_ray(jobs, n_jobs, ray_address)
    elif n_jobs == 1:
        outcomes = _run_here(jobs)
    else:
        outcomes = _run_pool(jobs, min(n_jobs, len(jobs)))
    batch = Batch(outcomes)
    done = sum(o.path is not None and not o.interrupted for o in outcomes)
    print(f"{done} of {len(jobs)} run(s) finished" + ("" if batch.finished else "; stopped by Ctrl-C"))
    if batch.failed and batch.finished:
        raise RunsFailed(batch)
    return batch


def _run_here(jobs: list[Job]) -> list[Outcome]:
    """One run after another in this process, with the usual progress output (today's sequential behaviour)."""
    outcomes = []
    for job in jobs:
        run = fit(job.recipe, **job.fit_args)
        path = save_run(run, job.results_dir, job.stem, job.folder) if run.history else None
        outcomes.append(outcome_of(job, run, path))
        print(outcomes[-1].line())
        if run.interrupted:
            outcomes += [Outcome(j.stem, j.seed, started=False) for j in jobs[len(outcomes) :]]
            break
    return outcomes


@contextlib.contextmanager
def _sigint_ignored():
    """Start workers with Ctrl-C ignored (spawned children inherit it) until their own handler is in place, so
    none dies while importing torch, which would break the pool and lose its neighbours' runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_pool(jobs: list[Job], n_jobs: int) -> list[Outcome]:
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    outcomes: dict[int, Outcome] = {}
    print(f"{len(jobs)} run(s), {n_jobs} at a time, {THREADS_PER_RUN} thread each; progress bars off")
    with ProcessPoolExecutor(n_jobs, context, initializer=_init_worker, initargs=(THREADS_PER_RUN, stop)) as pool:
        with _sigint_ignored():
            futures = {pool.submit(pool_job, job): i for i, job in enumerate(_spread_over_gpus(jobs))}
        try:
            _collect(futures, jobs, outcomes)
        except KeyboardInterrupt:
            print("\nCtrl-C: stopping every run; each keeps its finished epochs.", flush=True)
            _stop_workers(stop)
            pool.shutdown(wait=False, cancel_futures=True)
            _drain(futures, jobs, outcomes)
    return [outcomes[i] for i in range(len(jobs))]


def _spread_over_gpus(jobs: list[Job]) -> list[Job]:
    """On a machine with several GPUs, runs asked for on ``cuda`` take them in turn."""
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    spread = []
    for i, job in enumerate(jobs):
        device = job.fit_args.get("device")
        if count > 1 and device is not None and torch.device(device) == torch.device("cuda"):
            job = replace(job, fit_args=dict(job.fit_args, device=torch.device("cuda", i % count)))
        spread.append(job)
    return spread


def _collect(futures, jobs, outcomes) -> None:
    for future in as_completed([f for f, i in futures.items() if i not in outcomes]):
        i = futures[future]
        job = jobs[i]
        if future.cancelled():
            outcomes[i] = Outcome(job.stem, job.seed, started=False)
        elif future.exception() is not None:
            exc = future.exception()
            traceback.print_exception(exc, file=sys.stderr)  # the worker's own traceback comes along as its cause
            outcomes[i] = Outcome(job.stem, job.seed, error=f"{type(exc).__name__}: {exc}")
        else:
            outcomes[i] = future.result()
        print(outcomes[i].line(), flush=True)


def _stop_workers(stop) -> None:
    """Tell every worker to stop, also when Ctrl-C reached only this process (a signal sent to it alone)."""
    stop.set()
    for child in multiprocessing.active_children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signal.SIGINT)


def _drain(futures, jobs, outcomes) -> None:
    """Wait for the stopped runs to record their finished epochs; a second Ctrl-C does not cut that short."""
    while len(outcomes) < len(jobs):
        try:
            _collect(futures, jobs, outcomes)
        except KeyboardInterrupt:
            print("Still recording the finished epochs of the stopped runs; one moment.", flush=True)


def _start_ray(ray, n_jobs: int, address: str | None) -> None:
    """Join the cluster at ``address`` (else ``$RAY_ADDRESS``), or start a local Ray of ``n_jobs`` CPUs."""
    if ray.is_initialized():
        return
    address = address or env(RAY_ADDRESS_ENV)
    if address:
        ray.init(address=address)
    else:
        ray.init(num_cpus=n_jobs, include_dashboard=False)


def _run_ray(jobs: list[Job], n_jobs: int, address: str | None) -> list[Outcome]:
    """One Ray task per job (one CPU each, or a share of a GPU); the driver records each run as it returns."""
    os.environ.setdefault(RAY_DEDUP_LOGS_ENV, "0")  # read when ray is imported: keep every run's epoch lines
    import ray

    _start_ray(ray, n_jobs, address)
    task = ray.remote(ray_job)
    refs = {}
    for i, job in enumerate(jobs):
        on_gpu = str(job.fit_args.get("device") or "cpu").startswith("cuda")
        options = dict(num_cpus=THREADS_PER_RUN, num_gpus=1 / GPU_RUNS_PER_DEVICE if on_gpu else 0)
        refs[task.options(**options).remote(job)] = i
    print(f"{len(jobs)} run(s) sent to Ray ({ray.cluster_resources().get('CPU', 0):g} CPUs in the cluster)")
    outcomes: dict[int, Outcome] = {}
    try:
        _gather_ray(ray, refs, jobs, outcomes)
    except KeyboardInterrupt:
        print("\nCtrl-C: cancelling the Ray tasks; finished runs are recorded.", flush=True)
        for ref, i in refs.items():
            if i not in outcomes:
                ray.cancel(ref)
        _gather_ray(ray, refs, jobs, outcomes)
    return [outcomes[i] for i in range(len(jobs))]


def _gather_ray(ray, refs, jobs, outcomes) -> None:
    pending = [ref for ref, i in refs.items() if i not in outcomes]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        i = refs[ready[0]]
        job = jobs[i]
        try:
            run = ray.get(ready[0])
        except ray.exceptions.TaskCancelledError:  # its finished epochs, if any, are lost with it
            outcomes[i] = Outcome(job.stem, job.seed, interrupted=True, of=job.epochs)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if exc.cause is not None else exc
            outcomes[i] = Outcome(job.stem, job.seed, error=f"{type(cause).__name__}: {cause}")
        else:
            if run is None:
                outcomes[i] = Outcome(job.stem, job.seed, interrupted=True, of=job.epochs)
            else:
                path = save_run(run, job.results_dir, job.stem, job.folder) if run.history else None
                outcomes[i] = outcome_of(job, run, path)
        print(outcomes[i].line(), flush=True)
