"""Does it learn? Two short runs a practitioner makes before a long one.

    checks.overfit_one_batch(MyModel1(), train_step)   # 64 images learned to 100 %: the network and step can learn
    checks.quick_run(MyModel1(), train_step)           # a few thousand images, the first curve printed as it goes

Both train a copy of the network (yours stays as it was) with SGD at the recipe's rate and momentum, with your step
or the kit's (``kit_step``). ``quick_run`` shrinks under the smoke switch (``MNIST_KIT_SMOKE=1``, as in the tests and
CI) to a few hundred images. Taught in ``notebooks/01_model_1.ipynb``'s build-it cells.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn.functional as F

from .check_training import EVAL_MODE, PILED_UP, _as_float, _loss_hint, _network, kit_step, mnist_images, run_watched
from .engine import test
from .fast_data import TensorLoader
from .settings import resolve_smoke
from .verdict import Verdict, failed, passed, sentence

QUICK_IMAGES, QUICK_TEST_IMAGES = 5000, 1000  # a full quick run: its time on one CPU thread is in the tests' notes
SMOKE_QUICK_IMAGES, SMOKE_QUICK_TEST_IMAGES = 500, 200
OVERFIT_LR = 0.05  # 5 times the recipe's: one batch has nothing to generalise, so it may be learned fast
DIVERGED = 3.0  # a loss this many times its first value has diverged


def _batch_accuracy(model, images, labels) -> float:
    model.eval()
    with torch.no_grad():
        return 100 * (model(images).argmax(dim=1) == labels).float().mean().item()


def _overfit_hint(losses: list[float], accuracy: float, lr: float) -> str:
    first, last, steps = losses[0], losses[-1], len(losses)
    if not math.isfinite(last) or last > DIVERGED * first:
        return (
            f"the loss rose from {first:.2f} to {last:.3g} in {steps} steps: the learning rate (lr={lr:g}) is too "
            "high, try 10 times lower; or the gradients pile up step after step (is optimizer.zero_grad() called?)"
        )
    if last > 0.9 * first:
        return (
            f"the loss barely fell ({first:.2f} → {last:.2f} in {steps} steps): the learning rate (lr={lr:g}) is "
            "too low, try 10 times higher; or the weights never change (loss.backward() and optimizer.step())"
        )
    return (
        f"it reached {accuracy:.1f} % (loss {first:.2f} → {last:.3f}) in {steps} steps: give it more steps or a higher "
        "learning rate; a network that cannot memorise 64 images will not learn 60,000"
    )


def _wrong_loss(loss: float, output: torch.Tensor, labels: torch.Tensor) -> str | None:
    """A hint when a step's loss is not ``F.nll_loss`` of the log-probabilities it computed, or None."""
    if not torch.allclose(output.logsumexp(dim=-1), torch.zeros(len(output)), atol=1e-4):
        return None  # not log-probabilities: check_network and initial_loss say so
    expected = F.nll_loss(output, labels).item()
    return (
        None if math.isclose(loss, expected, rel_tol=1e-4, abs_tol=1e-6) else _loss_hint(loss, expected, output, labels)
    )


def _step(step_fn, model, images, labels, optimizer) -> tuple[float | None, str | None]:
    """One training step watched: (the loss it returned, a hint when it ran in eval mode, let the gradients pile
    up, returned no loss or another loss than ``F.nll_loss`` of the network's output)."""
    returned, spy = run_watched(step_fn, model, images, labels, optimizer)
    loss = _as_float(returned)
    if spy.calls and not spy.calls[-1]["training"]:
        return loss, EVAL_MODE
    if spy.piled_up:
        return loss, PILED_UP
    if loss is None:
        return loss, "return the loss from your step (a tensor or loss.item())"
    return loss, _wrong_loss(loss, spy.calls[-1]["output"], labels) if spy.calls else None


def overfit_one_batch(
    model,
    step_fn=None,
    *,
    images: int = 64,
    steps: int = 300,
    lr: float = OVERFIT_LR,
    momentum: float = 0.9,
    seed: int = 1,
) -> Verdict:
    """Train a copy of ``model`` (a network, its class or a course name) on one batch of ``images`` real images with
    ``step_fn(model, images, labels, optimizer)`` (default: the kit's step) until it gets all of them right (checked
    every 10 steps, in eval mode) or ``steps`` run out, at ``lr`` 0.05 (the recipe's 0.01 needs about twice the
    steps). Model_1 gets there in about 50 steps, a few seconds."""
    net, step_fn = _network(model, seed), step_fn or kit_step
    x, y = mnist_images(images)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    losses, accuracy, start = [], 0.0, time.perf_counter()
    torch.manual_seed(seed)
    for i in range(1, steps + 1):
        loss, hint = _step(step_fn, net, x, y, optimizer)
        if hint is not None:
            return failed(f"Step {i} went wrong.", sentence(hint))
        losses.append(loss)
        if not math.isfinite(loss) or loss > DIVERGED * losses[0]:
            break
        if i % 10 == 0 or i == steps:
            accuracy = _batch_accuracy(net, x, y)
            if accuracy == 100:
                line = f"It learned the {images} images to 100 % in {i} steps (loss {losses[0]:.2f} → {loss:.3f})"
                seconds = time.perf_counter() - start
                return passed(line + ": the network and the training step can learn.", losses=losses, seconds=seconds)
    hint = _overfit_hint(losses, accuracy, lr)
    return failed(f"It did not learn the {images} images.", sentence(hint), losses=losses, accuracy=accuracy)


def _test_loader(n: int) -> TensorLoader:
    from .check_training import _split, default_data_root, fixed_subset_indices

    raw, labels = _split(str(default_data_root()), False)
    keep = fixed_subset_indices(len(labels), n)
    return TensorLoader(raw[keep], labels[keep], batch_size=500)


def _sizes(images, smoke) -> tuple[int, int]:
    smoke = resolve_smoke(smoke)
    if images is not None:
        return images, SMOKE_QUICK_TEST_IMAGES if smoke else QUICK_TEST_IMAGES
    return (SMOKE_QUICK_IMAGES, SMOKE_QUICK_TEST_IMAGES) if smoke else (QUICK_IMAGES, QUICK_TEST_IMAGES)


def quick_run(
    model="model_1",
    step_fn=None,
    *,
    images: int | None = None,
    epochs: int = 2,
    batch_size: int = 64,
    lr: float = 0.01,
    momentum: float = 0.9,
    points: int = 8,
    seed: int = 1,
    smoke: bool | None = None,
) -> Verdict:
    """A short first run: a copy of ``model`` trained with ``step_fn`` (default: the kit's) for ``epochs`` over
    ``images`` real training images (5,000; 500 under the smoke switch), no augmentation, printing the training loss
    and the test accuracy (1,000 test images; 200 under smoke) at ``points`` moments: the first curve."""
    net, step_fn = _network(model, seed), step_fn or kit_step
    n_train, n_test = _sizes(images, smoke)
    x, y = mnist_images(n_train)
    test_loader, optimizer = _test_loader(n_test), torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    order_rng, start = torch.Generator().manual_seed(seed), time.perf_counter()
    total = epochs * math.ceil(n_train / batch_size)
    marks = {round(total * k / points) for k in range(1, points + 1)}
    curve, window, step, seen = [], [], 0, 0
    torch.manual_seed(seed)
    for _epoch in range(epochs):
        for index in torch.randperm(n_train, generator=order_rng).split(batch_size):
            loss = _as_float(step_fn(net, x[index], y[index], optimizer))
            window, step, seen = [*window, loss], step + 1, seen + len(index)
            if step in marks:
                curve.append(_point(net, test_loader, seen, window))
                window = []
    return _quick_verdict(curve, n_test, time.perf_counter() - start)


def _point(model, test_loader, seen: int, losses: list[float]) -> dict:
    """One point of the curve, printed: images seen, the mean training loss since the last point, test accuracy."""
    _, accuracy = test(model, "cpu", test_loader, verbose=False)
    point = dict(images=seen, train_loss=sum(losses) / len(losses), accuracy=accuracy)
    print(f"{seen:>7,} images seen: training loss {point['train_loss']:.3f}, test accuracy {accuracy:5.2f} %")
    return point


def _quick_verdict(curve: list[dict], n_test: int, seconds: float) -> Verdict:
    first, last = curve[0], curve[-1]
    line = (
        f"After {last['images']:,} images: {last['accuracy']:.2f} % of {n_test:,} test images right; the training "
        f"loss fell from {first['train_loss']:.2f} to {last['train_loss']:.2f}."
    )
    if last["train_loss"] < first["train_loss"]:
        return passed(line, curve=curve, seconds=seconds)
    hint = "check the step with checks.train_step and the learning rate with checks.overfit_one_batch"
    return failed(line.replace("fell", "went"), sentence(hint), curve=curve, seconds=seconds)
