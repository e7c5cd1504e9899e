"""The case study (notebook 6) and its solutions: closing sections, try-its that give nothing away, no count typed
into the prose, and the claims its prose makes in words checked against the records it reads."""

import ast
import re
from pathlib import Path

import pytest
from notebook_reading import markdown as _markdown
from notebook_reading import outputs as _outputs
from notebook_reading import read as _nb
from notebook_reading import section as _section

from mnist_kit import checks, course, launch, records, stats, studies, tuning
from mnist_kit.paths import default_results_dir
from mnist_kit.recipes import FRONTIER_2, get_recipe

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "notebooks" / "06_steady_or_lucky.ipynb"
SOLUTIONS = ROOT / "notebooks" / "solutions" / "06_steady_or_lucky_solutions.ipynb"
RESULTS = default_results_dir()


def _sweep(name):
    return records.current_sweep(RESULTS / "sweep", get_recipe(name))


def _held(sweep, window, key="test_acc"):
    return [r["seed"] for r in sweep if stats.holds(stats.accuracies(r, key), window)]


def test_it_closes_with_takeaways_a_questionnaire_and_exercises():
    nb = _nb(CASE)
    headings = [s.splitlines()[0] for s in _markdown(nb) if s.startswith("## ")]
    assert headings[-3:] == ["## Takeaways", "## Questionnaire", "## Exercises"]
    assert "**Terms introduced here:**" in _section(nb, "## Takeaways")
    questions = re.findall(r"^(\d+)\. ", _section(nb, "## Questionnaire"), re.M)
    assert 8 <= len(questions) <= 10 and questions == [str(i) for i in range(1, len(questions) + 1)]
    answers = re.findall(r"^(\d+)\. ", _section(_nb(SOLUTIONS), "## Questionnaire"), re.M)
    assert answers == questions, "every question has its answer in the solutions notebook"


def test_every_exercise_is_solved_under_its_own_title():
    exercises = re.findall(r"^(\d+)\. \*\*(.+?)\*\*", _section(_nb(CASE), "## Exercises"), re.M)
    assert len(exercises) >= 3 and [n for n, _ in exercises] == [str(i) for i in range(1, len(exercises) + 1)]
    solved = [s.splitlines()[0] for s in _markdown(_nb(SOLUTIONS)) if re.match(r"## \d+\. ", s)]
    assert solved == [f"## {n}. {title.rstrip('.')}" for n, title in exercises]


def test_it_trains_nothing_and_was_run_top_to_bottom():
    for path in (CASE, SOLUTIONS):
        code = [cell for cell in _nb(path).cells if cell.cell_type == "code"]
        assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1)), path.name
        assert not any(out.output_type == "error" for cell in code for out in cell.outputs)
        for cell in code:
            assert not re.search(r"\b(experiment|run_lesson|fit|train_and_record)\(", cell.source), cell.source
            assert "EPOCH:" not in _outputs(cell)


def _try_its(nb) -> list[tuple[int, str, ast.Call]]:
    """(cell index, checker name, call) for every ``checks.<checker>(answer, ...)`` cell."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "checks." in cell.source:
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Call) and getattr(node.func, "value", None) is not None:
                    if getattr(node.func.value, "id", None) == "checks":
                        found.append((i, node.func.attr, node))
    return found


def test_at_least_three_try_its_each_printing_its_verdict_only():
    nb = _nb(CASE)
    try_its = _try_its(nb)
    assert {name for _, name, _ in try_its} >= {"lowest_in_window", "wilson_low", "tie_or_lead"}
    for i, name, _call in try_its:
        cell = nb.cells[i]
        assert "answer = None" in cell.source and cell.source.rstrip().endswith(";"), name
        said = _outputs(cell).strip().splitlines()
        assert len(said) == 1 and said[0][0] in "❓❌", f"{name}: one verdict line, no stray value"


def _answers() -> dict[str, list[str]]:
    """Patterns of what would give each try-it's answer away if an output above it printed them."""
    lowest = checks.EXPECTED["lowest_in_window"](sweep="model_4", seed=15, epochs=5).value
    sweep = _sweep("model_4")
    low = stats.wilson(len(_held(sweep, course.STEADY_EPOCHS)), len(sweep)).low * 100
    number = r"(?<![\d.]){}(?![\d])"
    return {
        "lowest_in_window": [number.format(re.escape(f"{lowest:.2f}"))],
        "wilson_low": [number.format(f"{low:.0f}") + r" ?%", number.format(f"{low:.0f}") + "–", f"{low:.1f}"],
        # the round's verdict line ("after a tie ...") or a margin table's row for today's recipe
        "tie_or_lead": [r"after a tie", r"\| model_4 \|[^\n]*\| a (?:tie|lead) \|"],
    }


def test_no_try_it_is_answered_above_it():
    nb = _nb(CASE)
    answers = _answers()
    for i, name, _call in _try_its(nb):
        above = "".join(_outputs(cell) for cell in nb.cells[:i] if cell.cell_type == "code")
        shown = [pattern for pattern in answers[name] if re.search(pattern, above)]
        assert not shown, f"{name}: its answer is printed above it ({shown})"


def test_the_answer_check_would_catch_a_giveaway():
    nb = _nb(CASE)
    answers = _answers()
    everything = "".join(_outputs(cell) for cell in nb.cells if cell.cell_type == "code")
    assert re.search(answers["tie_or_lead"][1], everything) and re.search(answers["wilson_low"][1], everything)


def test_the_interval_try_it_asks_about_the_sweeps_own_counts():
    """The wilson_low try-it passes the counts read from the sweep, not numbers typed into the cell."""
    source = next(cell.source for cell in _nb(CASE).cells if "checks.wilson_low(" in cell.source)
    assert "k=k5, n=n" in source and "len(held(sweep_4, course.STEADY_EPOCHS))" in source


def test_no_count_from_the_records_is_typed_into_the_prose():
    """Counts of seeds, rounds and candidates come from a code cell (or are checked below), never typed in."""
    for path in (CASE, SOLUTIONS):
        for source in _markdown(_nb(path)):
            typed = re.findall(r"\b\d+ of \d+\b|\b\d+ (?:seeds|candidates|rounds|runs)\b", source)
            assert not typed, f"{path.name}: typed counts {typed}"


def test_it_reads_within_an_hour():
    words = launch.markdown_words(CASE)
    assert words <= 5000, f"{words} words of Markdown"


def test_terms_are_defined_before_they_are_used():
    """After the introduction's road map, the first cell that uses a term (headings aside) defines it in bold."""
    sources = ["\n".join(line for line in s.splitlines() if not line.startswith("#")) for s in _markdown(_nb(CASE))[1:]]
    for term in ("hold rate", "Wilson interval", "spread", "tie", "window"):
        first = next(i for i, s in enumerate(sources) if re.search(rf"\b{term}\b", s, re.I))
        assert f"**{term.lower()}**" in sources[first].lower(), f"{term!r} is used before it is defined"


def test_every_plot_is_shown():
    for cell in _nb(CASE).cells:
        if cell.cell_type == "code" and "plots." in cell.source:
            assert any("image/png" in out.get("data", {}) for out in cell.outputs), cell.source


def test_it_speaks_of_mnist_not_of_how_the_records_were_made():
    for path in (CASE, SOLUTIONS):
        text = " ".join(_markdown(_nb(path))).lower()
        for phrase in ("committed", "added later", "the issue", "make reproduce", "repository"):
            assert phrase not in text, f"{path.name}: {phrase!r}"


# The claims the prose makes in words, checked against the records.


def test_seed_15_holds_the_last_3_epochs_and_not_the_last_5():
    accs = stats.accuracies(records.load_record(RESULTS / "sweep" / "model_4-seed15.json"))
    assert stats.holds(accs, course.HOLD_EPOCHS) and not stats.holds(accs, course.STEADY_EPOCHS)
    assert min(accs[-course.HOLD_EPOCHS :]) == course.TARGET  # it lands on the line: it holds at >=, not at >


def test_the_model_4_round_is_a_tie_decided_by_the_last_tie_breaker():
    result = tuning.load_round(RESULTS, "model_4")
    assert result["judged_on"] == "validation" and result["decided_by"] == "mean"
    w, by_name = result["window"], {c["name"]: c for c in result["candidates"]}
    assert {"m4_shift1", "m4_shift2", "m4_tail", "m4_ema1", "model_4"} == set(by_name)
    base = by_name["model_4"]
    for c in result["candidates"]:  # "none of these was": no candidate leads today's recipe by a spread
        gap = c[f"mean_val_min_last{w}"] - base[f"mean_val_min_last{w}"]
        assert gap < max(c[f"std_val_min_last{w}"], base[f"std_val_min_last{w}"])


def test_model_4b_misses_its_goal_and_does_not_break_the_tie():
    sweep_4, sweep_4b = _sweep("model_4"), _sweep("model_4b")
    assert len(_held(sweep_4b, course.STEADY_EPOCHS)) < studies.get_study("model_4b").goal.seeds_needed
    for window in (course.HOLD_EPOCHS, course.STEADY_EPOCHS):
        for a, b in ((sweep_4, sweep_4b), (sweep_4b, sweep_4)):
            band = stats.wilson(len(_held(b, window)), len(b))
            assert band.low <= len(_held(a, window)) / len(a) <= band.high


def test_model_5s_second_attempt_leads_the_first_ties_the_runner_up_and_misses_on_the_mean():
    result = tuning.load_round(RESULTS, "model_5")
    w, ranked = result["window"], result["candidates"]
    winner, runner_up = ranked[0], ranked[1]
    first = next(c for c in ranked if c["name"] == "slim_5k_a")
    mean, std = f"mean_val_min_last{w}", f"std_val_min_last{w}"
    assert winner[mean] - first[mean] >= max(winner[std], first[std])
    assert winner[mean] - runner_up[mean] < max(winner[std], runner_up[std])
    sweep_5, sweep_5b = _sweep("model_5"), _sweep("model_5b")
    h5, h5b = len(_held(sweep_5, course.HOLD_EPOCHS)), len(_held(sweep_5b, course.HOLD_EPOCHS))
    assert h5b > h5 and stats.wilson(h5, len(sweep_5)).high >= stats.wilson(h5b, len(sweep_5b)).low
    finals = [stats.mean_std([stats.accuracies(r)[-1] for r in s]) for s in (sweep_5, sweep_5b)]
    assert abs(finals[1].mean - finals[0].mean) < max(f.std for f in finals)  # "the mean did not" rise
    assert finals[1].mean < studies.get_study("model_5b").goal.mean_aim


def test_most_of_the_frontier_stays_where_it_was_on_attempt_2s_recipe():
    first = {p.parameters: p.stats.final for p in records.frontier_points(RESULTS)}
    moved = [
        abs(p.stats.final.mean - first[p.parameters].mean) >= max(p.stats.final.std, first[p.parameters].std)
        for p in records.frontier_points(RESULTS, FRONTIER_2)
    ]
    assert moved and sum(moved) < len(moved) / 2


def test_validation_scores_model_4_lower_than_test():
    result = tuning.load_round(RESULTS, "model_4")
    w = result["window"]
    val = next(c for c in result["candidates"] if c["name"] == "model_4")[f"mean_val_min_last{w}"]
    test = stats.mean_std([stats.lowest_of_last(stats.accuracies(r), w) for r in _sweep("model_4")]).mean
    assert val < test


@pytest.mark.parametrize("path", [CASE, SOLUTIONS], ids=lambda p: p.stem)
def test_the_exercises_read_only_the_records(path):
    assert "my_runs" not in "".join(_outputs(cell) for cell in _nb(path).cells if cell.cell_type == "code")


def test_the_first_half_of_model_4s_sweep_hides_the_misses_of_the_whole():
    sweep = _sweep("model_4")
    half = sweep[: len(sweep) // 2]
    assert len(_held(half, course.HOLD_EPOCHS)) == len(half) > 0
    assert len(_held(sweep, course.HOLD_EPOCHS)) < len(sweep)


def test_model_5s_first_attempt_missed_the_count_its_second_asked_for_too():
    """Attempt 1 asked for the same count of its five seeds as attempt 2 (model_5b's goal)."""
    sweep_5 = _sweep("model_5")
    assert len(sweep_5) == len(studies.get_study("model_5b").seeds)
    assert len(_held(sweep_5, course.HOLD_EPOCHS)) < studies.get_study("model_5b").goal.seeds_needed


def test_read_strictly_fewer_seeds_hold_and_model_4bs_misses_differ_in_kind():
    sweep = _sweep("model_4")
    strictly = [r for r in sweep if min(stats.accuracies(r)[-course.HOLD_EPOCHS :]) > course.TARGET]
    assert len(strictly) < len(_held(sweep, course.HOLD_EPOCHS))
    w = course.STEADY_EPOCHS
    misses = [stats.accuracies(r)[-w:] for r in _sweep("model_4b") if r["seed"] not in _held(_sweep("model_4b"), w)]
    assert any(min(accs[1:]) >= course.TARGET for accs in misses)  # a dip in the window's first epoch, then holds
    assert any(max(accs) < course.TARGET for accs in misses)  # never at the line in the window
