"""Checkers for a student's own training code, run beside the kit's on the same seed and the same real images.

    checks.train_step(train_step)          # def train_step(model, images, labels, optimizer): ... return loss
    checks.evaluate(evaluate)              # def evaluate(model, loader): ... return accuracy (or (loss, accuracy))
    checks.initial_loss(MyModel1())        # ≈ ln 10 before any training (or pass the loss you computed)
    checks.overfit_one_batch(MyModel1(), train_step)   # 64 images learned to 100 % in a few hundred steps

A step is compared with ``kit_step`` (one batch through ``engine.train``): the loss it returns and every weight
and BatchNorm statistic after it. Two steps run, the second after the network was put in eval mode (as an
evaluation leaves it), so a forgotten ``optimizer.zero_grad()`` (gradients pile up from step 1) and a forgotten
``model.train()`` are each caught and named. Taught in ``notebooks/01_model_1.ipynb``'s build-it cells.
"""

from __future__ import annotations

import copy
import functools
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data import MEAN, STD, fixed_subset_indices, load_idx_tensors
from .engine import set_seed, test, train
from .fast_data import TensorLoader
from .models import get_model
from .paths import default_data_root
from .verdict import Verdict, failed, passed, sentence

LN10 = math.log(10)  # the loss of a network that gives each of the 10 digits probability 1/10
INITIAL_LOSS_TOLERANCE = 0.25  # Model_1 starts at 2.33 on 512 images (dropout on); a scaled-up head starts above 3
BATCH = 64  # the images of each step the step checker runs
TOLERANCE = dict(rtol=1e-4, atol=1e-6)  # the same arithmetic on the same CPU: only rounding may differ
WHY_LN10 = (
    "a network that has learned nothing gives each of the 10 digits about the same probability, 1/10, and the "
    "loss is −ln(probability of the right digit) = −ln(1/10) = ln 10 ≈ 2.30"
)
PILED_UP = (
    "call optimizer.zero_grad() at the start of every step: backward adds each step's gradients to the ones left "
    "from the step before, so without it every step pushes along the sum of all the gradients so far"
)
EVAL_MODE = (
    "call model.train() at the start of your step: the network was in eval mode (as an evaluation leaves it), and "
    "in eval mode dropout does nothing and BatchNorm uses its running statistics instead of the batch's"
)


@functools.lru_cache(maxsize=2)
def _split(root: str, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
    return load_idx_tensors(root, train=train)


def mnist_images(n: int, *, offset: int = 0, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` real MNIST images (normalised, N×1×28×28, no augmentation) and their labels: a fixed draw, the same on
    every machine; ``offset`` skips that many of the draw (two batches that share no image)."""
    images, labels = _split(str(default_data_root()), train)
    keep = fixed_subset_indices(len(labels), offset + n)
    keep = torch.arange(len(labels)) if keep is None else keep
    keep = keep[offset : offset + n]
    return ((images[keep].float() / 255 - MEAN) / STD).unsqueeze(1), labels[keep]


def kit_step(model, images, labels, optimizer) -> float:
    """The kit's training step on one batch: ``engine.train`` over a loader of that one batch (zero the gradients,
    forward, ``F.nll_loss``, backward, step); returns the loss."""
    loss, _accuracy = train(model, images.device, [(images, labels)], optimizer, progress=False)
    return loss


def _network(model, seed: int = 1) -> nn.Module:
    """A network to check: a course network by name or a class (built with ``seed``), or a copy of an instance."""
    if isinstance(model, str):
        set_seed(seed)
        return get_model(model)
    if isinstance(model, type) and issubclass(model, nn.Module):
        set_seed(seed)
        return model()
    if not isinstance(model, nn.Module):
        raise TypeError(f"expected an nn.Module, its class or a course network's name, not {model!r}")
    return copy.deepcopy(model)


class Spy:
    """Watches a network's forward passes: whether it was in training mode, gradients were on, and its output."""

    def __init__(self, model: nn.Module):
        self.calls: list[dict] = []
        self.backwards = 0  # how many times a gradient flowed back through the output: loss.backward() ran
        self.zero_grads, self.piled_up = 0, False  # zero_grad calls; whether gradients were added to the last ones
        self.hook = model.register_forward_hook(self._record)

    def _record(self, module, _inputs, output):
        self.calls.append(dict(training=module.training, grad=torch.is_grad_enabled(), output=output.detach()))
        if output.requires_grad:
            output.register_hook(self._backward)

    def _backward(self, grad):
        self.backwards += 1

    def last(self) -> dict | None:
        return self.calls[-1] if self.calls else None


def _as_float(value) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _state(model: nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()]


def _params(model: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.allclose(x, y, **TOLERANCE) for x, y in zip(a, b, strict=True))


def _loss_hint(mine: float, kit: float, output: torch.Tensor, labels: torch.Tensor) -> str:
    """Why a step's loss differs from the kit's, named when it is a known slip."""
    one_hot = F.one_hot(labels, 10).float()
    mse = "that is a mean squared error against one-hot labels, which barely pushes the right digit up"
    slips = [
        (F.nll_loss(output, labels, reduction="sum"), "that is the sum over the batch: take the mean (the default)"),
        (F.mse_loss(output, one_hot), mse),
        (F.mse_loss(output.exp(), one_hot), mse),
        (F.nll_loss(output.exp(), labels), "that is nll_loss of probabilities: give it the log-probabilities"),
    ]
    named = next((why for value, why in slips if math.isclose(mine, value.item(), rel_tol=1e-4)), None)
    why = (
        "the network returns log-probabilities, so the loss is F.nll_loss(output, labels), the mean over the batch "
        "of −log(probability of the right digit)"
    )
    named = f"{named}; " if named else ""
    return f"your loss is {mine:.4f}, the kit's {kit:.4f} on the same batch and weights: {named}{why}"


def _weights_hint(model: nn.Module, before: list[torch.Tensor], step: int, backward_ran: bool) -> str:
    """Why the weights after a step whose loss agreed differ from the kit's."""
    grads = [p.grad for p in model.parameters()]
    if _same(_params(model), before):
        if not backward_ran:
            return "the weights did not change and no gradient was computed: call loss.backward() before the step"
        if all(g is None or not g.any() for g in grads):
            return "the gradients were zero at the step: call optimizer.zero_grad() before loss.backward(), not after"
        return "the weights did not change: call optimizer.step() after loss.backward()"
    if step == 2:
        return (
            "step 1 agreed but step 2 did not: the gradients piled up; call optimizer.zero_grad() at the start of "
            "every step (backward adds to .grad, it does not replace it)"
        )
    return "the weights after your step differ from the kit's: use the optimizer you are given, once per step"


def run_watched(step_fn, model, images, labels, optimizer) -> tuple[object, Spy]:
    """Run ``step_fn(model, images, labels, optimizer)`` with a ``Spy`` on the network: (what it returned, the spy)."""
    spy, grads = Spy(model), [p.grad for p in model.parameters()]
    for owner in (model, optimizer):  # count the calls of zero_grad, whichever the step uses
        owner.zero_grad = functools.partial(_counted, spy, type(owner).zero_grad.__get__(owner))
    try:
        returned = step_fn(model, images, labels, optimizer)
    finally:
        spy.hook.remove()
        del model.zero_grad, optimizer.zero_grad
    kept = [g is not None and p.grad is g for g, p in zip(grads, model.parameters(), strict=True)]
    spy.piled_up = not spy.zero_grads and any(kept)  # backward added to last step's gradients, in place
    return returned, spy


def _counted(spy: Spy, zero_grad, *args, **kwargs):
    spy.zero_grads += 1
    return zero_grad(*args, **kwargs)


def _step_hint(returned, spy: Spy, labels, kit_loss: float, step: int) -> str | None:
    """A hint when one student step went wrong before its weights are compared, or None when its loss agrees."""
    seen = spy.last()
    if seen is None:
        return "your step never ran the network: output = model(images)"
    if not seen["training"]:
        return EVAL_MODE if step == 2 else "your step runs the network in eval mode: call model.train(), not eval()"
    mine = _as_float(returned)
    if mine is None:
        return f"return the loss from your step (a tensor or loss.item()), not {returned!r}"
    if not math.isclose(mine, kit_loss, rel_tol=TOLERANCE["rtol"]):
        return _loss_hint(mine, kit_loss, seen["output"], labels)
    return None


def train_step(step_fn, *, model="model_1", seed: int = 1, lr: float = 0.01, momentum: float = 0.9) -> Verdict:
    """Run your ``step_fn(model, images, labels, optimizer)`` and the kit's step (``kit_step``) on the same network,
    seed and batch of 64 real images, twice (before step 2 the network is put in eval mode, as after an
    evaluation); they agree when the losses and every weight after each step agree."""
    kit_model = _network(model, seed)
    yours = copy.deepcopy(kit_model)
    kit_opt = torch.optim.SGD(kit_model.parameters(), lr=lr, momentum=momentum)
    your_opt = torch.optim.SGD(yours.parameters(), lr=lr, momentum=momentum)
    losses = []
    for step in (1, 2):
        images, labels = mnist_images(BATCH, offset=BATCH * (step - 1))
        yours.train(step == 1)  # step 2 finds the network in eval mode, as an evaluation leaves it
        torch.manual_seed(seed + step)  # the same dropout masks for both
        kit_loss = kit_step(kit_model, images, labels, kit_opt)
        torch.manual_seed(seed + step)
        before = _params(yours)
        returned, spy = run_watched(step_fn, yours, images, labels, your_opt)
        hint = _step_hint(returned, spy, labels, kit_loss, step)
        if hint is None and not _same(_state(yours), _state(kit_model)):
            hint = _weights_hint(yours, before, step, spy.backwards > 0)
        if hint is not None:
            return failed(f"Step {step} does not agree with the kit's.", sentence(hint))
        losses.append(kit_loss)
    return passed(
        "Your training step agrees with the kit's: the same loss and the same weights after two steps "
        f"(losses {losses[0]:.4f}, {losses[1]:.4f}).",
        losses=losses,
    )


def _accuracy_and_loss(returned) -> tuple[float | None, float | None]:
    """(accuracy, loss) from what an evaluation returned: an accuracy, or (loss, accuracy) as ``engine.test``."""
    if isinstance(returned, (tuple, list)) and len(returned) == 2:
        return _as_float(returned[1]), _as_float(returned[0])
    return _as_float(returned), None


def _as_percent(accuracy: float, kit: float) -> float:
    """An accuracy given as a fraction (0.93) read as a percentage (93)."""
    return 100 * accuracy if accuracy <= 1 and kit > 1 else accuracy


def _numbers_hint(accuracy, loss, kit: tuple[float, float], loader) -> str | None:
    kit_loss, kit_acc = kit
    if accuracy is None:
        return "return the accuracy (in %), or (loss, accuracy) as the kit's test does"
    accuracy = _as_percent(accuracy, kit_acc)
    if not math.isclose(accuracy, kit_acc, rel_tol=1e-6):
        per_batch = math.isclose(accuracy, kit_acc * len(loader), rel_tol=1e-6)
        why = (
            "add up the right answers over all the batches, then divide by the number of images, len(loader.dataset)"
            if per_batch
            else "count the images whose largest output is the right label, (output.argmax(dim=1) == labels).sum()"
        )
        return f"your accuracy is {accuracy:.2f} %, the kit's {kit_acc:.2f} %: {why}"
    if loss is not None and not math.isclose(loss, kit_loss, rel_tol=1e-4):
        return (
            f"your loss is {loss:.4f}, the kit's {kit_loss:.4f}: add up F.nll_loss(output, labels, reduction='sum') "
            "over the batches and divide by the number of images"
        )
    return None


def _evaluation_hint(eval_fn, model, loader, kit: tuple[float, float]) -> str | None:
    """A hint when ``eval_fn`` does not agree with the kit's (loss, accuracy) on ``loader``, or None."""
    spy = Spy(model)
    try:
        accuracy, loss = _accuracy_and_loss(eval_fn(model, loader))
    finally:
        spy.hook.remove()
    if not spy.calls:
        return "your evaluation never ran the network"
    if any(call["training"] for call in spy.calls):
        return (
            "call model.eval() first: in training mode dropout drops activations and BatchNorm uses each batch's "
            "statistics instead of the running ones, so the accuracy is not the network's"
        )
    if any(call["grad"] for call in spy.calls):
        return "wrap the loop in torch.no_grad(): an evaluation needs no gradients, and keeping them costs time"
    return _numbers_hint(accuracy, loss, kit, loader)


def evaluate(eval_fn, *, model="model_1", seed: int = 1, images: int = 500) -> Verdict:
    """Run your ``eval_fn(model, loader)`` beside the kit's ``engine.test`` on ``images`` test images (in batches of
    250) and a fresh network; it should return the accuracy in % (or as a fraction), or (loss, accuracy) as the kit's
    does. They agree when the numbers agree and the network ran in eval mode without gradients."""
    net = _network(model, seed)
    raw, labels = _split(str(default_data_root()), False)
    keep = fixed_subset_indices(len(labels), images)
    loader = TensorLoader(raw[keep], labels[keep], batch_size=250)
    kit = test(copy.deepcopy(net), "cpu", loader, verbose=False)
    hint = _evaluation_hint(eval_fn, net, loader, kit)
    if hint is not None:
        return failed("Your evaluation does not agree with the kit's.", sentence(hint))
    line = f"Your evaluation agrees with the kit's: {kit[1]:.2f} % of {images:,} test images right"
    return passed(line + " (a network not trained yet: chance is 10 %).", accuracy=kit[1])


def _initial_hint(loss: float) -> str | None:
    if loss < 0:
        return "a loss below 0 is impossible for log-probabilities: the network returns raw scores (add F.log_softmax)"
    if loss > LN10 + INITIAL_LOSS_TOLERANCE:
        return (
            "the network is confidently wrong before it has learned anything: its scores start too large (weights "
            "scaled up, for instance), while " + WHY_LN10
        )
    if loss < LN10 - INITIAL_LOSS_TOLERANCE:
        return "that is better than chance before training (is the network already trained?), while " + WHY_LN10
    return None


def initial_loss(model_or_loss, *, seed: int = 1, images: int = 512) -> Verdict:
    """The loss before any training should be about ln 10 ≈ 2.30. Give your network (or its class; it is built with
    ``seed`` and run in training mode on ``images`` real images, as the first step would) or the loss you computed."""
    loss = _as_float(model_or_loss)
    if loss is None:
        net = _network(model_or_loss, seed).train()
        x, y = mnist_images(images)
        with torch.no_grad(), torch.random.fork_rng(devices=[]):
            output = net(x)
        if output.shape != (images, 10):
            return failed(
                f"The network returns a {tuple(output.shape)} tensor.", "Return one score per digit: (batch, 10)."
            )
        if not torch.allclose(output.logsumexp(dim=-1), torch.zeros(images), atol=1e-4):
            hint = "end forward with F.log_softmax(x, dim=-1): F.nll_loss expects log-probabilities; " + WHY_LN10
            return failed("The network does not return log-probabilities.", sentence(hint))
        loss = F.nll_loss(output, y).item()
    hint = _initial_hint(loss)
    if hint is not None:
        return failed(
            f"The loss at initialisation is {loss:.2f}, far from ln 10 ≈ {LN10:.2f}.",
            sentence(hint),
            loss=loss,
        )
    return passed(f"The loss at initialisation is {loss:.2f}, close to ln 10 ≈ {LN10:.2f}: {WHY_LN10}.", loss=loss)
