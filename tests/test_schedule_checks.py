"""The schedule and weight-average build-it checkers (lessons 3 and 4): a right answer passes, each typical slip
gets its own hint, and nothing is printed besides the verdict's one line."""

import torch

from mnist_kit import checks, engine
from mnist_kit.recipes import get_recipe

MultiStepLR, OneCycleLR = torch.optim.lr_scheduler.MultiStepLR, torch.optim.lr_scheduler.OneCycleLR


def model_3(optimizer, steps_per_epoch):
    return MultiStepLR(optimizer, milestones=[5, 10], gamma=0.1)


def model_4(optimizer, steps_per_epoch, **changes):
    r = get_recipe("model_4")
    settings = dict(max_lr=r.lr, epochs=r.epochs, steps_per_epoch=steps_per_epoch, pct_start=r.pct_start)
    return OneCycleLR(optimizer, **{**settings, "final_div_factor": r.final_div_factor, **changes})


def test_the_recipes_own_schedules_pass():
    assert get_recipe("model_3").milestones == (5, 10)
    verdict = checks.scheduler(model_3, recipe="model_3")
    assert verdict and repr(verdict).startswith("✅") and "\n" not in repr(verdict)
    assert checks.scheduler(model_4, recipe="model_4")
    assert checks.scheduler(
        lambda o, s: engine.make_scheduler(o, **get_recipe("model_2").schedule(), steps_per_epoch=s), recipe="model_2"
    )


def test_each_slip_gets_its_own_hint():
    hints = {
        "late milestones": checks.scheduler(lambda o, s: MultiStepLR(o, [6, 11], gamma=0.1), recipe="model_3"),
        "wrong gamma": checks.scheduler(lambda o, s: MultiStepLR(o, [5, 10], gamma=0.5), recipe="model_3"),
        "wrong kind": checks.scheduler(lambda o, s: model_4(o, s), recipe="model_3"),
        "wrong peak": checks.scheduler(lambda o, s: model_4(o, s, max_lr=0.1), recipe="model_4"),
        "no momentum cycle": checks.scheduler(lambda o, s: model_4(o, s, cycle_momentum=False), recipe="model_4"),
        "shorter warm-up": checks.scheduler(lambda o, s: model_4(o, s, pct_start=0.2), recipe="model_4"),
        "not a scheduler": checks.scheduler(lambda o, s: None, recipe="model_3"),
    }
    for slip, verdict in hints.items():
        assert not verdict and repr(verdict).startswith("❌") and "Hint:" in repr(verdict), slip
    lines = [repr(v).split("Hint:")[1] for v in hints.values()]
    assert len(set(lines)) == len(lines), "every slip gets a hint of its own"
    assert "milestones" in repr(hints["late milestones"]) and "gamma" in repr(hints["wrong gamma"])
    assert "MultiStepLR" in repr(hints["wrong kind"]) and "cycle_momentum" in repr(hints["no momentum cycle"])


def test_the_weight_average_matches_torch_and_names_the_slip():
    assert checks.weight_average(lambda a, w, d: d * a + (1 - d) * w)

    def in_place(average, weights, decay):
        average.mul_(decay).add_((1 - decay) * weights)

    assert checks.weight_average(in_place)  # an update in place, returning nothing, counts too
    swapped = checks.weight_average(lambda a, w, d: (1 - d) * a + d * w)
    last = checks.weight_average(lambda a, w, d: w)
    still = checks.weight_average(lambda a, w, d: a.clone())
    broken = checks.weight_average(lambda a, w: a)
    for verdict in (swapped, last, still, broken):
        assert not verdict and "Hint:" in repr(verdict)
    assert "decay multiplies the average" in repr(swapped) and "just the last weights" in repr(last)
    assert "never moves" in repr(still) and "TypeError" in repr(broken)


def test_the_checkers_print_nothing(capsys):
    checks.scheduler(model_3, recipe="model_3")
    checks.weight_average(lambda a, w, d: w)
    assert capsys.readouterr().out == ""
