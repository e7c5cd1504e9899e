"""Try-it checkers: a student computes a number by hand and a checker says right or wrong, with a hint.

Every checker takes the student's ``answer`` first and says *where* to look by keyword, prints one line
(✅ right, or ❌ with a hint: the formula to use, "too high" / "too low") and returns a bool. It never prints
the expected answer unless asked: ``show_answer=True``, or ``reveal("output_size", model="model_1", block=3)``.
The expected answers are computed from the library (``models``' tables, ``engine.lr_schedule``) and the
records, never typed in. ``model`` is a name (``get_model``) or a network of your own; ``record`` is a
recipe name (its record in ``results/``), a path or a record dict; ``block`` counts the 3×3 blocks from 1.

    checks.output_size(answer, model="model_1", block=3)         # the side of the map after block 3
    checks.receptive_field(answer, model="model_1", layer=3)     # a block number, or a table row's name
    checks.block_parameters(answer, model="model_1", block=3)    # or block="transition" / "head"
    checks.first_epoch_at_target(answer, record="model_4")       # None when no epoch reached it
    checks.lr_at_step(answer, recipe="model_4", step=0)          # or epoch=7 (its first step)
    checks.search_margin(answer, which="model_5", candidate="m5_shift2", against="slim_5k_a")  # in seed spreads
    checks.lowest_in_window(answer, sweep="model_4", seed=15, epochs=5)  # a sweep seed's lowest of its last epochs
    checks.wilson_low(answer, k=17, n=20)                               # the lower end of a 95 % Wilson interval, in %
    checks.tie_or_lead(answer, which="model_4", candidate="m4_shift1", against="model_4")  # "tie" or "lead"

Taught in every notebook's "Your turn" cells.

The build-it checkers judge a student's own code instead of a number, and return a ``verdict.Verdict`` that shows
its one line (no stray ``True``/``False`` in a notebook): ``network`` (``check_network``), ``train_step``,
``evaluate`` and ``initial_loss`` (``check_training``), ``overfit_one_batch`` and ``quick_run``
(``check_learning``), ``scheduler`` and ``weight_average`` (``check_schedule``):

    checks.network(MyModel1(), "model_1")       # block by block; show_answer=True shows the course's block
    checks.train_step(train_step)               # beside the kit's step, same seed and batch
    checks.initial_loss(MyModel1())             # ≈ ln 10
    checks.overfit_one_batch(MyModel1(), train_step)
    checks.quick_run(MyModel1(), train_step)    # the first curve, in under a minute of CPU
    checks.scheduler(make_scheduler, recipe="model_3")  # every step's rate and momentum beside the recipe's
    checks.weight_average(update)               # your EMA step beside torch's AveragedModel
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

from . import verdict  # the one switch for worked answers (off in the students' release)
from .check_learning import overfit_one_batch, quick_run  # noqa: F401 (the build-it checkers, re-exported)
from .check_network import network  # noqa: F401
from .check_schedule import scheduler, weight_average  # noqa: F401
from .check_training import evaluate, initial_loss, kit_step, train_step  # noqa: F401
from .course import TARGET
from .engine import lr_schedule, steps_per_batch
from .grade import accuracy_key
from .models import conv_budget, get_model, receptive_field_table
from .recipes import get_recipe
from .records import record_of
from .stats import wilson

STEPS_PER_EPOCH = 469  # 60,000 training images in batches of 128: the last batch is smaller
LR_TOLERANCE = 0.01  # a learning rate within 1 % counts as right (hand-worked rates are rounded)


@dataclass(frozen=True)
class Answer:
    """What a checker compares with: the value, a hint that does not give it away, the worked answer, and
    hints for common slips (a wrong answer that is a known mistake gets its own hint)."""

    value: float | int | None
    hint: str
    worked: str
    slips: dict = field(default_factory=dict)


def _network(model):
    return get_model(model) if isinstance(model, str) else model


def _table_row(model, layer) -> tuple[dict, int]:
    """(the receptive-field row of ``layer``, the side of the map that goes into it)."""
    rows = receptive_field_table(_network(model))
    if isinstance(layer, int):
        convs = [row for row in rows if row["type"] == "Conv2d" and row["kernel"] == 3]
        if not 1 <= layer <= len(convs):
            raise ValueError(f"block must be 1 to {len(convs)} for this network, got {layer}")
        layer = convs[layer - 1]["layer"]
    names = [row["layer"] for row in rows]
    if layer not in names:
        raise ValueError(f"no layer {layer!r}; choose a block number or one of: {', '.join(names)}")
    i = names.index(layer)
    return rows[i], rows[i - 1]["output_size"] if i else 28


def _expected_output_size(model="model_1", block=1):
    row, n = _table_row(model, block)
    k, p, s = row["kernel"], row["padding"], row["stride"]
    hint = f"output size = (n + 2p − k) / s + 1, with this layer's k = {k}, p = {p}, s = {s} and n its input's size"
    worked = f"({n} + 2·{p} − {k}) / {s} + 1 = {row['output_size']}"
    return Answer(row["output_size"], hint, worked)


def _expected_receptive_field(model="model_1", layer=1):
    rows = receptive_field_table(_network(model))
    row, _n = _table_row(model, layer)
    i = rows.index(row)
    r_in, j_in = (rows[i - 1]["receptive_field"], rows[i - 1]["jump"]) if i else (1, 1)
    hint = (
        "r_out = r_in + (k − 1)·j_in and j_out = j_in·s, starting from r = 1, j = 1 at the image; "
        "work layer by layer from the first convolution (MaxPool counts too)"
    )
    worked = f"{r_in} + ({row['kernel']} − 1)·{j_in} = {row['receptive_field']}"
    slips = {r_in + row["kernel"] - 1: "that adds k − 1 once: multiply it by the jump j_in (doubled by MaxPool)"}
    return Answer(row["receptive_field"], hint, worked, slips if j_in > 1 else {})


def _expected_block_parameters(model="model_1", block=1):
    rows = conv_budget(_network(model))
    label = f"block {block}" if isinstance(block, int) else block
    labels = [row["block"] for row in rows]
    if not any(lab.startswith("block ") for lab in labels):  # a student's own module: its convolutions in order
        labels = [f"block {i}" for i in range(1, len(rows) + 1)]
    if label not in labels:
        raise ValueError(f"no block {block!r}; choose one of: {', '.join(labels)}")
    row = rows[labels.index(label)]
    hint = (
        "a 3×3 convolution has 9·c_in·c_out weights, a 1×1 one c_in·c_out (no biases here), "
        f"a BatchNorm 2·c_out; this one is {row['conv']}"
    )
    worked = (
        f"{row['conv']}: convolution {row['conv_params']:,} + BatchNorm {row['bn_params']:,} = {row['parameters']:,}"
    )
    slips = (
        {row["conv_params"]: "that is the convolution alone: add the BatchNorm after it"} if row["bn_params"] else {}
    )
    return Answer(row["parameters"], hint, worked, slips)


def _expected_first_epoch(record="model_1"):
    data = record_of(record)
    key = accuracy_key(data)
    first = next((row["epoch"] for row in data["history"] if row[key] >= TARGET), None)
    hint = f"read the {key} column epoch by epoch: the first value at or above {TARGET} (answer None if none is)"
    worked = f"epoch {first}" if first else f"None: no epoch reached {TARGET} %"
    return Answer(first, hint, worked)


def _expected_lr(recipe="model_4", step=None, epoch=None, steps_per_epoch=STEPS_PER_EPOCH):
    if (step is None) == (epoch is None):
        raise ValueError("give step= (optimizer steps counted from 0) or epoch= (counted from 1), not both")
    recipe = get_recipe(recipe) if isinstance(recipe, str) else recipe
    index = step if step is not None else (epoch - 1) * steps_per_epoch
    if not 0 <= index < recipe.epochs * steps_per_epoch:
        raise ValueError(
            f"this schedule has steps 0 to {recipe.epochs * steps_per_epoch - 1} (epochs 1 to {recipe.epochs})"
        )
    hint = {
        "step": "StepLR multiplies the rate by gamma every step_size epochs",
        "multistep": "MultiStepLR multiplies the rate by gamma at each milestone epoch",
        "onecycle": "OneCycleLR warms up from lr/25 to the peak lr over pct_start of the steps (cosine), "
        "then anneals (cosine) to lr/25e4",
    }[recipe.scheduler]
    per_batch = steps_per_batch(recipe.scheduler)  # the others keep one rate for a whole epoch
    rates = lr_schedule(recipe, steps_per_epoch=steps_per_epoch if per_batch else 1)
    rate = rates[index if per_batch else index // steps_per_epoch]
    where = f"step {step}" if step is not None else f"the first step of epoch {epoch}"
    return Answer(rate, f"{hint}; {steps_per_epoch} steps per epoch", f"{rate:.6g} at {where}")


def _expected_margin(which="model_5", candidate="m5_shift2", against="slim_5k_a", results_dir=None):
    from .paths import default_results_dir  # the committed round by default
    from .tuning import load_round, window_score

    result = load_round(results_dir or default_results_dir(), which)
    if result is None:
        raise ValueError(f"no {which} round is judged yet: python -m mnist_kit search {which} --judge")
    w, by_name = result["window"], {c["name"]: c for c in result["candidates"]}
    for name in (candidate, against):
        if name not in by_name or by_name[name]["rank"] is None:
            raise ValueError(f"{name!r} is not ranked in the {which} round; choose among {', '.join(by_name)}")
    a, b = window_score(by_name[candidate], w), window_score(by_name[against], w)
    gap, spread = a.mean - b.mean, max(a.std, b.std)
    hint = f"(mean of {candidate} − mean of {against}) / the larger of their two ± spreads, last {w} epochs"
    verdict = "a lead (at least one spread)" if gap >= spread else "a tie (less than one spread)"
    worked = f"{gap:.3f} / {spread:.4f} = {gap / spread:.2f} spreads: {verdict}"
    return Answer(gap / spread, hint, worked)


def _expected_lowest(sweep="model_4", seed=15, epochs=5):
    from .paths import default_results_dir  # the committed sweeps

    path = default_results_dir() / "sweep" / f"{sweep}-seed{seed}.json"
    if not path.is_file():
        raise ValueError(f"no sweep record {path.name} in results/sweep/; check the recipe's name and the seed")
    data = record_of(path)
    key = accuracy_key(data)
    accs = [row[key] for row in data["history"]]
    lowest = min(accs[-epochs:])
    hint = f"take the {key} of the last {epochs} rows of the record's history (epochs {len(accs) - epochs + 1}–"
    hint += f"{len(accs)}) and keep the lowest"
    slips = {accs[-1]: "that is the last epoch alone: the window is several epochs"}
    if epochs != 3:
        slips[min(accs[-3:])] = "that is the lowest of the last 3 epochs: count the whole window"
    worked = (
        f"the last {epochs} epochs read {', '.join(f'{a:.2f}' for a in accs[-epochs:])}: the lowest is {lowest:.2f}"
    )
    return Answer(lowest, hint, worked, {v: h for v, h in slips.items() if v != lowest})


def _expected_wilson_low(k=17, n=20):
    interval = wilson(k, n)
    p = k / n
    textbook = 100 * (p - 1.96 * math.sqrt(p * (1 - p) / n))
    hint = (
        "with z = 1.96: centre = (k + z²/2) / (n + z²), half = z / (n + z²) · √(k(n − k)/n + z²/4); "
        "the lower end is centre − half, in percent"
    )
    worked = f"{k} of {n}: {interval}, lower end {100 * interval.low:.1f} % (stats.wilson({k}, {n}))"
    slips = {textbook: "that is the textbook interval p ± 1.96·√(p(1 − p)/n): use Wilson's centre and half-width"}
    slips[interval.low] = "give it in percent (× 100), not as a fraction"
    return Answer(100 * interval.low, hint, worked, slips)


EXPECTED = {
    "output_size": _expected_output_size,
    "receptive_field": _expected_receptive_field,
    "block_parameters": _expected_block_parameters,
    "first_epoch_at_target": _expected_first_epoch,
    "lr_at_step": _expected_lr,
    "search_margin": _expected_margin,
    "lowest_in_window": _expected_lowest,
    "wilson_low": _expected_wilson_low,
}
MARGIN_TOLERANCE = 0.25  # the round's table rounds to hundredths: a margin worked from it is off by up to ~20 %
ACCURACY_TOLERANCE = 5e-5  # an accuracy read off a record (in %, to the hundredth) is right to ±0.005 points
WILSON_TOLERANCE = 0.02  # an interval's end worked by hand is right within 2 % of it (64 for 63.96 %)


def _matches(answer, expected, relative: float) -> bool:
    if expected is None or answer is None:
        return answer is expected
    return math.isclose(answer, expected, rel_tol=relative, abs_tol=0 if relative else 1e-9)


def _check(kind: str, answer, show_answer: bool, relative: float = 0.0, **where) -> bool:
    expected = EXPECTED[kind](**where)
    is_number = isinstance(answer, numbers.Real) and not isinstance(answer, bool)
    ok = is_number or answer is None
    if not ok:
        print(f"❓ No answer yet: set answer to a number (got {answer!r}). Hint: {expected.hint}.")
    elif _matches(answer, expected.value, relative):
        print("✅ Right.")
    else:
        ok = False
        side = (
            "" if answer is None or expected.value is None else f": too {'high' if answer > expected.value else 'low'}"
        )
        slip = next((h for v, h in expected.slips.items() if _matches(answer, v, relative)), expected.hint)
        print(f"❌ Not quite{side}. Hint: {slip}.")
    if show_answer:
        print(f"The answer: {expected.worked}." if verdict.ANSWERS_SHOWN else verdict.NO_ANSWERS)
    return ok


def output_size(answer, *, model="model_1", block=1, show_answer: bool = False) -> bool:
    """The side of the feature map after ``block`` (a 3×3 block's number, or a layer name such as
    ``"transition.1"``, the MaxPool): ``(n + 2p − k) / s + 1``."""
    return _check("output_size", answer, show_answer, model=model, block=block)


def receptive_field(answer, *, model="model_1", layer=1, show_answer: bool = False) -> bool:
    """The receptive field (in input pixels) after ``layer``: a 3×3 block's number or a row name of
    ``models.receptive_field_table`` (``"transition.1"``, ``"gap"``)."""
    return _check("receptive_field", answer, show_answer, model=model, layer=layer)


def block_parameters(answer, *, model="model_1", block=1, show_answer: bool = False) -> bool:
    """The parameters of one block, convolution and BatchNorm: ``block`` a number, ``"transition"`` or ``"head"``."""
    return _check("block_parameters", answer, show_answer, model=model, block=block)


def first_epoch_at_target(answer, *, record="model_1", show_answer: bool = False) -> bool:
    """The first epoch (counted from 1) whose accuracy reached the target, or ``None`` if none did."""
    return _check("first_epoch_at_target", answer, show_answer, record=record)


def lr_at_step(
    answer, *, recipe="model_4", step=None, epoch=None, steps_per_epoch=STEPS_PER_EPOCH, show_answer: bool = False
) -> bool:
    """The learning rate the optimizer uses at ``step`` (counted from 0) or at the first step of ``epoch``
    (counted from 1) of a recipe's schedule; right within 1 %."""
    where = dict(recipe=recipe, step=step, epoch=epoch, steps_per_epoch=steps_per_epoch)
    return _check("lr_at_step", answer, show_answer, relative=LR_TOLERANCE, **where)


def search_margin(
    answer, *, which="model_5", candidate="m5_shift2", against="slim_5k_a", show_answer: bool = False
) -> bool:
    """How many seed spreads ``candidate`` leads ``against`` by in a search's round (``results/tuning/``): the gap
    between their means on the judged window over the larger of their two standard deviations, as
    ``tuning.pick`` measures it (below 1: a tie). Right within 25 % (the table's figures are rounded)."""
    where = dict(which=which, candidate=candidate, against=against)
    return _check("search_margin", answer, show_answer, relative=MARGIN_TOLERANCE, **where)


def lowest_in_window(answer, *, sweep="model_4", seed=15, epochs=5, show_answer: bool = False) -> bool:
    """The lowest test accuracy (in %) of the last ``epochs`` epochs of one sweep seed's record,
    ``results/sweep/<sweep>-seed<seed>.json``: the figure a hold is judged by. Right to the hundredth.
    Taught in ``notebooks/06_steady_or_lucky.ipynb``."""
    where = dict(sweep=sweep, seed=seed, epochs=epochs)
    return _check("lowest_in_window", answer, show_answer, relative=ACCURACY_TOLERANCE, **where)


def wilson_low(answer, *, k: int, n: int, show_answer: bool = False) -> bool:
    """The lower end, in percent, of the 95 % Wilson interval of a hold rate of ``k`` of ``n`` seeds
    (``stats.wilson``). Right within 2 % of it (a hand calculation rounds). Taught in
    ``notebooks/06_steady_or_lucky.ipynb``."""
    return _check("wilson_low", answer, show_answer, relative=WILSON_TOLERANCE, k=k, n=n)


def tie_or_lead(
    answer, *, which="model_4", candidate="m4_shift1", against="model_4", show_answer: bool = False
) -> bool:
    """``"tie"`` or ``"lead"``: whether ``candidate``'s mean on the judged window of a search round beats
    ``against``'s by at least the larger of their two seed spreads (``tuning.pick``'s rule). Taught in
    ``notebooks/06_steady_or_lucky.ipynb``."""
    expected = _expected_margin(which=which, candidate=candidate, against=against)
    verdict = "lead" if expected.value >= 1 else "tie"
    word = answer.strip().lower() if isinstance(answer, str) else None
    if word not in ("tie", "lead"):
        print(
            f'❓ No answer yet: set answer to "tie" or "lead" (got {answer!r}). Hint: {expected.hint}; below 1: a tie.'
        )
        ok = False
    elif word == verdict:
        print("✅ Right.")
        ok = True
    else:
        print(f"❌ Not quite. Hint: {expected.hint}; a gap of less than one spread is a tie.")
        ok = False
    if show_answer:
        print(f"The answer: {expected.worked}.")
    return ok


def reveal(check, **where):
    """Print and return the answer of a checker (its name or the function) for these keywords, worked out."""
    kind = check if isinstance(check, str) else check.__name__
    if kind not in EXPECTED:
        raise ValueError(f"unknown checker {kind!r}; choose one of: {', '.join(EXPECTED)}")
    if not verdict.ANSWERS_SHOWN:
        print(verdict.NO_ANSWERS)
        return None
    expected = EXPECTED[kind](**where)
    print(f"The answer: {expected.worked}.")
    return expected.value
