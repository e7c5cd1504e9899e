"""Which records belong to a study (``studies.Study``): found by what they say (recipe, settings, seed, split),
not by file name, in the study's folder and the folders it reads. ``runs.run_study`` skips what is found,
``tuning`` judges a search's round from it, ``readme.study_table`` and ``study --list`` read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .paths import default_results_dir, smoke_results_dir
from .records import Record, config_changes, load_folder
from .studies import Study


class Found(NamedTuple):
    """One run of a study: its file's stem, its record, and the folder (under results/) it was found in."""

    stem: str
    record: Record
    folder: str


def study_records(study: Study, results_dir=None, epochs: int | None = None, smoke: bool = False) -> dict:
    """Per recipe of ``study``, ``{seed: Found}`` of its runs, oldest seed first: the recipe as it is now (a setting
    an older record lacks reads at its ``Recipe`` default), on the study's split, complete, of the study's seeds,
    in its folder or a folder it ``reads``, whatever the file's name; the newest run of a seed counts (its own
    folder's, when both have one). ``epochs``: runs of that length; ``smoke``: the scratch folder's smoke runs."""
    base = Path(results_dir) if results_dir is not None else default_results_dir()
    folders = {"smoke": smoke_results_dir()} if smoke else {f: base / f for f in (*study.reads, study.folder)}
    runs = [
        (rank, r.started_at or "", Found(stem, r, name))
        for rank, (name, folder) in enumerate(folders.items())
        if folder.is_dir()
        for stem, r in load_folder(folder)
    ]
    found = {}
    for recipe in study.recipes:
        recipe = recipe.with_overrides(epochs=epochs or (1 if smoke else None))
        mine = [(rank, when, f) for rank, when, f in runs if _fits(f, recipe, study, smoke)]
        mine.sort(key=_order)
        found[recipe.name] = dict(sorted({f.record.seed: f for _rank, _when, f in mine}.items()))
    return found


def _order(item) -> tuple:
    return item[:2]


def _fits(found: Found, recipe, study: Study, smoke: bool) -> bool:
    return is_run_of(found.record, recipe, study.split, study.seeds, smoke)


def is_run_of(record, recipe, split: str, seeds=None, smoke: bool = False) -> bool:
    """Whether ``record`` is a complete run of ``recipe`` exactly as it is now, of one of ``seeds`` (None: any),
    on ``split``; a smoke run only when ``smoke`` (and then only one)."""
    return (
        record["recipe"] == recipe.name
        and record.get("evaluated_on", "test") == split
        and record["complete"]
        and bool(record["smoke"]) == smoke
        and (seeds is None or record["seed"] in seeds)
        and not config_changes(recipe.to_dict(), record["config"], ("seed",))
    )


def records_of(study: Study, results_dir=None, smoke: bool = False) -> list[Record]:
    """Every record of a study, recipe by recipe, oldest seed first."""
    return [f.record for runs in study_records(study, results_dir, smoke=smoke).values() for f in runs.values()]
