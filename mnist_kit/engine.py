"""Train and test loops in the plain style of pytorch/examples' mnist/main.py, and ``fit``.

They run on CUDA when there is one, else on the CPU. Taught in every notebook's
training section; ``fit`` is what the notebooks and ``python -m mnist_kit train`` call.
"""

from __future__ import annotations

import datetime as dt
import platform
import random
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from . import fast_data, loaders
from .data import MEAN, STD
from .models import count_parameters, get_model
from .recipes import Recipe, get_recipe

SMOKE_TRAIN_IMAGES, SMOKE_TEST_IMAGES = 3000, 1000


def get_device(name: str | None = None) -> torch.device:
    """``cuda`` when available (or asked for), else ``cpu``; asking for a missing GPU is an error."""
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}; choose cpu or cuda")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for, but torch sees no CUDA GPU here; use --device cpu")
    return torch.device(name)


def device_name(device: torch.device) -> str:
    """Human name of the hardware, for records: the GPU model or the CPU and its thread count."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU: {cpu} ({torch.get_num_threads()} threads)"


def set_seed(seed: int) -> None:
    """Seed every RNG a run draws from, so the same recipe gives the same run on the same machine."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def train(
    model, device, loader, optimizer, progress: bool = True, batch_scheduler=None, averaged=None
) -> tuple[float, float]:
    """One epoch of training; returns (mean loss, accuracy %) over the epoch.

    ``batch_scheduler`` is stepped after every batch (OneCycleLR changes the rate within an epoch);
    per-epoch schedulers are stepped by ``fit``. ``averaged`` (an ``AveragedModel``) takes in the
    new weights after every step.
    """
    model.train()
    bar = tqdm(loader, disable=not progress, file=sys.stdout)  # stdout: the normal log, not a red stderr box
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
        bar.set_description(f"Loss={loss_value:.4f} Batch_id={batch_idx} Accuracy={100 * correct / processed:0.2f}")
    return total_loss / processed, 100 * correct / processed


def test(model, device, loader, verbose: bool = True, label: str = "Test set") -> tuple[float, float]:
    """Evaluate; returns (mean loss, accuracy %) and prints the classic ``Test set:`` line."""
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
        print(f"\n{label}: Average loss: {total_loss / n:.4f}, Accuracy: {correct}/{n} ({100 * correct / n:.2f}%)\n")
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


def lr_schedule(
    scheduler: str = "step",
    lr: float = 0.01,
    epochs: int = 15,
    step_size: int = 5,
    gamma: float = 0.1,
    milestones=(5, 10),
    steps_per_epoch: int = 1,
    pct_start: float = 0.3,
    final_div_factor: float = 1e4,
    three_phase: bool = False,
) -> list[float]:
    """The learning rate of every optimizer step, from the scheduler ``make_scheduler`` builds.

    StepLR and MultiStepLR change the rate between epochs, OneCycleLR after every batch; with
    ``steps_per_epoch=1`` the list holds one rate per epoch. Drawn by ``widgets.schedule_preview``
    and ``plots.plot_schedule`` (which passes ``**recipe.schedule()``).
    """
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_scheduler(
        optimizer,
        scheduler,
        lr=lr,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        step_size=step_size,
        gamma=gamma,
        milestones=milestones,
        pct_start=pct_start,
        final_div_factor=final_div_factor,
        three_phase=three_phase,
    )
    per_batch = steps_per_batch(scheduler)
    rates = []
    for _ in range(epochs):
        for _ in range(steps_per_epoch):
            rates.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if per_batch:
                sched.step()
        if not per_batch:
            sched.step()
    return rates


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


def fit(
    recipe: Recipe | str,
    *,
    epochs=None,
    seed=None,
    device=None,
    data_root=None,
    smoke=False,
    progress=True,
    validation=False,
) -> Run:
    """Train a recipe from scratch and return the ``Run``; Ctrl-C stops it and keeps what was done.

    ``smoke=True`` trains 1 epoch (unless ``epochs`` says otherwise) on a fixed small real subset.
    ``validation=True`` trains on the first 50,000 training images and evaluates on the last 10,000
    (history keys ``val_*``): tuning decisions are made there, never on the test set.
    With ``recipe.ema_epochs`` the weight average is what is evaluated (``test_acc``); the raw weights'
    accuracy is kept as ``raw_test_acc``.
    """
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    recipe = recipe.with_overrides(epochs=epochs if epochs is not None else (1 if smoke else None), seed=seed)
    if recipe.epochs < 1:
        raise ValueError(f"epochs must be at least 1, got {recipe.epochs}")
    device = get_device(device) if not isinstance(device, torch.device) else device
    set_seed(recipe.seed)
    train_loader, test_loader = make_loaders(recipe, device, data_root, smoke, validation)
    model = get_model(recipe.model, dropout=recipe.dropout).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum)
    scheduler = make_scheduler(optimizer, **recipe.schedule(), steps_per_epoch=len(train_loader))
    per_batch = steps_per_batch(recipe.scheduler)
    averaged = make_averaged(model, recipe.ema_epochs, len(train_loader)) if recipe.ema_epochs else None
    split, label = ("val", "Validation set") if validation else ("test", "Test set")
    run = Run(
        recipe,
        averaged.module if averaged else model,
        device.type,
        device_name(device),
        smoke,
        dt.datetime.now(dt.timezone.utc).isoformat(),
        "validation" if validation else "test",
        raw_model=model if averaged else None,
    )
    print(
        f"{recipe.name}: {count_parameters(model):,} parameters, {recipe.epochs} epoch{'s' * (recipe.epochs > 1)} "
        f"on {run.device_name}, {recipe.pipeline} data pipeline"
        + (f", evaluating the weight average over ~{recipe.ema_epochs:g} epoch(s)" if averaged else "")
        + (", validation split" if validation else "")
        + (" [smoke: small subset]" if smoke else "")
    )
    start = time.perf_counter()
    try:
        for epoch in range(1, recipe.epochs + 1):
            print(f"EPOCH: {epoch}")
            lr = optimizer.param_groups[0]["lr"]
            epoch_start = time.perf_counter()
            train_loss, train_acc = train(
                model,
                device,
                train_loader,
                optimizer,
                progress,
                batch_scheduler=scheduler if per_batch else None,
                averaged=averaged,
            )
            row = dict(epoch=epoch, lr=lr, train_loss=train_loss, train_acc=train_acc)
            row[f"{split}_loss"], row[f"{split}_acc"] = test(run.model, device, test_loader, label=label)
            if averaged is not None:
                row[f"raw_{split}_loss"], row[f"raw_{split}_acc"] = test(model, device, test_loader, verbose=False)
                print(f"Raw weights (not averaged): {row[f'raw_{split}_acc']:.2f}%\n")
            if not per_batch:
                scheduler.step()
            row["seconds"] = time.perf_counter() - epoch_start
            run.history.append(row)
    except KeyboardInterrupt:
        run.interrupted = True
        print(f"\nInterrupted: keeping the {len(run.history)} finished epoch(s).")
    run.seconds = time.perf_counter() - start
    return run


@dataclass
class Predictions:
    """Every image of a loader with its true label, the model's guess and how sure it was."""

    images: torch.Tensor  # N x 1 x 28 x 28, back in [0, 1] for display
    labels: torch.Tensor
    predicted: torch.Tensor
    confidence: torch.Tensor  # softmax probability of the guess

    @property
    def wrong(self) -> torch.Tensor:
        """Indices of the mistakes, surest mistakes first."""
        index = torch.nonzero(self.predicted != self.labels).flatten()
        return index[torch.argsort(self.confidence[index], descending=True)]


def predict(model, loader, device=None) -> Predictions:
    """Run the model over a loader (no augmentation expected). Taught in every notebook's Results."""
    device = device or next(model.parameters()).device
    model.eval()
    parts = []
    with torch.inference_mode():
        for images, labels in loader:
            probs = model(images.to(device)).exp()
            confidence, predicted = probs.max(dim=1)
            parts.append((images.cpu() * STD + MEAN, labels.cpu(), predicted.cpu(), confidence.cpu()))
    return Predictions(*(torch.cat(column) for column in zip(*parts, strict=True)))


def predict_test_set(model, data_root=None) -> Predictions:
    """The whole unaugmented test set through ``model``, for the mistakes grid and widgets."""
    device = next(model.parameters()).device
    return predict(model, fast_data.fast_test_loader(data_root, device), device)
