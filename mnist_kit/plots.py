"""Figures for the notebooks: augmented samples, training curves, schedules, mistakes, the iterations.

Each function returns a matplotlib ``Figure`` built without pyplot, so a notebook cell shows it
exactly once and tests can inspect its axes headless.
"""

from __future__ import annotations

import torch
from matplotlib.figure import Figure

from . import data as mnist_data
from .engine import lr_schedule, steps_per_batch
from .fast_data import augment_batch
from .recipes import TARGET
from .report import ORIGINAL


def show_augmented(recipe, n: int = 8, draws: int = 3, data_root=None, seed: int = 0) -> Figure:
    """The first ``n`` training digits (top row) and ``draws`` augmented versions of each below.

    Taught in every notebook's data section: what the network really sees.
    """
    images, labels = mnist_data.load_idx_tensors(data_root, train=True)
    images, labels = images[:n], labels[:n]
    generator = torch.Generator().manual_seed(seed)
    rows = [images.unsqueeze(1).float() / 255]
    rows += [augment_batch(images, recipe.rotation, recipe.jitter, generator) for _ in range(draws)]
    fig = Figure(figsize=(1.1 * n, 1.2 * (draws + 1)))
    axes = fig.subplots(draws + 1, n, squeeze=False)
    for r, batch in enumerate(rows):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(batch[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
            if r == 0:
                ax.set_title(f"label {labels[c].item()}", fontsize=9)
        axes[r][0].set_ylabel("original" if r == 0 else f"draw {r}", fontsize=9)
    fig.suptitle(f"{recipe.name}: rotation ±{recipe.rotation:g}°, brightness/contrast jitter {recipe.jitter:g}")
    fig.tight_layout()
    return fig


def plot_history(record: dict) -> Figure:
    """Loss and accuracy per epoch, train and test, with the 99.4 % target line."""
    history = record["history"]
    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(11, 4))
    loss_ax, acc_ax = fig.subplots(1, 2)
    loss_ax.plot(epochs, [r["train_loss"] for r in history], "o-", label="train")
    loss_ax.plot(epochs, [r["test_loss"] for r in history], "s-", label="test")
    loss_ax.set(title="Loss (negative log-likelihood)", xlabel="epoch", ylabel="loss")
    averaged = "raw_test_acc" in history[0]  # the test curve is the weight average's; show the raw weights too
    acc_ax.plot(epochs, [r["train_acc"] for r in history], "o-", label="train")
    acc_ax.plot(epochs, [r["test_acc"] for r in history], "s-", label="test (weight average)" if averaged else "test")
    if averaged:
        acc_ax.plot(epochs, [r["raw_test_acc"] for r in history], "^:", color="grey", label="test (raw weights)")
    acc_ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"target {TARGET} %")
    low = min(min(r["train_acc"], r["test_acc"], r.get("raw_test_acc", 100)) for r in history[2:] or history)
    acc_ax.set_ylim(max(0, min(low, TARGET) - 0.3), 100)
    acc_ax.set(title="Accuracy", xlabel="epoch", ylabel="accuracy (%)")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(epochs)
    fig.suptitle(f"{record['recipe']}: {record['parameters']:,} parameters")
    fig.tight_layout()
    return fig


def plot_misclassified(predictions, n: int = 20, columns: int = 10) -> Figure:
    """The ``n`` test digits the model got wrong with the most confidence: true label, guess, confidence."""
    wrong = predictions.wrong[:n]
    rows = max(1, -(-len(wrong) // columns))
    fig = Figure(figsize=(1.3 * columns, 1.9 * rows + 0.4))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong.tolist(), strict=False):  # more axes than mistakes
        ax.imshow(predictions.images[i, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(
            f"true {predictions.labels[i].item()} → {predictions.predicted[i].item()}\n"
            f"{100 * predictions.confidence[i].item():.0f}% sure",
            fontsize=8,
        )
    total = len(predictions.wrong)
    fig.suptitle(f"{total} of {len(predictions.labels):,} test digits misclassified; the {len(wrong)} surest mistakes")
    fig.tight_layout()
    return fig


def confusion_matrix(predictions, classes: int = 10) -> torch.Tensor:
    """Counts: row = true digit, column = predicted digit."""
    flat = predictions.labels * classes + predictions.predicted
    return torch.bincount(flat, minlength=classes * classes).reshape(classes, classes)


def per_class_accuracy(predictions, classes: int = 10) -> torch.Tensor:
    """Accuracy in % for each true digit."""
    matrix = confusion_matrix(predictions, classes).double()
    return 100 * matrix.diag() / matrix.sum(dim=1).clamp(min=1)


def plot_confusion(predictions) -> Figure:
    """Confusion matrix (mistakes only, so the few that matter stand out) and per-class accuracy."""
    matrix = confusion_matrix(predictions)
    accuracy = per_class_accuracy(predictions)
    mistakes = matrix.clone()
    mistakes.fill_diagonal_(0)
    fig = Figure(figsize=(11, 4.5))
    mat_ax, bar_ax = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.1, 1]})
    mat_ax.imshow(mistakes.numpy(), cmap="Reds")
    for t in range(10):
        for p in range(10):
            count = matrix[t, p].item()
            if count and t != p:
                mat_ax.text(p, t, str(count), ha="center", va="center", fontsize=8)
    mat_ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title=f"Mistakes: {mistakes.sum().item()} of {matrix.sum().item():,}",
    )
    bars = bar_ax.bar(range(10), accuracy.numpy(), color="steelblue")
    bar_ax.bar_label(bars, labels=[f"{a:.1f}" for a in accuracy.tolist()], fontsize=8)
    bar_ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"{TARGET} %")
    bar_ax.set_ylim(max(0, accuracy.min().item() - 1), 100.4)
    bar_ax.set(xticks=range(10), xlabel="true digit", ylabel="accuracy (%)", title="Per-class accuracy")
    bar_ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def plot_sweep(records: list[dict]) -> Figure:
    """One seed a column: the lowest test accuracy of its last epochs (3 and 5) and its final one, against 99.4 %."""
    from .recipes import HOLD_EPOCHS, STEADY_EPOCHS

    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    if not records:
        ax.axis("off")
        ax.text(0.5, 0.5, "No sweep of this recipe is recorded yet: make sweep", ha="center", va="center")
        return fig
    seeds = [str(r["seed"]) for r in records]
    accs = [[row["test_acc"] for row in r["history"]] for r in records]
    x = range(len(records))
    ax.plot(x, [a[-1] for a in accs], "o", color="steelblue", label="final epoch")
    ax.plot(
        x,
        [min(a[-HOLD_EPOCHS:]) for a in accs],
        "_",
        markersize=16,
        mew=2,
        color="darkorange",
        label=f"lowest of last {HOLD_EPOCHS}",
    )
    ax.plot(x, [min(a[-STEADY_EPOCHS:]) for a in accs], "v", color="dimgrey", label=f"lowest of last {STEADY_EPOCHS}")
    ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"target {TARGET} %")
    ax.set(
        xticks=list(x),
        xticklabels=seeds,
        xlabel="seed",
        ylabel="test accuracy (%)",
        title=f"{records[0]['recipe']}: {len(records)} seeds, the same recipe",
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def plot_schedule(recipe, steps_per_epoch: int = 469) -> Figure:
    """The recipe's learning rate against epochs (log scale): per batch for OneCycleLR, else per epoch, with
    each StepLR / MultiStepLR cut or the OneCycle peak marked. The static figure beside ``schedule_preview``.

    Taught in ``notebooks/03_model_3.ipynb`` (MultiStepLR) and ``notebooks/04_model_4.ipynb`` (OneCycleLR).
    """
    per_batch = steps_per_batch(recipe.scheduler)
    steps = steps_per_epoch if per_batch else 1  # 469 batches of 128 make one epoch of 60,000 images
    rates = lr_schedule(**recipe.schedule(), steps_per_epoch=steps)
    x = [1 + i / steps for i in range(len(rates))]  # epoch e runs from x = e to x = e + 1
    fig = Figure(figsize=(7, 3.4))
    ax = fig.subplots()
    ax.step(x + [recipe.epochs + 1], rates + rates[-1:], where="post", label="learning rate")
    if per_batch:
        peak = rates.index(max(rates))
        ax.plot(x[peak], rates[peak], "o", color="crimson", label=f"peak {rates[peak]:g}")
        ax.annotate(
            f"peak {rates[peak]:g} in epoch {peak // steps + 1}",
            (x[peak], rates[peak]),
            textcoords="offset points",
            xytext=(8, -14),
            fontsize=9,
        )
    cuts = [] if per_batch else [i for i in range(1, len(rates)) if rates[i] != rates[i - 1]]
    for i in cuts:
        ax.axvline(x[i], color="grey", linestyle=":", label=f"from epoch {i + 1}: {rates[i - 1]:g} → {rates[i]:g}")
    ax.set_yscale("log")
    ax.set(
        xlabel="epoch",
        ylabel="learning rate",
        xticks=range(1, recipe.epochs + 2),
        title=f"{recipe.name}: {recipe.scheduler}, {rates[0]:.2g} → {max(rates):.2g} → {rates[-1]:.2g}"
        if per_batch
        else f"{recipe.name}: {recipe.scheduler}, {rates[0]:g} → {rates[-1]:.2g}",
    )
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def plot_iterations(records: list[dict]) -> Figure:
    """The test accuracy of every iteration overlaid, zoomed on 99.0–99.6 %, with the 99.4 % line and the
    original write-up's Model_4 log as a dashed reference.

    Taught in ``notebooks/04_model_4.ipynb``: four iterations, one picture.
    """
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    for record in records:
        history = record["history"]
        ax.plot(
            [row["epoch"] for row in history],
            [row["test_acc"] for row in history],
            "o-",
            markersize=4,
            label=f"{record['recipe']} ({record['parameters']:,} parameters)",
        )
    log = ORIGINAL["model_4"]["test_log"]
    ax.plot(range(1, len(log) + 1), log, "--", color="black", linewidth=1.2, label="original write-up, Model_4")
    ax.axhline(TARGET, color="crimson", linestyle=":", linewidth=1, label=f"target {TARGET} %")
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


def plot_frontier(points: list[dict], iterations: list[dict] = (), model_5: list[dict] = ()) -> Figure:
    """Parameters against final test accuracy: the frontier (``report.frontier_points``: mean and lowest over
    its seeds), our single runs of Models 1–4 (``iterations``), Model_5's seed sweep, the original write-up's
    best test accuracies as hollow markers, and the 99.4 % line.

    Taught in ``notebooks/05_smaller.ipynb``.
    """
    fig = Figure(figsize=(10.5, 4.6))
    ax = fig.subplots()
    if points:
        x = [p["parameters"] for p in points]
        ax.plot(x, [p["final_mean"] for p in points], "o-", color="steelblue", label="frontier: mean over seeds")
        ax.plot(x, [p["final_min"] for p in points], "v", color="steelblue", alpha=0.6, label="frontier: lowest seed")
        for p in points:
            ax.annotate(
                p["name"],
                (p["parameters"], p["final_mean"]),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=7,
                color="steelblue",
            )
    if model_5:
        finals = [r["history"][-1]["test_acc"] for r in model_5]
        params = model_5[0]["parameters"]
        ax.plot(
            [params] * len(finals),
            finals,
            "x",
            color="darkgreen",
            markersize=7,
            label=f"{model_5[0]['recipe']}: its {len(finals)}-seed sweep, each seed",
        )
    if iterations:
        ax.plot(
            [r["parameters"] for r in iterations],
            [r["history"][-1]["test_acc"] for r in iterations],
            "s",
            color="darkorange",
            label="our Models 1–4 (the notebooks' runs), final epoch",
        )
    original = [v for v in ORIGINAL.values() if "best_test" in v]
    ax.plot(
        [v["parameters"] for v in original],
        [v["best_test"] for v in original],
        "D",
        mfc="none",
        color="dimgrey",
        label="original write-up: best test accuracy reported",
    )
    ax.axhline(TARGET, color="crimson", linestyle="--", linewidth=1, label=f"target {TARGET} %")
    ax.axvline(8000, color="grey", linestyle=":", linewidth=1, label="the course's budget: 8,000")
    ax.axvline(5000, color="darkgreen", linestyle=":", linewidth=1, label="Model_5's budget: 5,000")
    ax.set(xlabel="parameters", ylabel="test accuracy (%)", title="How small can it go? Final test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7)
    fig.tight_layout()
    return fig


def plot_comparison(curves: dict[str, list[float]]) -> Figure:
    """Accuracy per epoch of a few runs on one axes (label -> accuracies), with the 99.4 % line.

    Drawn by ``experiments.compare``: a student's run beside the course's.
    """
    fig = Figure(figsize=(8, 4))
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
