import math
import re
import sys

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from mnist_kit import engine
from mnist_kit.engine import fit, get_device, train
from mnist_kit.models import get_model
from mnist_kit.recipes import get_recipe


def test_smoke_fit_learns(smoke_run):
    first, last = smoke_run.history
    assert last["train_loss"] < first["train_loss"]
    assert last["test_acc"] > 60  # chance is 10 %
    assert smoke_run.complete and smoke_run.device == "cpu"
    assert [row["epoch"] for row in smoke_run.history] == [1, 2]
    assert all(row["seconds"] > 0 for row in smoke_run.history)


def test_same_seed_same_run(mnist_root, smoke_run):
    again = fit("model_4", smoke=True, epochs=2, device="cpu", data_root=mnist_root, progress=False)
    assert [r["train_loss"] for r in again.history] == [r["train_loss"] for r in smoke_run.history]
    assert [r["test_acc"] for r in again.history] == [r["test_acc"] for r in smoke_run.history]


def test_step_schedule_is_recorded(mnist_root):
    recipe = get_recipe("model_4").with_overrides(scheduler="step", step_size=1, gamma=0.5)
    run = fit(recipe, smoke=True, epochs=2, device="cpu", data_root=mnist_root, progress=False)
    assert [row["lr"] for row in run.history] == [recipe.lr, recipe.lr * 0.5]


def test_onecycle_steps_every_batch(mnist_root, monkeypatch):
    recipe = get_recipe("model_4").with_overrides(scheduler="onecycle", lr=0.1)
    steps = []
    real_step = torch.optim.lr_scheduler.OneCycleLR.step
    monkeypatch.setattr(
        torch.optim.lr_scheduler.OneCycleLR, "step", lambda self, *a: (steps.append(1), real_step(self, *a))[1]
    )
    run = fit(recipe, smoke=True, epochs=2, device="cpu", data_root=mnist_root, progress=False)
    batches = math.ceil(engine.SMOKE_TRAIN_IMAGES / recipe.batch_size)
    # torch steps once on construction; then once per batch, and not again at the end of an epoch
    assert len(steps) == 1 + 2 * batches
    start, middle = (row["lr"] for row in run.history)
    assert start == pytest.approx(0.1 / 25) and 0.1 / 25 < middle <= 0.1  # warming up towards the peak


def test_unknown_scheduler_is_refused():
    model = get_model("model_4")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="step, multistep, onecycle"):
        engine.make_scheduler(optimizer, "cosine", lr=0.1, epochs=15, steps_per_epoch=10)


def test_lr_schedule_is_torchs_own():
    assert engine.lr_schedule("step", lr=0.05, epochs=15, step_size=5, gamma=0.2) == pytest.approx(
        [0.05] * 5 + [0.01] * 5 + [0.002] * 5
    )
    assert engine.lr_schedule("multistep", lr=0.01, epochs=6, milestones=(2, 4), gamma=0.1) == pytest.approx(
        [0.01, 0.01, 0.001, 0.001, 0.0001, 0.0001]
    )
    onecycle = engine.lr_schedule("onecycle", lr=0.1, epochs=15, steps_per_epoch=10)
    peak = onecycle.index(max(onecycle))
    assert len(onecycle) == 150 and max(onecycle) == pytest.approx(0.1) and 40 <= peak <= 50  # 30 % warm-up
    assert onecycle[0] == pytest.approx(0.1 / 25) and onecycle[-1] < 1e-4
    assert all(a <= b for a, b in zip(onecycle, onecycle[1:peak], strict=False)) and all(
        a >= b for a, b in zip(onecycle[peak:], onecycle[peak + 1 :], strict=False)
    )
    shorter = engine.lr_schedule("onecycle", lr=0.1, epochs=15, steps_per_epoch=10, pct_start=0.2)
    assert shorter.index(max(shorter)) < peak  # the recipe's warm-up share reaches torch
    with pytest.raises(ValueError, match="step, multistep, onecycle"):
        engine.lr_schedule("cosine")


def _two_batches():
    return DataLoader(TensorDataset(torch.zeros(8, 1, 28, 28), torch.zeros(8, dtype=torch.long)), batch_size=4)


def test_the_progress_bar_writes_to_stdout(capsys):
    """A notebook shows stderr as a red box; the normal training log belongs on stdout."""
    model = get_model("model_4")
    train(model, torch.device("cpu"), _two_batches(), torch.optim.SGD(model.parameters(), lr=0.01), title="EPOCH: 1/3 ")
    out, err = capsys.readouterr()
    assert err == "" and "\r" not in out  # not a terminal: the bar's final state only, one line
    # and no clock: an elapsed time or a rate would be timing noise in a notebook's output
    assert re.fullmatch(r"EPOCH: 1/3 Loss=\d\.\d{4} Batch_id=1 Accuracy=\d+\.\d\d: 100%\|█+\| 2/2\n", out), out


def test_a_terminal_gets_a_live_bar(capsys, monkeypatch):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    model = get_model("model_4")
    train(model, torch.device("cpu"), _two_batches(), torch.optim.SGD(model.parameters(), lr=0.01))
    out = capsys.readouterr().out
    assert out.startswith("\r") and "0/2" in out and "2/2" in out  # drawn at 0 %, redrawn in place at the end
    assert out.count("\n") == 1


def test_a_weight_averaged_run_logs_two_lines_per_epoch(mnist_root, capsys):
    """Piped, an epoch is its bar's final state and the Test line, which ends with the raw weights' accuracy."""
    run = fit("model_4", smoke=True, epochs=2, device="cpu", data_root=mnist_root)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + 2 * 2 and "evaluating the weight average" in lines[0]
    for row, (bar, test_line) in zip(run.history, [lines[1:3], lines[3:5]], strict=True):
        assert bar.startswith(f"EPOCH: {row['epoch']}/2 Loss=") and "100%|" in bar
        assert test_line.startswith("Test set: Average loss: ")
        assert test_line.endswith(f"({row['test_acc']:.2f}%); raw weights (not averaged): {row['raw_test_acc']:.2f}%")


def test_nan_loss_stops_with_a_clear_error():
    images = torch.full((8, 1, 28, 28), float("nan"))
    loader = DataLoader(TensorDataset(images, torch.zeros(8, dtype=torch.long)), batch_size=4)
    model = get_model("model_4")
    with pytest.raises(FloatingPointError, match="Lower the learning rate"):
        train(model, torch.device("cpu"), loader, torch.optim.SGD(model.parameters(), lr=0.1), progress=False)


def test_ctrl_c_keeps_the_history_so_far(mnist_root, monkeypatch):
    real_train, calls = engine.train, []

    def interrupt_second_epoch(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_train(*args, **kwargs)

    monkeypatch.setattr(engine, "train", interrupt_second_epoch)
    run = fit("model_4", smoke=True, epochs=3, device="cpu", data_root=mnist_root, progress=False)
    assert run.interrupted and not run.complete
    assert len(run.history) == 1 and math.isfinite(run.history[0]["test_acc"])


def test_missing_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    with pytest.raises(ValueError, match="no CUDA GPU"):
        get_device("cuda")
    with pytest.raises(ValueError, match="choose one of: cpu, cuda, mps"):
        get_device("tpu")


def test_apple_silicon_gpu_where_torch_has_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("mps") and get_device("mps") == torch.device("mps")
    assert get_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")  # neither CUDA nor MPS: the CPU
    with pytest.raises(ValueError, match="no Apple-silicon GPU"):
        get_device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")  # CUDA first where both exist


def test_zero_epochs_is_refused(mnist_root):
    with pytest.raises(ValueError, match="at least 1"):
        fit("model_4", epochs=0, device="cpu", data_root=mnist_root)


def test_ema_decay_is_set_by_a_horizon_in_epochs():
    # ~1 epoch of steps: 469 steps on 60,000 images, 391 on the 50,000 of a validation run
    assert engine.ema_decay(1.0, 469) == pytest.approx(1 - 1 / 469)
    assert engine.ema_decay(1.0, 391) == pytest.approx(1 - 1 / 391)
    assert engine.ema_decay(2.0, 469) == pytest.approx(1 - 1 / 938)
    with pytest.raises(ValueError, match="horizon"):
        engine.ema_decay(0, 469)


def test_averaged_model_follows_the_weights_and_batchnorm_statistics():
    model = get_model("model_4")
    averaged = engine.make_averaged(model, 1.0, 4)  # decay 0.75
    averaged.update_parameters(model)  # the first update copies
    before = {k: v.clone() for k, v in averaged.module.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.train()
    model(torch.randn(8, 1, 28, 28))  # moves BatchNorm's running statistics
    averaged.update_parameters(model)
    for key, value in averaged.module.state_dict().items():
        if value.is_floating_point():
            expected = 0.75 * before[key] + 0.25 * model.state_dict()[key]
            assert torch.allclose(value, expected, atol=1e-6), key
    assert "running_mean" in " ".join(averaged.module.state_dict())  # buffers are averaged too


def test_fit_with_a_weight_average_evaluates_the_average(mnist_root):
    recipe = get_recipe("model_4").with_overrides(ema_epochs=1.0)
    run = fit(recipe, smoke=True, epochs=2, device="cpu", data_root=mnist_root, progress=False)
    assert run.raw_model is not None and run.model is not run.raw_model
    assert type(run.model) is type(run.raw_model)  # the plain network, not the AveragedModel wrapper
    last = run.history[-1]
    assert {"test_acc", "raw_test_acc", "test_loss", "raw_test_loss"} <= set(last)
    assert last["test_acc"] != last["raw_test_acc"]  # two different networks were evaluated


def test_validation_run_never_reads_the_test_set(mnist_root, monkeypatch, capsys):
    from mnist_kit import fast_data

    def no_test_set(*args, **kwargs):
        raise AssertionError("a validation run loaded the test set")

    monkeypatch.setattr(fast_data, "fast_test_loader", no_test_set)
    run = fit("model_4", smoke=True, epochs=1, device="cpu", data_root=mnist_root, progress=False, validation=True)
    assert run.evaluated_on == "validation"
    assert "val_acc" in run.history[0] and "test_acc" not in run.history[0]
    assert "Validation set: Average loss:" in capsys.readouterr().out


def test_one_cycle_tail_fields_reach_the_scheduler():
    """final_div_factor sets the last rate (peak / 25 / factor); three_phase comes back to peak / 25 before the tail."""
    from mnist_kit.engine import lr_schedule

    default = lr_schedule("onecycle", lr=0.2, epochs=15, steps_per_epoch=10)
    deeper = lr_schedule("onecycle", lr=0.2, epochs=15, steps_per_epoch=10, final_div_factor=1e2)
    assert default[-1] == pytest.approx(0.2 / 25 / 1e4, rel=0.05)
    assert deeper[-1] == pytest.approx(0.2 / 25 / 1e2, rel=0.05)
    three = lr_schedule("onecycle", lr=0.2, epochs=15, steps_per_epoch=10, three_phase=True)
    # phase 2 ends where phase 1 started (0.2 / 25) at twice the warm-up's length, 90 of 150 steps
    assert three[90] == pytest.approx(0.2 / 25, rel=0.01) and default[90] > 2 * three[90]


def test_the_preview_is_the_schedule_the_training_steps(mnist_root):
    """``schedule_trace`` builds its scheduler from the recipe as ``prepare`` does: per batch for OneCycleLR, the
    rates and momenta that the training's own optimizer sees, step by step."""
    recipe = get_recipe("model_4").with_overrides(epochs=2)
    parts = engine.prepare(recipe, torch.device("cpu"), mnist_root, smoke=True)
    steps = len(parts.train_loader)
    seen = []
    for _ in range(recipe.epochs * steps):
        seen.append((parts.optimizer.param_groups[0]["lr"], parts.optimizer.param_groups[0]["momentum"]))
        parts.optimizer.step()
        parts.scheduler.step()
    rates, momenta = engine.schedule_trace(recipe, steps_per_epoch=steps)
    assert list(zip(rates, momenta, strict=True)) == seen
    # the keyword form (a notebook's sliders, the older calls) is the same function: settings replace the recipe's
    assert engine.schedule_trace(**recipe.schedule(), steps_per_epoch=steps, momentum=recipe.momentum) == (
        rates,
        momenta,
    )
    assert engine.lr_schedule("multistep") == pytest.approx([0.01] * 5 + [0.001] * 5 + [0.0001] * 5)


def test_the_headline_names_the_split_a_run_is_evaluated_on(mnist_root):
    recipe = get_recipe("model_1").with_overrides(epochs=1)
    parts = engine.prepare(recipe, torch.device("cpu"), mnist_root, smoke=True)
    run = engine.Run(recipe, parts.model, "cpu", "CPU", True, "now", "validation")
    assert ", validation split" in engine.headline(run, parts)
    run.evaluated_on = "test"
    assert "split" not in engine.headline(run, parts)
