"""Every study the course runs, as data: its recipes, its seeds, the split it is judged on, its window and its
goal. Adding a sweep, a frontier series, an ablation or a search round is one entry in ``STUDIES``; nothing else
changes. ``runs.run_study`` trains a study (one list of jobs through ``parallel.run_jobs``), ``judge`` judges its
goal from its records, ``readme.study_table`` renders it, ``python -m mnist_kit study NAME`` does all three and
``study --list`` says which studies have their records.

A study reads a record that lacks a setting added later (``translate``, ``three_phase``, ``final_div_factor``) at
its ``Recipe`` default (``records.complete_config``): Model_4's sweep on seeds 11-30 is one sweep, not two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .course import HOLD_EPOCHS, STEADY_EPOCHS, SWEEP_MEAN_AIM, TARGET
from .models import NetSpec
from .recipes import (
    ABLATIONS,
    FRONTIER,
    FRONTIER_2,
    RECIPES,
    SEARCH_MODEL_4,
    SEARCH_MODEL_5,
    Recipe,
)
from .stats import accuracies, lowest_of_last, mean_std

KINDS = ("sweep", "frontier", "ablation", "search", "screen")
SPLITS = ("test", "validation")


@dataclass(frozen=True)
class Goal:
    """Fixed before the study ran: at least ``seeds_needed`` of its seeds hold ``TARGET`` in each of the study's
    last ``window`` epochs, and (when set) the mean final accuracy over them is at least ``mean_aim``."""

    seeds_needed: int | None = None
    mean_aim: float | None = None


@dataclass(frozen=True)
class Study:
    """One study: ``recipes`` trained once per seed of ``seeds`` on ``split``, recorded in ``results/<folder>/``
    (records already in the ``reads`` folders count too), judged on the last ``window`` epochs."""

    name: str
    kind: str  # one of KINDS: how its records are read and its table is drawn
    recipes: tuple[Recipe, ...]
    seeds: tuple[int, ...]
    what: str
    split: str = "test"
    window: int = HOLD_EPOCHS
    goal: Goal | None = None
    folder: str = "sweep"
    reads: tuple[str, ...] = ()  # other folders whose records of the same recipes count (never trained again)
    other_window: int | None = None  # a search's tie-breaking window
    base: str | None = None  # a search's: the recipe its candidates change; its round is results/tuning/<base>.json
    bases: Mapping[str, str] = field(default_factory=dict)  # an ablation's: the recipe each change starts from
    title: str = ""  # a frontier series' name in its table
    networks: Mapping[str, NetSpec] = field(default_factory=dict)  # networks of its own, not in models.MODELS
    marker: str | None = None  # the README marker its table fills, if any

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"study {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.split not in SPLITS or self.window not in (HOLD_EPOCHS, STEADY_EPOCHS):
            raise ValueError(f"study {self.name!r}: split {self.split!r} / window {self.window} not known")
        if not self.recipes or not self.seeds:
            raise ValueError(f"study {self.name!r} needs at least one recipe and one seed")

    @property
    def recipe_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.recipes)

    def recipe(self, name: str) -> Recipe:
        for recipe in self.recipes:
            if recipe.name == name:
                return recipe
        raise ValueError(
            f"{name!r} is not a recipe of study {self.name!r}; choose from: {', '.join(self.recipe_names)}"
        )


def _sweep(name: str, recipe: str, seeds, what: str, **options) -> Study:
    return Study(name, "sweep", (RECIPES[recipe],), seeds, what, **options)


def _frontier(name: str, series: tuple[str, ...], title: str, what: str) -> Study:
    """A frontier series: each network once per seed in results/frontier/; Model_4's and Model_5's sweep seeds
    (results/sweep/) are read where they are, never trained again."""
    recipes = tuple(RECIPES[n] for n in series)
    return Study(name, "frontier", recipes, (11, 12, 13), what, folder="frontier", reads=("sweep",), title=title)


def _search(base: str, candidates: dict[str, Recipe], seeds, windows: tuple[int, int]) -> Study:
    what = f"{base.capitalize()}'s stronger-recipe search (recipes.SEARCH_{base.upper()}), judged on the validation"
    what += " split only."
    return Study(
        f"search_{base}",
        "search",
        tuple(candidates.values()),
        seeds,
        what,
        split="validation",
        window=windows[0],
        other_window=windows[1],
        folder="validation",
        base=base,
        marker=f"search-{base}",
    )


ABLATION_BASES = {  # the iteration each single change starts from
    "m1_width": "model_1",
    "m1_rotation": "model_1",
    "m2_rotation": "model_2",
    "m2_jitter": "model_2",
    "m2_schedule": "model_2",
}

STUDIES: dict[str, Study] = {
    s.name: s
    for s in (
        _sweep(
            "model_4",
            "model_4",
            tuple(range(11, 31)),
            "Model_4's seed sweep: is it steady, or lucky?",
            window=STEADY_EPOCHS,
            goal=Goal(mean_aim=SWEEP_MEAN_AIM),
        ),
        # Model_4's first sweep, recorded before the weight average existed (its records lack ema_epochs: 0).
        Study(
            "model_4_no_average",
            "sweep",
            (replace(RECIPES["model_4"], ema_epochs=0.0),),
            (1, 2, 3),
            "Model_4's first sweep, before the weight average (ema_epochs 0).",
        ),
        _sweep("model_5", "model_5", tuple(range(11, 16)), "Model_5's seed sweep (attempt 1)."),
        # Model_5, attempt 2 (recipes.MODEL_5_ATTEMPT_2): its goal, fixed before its one test sweep on seeds no
        # run had used.
        _sweep(
            "model_5b",
            "model_5b",
            tuple(range(21, 26)),
            "Model_5 attempt 2's one test sweep, against its goal.",
            goal=Goal(seeds_needed=4, mean_aim=99.45),
            marker="attempt-2",
        ),
        # Model_4 on a new recipe (recipes.MODEL_4_ATTEMPT_2): its goal, fixed before its one test sweep. When it
        # was set, today's recipe held the last 5 epochs on 11 of 18 unseen seeds pooled; this asks for nearly all.
        _sweep(
            "model_4b",
            "model_4b",
            tuple(range(31, 51)),
            "Model_4 on a new recipe: its one test sweep, against its goal.",
            window=STEADY_EPOCHS,
            goal=Goal(seeds_needed=19),
            marker="model-4b",
        ),
        _frontier(
            "frontier", FRONTIER, "Model_4's recipe", "The parameter-budget frontier: each network on Model_4's recipe."
        ),
        _frontier("frontier_b", FRONTIER_2, "attempt 2's recipe", "The frontier again on attempt 2's recipe change."),
        Study(
            "ablation",
            "ablation",
            tuple(ABLATIONS.values()),
            (1, 2),
            "One change at a time (notebooks 2 and 3), on the validation split.",
            split="validation",
            folder="ablation",
            bases=ABLATION_BASES,
            marker="ablation",
        ),
        _search("model_5", SEARCH_MODEL_5, (1, 2), (HOLD_EPOCHS, STEADY_EPOCHS)),
        _search("model_4", SEARCH_MODEL_4, (1, 2, 3, 4), (STEADY_EPOCHS, HOLD_EPOCHS)),
        # Round 4 of Model_4's tuning (tools/screen_ema.py): one run per seed, every weight-average horizon
        # evaluated on it; recorded in results/tuning/model_4.json, not as run records.
        Study(
            "screen_ema",
            "screen",
            (replace(RECIPES["model_4"], ema_epochs=0.0),),
            (1, 2, 3, 4),
            "Round 4 of Model_4's tuning: a weight average over 0.5, 1 or 2 epochs (tools/screen_ema.py).",
            split="validation",
            window=STEADY_EPOCHS,
            folder="tuning",
            base="model_4",
        ),
    )
}


def get_study(name: str, registry: Mapping[str, Study] | None = None) -> Study:
    registry = STUDIES if registry is None else registry
    if name not in registry:
        raise ValueError(f"unknown study {name!r}; choose one of: {', '.join(registry)}")
    return registry[name]


def of_kind(kind: str, registry: Mapping[str, Study] | None = None) -> list[Study]:
    return [s for s in (STUDIES if registry is None else registry).values() if s.kind == kind]


def search_study(which: str, registry: Mapping[str, Study] | None = None) -> Study:
    """The search whose candidates change ``which`` (``"model_5"``, ``"model_4"``)."""
    found = {s.base: s for s in of_kind("search", registry)}
    if which not in found:
        raise ValueError(f"unknown search {which!r}; choose one of: {', '.join(found)}")
    return found[which]


# --- the one judge ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """A study's goal judged on its records: ``met`` is None while seeds are missing (never judged on part)."""

    study: str
    seeds: list[int]  # recorded, in order
    missing: list[int]
    held: int  # seeds holding TARGET in each of the window's last epochs
    seeds_needed: int | None
    mean_final: float | None
    mean_aim: float | None

    @property
    def enough_held(self) -> bool | None:
        return None if self.seeds_needed is None or self.missing else self.held >= self.seeds_needed

    @property
    def mean_met(self) -> bool | None:
        if self.mean_aim is None or self.mean_final is None or self.missing:
            return None
        return round(self.mean_final, 2) >= self.mean_aim

    @property
    def met(self) -> bool | None:
        parts = [p for p in (self.enough_held, self.mean_met) if p is not None]
        return None if self.missing or not parts else all(parts)

    def line(self) -> str:
        if self.missing:
            return f"{self.study}: not judged yet, seeds {', '.join(map(str, self.missing))} not recorded"
        verdict = {True: "goal met", False: "goal missed", None: "no goal"}[self.met]
        held = f"{self.held} of {len(self.seeds)} seeds hold" + (
            f" (needed {self.seeds_needed})" if self.seeds_needed else ""
        )
        mean = f"; mean final {self.mean_final:.2f} %" + (f" (aim {self.mean_aim:.2f} %)" if self.mean_aim else "")
        return f"{self.study}: {verdict}: {held}{mean}"


def goal_met(held: int, seeds_needed: int | None, mean_final: float, mean_aim: float | None) -> tuple:
    """The goal's two ticks (None: no such goal): enough seeds held, the mean final at its aim (to 2 decimals)."""
    return (
        None if seeds_needed is None else held >= seeds_needed,
        None if mean_aim is None else round(mean_final, 2) >= mean_aim,
    )


def judge(study: Study, records) -> Judgement:
    """Judge ``study``'s goal from its records (``Record`` or dict; those of other seeds are ignored)."""
    mine = sorted((r for r in records if r["seed"] in study.seeds), key=lambda r: r["seed"])
    accs = [accuracies(r) for r in mine]
    held = sum(lowest_of_last(a, study.window) >= TARGET for a in accs)
    goal = study.goal or Goal()
    return Judgement(
        study.name,
        [r["seed"] for r in mine],
        [s for s in study.seeds if s not in {r["seed"] for r in mine}],
        held,
        goal.seeds_needed,
        mean_std([a[-1] for a in accs]).mean if accs else None,
        goal.mean_aim,
    )
