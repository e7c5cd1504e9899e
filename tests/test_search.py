"""The stronger-recipe search: its candidates are what the rule says, under their budgets, counted by hand."""

import json

import pytest

from mnist_kit import parallel, paths, records, runs, tuning
from mnist_kit.__main__ import main
from mnist_kit.course import MODEL_5_BUDGET
from mnist_kit.engine import Run
from mnist_kit.models import conv_budget, count_parameters, get_model
from mnist_kit.paths import default_results_dir
from mnist_kit.recipes import RECIPES, SEARCH_MODEL_4, SEARCH_MODEL_5, Recipe
from mnist_kit.studies import get_study

# Worked by hand: a k x k convolution costs k*k*c_in*c_out, a BatchNorm 2*c_out, a 1x1 conv c_in*c_out; a
# depthwise-separable block k*k*c_in + c_in*c_out (+ its BatchNorm).
# Rows: block 1, block 2, transition, blocks 3-5, head.
BY_HAND = {
    "m5_early": [9 * 10 + 20, 9 * 10 * 16 + 32, 16 * 8, 9 * 8 * 8 + 16, 9 * 8 * 12 + 24, 9 * 12 * 14 + 28, 14 * 10],
    "m5_5x5": [25 * 8 + 16, 9 * 8 * 12 + 24, 12 * 8, 9 * 8 * 10 + 20, 9 * 10 * 12 + 24, 9 * 12 * 16 + 32, 16 * 10],
    "m5_sep": [9 * 10 + 20, 9 * 10 * 14 + 28, 14 * 8, 9 * 8 * 12 + 24, 9 * 12 + 12 * 16 + 32, 9 * 16 * 14 + 28, 140],
}


@pytest.mark.parametrize("name", sorted(BY_HAND))
def test_new_model_5_networks_count_as_worked_by_hand(name):
    model = get_model(name)
    assert [row["parameters"] for row in conv_budget(model)] == BY_HAND[name]
    assert count_parameters(model) == sum(BY_HAND[name]) < MODEL_5_BUDGET


def test_the_search_has_the_candidates_the_issue_asks_for():
    assert len(SEARCH_MODEL_5) >= 10 and len(SEARCH_MODEL_4) >= 5  # Model_4: today's recipe and 4 candidates
    assert all(count_parameters(get_model(r.model)) <= MODEL_5_BUDGET for r in SEARCH_MODEL_5.values())
    assert all(r.model == "model_4" for r in SEARCH_MODEL_4.values())  # recipe ideas on Model_4's own network
    assert SEARCH_MODEL_4["model_4"] == RECIPES["model_4"]
    seeds = {which: get_study(f"search_{which}").seeds for which in ("model_5", "model_4")}
    assert seeds == {"model_5": (1, 2), "model_4": (1, 2, 3, 4)}  # tuning seeds, never a sweep's
    assert tuple(get_study("search_model_5").recipes) == tuple(SEARCH_MODEL_5.values())
    assert tuple(get_study("search_model_4").recipes) == tuple(SEARCH_MODEL_4.values())
    # every candidate but the attempt-1 designs differs from its base in exactly one setting
    for name, recipe in {**SEARCH_MODEL_5, **SEARCH_MODEL_4}.items():
        base = RECIPES["model_4"] if name.startswith("m4_") or name == "model_4" else RECIPES["model_5"]
        changed = {k for k, v in recipe.to_dict().items() if v != base.to_dict()[k]} - {"name", "model"}
        assert len(changed) <= 1, (name, changed)


def test_records_from_before_the_new_fields_group_with_todays(tmp_path):
    """A record written before ``translate``, ``final_div_factor`` and ``three_phase`` existed reads them at their
    defaults, the values its run used, so committed sweeps stay one configuration with new runs of the same recipe."""
    old = json.loads((default_results_dir() / "sweep" / "model_4-seed11.json").read_text())
    assert not {"translate", "final_div_factor", "three_phase"} & set(old["config"])  # written before them
    record = records.load_record(default_results_dir() / "sweep" / "model_4-seed11.json")
    defaults = Recipe("x", "model_4", rotation=0, jitter=0, lr=0.1, scheduler="onecycle")
    assert (record["config"]["translate"], record["config"]["three_phase"]) == (0.0, False)
    assert record["config"]["final_div_factor"] == defaults.final_div_factor
    # against a config written today (every field present), the old record differs in nothing but its seed
    today = RECIPES["model_4"].with_overrides(seed=11).to_dict()
    assert records.config_changes(old["config"], today) == {}
    assert records.config_changes(old["config"], {**today, "translate": 1.0}) == {"translate": (0.0, 1.0)}


# --- running the search, and judging a round -------------------------------------------------


def val_record(name, seed, last3, last5=None, parameters=None, **extra) -> dict:
    """A hand-made full validation record of a search candidate (not a result of any run): 15 epochs at 99.0 %,
    then epochs 11-12 at ``last5`` and 13-15 at ``last3``, so its lowest of the last 3 is ``last3`` and of the last
    5 ``min(last3, last5)``."""
    recipe = {**SEARCH_MODEL_5, **SEARCH_MODEL_4}[name].with_overrides(seed=seed)
    accs = [99.0] * 10 + [last3 if last5 is None else last5] * 2 + [last3] * 3
    history = [
        dict(epoch=i + 1, lr=0.01, train_loss=0.1, train_acc=99.0, val_loss=0.03, val_acc=acc, seconds=1.0)
        for i, acc in enumerate(accs)
    ]
    record = dict(
        format=1,
        recipe=name,
        model=recipe.model,
        parameters=parameters or count_parameters(get_model(recipe.model)),
        seed=seed,
        config=recipe.to_dict(),
        epochs=15,
        complete=True,
        smoke=False,
        evaluated_on="validation",
        device="cpu",
        device_name="CPU: test",
        wall_seconds=1.0,
        history=history,
    )
    record.update(extra)
    return records.Record.from_dict(record).to_dict()


def by_name(result) -> dict:
    return {c["name"]: c for c in result["candidates"]}


def test_a_clear_lead_wins_on_the_judged_window():
    found = {
        "slim_5k_a": [val_record("slim_5k_a", 1, 99.20), val_record("slim_5k_a", 2, 99.22)],
        "m5_shift1": [val_record("m5_shift1", 1, 99.40), val_record("m5_shift1", 2, 99.42)],
    }
    result = tuning.judge("model_5", found)
    assert (result["winner"], result["decided_by"]) == ("m5_shift1", "window")
    assert result["judged_on"] == "validation" and result["window"] == 3 and result["other_window"] == 5
    assert not result["complete"]  # eight candidates have no run: listed, not ranked
    m5 = by_name(result)["m5_shift1"]
    assert m5["val_min_last3"] == [99.40, 99.42] and m5["mean_val_min_last3"] == 99.41 and m5["rank"] == 1
    assert m5["std_val_min_last3"] == round(0.02 / 2**0.5, 4) and by_name(result)["slim_5k_a"]["rank"] == 2
    assert [c["name"] for c in result["candidates"][:2]] == ["m5_shift1", "slim_5k_a"]
    tail = by_name(result)["m5_tail"]
    assert (tail["rank"], tail["seeds"], tail["missing_seeds"]) == (None, [], [1, 2])


def test_a_gap_within_the_seed_spread_is_a_tie_broken_by_the_other_window():
    # last 3: 99.33 ± 0.042 against 99.31 ± 0.014, a gap of 0.02 inside the spread; last 5: 99.11 against 99.26
    found = {
        "m5_shift1": [val_record("m5_shift1", 1, 99.30, 99.10), val_record("m5_shift1", 2, 99.36, 99.12)],
        "m5_tail": [val_record("m5_tail", 1, 99.30, 99.25), val_record("m5_tail", 2, 99.32, 99.27)],
    }
    result = tuning.judge("model_5", found)
    assert (result["winner"], result["decided_by"]) == ("m5_tail", "other window")
    assert by_name(result)["m5_shift1"]["mean_val_min_last5"] == 99.11
    # Model_4's search judges on the last 5 and breaks ties on the last 3: the same runs, the other way round
    m4 = {
        "m4_shift1": [val_record("m4_shift1", s, 99.30 + s / 100, 99.20) for s in (1, 2, 3, 4)],
        "m4_tail": [val_record("m4_tail", s, 99.50, 99.19 if s % 2 else 99.21) for s in (1, 2, 3, 4)],
    }
    result = tuning.judge("model_4", m4)
    assert (result["window"], result["winner"], result["decided_by"]) == (5, "m4_tail", "other window")


def test_a_tie_on_both_windows_goes_to_fewer_parameters():
    found = {
        name: [val_record(name, 1, 99.30, 99.28), val_record(name, 2, 99.34, 99.30)]
        for name in ("slim_5k_a", "slim_5k_b", "slim_5k_c")
    }
    result = tuning.judge("model_5", found)
    assert (result["winner"], result["decided_by"]) == ("slim_5k_b", "parameters")  # 4,544 of 4,836 and 4,980
    assert [c["name"] for c in result["candidates"][:3]] == ["slim_5k_b", "slim_5k_a", "slim_5k_c"]


def test_only_complete_full_validation_candidates_are_ranked():
    found = {
        "slim_5k_a": [val_record("slim_5k_a", 1, 99.20), val_record("slim_5k_a", 2, 99.22)],
        "m5_ema1": [val_record("m5_ema1", 1, 99.90)],  # one seed of two: listed as incomplete
        "m5_early": [val_record("m5_early", s, 99.95, smoke=True) for s in (1, 2)],  # smoke runs never enter
        "m5_sep": [val_record("m5_sep", s, 99.95, complete=False) for s in (1, 2)],  # nor partial runs
        "m5_5x5": [val_record("m5_5x5", s, 99.95) for s in (1, 2)],
    }
    for record in found["m5_5x5"]:
        record["config"]["dropout"] = 0.0  # another configuration than the candidate's
    result = tuning.judge("model_5", found)
    assert result["winner"] == "slim_5k_a" and [c["rank"] for c in result["candidates"]].count(None) == 9
    assert by_name(result)["m5_ema1"]["seeds"] == [1] and by_name(result)["m5_ema1"]["missing_seeds"] == [2]
    assert all(by_name(result)[n]["seeds"] == [] for n in ("m5_early", "m5_sep", "m5_5x5"))


def fake_fit(monkeypatch, accs=(99.0,) * 12 + (99.3,) * 3, interrupt_after=None):
    """Replace the training of every run side by side or in a row (``parallel.fit``) by a run with these validation
    accuracies; returns the list of (recipe name, seed, validation, smoke) each run was asked for."""
    asked = []

    def fit(recipe, *, epochs=None, seed=None, smoke=False, validation=False, **_ignored):
        recipe = recipe.with_overrides(epochs=epochs or (1 if smoke else None), seed=seed)
        asked.append((recipe.name, recipe.seed, validation, smoke))
        split = "val" if validation else "test"
        rows = [
            {"epoch": i + 1, "lr": 0.1, "train_loss": 0.1, "train_acc": 99.0, f"{split}_loss": 0.03}
            | {f"{split}_acc": acc, "seconds": 1.0}
            for i, acc in enumerate(list(accs)[-recipe.epochs :][:interrupt_after])
        ]
        model = get_model(recipe.model)
        run = Run(
            recipe, model, "cpu", "CPU: fake", smoke, "2024-01-01T00:00:00", "validation" if validation else "test"
        )
        run.history, run.interrupted = rows, interrupt_after is not None
        return run

    monkeypatch.setattr(parallel, "fit", fit)
    return asked


def test_the_search_trains_each_missing_candidate_seed_on_validation(monkeypatch, tmp_path):
    """Attempt 1's slim_5k_a.json is slim_5k_a's seed 1 (read from the record, not its name): not trained again;
    the other seeds are recorded as results/validation/<name>-seed<S>.json, validation runs all; then the round."""
    folder = tmp_path / "validation"
    folder.mkdir()
    (folder / "slim_5k_a.json").write_text(json.dumps(val_record("slim_5k_a", 1, 99.25)))
    dropout0 = val_record("slim_5k_a", 2, 99.25)
    dropout0["config"]["dropout"] = 0.0
    (folder / "slim_5k_a-dropout0.json").write_text(json.dumps(dropout0))  # another configuration: not seed 2
    asked = fake_fit(monkeypatch)
    paths, finished = runs.search("model_5", ["slim_5k_a", "m5_shift1"], smoke=False, results_dir=tmp_path)
    assert finished and asked == [
        ("slim_5k_a", 2, True, False),
        ("m5_shift1", 1, True, False),
        ("m5_shift1", 2, True, False),
    ]
    assert [p.name for p in paths] == ["slim_5k_a-seed2.json", "m5_shift1-seed1.json", "m5_shift1-seed2.json"]
    assert all(p.parent == folder and records.load_record(p).evaluated_on == "validation" for p in paths)
    assert all("test_acc" not in row for p in paths for row in records.load_record(p).history)
    result = json.loads((tmp_path / "tuning" / "model_5.json").read_text())["search"]
    assert result["winner"] == "m5_shift1" and by_name(result)["slim_5k_a"]["records"][0] == "validation/slim_5k_a.json"
    # a second search trains nothing (every seed is there); --again retrains one, over its own file
    assert runs.search("model_5", ["slim_5k_a", "m5_shift1"], smoke=False, results_dir=tmp_path) == ([], True)
    assert len(asked) == 3
    paths, _ = runs.search("model_5", ["slim_5k_a"], [1], again=True, smoke=False, results_dir=tmp_path)
    assert asked[3:] == [("slim_5k_a", 1, True, False)] and paths == [folder / "slim_5k_a.json"]


def test_a_smoke_search_reads_no_test_image_and_judges_no_round(mnist_root, monkeypatch, tmp_path):
    """A real smoke run of one candidate: on the validation split (the test files are never opened), recorded in
    the scratch folder; results/ (and so results/tuning/) is not touched."""
    from mnist_kit import data, fast_data

    def no_test_set(root=None, train=True):
        assert train, "the search read the test set"
        return data.load_idx_tensors(root, train=True)

    monkeypatch.setattr(fast_data, "load_idx_tensors", no_test_set)
    monkeypatch.setenv(paths.SMOKE_DIR_ENV, str(tmp_path / "smoke"))
    found, finished = runs.search(
        "model_4",
        ["m4_shift1"],
        [1],
        smoke=True,
        results_dir=tmp_path / "results",
        device="cpu",
        data_root=mnist_root,
        progress=False,
    )
    assert finished and [p.name for p in found] == ["m4_shift1-seed1.json"]
    assert found[0].parent == tmp_path / "smoke" and records.load_record(found[0]).evaluated_on == "validation"
    assert not (tmp_path / "results").exists()


def test_the_search_command_line(monkeypatch, tmp_path, capsys):
    asked = fake_fit(monkeypatch)
    out = ["--out", str(tmp_path), "--device", "cpu", "--jobs", "1"]
    assert main(["search", "model_5", "--names", "m5_nope", *out]) == 2
    assert "unknown candidate 'm5_nope' of the model_5 search; choose from: slim_5k_a" in capsys.readouterr().err
    assert main(["search", "model_4", "--names", "m4_tail", "--seeds", "1", "--smoke", *out]) == 0
    assert asked == [("m4_tail", 1, True, True)] and not (tmp_path / "tuning").exists()  # no smoke round
    assert main(["search", "model_4", "--names", "m4_tail", "--full", *out]) == 0
    assert [a[1:] for a in asked[1:]] == [(s, True, False) for s in (1, 2, 3, 4)]
    result = json.loads((tmp_path / "tuning" / "model_4.json").read_text())["search"]
    assert (result["winner"], result["decided_by"], result["complete"]) == ("m4_tail", "alone", False)
    (tmp_path / "tuning" / "model_4.json").write_text(json.dumps({"round_4": "kept"}))
    capsys.readouterr()
    assert main(["search", "model_4", "--judge", *out]) == 0 and len(asked) == 5  # --judge trains nothing
    assert "| incomplete (seeds 1, 2, 3, 4 missing) | model_4 |" in capsys.readouterr().out
    kept = json.loads((tmp_path / "tuning" / "model_4.json").read_text())
    assert kept["round_4"] == "kept" and by_name(kept["search"])["m4_tail"]["seeds"] == [1, 2, 3, 4]


def test_ctrl_c_stops_the_search_with_130_and_judges_nothing(monkeypatch, tmp_path):
    fake_fit(monkeypatch, interrupt_after=4)
    argv = ["search", "model_5", "--names", "m5_tail", "--full", "--out", str(tmp_path), "--jobs", "1"]
    assert main([*argv, "--device", "cpu"]) == 130
    assert (tmp_path / "validation" / "partial" / "m5_tail-seed1.json").exists()
    assert not (tmp_path / "tuning").exists()


def test_the_round_table_puts_the_winner_first_and_lists_the_incomplete(tmp_path):
    from mnist_kit import readme

    assert readme.search_table(tmp_path, "model_5") == (
        "_No model_5 round judged yet: `make search` (`python -m mnist_kit study search_model_5`)._"
    )
    found = {
        "slim_5k_a": [val_record("slim_5k_a", 1, 99.20, 99.18), val_record("slim_5k_a", 2, 99.22, 99.20)],
        "m5_shift1": [val_record("m5_shift1", 1, 99.40), val_record("m5_shift1", 2, 99.42)],
        "m5_ema1": [val_record("m5_ema1", 2, 99.90)],
    }
    table = readme.search_round_markdown(tuning.judge("model_5", found)).splitlines()
    assert table[0].startswith("| rank | candidate | parameters | what it changes | lowest of last 3, seeds 1, 2 |")
    assert (
        table[2]
        == "| 1 | **m5_shift1** (winner) | 4,836 | translate 0.0 → 1.0 | 99.40, 99.42 | 99.41 ± 0.01 % | 99.41 % |"
    )
    assert table[3] == "| 2 | slim_5k_a | 4,836 | model_5 itself | 99.20, 99.22 | 99.21 ± 0.01 % | 99.19 % |"
    row = "| incomplete (seed 1 missing) | m5_ema1 | 4,836 | ema_epochs 0.5 → 1.0 | –, 99.90 | 99.90 % (1 of 2 seeds) |"
    assert f"{row} 99.90 % |" in table
    assert table[-1].startswith("Winner by the rule: **m5_shift1** (a clear lead). Provisional:")


def test_the_winners_margin_is_read_in_spreads_by_the_rules_measure():
    from mnist_kit import lessons

    found = {
        "slim_5k_a": [val_record("slim_5k_a", 1, 99.20, 99.18), val_record("slim_5k_a", 2, 99.22, 99.20)],
        "m5_shift1": [val_record("m5_shift1", 1, 99.40), val_record("m5_shift1", 2, 99.42)],
        "m5_shift2": [val_record("m5_shift2", 1, 99.36), val_record("m5_shift2", 2, 99.46)],
    }
    result = tuning.judge("model_5", found)
    rows = lessons.search_margin_markdown(result, ["slim_5k_a", "m5_shift2"]).splitlines()
    assert rows[2] == "| **m5_shift1** (winner) | 1 | 99.41 ± 0.01 % | – | – | – | – |"
    assert rows[3] == "| slim_5k_a | 3 | 99.21 ± 0.01 % | 0.20 | 0.01 | 14.2 | a lead |"  # 0.20 / 0.0141 (4 decimals)
    assert rows[4] == "| m5_shift2 | 2 | 99.41 ± 0.07 % | 0.00 | 0.07 | 0.0 | a tie |"  # won on the other window
    with pytest.raises(ValueError, match="not ranked in this round: m5_tail"):
        lessons.search_margin_markdown(result, ["m5_tail"])
    with pytest.raises(ValueError, match="no winner yet"):
        lessons.search_margin_markdown(tuning.judge("model_5", {}), [])


@pytest.mark.parametrize(
    "which, name, chosen",
    [
        ("model_5", "model_5b", "MODEL_5_ATTEMPT_2"),
        ("model_4", "model_4b", "MODEL_4_ATTEMPT_2"),
    ],
)
def test_each_new_recipe_is_its_committed_rounds_winner_under_its_own_name(which, name, chosen):
    from mnist_kit import recipes

    judged = tuning.load_round(default_results_dir(), which)
    assert judged is not None and judged["complete"] and judged["judged_on"] == "validation"
    assert getattr(recipes, chosen) == judged["winner"] != which  # a candidate beat today's recipe by the rule
    new, winner = RECIPES[name].to_dict(), tuning.search_candidates(which)[judged["winner"]].to_dict()
    assert {k: v for k, v in new.items() if k != "name"} == {k: v for k, v in winner.items() if k != "name"}
    # the iteration it grew from stays as it was: its recipe, its name
    assert RECIPES[which].name == RECIPES[which].model == which
    if which == "model_5":
        assert count_parameters(get_model(RECIPES[name].model)) <= MODEL_5_BUDGET
    # the sweep's seeds were used by no tuning run, no ablation, no frontier run, and no other sweep before it began
    # (Model_4's row later gained seeds 21-30, Model_5b's, for a recipe of its own: that is no leak)
    used = {
        r["seed"]
        for folder in ("validation", "ablation", "frontier")
        for _stem, r in records.load_folder(default_results_dir() / folder)
    }
    sweeps = [r for _stem, r in records.load_folder(default_results_dir() / "sweep")]
    began = min((r["started_at"] for r in sweeps if r["recipe"] == name), default="9999")  # ISO times, all UTC
    used |= {r["seed"] for r in sweeps if r["recipe"] != name and r.get("started_at", "") < began}
    assert not used & set(get_study(name).seeds)


def test_no_make_target_retrains_attempt_1s_sweep():
    """Attempt 1's records (results/sweep/model_5-seed11..15) stay as they were: no target sweeps model_5."""
    from pathlib import Path

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    studies = [line.split("$(STUDY)", 1)[1].split() for line in makefile.splitlines() if "\t$(STUDY)" in line]
    assert not any("model_5" in names for names in studies)
    assert ["model_4", "model_5b", "model_4b", "--again$(JOBS_FLAG)"] in studies  # make sweep: one rule for all
    assert "STUDY := MNIST_KIT_SMOKE=0 $(PYTHON) -m mnist_kit study" in makefile
