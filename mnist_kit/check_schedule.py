"""Build-it checkers for how training moves: a learning-rate schedule and a weight average, written by the student.

    checks.scheduler(make_scheduler, recipe="model_3")   # every step's rate (and momentum) beside the recipe's
    checks.weight_average(update)                         # your average ← d·average + (1 − d)·weights, beside torch's

``make_scheduler(optimizer, steps_per_epoch)`` returns a ``torch.optim.lr_scheduler`` for the optimizer it is given
(SGD at the recipe's rate and momentum). The checker steps it as ``engine.fit`` steps the kit's: after every batch
for OneCycleLR, after every epoch otherwise, and compares each step's learning rate and momentum with
``engine.schedule_trace`` of the recipe. ``update(average, weights, decay)`` returns the new average of two tensors
(or updates ``average`` in place and returns nothing); it is compared with ``torch.optim.swa_utils.AveragedModel``
and its EMA rule, the average ``engine.make_averaged`` keeps, over a short sequence of weights. Taught in
``notebooks/03_model_3.ipynb`` (``scheduler``) and ``notebooks/04_model_4.ipynb`` (both).
"""

from __future__ import annotations

import math

import torch

from .engine import probe_optimizer, schedule_trace, step_through, steps_per_batch
from .recipes import get_recipe
from .verdict import Verdict, failed, passed, sentence

STEPS_PER_EPOCH = 469  # 60,000 training images in batches of 128
RELATIVE = 1e-6  # a rate or a momentum this close counts as the same


def _trace(make_scheduler, recipe, steps_per_epoch: int) -> tuple[list[float], list[float], object]:
    """Step the student's scheduler as ``fit`` steps the recipe's: (rates, momenta, the scheduler)."""
    optimizer = probe_optimizer(recipe)
    scheduler = make_scheduler(optimizer, steps_per_epoch)
    per_batch = isinstance(scheduler, torch.optim.lr_scheduler.OneCycleLR)
    return (*step_through(optimizer, scheduler, recipe.epochs, steps_per_epoch, per_batch), scheduler)


def _where(step: int, steps_per_epoch: int) -> str:
    epoch, batch = divmod(step, steps_per_epoch)
    return f"epoch {epoch + 1}" + (f", batch {batch + 1}" if steps_per_epoch > 1 and batch else "")


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=RELATIVE, abs_tol=1e-12)


def _rate_hint(recipe, scheduler, step: int, mine: float, theirs: float) -> str:
    kind = type(scheduler).__name__
    wanted = {"step": "StepLR", "multistep": "MultiStepLR", "onecycle": "OneCycleLR"}[recipe.scheduler]
    if kind != wanted:
        return f"the recipe's schedule is {wanted} (its scheduler is {recipe.scheduler!r}); yours is {kind}"
    if step == 0:
        start = "OneCycleLR starts at max_lr / 25, so max_lr" if recipe.scheduler == "onecycle" else "the starting rate"
        return f"the very first rate should be {theirs:.6g}: {start} is the recipe's lr, {recipe.lr:g}"
    if recipe.scheduler == "onecycle":
        return (
            "OneCycleLR needs max_lr=recipe.lr, epochs and steps_per_epoch (the total number of steps), "
            f"pct_start={recipe.pct_start:g} and final_div_factor={recipe.final_div_factor:g}"
        )
    ratio = mine / theirs if theirs else float("inf")
    if _same(ratio, recipe.gamma) or _same(ratio, 1 / recipe.gamma):
        return "the rate is cut one epoch too early or too late: look at the milestones (epochs count from 0)"
    return f"each cut multiplies the rate by gamma={recipe.gamma:g}: check gamma and the step size or milestones"


def scheduler(make_scheduler, *, recipe="model_3", steps_per_epoch: int = STEPS_PER_EPOCH) -> Verdict:
    """Compare the rates and momenta of your ``make_scheduler(optimizer, steps_per_epoch)`` with the recipe's, step by
    step, over the recipe's epochs; the first difference gets a hint."""
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    try:
        rates, momenta, sched = _trace(make_scheduler, recipe, steps_per_epoch)
    except Exception as error:  # a student's function that cannot run: say what went wrong
        hint = "return a scheduler from torch.optim.lr_scheduler, built on the optimizer make_scheduler is given"
        return failed(f"Your make_scheduler fails: {type(error).__name__}: {error}.", sentence(hint))
    want_rates, want_momenta = schedule_trace(recipe, steps_per_epoch=steps_per_epoch)
    details = dict(rates=rates, momenta=momenta)
    for step, (mine, theirs) in enumerate(zip(rates, want_rates, strict=True)):
        if not _same(mine, theirs):
            line = f"At {_where(step, steps_per_epoch)} your rate is {mine:.6g}, the recipe's {theirs:.6g}."
            return failed(line, sentence(_rate_hint(recipe, sched, step, mine, theirs)), **details)
    for step, (mine, theirs) in enumerate(zip(momenta, want_momenta, strict=True)):
        if not _same(mine, theirs):
            line = f"At {_where(step, steps_per_epoch)} your momentum is {mine:.4g}, the recipe's {theirs:.4g}."
            hint = "OneCycleLR cycles the momentum by default (cycle_momentum=True, 0.95 → 0.85 → 0.95); leave it on"
            return failed(line, sentence(hint), **details)
    every = "batch" if steps_per_batch(recipe.scheduler) else "epoch"
    return passed(
        f"Your schedule matches {recipe.name}'s: the same rate and momentum at every {every} "
        f"({len(rates):,} steps, {rates[0]:.4g} at the first, {rates[-1]:.4g} at the last).",
        **details,
    )


def _reference(sequence: list[torch.Tensor], decay: float) -> torch.Tensor:
    """torch's EMA over ``sequence``: an ``AveragedModel`` of a one-layer module, as ``engine.make_averaged`` keeps."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    module = torch.nn.Linear(sequence[0].numel(), 1, bias=False)
    average = AveragedModel(module, multi_avg_fn=get_ema_multi_avg_fn(decay))
    for weights in sequence:
        with torch.no_grad():
            module.weight.copy_(weights.view_as(module.weight))
        average.update_parameters(module)
    return average.module.weight.detach().view_as(sequence[0]).clone()


def _average_hint(mine: torch.Tensor, sequence: list[torch.Tensor], decay: float) -> str:
    swapped = sequence[0].clone()
    for weights in sequence[1:]:
        swapped = (1 - decay) * swapped + decay * weights
    if torch.allclose(mine, swapped):
        return "the average keeps most of itself: decay multiplies the average, (1 − decay) the new weights"
    if torch.allclose(mine, sequence[-1]):
        return "your average is just the last weights: it should move only a step (1 − decay) of the way towards them"
    if torch.allclose(mine, sequence[0]):
        return "your average never moves: return the new average (or update it in place)"
    return "the new average is decay·average + (1 − decay)·weights, one step at a time"


def weight_average(update, *, decay: float = 0.9, steps: int = 6, seed: int = 0) -> Verdict:
    """Run your ``update(average, weights, decay)`` over a short sequence of random weights, starting from the first
    (as ``AveragedModel`` does), and compare the result with torch's exponential moving average."""
    generator = torch.Generator().manual_seed(seed)
    sequence = [torch.randn(4, generator=generator) for _ in range(steps)]
    average = sequence[0].clone()
    try:
        for weights in sequence[1:]:
            returned = update(average, weights.clone(), decay)
            average = average if returned is None else torch.as_tensor(returned, dtype=average.dtype)
    except Exception as error:
        hint = "update(average, weights, decay) takes two tensors and a number, and returns the new average"
        hint = "your " + hint
        return failed(f"Your update fails: {type(error).__name__}: {error}.", sentence(hint))
    expected = _reference(sequence, decay)
    details = dict(mine=average.tolist(), torch=expected.tolist())
    if average.shape != expected.shape or not torch.allclose(average, expected, atol=1e-6):
        return failed(
            f"After {steps} weights your average is {_short(average)}, torch's {_short(expected)}.",
            sentence(_average_hint(average, sequence, decay)),
            **details,
        )
    return passed(
        f"Your update matches torch's AveragedModel (EMA, decay {decay:g}) over {steps} weights: {_short(average)}.",
        **details,
    )


def _short(values: torch.Tensor) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values.flatten().tolist()) + "]"


__all__ = ["Verdict", "scheduler", "weight_average"]
