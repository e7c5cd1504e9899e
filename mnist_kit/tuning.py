"""The stronger-recipe search's rounds (the studies ``search_model_5`` and ``search_model_4`` of
``studies.STUDIES``; ``which`` names a search by its base recipe): the judging rule applied to the candidates'
validation records, the round written to ``results/tuning/<which>.json``, and the one typed reader of a round's
scores (``window_score``).

``judge`` is a pure function over records; ``found_records`` finds them in ``results/validation/`` by what they
say (``study_records``), not by file name, so attempt 1's ``slim_5k_a.json`` (seed 1) counts as ``slim_5k_a``
seed 1. Only full, complete validation records enter a round: never a smoke, partial or test run.
``runs.search`` trains the candidates and then calls ``write_round``; ``readme.search_table`` renders a round.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from . import tables
from .models import MODELS, count_parameters, get_model
from .paths import atomic_write_bytes
from .recipes import RECIPES, Recipe
from .records import RecordError, config_changes
from .splits import accuracies
from .stats import MeanStd, lowest_of_last, mean_std
from .studies import search_study
from .study_records import is_run_of, study_records

RULE = (
    "Each candidate is trained full length on the first 50,000 training images and judged on the last 10,000 "
    "(the test set is never read) by the lowest validation accuracy of its last {window} epochs, mean over its "
    "seeds. A difference smaller than the spread across seeds (the larger of the two candidates' standard "
    "deviations) is a tie, broken by the other window (its last {other} epochs, the same spread test), then by "
    "fewer parameters (then by the higher mean). Only candidates with every seed are ranked."
)


def search_candidates(which: str, names=None) -> dict[str, Recipe]:
    """The candidates of one search (``"model_5"`` or ``"model_4"``), or those of ``names``, in the search's order;
    raises ``ValueError`` naming the choices for an unknown search or candidate."""
    candidates = {r.name: r for r in search_study(which).recipes}
    unknown = [n for n in names or () if n not in candidates]
    if unknown:
        raise ValueError(
            f"unknown candidate {', '.join(map(repr, unknown))} of the {which} search; "
            f"choose from: {', '.join(candidates)}"
        )
    return {n: candidates[n] for n in (names or candidates)}


def is_round_run(record, recipe: Recipe) -> bool:
    """Whether ``record`` is a full run of ``recipe`` (any seed) on the validation split: what a round may read."""
    return is_run_of(record, recipe, "validation")


def found_records(results_dir, which: str, epochs: int | None = None) -> dict[str, dict[int, tuple[str, object]]]:
    """Per candidate, ``{seed: (file stem, record)}`` of the full validation runs in ``results/validation/``
    (``study_records``: of the search's seeds), whatever the file's name; ``epochs``: runs of that length instead of the
    recipe's."""
    found = study_records(search_study(which), results_dir, epochs)
    return {name: {seed: (f.stem, f.record) for seed, f in runs.items()} for name, runs in found.items()}


def change_label(which: str, recipe: Recipe) -> str:
    """What a candidate changes from its search's base recipe: ``translate 0.0 → 1.0``, ``network model_5 →
    m5_early``; ``model_5 itself`` when nothing (a network of the same widths under another name is no change)."""
    base = RECIPES[search_study(which).base]
    changes = config_changes(base.to_dict(), recipe.to_dict())
    if "model" in changes and MODELS[recipe.model] == MODELS[base.model]:
        del changes["model"]
    return tables.change_label(changes) or f"{base.name} itself"


@dataclass(frozen=True)
class Candidate:
    """One candidate's runs, reduced to what the rule reads: per seed the lowest of each window."""

    name: str
    parameters: int
    seeds: list[int]  # found, in order
    missing: list[int]
    lows: list[float]  # per seed: lowest of the judged window
    others: list[float]  # per seed: lowest of the other window
    stems: list[str]

    @property
    def complete(self) -> bool:
        return not self.missing and bool(self.seeds)

    @property
    def score(self) -> MeanStd:
        return mean_std(self.lows)

    @property
    def other(self) -> MeanStd:
        return mean_std(self.others)


def _candidate(name: str, recipe: Recipe, runs: dict, seeds, windows: tuple[int, int]) -> Candidate:
    have = {seed: runs[seed] for seed in sorted(runs) if seed in seeds}
    accs = [accuracies(record) for _stem, record in have.values()]  # validation runs only (is_round_run)
    first = next(iter(have.values()), None)
    parameters = first[1]["parameters"] if first else count_parameters(get_model(recipe.model))
    return Candidate(
        name,
        parameters,
        list(have),
        [s for s in seeds if s not in have],
        [lowest_of_last(a, windows[0]) for a in accs],
        [lowest_of_last(a, windows[1]) for a in accs],
        [stem for stem, _record in have.values()],
    )


def _tied(lead: float, lead_std: float, value: float, std: float) -> bool:
    """A gap smaller than the larger of the two spreads is a tie (and an exact equality always is)."""
    gap = lead - value
    return gap < max(lead_std, std) or math.isclose(gap, 0.0, abs_tol=1e-9)


def pick(left: list[Candidate]) -> tuple[Candidate, str]:
    """The best of ``left`` by the rule, and what decided it: ``window`` (a clear lead), ``other window`` (a tie
    on the judged window broken by the other), ``parameters`` (fewer), ``mean`` (the higher exact mean), or
    ``alone`` (nothing to compare with)."""
    if len(left) == 1:
        return left[0], "alone"
    top = max(left, key=lambda c: c.score.mean)
    tied = [c for c in left if c is top or _tied(top.score.mean, top.score.std, c.score.mean, c.score.std)]
    if len(tied) == 1:
        return top, "window"
    lead = max(tied, key=lambda c: c.other.mean)
    tied = [c for c in tied if c is lead or _tied(lead.other.mean, lead.other.std, c.other.mean, c.other.std)]
    if len(tied) == 1:
        return lead, "other window"
    fewest = min(c.parameters for c in tied)
    tied = [c for c in tied if c.parameters == fewest]
    if len(tied) == 1:
        return tied[0], "parameters"
    return max(tied, key=lambda c: c.score.mean), "mean"


def rank(candidates: list[Candidate]) -> list[tuple[Candidate, str]]:
    """The complete candidates best first: the rule's pick, then its pick of the rest, and so on."""
    left, ranked = [c for c in candidates if c.complete], []
    while left:
        best, how = pick(left)
        ranked.append((best, how))
        left.remove(best)
    return ranked


def score_keys(window: int) -> tuple[str, str, str]:
    """A round's keys for one window, as committed rounds have them: per seed, the mean and the std of the lowest
    validation accuracy of the last ``window`` epochs (``val_min_last5``, ``mean_val_min_last5``, ...)."""
    return f"val_min_last{window}", f"mean_val_min_last{window}", f"std_val_min_last{window}"


@dataclass(frozen=True)
class WindowScore:
    """One candidate of a round on one window: the lowest of its last epochs per seed, their mean and std."""

    per_seed: list[float]
    mean: float
    std: float


def window_score(candidate: dict, window: int) -> WindowScore | None:
    """The one reader of a round's scores (``judge`` writes them): a candidate's on the last ``window`` epochs,
    or None when it has no seed; raises ``RecordError`` when the round lacks that window."""
    if not candidate.get("seeds"):
        return None
    keys = score_keys(window)
    if any(key not in candidate for key in keys):
        raise RecordError(f"round candidate {candidate.get('name')!r} has no score on the last {window} epochs")
    return WindowScore(*(candidate[key] for key in keys))


def _entry(which: str, c: Candidate, windows: tuple[int, int], rank_: int | None) -> dict:
    entry = dict(name=c.name, change=change_label(which, search_candidates(which)[c.name]), parameters=c.parameters)
    entry.update(seeds=c.seeds, missing_seeds=c.missing, records=[f"validation/{s}.json" for s in c.stems])
    if c.seeds:
        for window, values, score in ((windows[0], c.lows, c.score), (windows[1], c.others, c.other)):
            per_seed, mean, std = score_keys(window)
            entry.update({per_seed: values, mean: round(score.mean, 4), std: round(score.std, 4)})
    return dict(entry, rank=rank_)


def judge(which: str, found: dict[str, list], seeds=None) -> dict:
    """The round of one search, JSON-ready: ``found`` maps each candidate to its records (``Record`` or dict; any
    that ``is_round_run`` refuses, a smoke run among them, is left out; a ``stem`` key names its file, else
    ``<name>-seed<S>``); ``seeds`` defaults to the search study's.
    Candidates come best first (``rank``), then the incomplete ones (``rank`` None) in the search's order."""
    study = search_study(which)
    candidates, windows = search_candidates(which), (study.window, study.other_window)
    seeds = list(study.seeds if seeds is None else seeds)
    reduced = []
    for name, recipe in candidates.items():
        runs = {r["seed"]: (r.get("stem", f"{name}-seed{r['seed']}"), r) for r in found.get(name, [])}
        runs = {seed: pair for seed, pair in runs.items() if is_round_run(pair[1], recipe)}
        reduced.append(_candidate(name, recipe, runs, seeds, windows))
    ranked = rank(reduced)
    incomplete = [c for c in reduced if not c.complete]
    return {
        "search": which,
        "judged_on": "validation",
        "rule": RULE.format(window=windows[0], other=windows[1]),
        "window": windows[0],
        "other_window": windows[1],
        "seeds": seeds,
        "complete": not incomplete,
        "winner": ranked[0][0].name if ranked else None,
        "decided_by": ranked[0][1] if ranked else None,
        "candidates": [_entry(which, c, windows, i) for i, (c, _how) in enumerate(ranked, start=1)]
        + [_entry(which, c, windows, None) for c in incomplete],
    }


def round_path(results_dir, which: str) -> Path:
    return Path(results_dir) / "tuning" / f"{which}.json"


def write_round(results_dir, which: str) -> dict:
    """Judge the search from the records in ``results/validation/`` and write the round into
    ``results/tuning/<which>.json`` under ``"search"`` (atomically; the file's other keys, e.g. Model_4's rounds
    1-4, are kept); returns the round."""
    found = {
        name: [{**r.to_dict(), "stem": stem} for stem, r in runs.values()]
        for name, runs in found_records(results_dir, which).items()
    }
    result = judge(which, found)
    path = round_path(results_dir, which)
    tuning = load_tuning(path) if path.exists() else {"what": search_study(which).what}
    tuning["search"] = result
    atomic_write_bytes(path, (json.dumps(tuning, indent=1) + "\n").encode())
    return result


def load_tuning(path) -> dict:
    try:
        tuning = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: unreadable ({exc})") from None
    if not isinstance(tuning, dict):
        raise RecordError(f"{path}: not a JSON object")
    return tuning


def load_round(results_dir, which: str) -> dict | None:
    """The search's round in ``results/tuning/<which>.json``, or None when none was judged yet."""
    path = round_path(results_dir, which)
    return load_tuning(path).get("search") if path.exists() else None
