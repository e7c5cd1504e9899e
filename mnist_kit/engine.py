"""Train and test loops in the plain style of pytorch/examples' mnist/main.py, and ``fit``.

They run on CUDA when there is one, else on an Apple-silicon GPU (MPS), else on the CPU. Taught in every
notebook's training section; ``fit`` (``prepare`` the parts, then ``run_epoch`` per epoch) is what the
notebooks and ``python -m mnist_kit train`` call. A run prints two lines per epoch: the progress bar
(live in a terminal, its final state in a file, a pipe or a notebook) and the ``Test set:`` line.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import fast_data, loaders
from .devices import device_name, get_device
from .inference import Predictions, predict, predict_test_set  # noqa: F401 (engine.predict_test_set in notebooks)
from .models import count_parameters, get_model
from .recipes import Recipe, get_recipe

SMOKE_TRAIN_IMAGES, SMOKE_TEST_IMAGES = 3000, 1000


def set_seed(seed: int) -> None:
    """Seed every RNG a run draws from, so the same recipe gives the same run on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


QUIET_BAR = "{l_bar}{bar}| {n_fmt}/{total_fmt}"  # a progress bar without elapsed time or rate


def train(
    model, device, loader, optimizer, progress: bool = True, batch_scheduler=None, averaged=None, title: str = ""
) -> tuple[float, float]:
    """One epoch of training; returns (mean loss, accuracy %) over the epoch.

    ``batch_scheduler`` is stepped after every batch (OneCycleLR changes the rate within an epoch);
    per-epoch schedulers are stepped by ``fit``. ``averaged`` (an ``AveragedModel``) takes in the
    new weights after every step. ``progress`` shows the bar (``title`` before it, e.g. ``EPOCH: 3/15``):
    live in a terminal; in a file, a pipe or a notebook, only its final state, one line per epoch.
    """
    model.train()
    live = progress and sys.stdout.isatty()
    bar = tqdm(loader, disable=not live, file=sys.stdout)  # stdout: the normal log, not a red stderr box
    total_loss, correct, processed = 0.0, 0, 0
    for batch_idx, (images, labels) in enumerate(bar):
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        optimizer.zero_grad()
        output = model(images)
        loss = F.nll_loss(output, labels)
        loss_value = loss.item()
        if not np.isfinite(loss_value):
            raise FloatingPointError(
                f"training loss became {loss_value} at batch {batch_idx}; the weights are ruined. "
                "Lower the learning rate (lr) and run again."
            )
        loss.backward()
        optimizer.step()
        if batch_scheduler is not None:
            batch_scheduler.step()
        if averaged is not None:
            averaged.update_parameters(model)
        total_loss += loss_value * len(images)
        correct += (output.argmax(dim=1) == labels).sum().item()
        processed += len(images)
        status = f"{title}Loss={loss_value:.4f} Batch_id={batch_idx} Accuracy={100 * correct / processed:0.2f}"
        bar.set_description(status)
    if progress and not live:
        # the bar's final state without its clock: a log (a notebook's output) keeps no timing noise
        print(tqdm.format_meter(batch_idx + 1, len(loader), 0, prefix=status, bar_format=QUIET_BAR))
    return total_loss / processed, 100 * correct / processed


def test(model, device, loader, verbose: bool = True, label: str = "Test set", note: str = "") -> tuple[float, float]:
    """Evaluate; returns (mean loss, accuracy %) and prints the classic ``Test set:`` line (``note`` at its end)."""
    model.eval()
    total_loss, correct = 0.0, 0
    with torch.inference_mode():
        for images, labels in loader:
            images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
            output = model(images)
            total_loss += F.nll_loss(output, labels, reduction="sum").item()
            correct += (output.argmax(dim=1) == labels).sum().item()
    n = len(loader.dataset)
    if verbose:
        print(f"{label}: Average loss: {total_loss / n:.4f}, Accuracy: {correct}/{n} ({100 * correct / n:.2f}%){note}")
    return total_loss / n, 100 * correct / n


SCHEDULERS = ("step", "multistep", "onecycle")


def steps_per_batch(scheduler: str) -> bool:
    """Whether the scheduler is stepped after every batch (OneCycleLR) rather than after every epoch."""
    return scheduler == "onecycle"


def make_scheduler(
    optimizer,
    scheduler: str,
    *,
    lr: float,
    epochs: int,
    steps_per_epoch: int,
    step_size: int = 0,
    gamma: float = 0.1,
    milestones=(),
    pct_start: float = 0.3,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
):
    """The learning-rate scheduler named ``scheduler``; ``onecycle`` is stepped per batch, the others per epoch.

    ``fit`` passes a recipe's fields (``recipe.schedule()``); the schedule preview passes its sliders' values.
    """
    if scheduler == "onecycle":
        # lr is the peak; the rate warms up from lr/25 over the first pct_start of training, then anneals
        # (cosine) to lr/(25 * final_div_factor), so the last epochs make only tiny, stabilising steps.
        # three_phase: anneal back to lr/25 first, then a separate final phase down to the floor.
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=lr,
            epochs=epochs,
            steps_per_epoch=steps_per_epoch,
            pct_start=pct_start,
            final_div_factor=final_div_factor,
            three_phase=three_phase,
        )
    if scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    if scheduler == "multistep":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(milestones), gamma=gamma)
    raise ValueError(f"unknown scheduler {scheduler!r}; choose one of: {', '.join(SCHEDULERS)}")


# What ``schedule_trace`` draws when given no recipe: StepLR from 0.01, x0.1 every 5 of 15 epochs (milestones
# 5 and 10 for MultiStepLR), momentum 0.9.
SCHEDULE_PREVIEW = Recipe(
    "schedule", "model_1", rotation=0, jitter=0, lr=0.01, scheduler="step", step_size=5, milestones=(5, 10)
)


def schedule_trace(recipe=None, steps_per_epoch: int = 1, **changes) -> tuple[list[float], list[float]]:
    """The learning rate and the momentum of every optimizer step of ``recipe``, read off a real SGD optimizer
    stepped by the scheduler ``make_scheduler`` builds from ``recipe.schedule()``, exactly as ``prepare`` builds
    the training's: ``(rates, momenta)``. ``changes``: ``Recipe`` settings that replace the recipe's (the schedule
    preview's sliders); ``recipe`` may be a scheduler's name, or left out (``SCHEDULE_PREVIEW``).

    StepLR and MultiStepLR change the rate between epochs and leave the momentum alone; OneCycleLR changes
    both after every batch (torch cycles the momentum 0.95 -> 0.85 at the peak -> 0.95 unless told not to).
    With ``steps_per_epoch=1`` the lists hold one value per epoch. Drawn by ``plots.plot_schedule``.
    """
    if isinstance(recipe, str):
        recipe, changes = None, {"scheduler": recipe, **changes}
    recipe = replace(recipe or SCHEDULE_PREVIEW, **changes)
    optimizer = probe_optimizer(recipe)
    sched = make_scheduler(optimizer, **recipe.schedule(), steps_per_epoch=steps_per_epoch)
    return step_through(optimizer, sched, recipe.epochs, steps_per_epoch, steps_per_batch(recipe.scheduler))


def probe_optimizer(recipe: Recipe) -> torch.optim.SGD:
    """SGD at the recipe's rate and momentum over one dummy weight: what a schedule is read off without training."""
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=recipe.lr, momentum=recipe.momentum)


def step_through(optimizer, scheduler, epochs: int, steps_per_epoch: int, per_batch: bool):
    """Step ``optimizer`` and ``scheduler`` as ``fit`` does (the scheduler after every batch when ``per_batch``, else
    after every epoch) and read the learning rate and momentum of every step: ``(rates, momenta)``."""
    rates, momenta = [], []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            momenta.append(optimizer.param_groups[0]["momentum"])
            optimizer.step()
            if per_batch:
                scheduler.step()
        if not per_batch:
            scheduler.step()
    return rates, momenta


def lr_schedule(*args, **kwargs) -> list[float]:
    """The learning rate of every optimizer step: ``schedule_trace``'s first list, same arguments
    (``lr_schedule(recipe, steps_per_epoch=469)``, or ``lr_schedule("step", lr=0.05, step_size=5)``)."""
    return schedule_trace(*args, **kwargs)[0]


def ema_decay(horizon_epochs: float, steps_per_epoch: int) -> float:
    """Per-step decay of a moving average that remembers about ``horizon_epochs`` epochs of steps.

    An average with decay d weighs the last 1 / (1 - d) steps most; counting the horizon in epochs keeps its
    meaning when an epoch has 391 steps (50,000 images, validation runs) or 469 (60,000, final runs).
    """
    if horizon_epochs <= 0 or steps_per_epoch < 1:
        raise ValueError(
            f"an averaging horizon needs epochs > 0 and steps > 0, got {horizon_epochs}, {steps_per_epoch}"
        )
    return 1.0 - 1.0 / max(horizon_epochs * steps_per_epoch, 1.0)


def make_averaged(model, horizon_epochs: float, steps_per_epoch: int):
    """An exponential moving average of ``model``'s weights and BatchNorm statistics (``use_buffers``), so the
    averaged copy is a complete network that evaluates with statistics that match its own weights."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    decay = ema_decay(horizon_epochs, steps_per_epoch)
    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def make_loaders(recipe: Recipe, device, data_root=None, smoke: bool = False, validation: bool = False):
    """The recipe's train and test loaders: ``classic`` (torchvision, per-image PIL) or ``fast`` (on-device)."""
    builders = {"classic": loaders.classic_loaders, "fast": fast_data.fast_loaders}
    if recipe.pipeline not in builders:
        raise ValueError(f"unknown pipeline {recipe.pipeline!r}; choose one of: {', '.join(builders)}")
    subsets = dict(train_subset=SMOKE_TRAIN_IMAGES, test_subset=SMOKE_TEST_IMAGES) if smoke else {}
    return builders[recipe.pipeline](
        rotation=recipe.rotation,
        jitter=recipe.jitter,
        translate=recipe.translate,
        batch_size=recipe.batch_size,
        device=device,
        data_root=data_root,
        seed=recipe.seed,
        validation=validation,
        **subsets,
    )


@dataclass
class Run:
    """What ``fit`` produced: the trained model, its per-epoch history and how it was made."""

    recipe: Recipe
    model: torch.nn.Module  # the evaluated network: the weight average when the recipe keeps one
    device: str
    device_name: str
    smoke: bool
    started_at: str
    evaluated_on: str = "test"  # "test", or "validation" (the last 10,000 training images) for tuning runs
    raw_model: torch.nn.Module | None = None  # the trained weights themselves, when ``model`` is their average
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def complete(self) -> bool:
        return not self.interrupted and len(self.history) == self.recipe.epochs


@dataclass
class TrainingParts:
    """What one run trains with: built by ``prepare``, used by ``run_epoch``."""

    device: torch.device
    train_loader: object
    test_loader: object
    model: torch.nn.Module  # the network the optimiser trains
    optimizer: torch.optim.Optimizer
    scheduler: object
    per_batch: bool  # the scheduler steps after every batch (OneCycleLR), else after every epoch
    averaged: torch.nn.Module | None  # the weight average (an ``AveragedModel``), when the recipe keeps one

    @property
    def evaluated(self) -> torch.nn.Module:
        """The network whose accuracy counts: the weight average when there is one."""
        return self.averaged.module if self.averaged is not None else self.model


def prepare(recipe: Recipe, device, data_root=None, smoke=False, validation=False, model=None) -> TrainingParts:
    """Seed, then build loaders, model (unless given), optimiser, scheduler and weight average, in this order: the
    model's initial weights are drawn from the generator just seeded (the fast loaders keep a seeded generator of
    their own), so a committed seed reproduces its record only if nothing drawing from it moves before them."""
    set_seed(recipe.seed)
    train_loader, test_loader = make_loaders(recipe, device, data_root, smoke, validation)
    model = model if isinstance(model, torch.nn.Module) else get_model(model or recipe.model, recipe.dropout)
    model = model.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    scheduler = make_scheduler(optimizer, **recipe.schedule(), steps_per_epoch=len(train_loader))
    averaged = make_averaged(model, recipe.ema_epochs, len(train_loader)) if recipe.ema_epochs else None
    per_batch = steps_per_batch(recipe.scheduler)
    return TrainingParts(device, train_loader, test_loader, model, optimizer, scheduler, per_batch, averaged)


def evaluate(parts: TrainingParts, validation: bool = False) -> dict:
    """The epoch's test numbers (``val_*`` on the validation split), printed as one ``Test set:`` line.

    With a weight average, the average is what counts; the raw weights' accuracy ends the same line.
    """
    split, label = ("val", "Validation set") if validation else ("test", "Test set")
    if parts.averaged is None:
        loss, acc = test(parts.model, parts.device, parts.test_loader, label=label)
        return {f"{split}_loss": loss, f"{split}_acc": acc}
    raw_loss, raw_acc = test(parts.model, parts.device, parts.test_loader, verbose=False)
    note = f"; raw weights (not averaged): {raw_acc:.2f}%"
    loss, acc = test(parts.evaluated, parts.device, parts.test_loader, label=label, note=note)
    return {f"{split}_loss": loss, f"{split}_acc": acc, f"raw_{split}_loss": raw_loss, f"raw_{split}_acc": raw_acc}


def run_epoch(parts: TrainingParts, epoch: int, epochs: int, progress: bool = True, validation: bool = False) -> dict:
    """Train one epoch, evaluate, step a per-epoch scheduler; returns the epoch's row of the history.

    It prints two lines: the progress bar's final state and the ``Test set:`` line.
    """
    lr = parts.optimizer.param_groups[0]["lr"]
    start = time.perf_counter()
    batch_scheduler = parts.scheduler if parts.per_batch else None
    title = f"EPOCH: {epoch}/{epochs} "
    train_loss, train_acc = train(
        parts.model, parts.device, parts.train_loader, parts.optimizer, progress, batch_scheduler, parts.averaged, title
    )
    row = dict(epoch=epoch, lr=lr, train_loss=train_loss, train_acc=train_acc, **evaluate(parts, validation))
    if not parts.per_batch:
        parts.scheduler.step()
    row["seconds"] = time.perf_counter() - start
    return row


def headline(run: Run, parts: TrainingParts) -> str:
    """The line a run starts with: network size, length, hardware, pipeline and what is evaluated."""
    recipe = run.recipe
    epochs = f"{recipe.epochs} epoch{'s' * (recipe.epochs > 1)}"
    line = f"{recipe.name}: {count_parameters(parts.model):,} parameters, {epochs} on {run.device_name}"
    line += f", {recipe.pipeline} data pipeline"
    if parts.averaged is not None:
        line += f", evaluating the weight average over ~{recipe.ema_epochs:g} epoch(s)"
    if run.evaluated_on != "test":
        line += f", {run.evaluated_on} split"
    if run.smoke:
        line += " [smoke: small subset]"
    return line


def fit(
    recipe,
    *,
    epochs=None,
    seed=None,
    device=None,
    data_root=None,
    smoke=False,
    progress=True,
    validation=False,
    model=None,
):
    """Train a recipe (a ``Recipe`` or its name) from scratch and return the ``Run``; Ctrl-C stops it and keeps
    what was done.

    ``smoke=True`` trains 1 epoch (unless ``epochs`` says otherwise) on a fixed small real subset.
    ``validation=True`` trains on the first 50,000 training images and evaluates on the last 10,000
    (history keys ``val_*``): tuning decisions are made there, never on the test set.
    With ``recipe.ema_epochs`` the weight average is what is evaluated (``test_acc``); the raw weights'
    accuracy is kept as ``raw_test_acc``. ``model``: a network to train instead of ``get_model(recipe.model)``
    (a student's own module, ``experiments.experiment``; trained in place), or a study's own ``NetSpec`` (built here).
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    recipe = recipe.with_overrides(epochs=epochs if epochs is not None else (1 if smoke else None), seed=seed)
    if recipe.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {recipe.epochs}")
    device = get_device(device) if not isinstance(device, torch.device) else device
    parts = prepare(recipe, device, data_root, smoke, validation, model)
    started_at, evaluated_on = dt.datetime.now(dt.timezone.utc).isoformat(), "validation" if validation else "test"
    run = Run(recipe, parts.evaluated, device.type, device_name(device), smoke, started_at, evaluated_on)
    run.raw_model = parts.model if parts.averaged is not None else None
    print(headline(run, parts))
    start = time.perf_counter()
    try:
        for epoch in range(1, recipe.epochs + 1):
            run.history.append(run_epoch(parts, epoch, recipe.epochs, progress, validation))
    except KeyboardInterrupt:
        run.interrupted = True
        print(f"\nInterrupted: keeping the {len(run.history)} finished epoch(s).")
    run.seconds = time.perf_counter() - start
    return run
