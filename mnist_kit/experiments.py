"""A student's own experiments: trained, recorded under ``my_runs/`` (git-ignored), compared with the course's run.

One way to run an experiment, whatever it changes:

    recipe = dataclasses.replace(get_recipe("model_1"), rotation=0)      # a changed recipe
    run, path = experiment(recipe, name="no_rotation")                  # -> my_runs/no_rotation.json / .pt
    run, path = experiment(MyNet, name="my_net", base="model_4")        # your own nn.Module, on model_4's recipe
    table, figure = compare(path, "model_1")                            # beside the course's results/model_1.json

``run_lesson("model_1")`` is every lesson's training cell: a student's run of the recipe as written goes to
``my_runs/model_1.json`` and is shown beside the course's record. Only the instructor's ``make reproduce``
(``tools/run_notebooks.py --course``, which sets ``MNIST_KIT_COURSE_RUN=1`` for the notebooks' kernels) makes the
lessons record in ``results/``; nothing else here writes there. A smoke run (``MNIST_KIT_SMOKE=1``, as under
pytest) is recorded in the scratch folder, like every smoke run. Taught in every notebook's exercises.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from torch import nn

from .course import HOLD_EPOCHS, TARGET
from .engine import Run, fit, set_seed
from .grade import grade
from .paths import my_runs_dir, project_root
from .recipes import Recipe, get_recipe
from .records import record_of, save_run
from .runs import train_and_record
from .settings import COURSE_RUN_ENV, course_run, resolves_smoke
from .splits import accuracies, split_of
from .tables import markdown_table

__all__ = ["experiment", "compare", "comparison_table", "run_lesson", "course_run", "COURSE_RUN_ENV"]
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
WHY_RUNS_DIFFER = (
    "Your run and the course's use the same recipe and seed, yet their accuracies may differ by a few hundredths "
    "of a point: the order in which floating-point sums are added depends on the device (CPU or GPU), the number "
    "of CPU threads and the library versions, and such tiny differences grow over 15 epochs."
)


def _recipe_and_model(what, name: str, base: str, seed) -> tuple[Recipe, nn.Module | None]:
    """The recipe to train, renamed ``name``, and the network when it is not one of the kit's."""
    if isinstance(what, str):
        return replace(get_recipe(what), name=name), None
    if isinstance(what, Recipe):
        return replace(what, name=name), None
    recipe = get_recipe(base)
    if isinstance(what, type) and issubclass(what, nn.Module):
        set_seed(recipe.seed if seed is None else seed)  # the same initial weights on every run of the cell
        what = what()
    if not isinstance(what, nn.Module):
        raise TypeError(f"experiment() takes a Recipe, a recipe name or an nn.Module (class or instance), not {what!r}")
    return replace(recipe, name=name, model=f"custom:{type(what).__name__}"), what


@resolves_smoke
def experiment(
    what, *, name: str, base: str = "model_1", epochs=None, seed=None, smoke=None, folder=None, **fit_args
) -> tuple[Run, Path | None]:
    """Train ``what`` and record it as ``my_runs/<name>.json`` and ``.pt``; returns ``(run, json_path)``.

    ``what``: a ``Recipe`` (e.g. ``dataclasses.replace(get_recipe("model_1"), rotation=0)``), a recipe's name, or
    your own ``nn.Module`` (a class, built afresh with the seed, or an instance, trained in place) trained on
    ``base``'s recipe; its record names the model ``custom:<ClassName>`` and counts its parameters.
    ``epochs`` and ``seed`` override the recipe's; ``folder`` replaces ``my_runs/``; ``smoke`` defaults to
    ``MNIST_KIT_SMOKE``. Other keywords go to ``engine.fit`` (``device``, ``data_root``, ``validation``, ...).
    """
    if not NAME.fullmatch(name):
        raise ValueError(f"name {name!r} must be a plain file name: letters, digits, '_', '-' or '.'")
    recipe, model = _recipe_and_model(what, name, base, seed)
    run = fit(recipe, epochs=epochs, seed=seed, smoke=smoke, model=model, **fit_args)
    if not run.history:
        print("No epoch finished; nothing recorded.")
        return run, None
    path = save_run(run, my_runs_dir() if folder is None else folder, stem=name)
    root = project_root()
    print(f"Recorded your run: {path.relative_to(root) if path.is_relative_to(root) else path}")
    return run, path


def _column(record: dict) -> list[str]:
    acc = accuracies(record)
    first = next((i for i, a in enumerate(acc, start=1) if a >= TARGET), None)
    failed = grade(record).failed
    return [
        record["model"],
        f"{record['parameters']:,}",
        f"{record['epochs']}" + ("" if record["complete"] else " (unfinished)"),
        split_of(record) + (", smoke" if record["smoke"] else ""),
        f"{acc[-1]:.2f} %",
        f"{max(acc):.2f} % (epoch {acc.index(max(acc)) + 1})",
        f"{min(acc[-HOLD_EPOCHS:]):.2f} %",
        "none" if first is None else str(first),
        "✅ all kept" if not failed else "❌ " + "; ".join(failed),
        f"{record['wall_seconds'] / record['epochs']:.1f} s on {record['device_name']}",
    ]


ROWS = (
    "model",
    "parameters",
    "epochs",
    "evaluated on",
    "final accuracy",
    "best accuracy",
    f"lowest of the last {HOLD_EPOCHS} epochs",
    f"first epoch at ≥ {TARGET} %",
    "the assignment's rules",
    "time per epoch",
)


def comparison_table(records: list[dict], labels: list[str]) -> str:
    """A Markdown table with one column per record and one row per headline number."""
    columns = [_column(record) for record in records]
    rows = [[row, *(column[i] for column in columns)] for i, row in enumerate(ROWS)]
    table = markdown_table(["", *labels], "l" * (len(labels) + 1), rows)
    if len({split_of(record) for record in records}) > 1:
        table += "\n\nCareful: these runs were evaluated on different splits, so their accuracies do not compare."
    return table


def compare(mine, base="model_1"):
    """Your run beside another (by default the course's ``results/model_1.json``): ``(markdown_table, figure)``.

    ``mine`` and ``base`` are each a record dict, a JSON path, or a recipe name (the course's record of it)."""
    from .plots import plot_comparison

    records = [record_of(mine), record_of(base)]
    labels = [f"yours: {records[0]['recipe']}", f"the course's: {records[1]['recipe']}"]
    if isinstance(base, (str, Path)) and Path(base).suffix == ".json":
        labels[1] = f"{records[1]['recipe']} ({Path(base).parent.name}/)"
    curves = {
        f"{label}, {r['parameters']:,} parameters": accuracies(r) for label, r in zip(labels, records, strict=True)
    }
    return comparison_table(records, labels), plot_comparison(curves)


def run_lesson(recipe_name: str, **experiment_args) -> tuple[Run, Path | None]:
    """A lesson's training cell: the recipe as written, from scratch, with its seed; returns ``(run, json_path)``.

    A student's run goes to ``my_runs/<recipe>.json`` and is shown beside the course's committed record; in the
    instructor's ``make reproduce`` (``course_run()``) it *is* the course's record, ``results/<recipe>.json``."""
    if course_run():
        fit_args = {k: v for k, v in experiment_args.items() if k not in ("folder",)}
        return train_and_record(get_recipe(recipe_name), **fit_args)
    from IPython.display import Markdown, display

    run, path = experiment(recipe_name, name=recipe_name, base=recipe_name, **experiment_args)
    if path is not None:
        table, figure = compare(path, recipe_name)
        display(Markdown(table + "\n\n" + WHY_RUNS_DIFFER))
        display(figure)
    return run, path
