"""Studies as data (mnist_kit/studies.py): a new study is one entry, run by the one runner, judged by the one judge,
its table drawn by ``readme.study_table``; every committed study reads its records where they are."""

import json

import pytest

from mnist_kit import models, recipes, runs, tuning
from mnist_kit.__main__ import main
from mnist_kit.models import NetSpec, TinyNet, count_parameters
from mnist_kit.paths import SMOKE_DIR_ENV, default_results_dir
from mnist_kit.readme import study_table
from mnist_kit.recipes import Recipe
from mnist_kit.studies import STUDIES, Goal, Study, get_study, judge
from mnist_kit.study_records import records_of, study_records

# A network no module knows, and a study of it on two seeds: the acceptance test of "studies as data".
TINY = NetSpec.from_widths((4, 6, 4, 4, 6, 8))
TINY_RECIPE = Recipe("tiny", "tiny_net", rotation=5, jitter=0.0, lr=0.05, scheduler="onecycle")
TINY_STUDY = Study(
    "tiny", "sweep", (TINY_RECIPE,), (3, 4), "a tiny network", goal=Goal(seeds_needed=2), networks={"tiny_net": TINY}
)


def test_a_new_study_in_a_temporary_registry_runs_and_is_tabled_and_judged(mnist_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(SMOKE_DIR_ENV, str(tmp_path / "smoke"))
    registry = {**STUDIES, TINY_STUDY.name: TINY_STUDY}
    options = ["--smoke", "--jobs", "1", "--device", "cpu", "--data-root", str(mnist_root), "--out", str(tmp_path)]
    assert main(["study", "tiny", *options], registry=registry) == 0
    out = capsys.readouterr().out

    found = records_of(TINY_STUDY, tmp_path, smoke=True)  # its records: one per seed, smoke runs of the new network
    assert [r.seed for r in found] == [3, 4] and all(r.smoke and r.model == "tiny_net" for r in found)
    assert {r.parameters for r in found} == {count_parameters(TinyNet(TINY))}
    assert sorted(p.name for p in (tmp_path / "smoke").glob("*.json")) == ["tiny-seed3.json", "tiny-seed4.json"]

    table = study_table(TINY_STUDY, tmp_path, smoke=True)  # its generated table: a row per seed, then its goal
    assert table in out and "| 3 |" in table and "| 4 |" in table
    assert "At least 2 of 2 sweep seeds hold ≥ 99.4 % in each of their last 3 epochs" in table
    judgement = judge(TINY_STUDY, found)  # its judgement, as the command printed it
    assert judgement.line() in out and judgement.missing == [] and judgement.met is (judgement.held == 2)
    assert judgement.held == table.count("| yes |")

    assert main(["study", "--list", "--out", str(tmp_path)], registry=registry) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(listed) == set(registry) and "missing" in listed["tiny"]  # smoke runs are never a study's records
    assert "tiny" not in STUDIES and "tiny_net" not in models.MODELS and "tiny" not in recipes.RECIPES


def test_an_unknown_study_is_named_with_the_choices(capsys):
    assert main(["study", "nope"]) == 2
    assert "unknown study 'nope'; choose one of: model_4," in capsys.readouterr().err
    with pytest.raises(ValueError, match="kind must be one of"):
        Study("x", "sweeps", (TINY_RECIPE,), (1,), "a typo")


def test_every_course_study_lists_its_committed_records(capsys):
    assert main(["study", "--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(STUDIES)
    assert all("  present: " in line for line in lines), lines


def test_model_4s_sweep_is_one_sweep_though_its_first_records_lack_the_later_settings():
    found = study_records(get_study("model_4"))["model_4"]
    assert list(found) == list(range(11, 31))
    raw = {
        seed: json.loads((default_results_dir() / "sweep" / f"{f.stem}.json").read_text()) for seed, f in found.items()
    }
    assert "three_phase" not in raw[11]["config"] and "three_phase" in raw[21]["config"]  # read at its default
    assert len(study_records(get_study("model_4_no_average"))["model_4"]) == 3  # ema_epochs absent: 0


def test_the_judge_never_judges_part_of_a_sweep():
    study = get_study("model_4b")
    records = records_of(study)
    assert judge(study, records).met is False  # the committed sweep missed its goal: 18 of 20, 19 needed
    part = judge(study, records[:5])
    assert part.met is None and part.missing == list(range(36, 51)) and "not judged yet" in part.line()


def test_a_screen_is_run_by_its_tool():
    with pytest.raises(ValueError, match="tools/screen_ema.py"):
        runs.run_study("screen_ema", smoke=True)


def test_one_typed_reader_reads_every_committed_round():
    for which in ("model_5", "model_4"):
        result = tuning.load_round(default_results_dir(), which)
        for candidate in result["candidates"]:
            for window in (result["window"], result["other_window"]):
                score = tuning.window_score(candidate, window)
                assert len(score.per_seed) == len(candidate["seeds"]) and min(score.per_seed) <= score.mean
    with pytest.raises(tuning.RecordError, match="no score on the last 4 epochs"):
        tuning.window_score(result["candidates"][0], 4)
