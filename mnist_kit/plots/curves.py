"""Figures of numbers: training curves, the seed sweep, the learning-rate and momentum schedule, the
iterations overlaid, the parameter-budget frontier and where a network's parameters go."""

from __future__ import annotations

from ..course import HOLD_EPOCHS, MODEL_5_BUDGET, ORIGINAL, PARAMETER_BUDGET, STEADY_EPOCHS, TARGET
from ..engine import schedule_trace, steps_per_batch
from ..models import NetSpec, TinyNet, conv_budget
from ..splits import accuracies, averaged, column, split_of
from ..stats import lowest_of_last
from .figure import Figure
from .style import new_figure


def _target_line(ax, style: str = "--") -> None:
    ax.axhline(TARGET, color="crimson", linestyle=style, linewidth=1, label=f"target {TARGET} %")


def _history_alt(record) -> str:
    acc = accuracies(record)
    return (
        f"Two line charts of {record['recipe']} ({record['parameters']:,} parameters) over {len(acc)} epochs: loss "
        f"(left) and accuracy (right) on the training and test sets; the final test accuracy is {acc[-1]:.2f} %, "
        f"against a dashed {TARGET} % target line."
    )


def _sweep_alt(records: list) -> str:
    if not records:
        return "An empty chart: no seed of this recipe is recorded yet."
    held = sum(lowest_of_last(accuracies(r), HOLD_EPOCHS) >= TARGET for r in records)
    return (
        f"One column a seed for {len(records)} seeds of {records[0]['recipe']}: the lowest test accuracy of the last "
        f"{HOLD_EPOCHS} and {STEADY_EPOCHS} epochs and the final one; {held} of {len(records)} stay at or above "
        f"{TARGET} % over the last {HOLD_EPOCHS} epochs."
    )


def plot_history(record) -> Figure:
    """Loss and accuracy per epoch, train and test (or validation, for a validation run), with the 99.4 % target
    line; a weight-averaged run's raw weights too."""
    history, split = record["history"], split_of(record)
    epochs = [row["epoch"] for row in history]
    fig = new_figure(figsize=(11, 4), alt=_history_alt(record))
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    loss_ax.plot(epochs, [r[column(split, "loss")] for r in history], "s-", label=split)
    loss_ax.set(title="Loss (negative log-likelihood)", xlabel="epoch", ylabel="loss")
    average = averaged(record)  # the evaluated curve is the weight average's; show the raw weights too
    accs, raw = accuracies(record), accuracies(record, raw=True)
    acc_ax.plot(epochs, [r["train_acc"] for r in history], "o-", label="train")
    acc_ax.plot(epochs, accs, "s-", label=f"{split} (weight average)" if average else split)
    if average:
        acc_ax.plot(epochs, raw, "^:", color="grey", label=f"{split} (raw weights)")
    _target_line(acc_ax)
    start = 2 if len(history) > 2 else 0
    low = min(min(r["train_acc"], a, b) for r, a, b in zip(history[start:], accs[start:], raw[start:], strict=True))
    acc_ax.set_ylim(max(0, min(low, TARGET) - 0.3), 100)
    acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(epochs)
    fig.suptitle(f"{record['recipe']}: {record['parameters']:,} parameters")
    fig.tight_layout()
    return fig


def plot_sweep(records: list) -> Figure:
    """One seed a column: the lowest test accuracy of its last epochs (3 and 5) and its final one, against 99.4 %."""
    fig = new_figure(figsize=(8, 3.6), alt=_sweep_alt(records))
    ax = fig.subplots()
    if not records:
        ax.axis("off")
        ax.text(0.5, 0.5, "No sweep of this recipe is recorded yet: make sweep", ha="center", va="center")
        return fig
    accs = [accuracies(r) for r in records]
    x = range(len(records))
    ax.plot(x, [a[-1] for a in accs], "o", color="steelblue", label="final epoch")
    last = [lowest_of_last(a, HOLD_EPOCHS) for a in accs]
    ax.plot(x, last, "_", markersize=16, mew=2, color="darkorange", label=f"lowest of last {HOLD_EPOCHS}")
    steady = [lowest_of_last(a, STEADY_EPOCHS) for a in accs]
    ax.plot(x, steady, "v", color="dimgrey", label=f"lowest of last {STEADY_EPOCHS}")
    _target_line(ax)
    ax.set(
        xticks=list(x),
        xticklabels=[str(r["seed"]) for r in records],
        xlabel="seed",
        ylabel="test accuracy (%)",
        title=f"{records[0]['recipe']}: {len(records)} seeds, the same recipe",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_schedule(recipe, steps_per_epoch: int = 469) -> Figure:
    """The recipe's learning rate (top, log scale) and SGD momentum (bottom) against epochs, read off a real
    optimizer stepped as ``fit`` steps it (``engine.schedule_trace``): per batch for OneCycleLR, which also
    cycles the momentum (0.95 → 0.85 at the peak → 0.95), else per epoch, with each StepLR / MultiStepLR cut
    or the OneCycle peak marked. The static figure beside ``widgets.schedule_preview``, which draws it too.

    Taught in ``notebooks/03_model_3.ipynb`` (MultiStepLR) and ``notebooks/04_model_4.ipynb`` (OneCycleLR).
    """
    per_batch = steps_per_batch(recipe.scheduler)
    steps = steps_per_epoch if per_batch else 1  # 469 batches of 128 make one epoch of 60,000 images
    rates, momenta = schedule_trace(recipe, steps_per_epoch=steps)
    x = [1 + i / steps for i in range(len(rates))]  # epoch e runs from x = e to x = e + 1
    fig = new_figure(
        figsize=(7, 4.6),
        alt=f"{recipe.name}'s learning rate (top, log scale) and SGD momentum (bottom) over {recipe.epochs} epochs "
        f"of its {recipe.scheduler} schedule.",
    )
    lr_ax, momentum_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    lr_ax.step(x + [recipe.epochs + 1], rates + rates[-1:], where="post", label="learning rate")
    if per_batch:
        peak = rates.index(max(rates))
        lr_ax.plot(x[peak], rates[peak], "o", color="crimson", label=f"peak {rates[peak]:g}")
        where = f"peak {rates[peak]:g} in epoch {peak // steps + 1}"
        lr_ax.annotate(where, (x[peak], rates[peak]), textcoords="offset points", xytext=(8, -14), fontsize=9)
    for i in [] if per_batch else [i for i in range(1, len(rates)) if rates[i] != rates[i - 1]]:
        lr_ax.axvline(x[i], color="grey", linestyle=":", label=f"from epoch {i + 1}: {rates[i - 1]:g} → {rates[i]:g}")
    lr_ax.set_yscale("log")
    shape = f"{rates[0]:.2g} → {max(rates):.2g} → {rates[-1]:.2g}" if per_batch else f"{rates[0]:g} → {rates[-1]:.2g}"
    lr_ax.set(ylabel="learning rate", title=f"{recipe.name}: {recipe.scheduler}, {shape}")
    momentum_ax.step(x + [recipe.epochs + 1], momenta + momenta[-1:], where="post", color="darkgreen")
    low, high = min(momenta), max(momenta)
    span = f"{high:g} → {low:g} → {momenta[-1]:g}" if low != high else f"{high:g} throughout"
    momentum_ax.set(xlabel="epoch", ylabel="momentum", xticks=range(1, recipe.epochs + 2), title=f"momentum: {span}")
    momentum_ax.set_ylim(min(low, 0.8) - 0.02, max(high, 0.95) + 0.02)
    for ax in (lr_ax, momentum_ax):
        ax.grid(alpha=0.3, which="both")
    lr_ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_iterations(records: list) -> Figure:
    """The test accuracy of every iteration overlaid, zoomed on 99.0–99.6 %, with the 99.4 % line and the
    original write-up's Model_4 log as a dashed reference.

    Taught in ``notebooks/04_model_4.ipynb``: four iterations, one picture.
    """
    names = ", ".join(r["recipe"] for r in records)
    fig = new_figure(
        figsize=(8, 4),
        alt=f"Test accuracy per epoch of each iteration ({names}) overlaid, zoomed on 99.0 to 99.6 %, with the "
        f"{TARGET} % target line.",
    )
    ax = fig.subplots()
    for record in records:
        label = f"{record['recipe']} ({record['parameters']:,} parameters)"
        ax.plot([row["epoch"] for row in record["history"]], accuracies(record), "o-", markersize=4, label=label)
    log = ORIGINAL["model_4"]["test_log"]
    ax.plot(range(1, len(log) + 1), log, "--", color="black", linewidth=1.2, label="original write-up, Model_4")
    _target_line(ax, ":")
    epochs = max(len(log), *(len(r["history"]) for r in records))
    ax.set(
        ylim=(99.0, 99.6),
        xticks=range(1, epochs + 1),
        xlabel="epoch",
        ylabel="test accuracy (%)",
        title="Test accuracy of each iteration (earlier epochs below 99.0 % are off the chart)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _frontier_line(ax, points: list, colour: str = "steelblue", series: str = "frontier", below: bool = False) -> None:
    """Each frontier point's mean and lowest final accuracy over its seeds, named above the point (``below``: under
    it, so that a second series at the same sizes does not write over the first's names)."""
    x = [p.parameters for p in points]
    ax.plot(x, [p.stats.final.mean for p in points], "o-", color=colour, label=f"{series}: mean over seeds")
    ax.plot(x, [p.stats.final_min for p in points], "v", color=colour, alpha=0.6, label=f"{series}: lowest seed")
    for p in points:
        where = (p.parameters, p.stats.final.mean)
        offset = (6, -12) if below else (4, 6)
        ax.annotate(p.name, where, textcoords="offset points", xytext=offset, fontsize=7, color=colour)


def _single_runs(ax, iterations: list, model_5: list) -> None:
    """Model_5's sweep, a cross a seed, and our Models 1–4, a square a run (final epochs)."""
    if model_5:
        finals = [accuracies(r)[-1] for r in model_5]
        label = f"{model_5[0]['recipe']}: its {len(finals)}-seed sweep, each seed"
        ax.plot([model_5[0]["parameters"]] * len(finals), finals, "x", color="darkgreen", markersize=7, label=label)
    if iterations:
        ax.plot(
            [r["parameters"] for r in iterations],
            [accuracies(r)[-1] for r in iterations],
            "s",
            color="darkorange",
            label="our Models 1–4 (the notebooks' runs), final epoch",
        )


def plot_frontier(points: list, iterations: list = (), model_5: list = (), second: list = ()) -> Figure:
    """Parameters against final test accuracy: the frontier (``records.frontier_points``: mean and lowest over
    its seeds), its second series on attempt 2's recipe (``second``: ``frontier_points(..., FRONTIER_2)``), our
    single runs of Models 1–4 (``iterations``), Model_5's seed sweep, the original write-up's best test accuracies
    as hollow markers, the 99.4 % line and the two budgets.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    fig = new_figure(
        figsize=(10.5, 4.6),
        alt=f"Final test accuracy against parameter count for {len(points)} networks of the frontier"
        f"{' and a second series of ' + str(len(second)) if second else ''}, with the 99.4 % target line and the "
        "parameter budgets marked.",
    )
    ax = fig.subplots()
    if points:
        _frontier_line(ax, points, "steelblue", "Model_4's recipe")
    if second:
        _frontier_line(ax, second, "crimson", "attempt 2's recipe", below=True)
    _single_runs(ax, iterations, model_5)
    original = [v for v in ORIGINAL.values() if "best_test" in v]
    ax.plot(
        [v["parameters"] for v in original],
        [v["best_test"] for v in original],
        "D",
        mfc="none",
        color="dimgrey",
        label="original write-up: best test accuracy reported",
    )
    _target_line(ax)
    budgets = ((PARAMETER_BUDGET, "grey", "the course's"), (MODEL_5_BUDGET, "darkgreen", "Model_5's"))
    for budget, colour, whose in budgets:
        ax.axvline(budget, color=colour, linestyle=":", linewidth=1, label=f"{whose} budget: {budget:,}")
    ax.set(xlabel="parameters", ylabel="test accuracy (%)", title="How small can it go? Final test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    fig.tight_layout()
    return fig


def budget_figure(widths: tuple[int, ...], budget: int = MODEL_5_BUDGET) -> Figure:
    """Parameters per block (conv plus BatchNorm) of ``NetSpec.from_widths(widths)``, its total against
    ``budget`` and the course's 8,000. A ``0`` as the seventh width means no padded sixth block. The static
    figure beside ``widgets.budget_explorer``."""
    widths = tuple(widths[:6]) + tuple(w for w in widths[6:] if w)
    rows = conv_budget(TinyNet(NetSpec.from_widths(widths)))
    total = sum(r["parameters"] for r in rows)
    fig = new_figure(
        figsize=(8, 3.4),
        alt=f"Horizontal bars: parameters per block of a network with widths {widths}, {total:,} in all, "
        f"{'within' if total <= budget else 'over'} the budget of {budget:,}.",
    )
    ax = fig.subplots()
    y = list(range(len(rows))[::-1])
    conv = [r["conv_params"] for r in rows]
    ax.barh(y, conv, color="steelblue", label="convolution weights")
    ax.barh(y, [r["bn_params"] for r in rows], left=conv, color="darkorange", label="BatchNorm scale and shift")
    for yi, r in zip(y, rows, strict=True):
        ax.text(r["parameters"] + 20, yi, f"{r['parameters']:,}", va="center", fontsize=8)
    verdict = "within" if total <= budget else "over"
    course = "" if total < PARAMETER_BUDGET else f", over the course's {PARAMETER_BUDGET:,}"
    ax.set(
        yticks=y,
        yticklabels=[f"{r['block']} ({r['conv']}, out {r['output']})" for r in rows],
        xlabel="parameters",
        title=f"{total:,} parameters: {verdict} {budget:,}{course}",
    )
    ax.set_xlim(0, max(r["parameters"] for r in rows) * 1.18)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def message_figure(text: str) -> Figure:
    """A figure that only says ``text``: what a widget shows for a setting it cannot draw."""
    fig = new_figure(figsize=(6.5, 1), alt=f"A note: {text}")
    fig.text(0.02, 0.5, text)
    return fig


def plot_comparison(curves: dict[str, list[float]]) -> Figure:
    """Accuracy per epoch of a few runs on one axes (label -> accuracies), with the 99.4 % line.

    Drawn by ``experiments.compare``: a student's run beside the course's.
    """
    fig = new_figure(
        figsize=(8, 4), alt=f"Test accuracy per epoch of {', '.join(curves)} on one chart, with the 99.4 % target line."
    )
    ax = fig.subplots()
    for label, accs in curves.items():
        ax.plot(range(1, len(accs) + 1), accs, "o-", markersize=4, label=label)
    ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"target {TARGET} %")
    later = [a for accs in curves.values() for a in (accs[2:] or accs)]  # the first epochs would squash the rest
    ax.set_ylim(max(0, min(*later, TARGET) - 0.3), min(100, max(*later, TARGET) + 0.2))
    ax.set(
        xlabel="epoch", ylabel="accuracy (%)", title="Your run beside the course's (first epochs may be off the chart)"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
