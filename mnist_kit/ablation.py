"""One change at a time: what each of an iteration's changes did on its own, read from ``results/ablation/``.

Model_2 and Model_3 each change several things at once, so their own runs cannot say which change did what.
``recipes.ABLATIONS`` trains each change alone, on the validation split, two seeds each (``make ablation``).
This module turns those records into a lesson's table and its sentences, every number read from the records;
a change whose records are not there yet reads "not yet run". A change counts as having done something only when
its difference from the run it starts from (mean over seeds) is larger than the spread across seeds, the larger
of the two runs' standard deviations: the rule the stronger-recipe search uses (``recipes.py``). With two seeds
that spread is itself rough, so even a difference that beats it is a hint, not a proof.

    ablation.effects_table("model_1", ["m1_width", "m1_rotation", "model_2"])   # Markdown table
    ablation.effects_markdown("model_1", ["m1_width", "m1_rotation", "model_2"])  # one sentence per change

Taught in ``notebooks/02_model_2.ipynb`` (Model_1 → Model_2) and ``notebooks/03_model_3.ipynb`` (Model_2 → Model_3).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .course import HOLD_EPOCHS
from .paths import default_results_dir
from .recipes import ABLATIONS
from .records import config_changes, full_runs, record_of
from .splits import accuracies
from .stats import lowest_of_last, mean_std
from .studies import get_study
from .tables import cell, change_label, markdown_table

MEASURES = {  # what a change is judged by: a name, and how to read it from one record
    "validation": (
        f"lowest of the last {HOLD_EPOCHS} validation accuracies",
        lambda r: lowest_of_last(accuracies(r), HOLD_EPOCHS),
    ),
    "train": ("final train accuracy", lambda r: r["history"][-1]["train_acc"]),
}


@dataclass(frozen=True)
class Effect:
    """One run of an ablation against the run it starts from, on one measure (in %, mean over seeds).

    ``verdict``: "baseline", "not yet run", "one seed" (no spread to judge by), "within the noise", "higher"
    or "lower"; ``delta`` is this run's mean minus the base's, ``noise`` the larger of the two standard deviations.
    """

    name: str
    change: str
    seeds: tuple[int, ...]
    mean: float | None = None
    std: float | None = None
    delta: float | None = None
    noise: float | None = None
    verdict: str = "not yet run"


def ablation_groups(results_dir=None) -> dict[str, list]:
    """The full runs in ``results/ablation/`` by recipe name, each list sorted by seed."""
    folder = Path(results_dir or default_results_dir()) / "ablation"
    groups: dict[str, list] = {}
    for _stem, record in full_runs(folder) if folder.is_dir() else []:
        groups.setdefault(record["recipe"], []).append(record)
    return {name: sorted(group, key=lambda r: r["seed"]) for name, group in groups.items()}


def describe_change(base: str, name: str) -> str:
    """What ``name`` changes from ``base``, in words: the settings that differ, or the iteration as a whole."""
    if name == base:
        return f"the baseline: {base} as it is"
    if name not in get_study("ablation").bases:
        return f"all of {name}'s changes at once"
    changes = config_changes(ABLATIONS[base].to_dict(), ABLATIONS[name].to_dict())
    return change_label(changes, cell)


def effects(base: str, names: list[str], measure: str = "validation", results_dir=None) -> list[Effect]:
    """The base and each run of ``names`` on ``measure`` ("validation" or "train"), judged against the base."""
    read = MEASURES[measure][1]
    groups = ablation_groups(results_dir)
    base_values = [read(r) for r in groups.get(base, [])]
    found = []
    for name in [base, *names]:
        group = groups.get(name, [])
        seeds, change = tuple(r["seed"] for r in group), describe_change(base, name)
        if not group:
            found.append(Effect(name, change, seeds))
            continue
        values = mean_std([read(r) for r in group])
        if name == base:
            found.append(Effect(name, change, seeds, values.mean, values.std, verdict="baseline"))
        elif not base_values:
            found.append(Effect(name, change, seeds, values.mean, values.std, verdict=f"{base} not yet run"))
        else:
            base_stats = mean_std(base_values)
            delta, noise = values.mean - base_stats.mean, max(values.std, base_stats.std)
            verdict = _verdict(delta, noise, min(len(group), len(base_values)))
            found.append(Effect(name, change, seeds, values.mean, values.std, delta, noise, verdict))
    return found


def _verdict(delta: float, noise: float, seeds: int) -> str:
    if seeds < 2:
        return "one seed"
    if abs(round(delta, 2)) <= round(noise, 2):  # judged as shown, to the hundredth of a point
        return "within the noise"
    return "higher" if delta > 0 else "lower"


def _mean_cell(e: Effect) -> str:
    if e.mean is None:
        return "–"
    return f"{e.mean:.2f} ± {e.std:.2f} %" if len(e.seeds) > 1 else f"{e.mean:.2f} % (one seed)"


def _against_cell(e: Effect) -> str:
    if e.delta is None:
        return "–" if e.verdict in ("baseline", "not yet run") else e.verdict
    return f"{e.delta:+.2f} (spread {e.noise:.2f}): {e.verdict}"


def effects_table(base: str, names: list[str], results_dir=None) -> str:
    """A lesson's table "what each change did on its own": per run, mean ± std over its seeds of the lowest of
    the last 3 validation accuracies and of the final train accuracy, each against ``base``."""
    val, train = (effects(base, names, m, results_dir) for m in MEASURES)
    rows = [
        [v.name, v.change, ", ".join(map(str, v.seeds)) or "not yet run"]
        + [_mean_cell(v), _against_cell(v), _mean_cell(t), _against_cell(t)]
        for v, t in zip(val, train, strict=True)
    ]
    header = ["run", "what it changes", "seeds", f"lowest of last {HOLD_EPOCHS} (validation)", f"against {base}"]
    return markdown_table([*header, "final train accuracy", f"against {base}"], "lllrlrl", rows)


def _sentence(e: Effect, base: str, measure: str) -> str:
    diff = f"{e.delta:+.2f} points on the {MEASURES[measure][0]} (against {base}; spread across seeds {e.noise:.2f})"
    if e.verdict == "one seed":
        return f"{diff}: only one seed, so no spread to judge it by."
    if e.verdict == "within the noise":
        return f"{diff}: no larger than the spread, so no evidence that the change moved it."
    return f"{diff}: {e.verdict} by more than the spread; with {len(e.seeds)} seeds a run, a hint rather than a proof."


def effects_markdown(base: str, names: list[str], results_dir=None) -> str:
    """One bullet per change, what its records support on both measures, generated from the records."""
    val, train = (effects(base, names, m, results_dir) for m in MEASURES)
    lines = []
    for v, t in zip(val[1:], train[1:], strict=True):
        if v.verdict == "not yet run":
            said = "not yet run (`make ablation` writes its records to `results/ablation/`)."
        elif v.delta is None:
            said = f"not judged yet: {v.verdict}."
        else:
            said = f"{_sentence(v, base, 'validation')} {_sentence(t, base, 'train')}"
        lines.append(f"- **{v.name}** ({v.change}): {said}")
    return "\n".join(lines)


def _names(names: list[str]) -> str:
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def takeaway_markdown(base: str, names: list[str], results_dir=None) -> str:
    """One sentence for a lesson's takeaways: which changes moved the lowest of the last 3 validation accuracies
    by more than the spread across seeds, which did not, and which are not run yet."""
    found = effects(base, names, "validation", results_dir)[1:]
    moved = [f"{e.name} ({e.verdict})" for e in found if e.verdict in ("higher", "lower")]
    still = [e.name for e in found if e.verdict == "within the noise"]
    pending = [f"{e.name} ({e.verdict})" for e in found if e.delta is None or e.verdict == "one seed"]
    parts = []
    if moved:
        parts.append(f"{_names(moved)} moved it by more than the spread across seeds (a hint, not a proof)")
    if still:
        they = "it matters" if len(still) == 1 else "they matter"
        parts.append(f"{_names(still)} stayed within the spread: no evidence that {they}")
    if pending:
        parts.append(f"{_names(pending)} not judged yet")
    what = MEASURES["validation"][0]
    return f"On the {what}, against {base}: " + "; ".join(parts) + "."


def expected_markdown(base: str, name: str, results_dir=None) -> str:
    """What a student's 15-epoch test run of ablation ``name`` should give, as a range with its reason: the course's
    test record of ``base`` (lowest of the last 3 epochs), moved by the ablation's difference, ± twice the spread
    across seeds (a rough band for the chance difference between two single runs). Used by the worked solutions
    of lessons 2 and 3 (in ``notebooks/solutions/``)."""
    (effect,) = effects(base, [name], "validation", results_dir)[1:]
    test = lowest_of_last(
        accuracies(record_of(Path(results_dir or default_results_dir()) / f"{base}.json")), HOLD_EPOCHS
    )
    course = (
        f"the course's {base} test run (`results/{base}.json`) holds {test:.2f} % over its last {HOLD_EPOCHS} epochs"
    )
    if effect.delta is None or effect.verdict == "one seed":
        return f"No range yet: {course}, but the ablation {name} is not judged yet ({effect.verdict})."
    low, high = (test + effect.delta + sign * 2 * effect.noise for sign in (-1, 1))
    return (
        f"Expect the lowest of your run's last {HOLD_EPOCHS} test accuracies between about {low:.2f} and "
        f"{high:.2f} %: {course}; the ablation {name} moved the validation measure by {effect.delta:+.2f} points "
        f"({effect.verdict}, spread across seeds {effect.noise:.2f}); and two single runs differ by chance by up to "
        "about twice that spread. A result inside the range says nothing about the change on its own."
    )
