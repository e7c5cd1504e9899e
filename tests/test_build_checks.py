"""The build-it checkers: a student's own network, training step and evaluation are judged beside the kit's. A correct
piece passes with a one-line verdict; each typical mistake fails with a hint of its own, and the answer is shown
only when asked for."""

from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.lib.pretty import pretty
from nbformat import read as read_notebook

from mnist_kit import checks
from mnist_kit.check_learning import _sizes
from mnist_kit.models import get_model

LESSON = Path(__file__).resolve().parent.parent / "notebooks" / "01_model_1.ipynb"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Batches of 64 images gain nothing from a second thread, and on a busy machine its waiting costs CPU."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def block(c_in, c_out, padding=0, bias=False, batchnorm=True, relu=True, kernel=3, dropout=0.05, bn_first=False):
    layers = [nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=bias)]
    layers += [nn.ReLU()] if relu else []
    layers += [nn.BatchNorm2d(c_out)] if batchnorm else []
    layers[1:] = layers[:0:-1] if bn_first else layers[1:]
    return nn.Sequential(*layers, nn.Dropout(dropout))


class MyModel1(nn.Module):
    """Model_1 as a student writes it from the layer table, with switches for the typical mistakes."""

    def __init__(self, c1=10, pad6=1, bias1=False, bn2=True, relu3=True, k1=3, pool=True, log_softmax=True, **more):
        super().__init__()
        self.convblock1 = block(1, c1, bias=bias1, kernel=k1)
        self.convblock2 = block(c1, 12, batchnorm=bn2)
        self.transition = nn.Sequential(nn.Conv2d(12, 10, 1, bias=False), *([nn.MaxPool2d(2, 2)] if pool else []))
        self.convblock3 = block(10, 10, relu=relu3)
        self.convblock4, self.convblock5 = block(10, 16, **more), block(16, 16)
        self.convblock6 = block(16, 14, padding=pad6)
        side = (6 if pool else 18) - 2 + 2 * pad6 - (k1 - 3)
        self.gap, self.head = nn.AvgPool2d(side), nn.Conv2d(14, 10, 1, bias=False)
        self.log_softmax = log_softmax

    def forward(self, x):
        for name in ("convblock1", "convblock2", "transition", *(f"convblock{i}" for i in range(3, 7))):
            x = getattr(self, name)(x)
        x = self.head(self.gap(x)).view(-1, 10)
        return F.log_softmax(x, dim=-1) if self.log_softmax else x


class FlatModel1(nn.Module):
    """Model_1 written another way: one flat nn.Sequential without ReLU modules, F.relu in forward."""

    def __init__(self):
        super().__init__()
        widths = [(1, 10), (10, 12), (10, 10), (10, 16), (16, 16), (16, 14)]
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 3, padding=int(i == 5), bias=False) for i, (a, b) in enumerate(widths)
        )
        self.norms = nn.ModuleList(nn.BatchNorm2d(b) for _a, b in widths)
        self.drop, self.mix, self.pool = nn.Dropout(0.05), nn.Conv2d(12, 10, 1, bias=False), nn.MaxPool2d(2, 2)
        self.gap, self.head = nn.AdaptiveAvgPool2d(1), nn.Conv2d(14, 10, 1, bias=False)

    def forward(self, x):
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms, strict=True)):
            x = self.drop(norm(F.relu(conv(x))))
            x = self.pool(self.mix(x)) if i == 1 else x
        return F.log_softmax(self.head(self.gap(x)).flatten(1), dim=-1)


def one_line_verdict(verdict, passed: bool) -> str:
    """The verdict's text, after checking it shows one line (✅ or ❌), the same in IPython, and no True/False."""
    text = repr(verdict)
    assert bool(verdict) is passed and "\n" not in text and pretty(verdict) == text == str(verdict)
    assert (
        text.startswith("✅" if passed else "❌") and "True" not in text and "False" not in text.replace("=False", "")
    )
    return text


def test_a_correct_network_passes_in_one_line():
    text = one_line_verdict(checks.network(MyModel1(), "model_1"), passed=True)
    assert "8,246" in text  # Model_1's parameters, counted off the student's network


def test_a_network_written_another_way_passes_too():
    one_line_verdict(checks.network(FlatModel1, "model_1"), passed=True)  # a class is built, F.relu is found


@pytest.mark.parametrize("name", ["model_1", "model_4", "model_5", "m5_sep", "m5_5x5"])
def test_every_course_network_passes_against_itself(name):
    one_line_verdict(checks.network(get_model(name), name), passed=True)


# (mistake, where the first difference is, words the hint must hold)
MISTAKES = [
    (dict(c1=16), "Block 1", "out_channels"),
    (dict(pad6=0), "Block 6", "padding=1"),
    (dict(bias1=True), "Block 1", "bias=False"),
    (dict(bn2=False), "Block 2", "nn.BatchNorm2d"),
    (dict(relu3=False), "Block 3", "nn.ReLU()"),
    (dict(k1=5), "Block 1", "kernel_size=3"),
    (dict(pool=False), "Transition", "nn.MaxPool2d(2, 2)"),
    (dict(log_softmax=False), "The output", "F.log_softmax"),
    (dict(bn_first=True), "Block 4", "another order"),
    (dict(dropout=0.2), "Block 4", "drops 0.2"),
]


@pytest.mark.parametrize("mistake, where, words", MISTAKES)
def test_each_mistake_gets_its_own_hint_at_the_first_difference(mistake, where, words):
    text = one_line_verdict(checks.network(MyModel1(**mistake), "model_1"), passed=False)
    assert text.startswith(f"❌ {where}") and words in text.split("Hint:")[1]


def test_the_mistakes_hints_are_all_different():
    hints = {repr(checks.network(MyModel1(**mistake))).split("Hint:")[1] for mistake, _w, _h in MISTAKES}
    assert len(hints) == len(MISTAKES)


def test_the_answer_only_when_asked():
    assert "The course's block 2" not in repr(checks.network(MyModel1(bn2=False)))
    shown = repr(checks.network(MyModel1(bn2=False), show_answer=True)).splitlines()
    assert shown[1] == (
        "The course's block 2: nn.Conv2d(10, 12, kernel_size=3, padding=0, bias=False) → nn.ReLU() "
        "→ nn.BatchNorm2d(12) → nn.Dropout(0.05)"
    )


def test_another_course_network_and_a_broken_one_are_told_apart():
    text = repr(checks.network(get_model("model_4"), "model_1"))
    assert text.startswith("❌ Block 4") and "more" in text  # Model_4's block 4 has 14 channels, Model_1's 16
    broken = nn.Sequential(nn.Conv2d(1, 10, 3), nn.Conv2d(12, 10, 3))
    assert "fails on a 1×28×28 image" in one_line_verdict(checks.network(broken), passed=False)


def good_step(model, images, labels, optimizer):
    model.train()
    optimizer.zero_grad()
    loss = F.nll_loss(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss


def step_with(loss_fn=F.nll_loss, zero=True, mode="train", backward=True, step=True, zero_late=False):
    def train_step(model, images, labels, optimizer):
        getattr(model, mode)() if mode else None
        optimizer.zero_grad() if zero else None
        loss = loss_fn(model(images), labels)
        loss.backward() if backward else None
        optimizer.zero_grad() if zero_late else None
        optimizer.step() if step else None
        return loss.item()

    return train_step


def test_a_correct_training_step_agrees_with_the_kits():
    assert "agrees with the kit's" in one_line_verdict(checks.train_step(good_step), passed=True)


def test_cross_entropy_on_log_probabilities_agrees_because_log_softmax_changes_nothing_twice():
    # cross_entropy applies log_softmax again; log-probabilities already sum (as exponentials) to 1: same loss
    one_line_verdict(checks.train_step(step_with(F.cross_entropy)), passed=True)


def mse(output, labels):
    return F.mse_loss(output, F.one_hot(labels, 10).float())


# (the broken step, the words its hint must hold)
BROKEN_STEPS = [
    (step_with(zero=False), "Step 2", "piled up"),
    (step_with(mode=None), "Step 2", "model.train() at the start of your step"),
    (step_with(mode="eval"), "Step 1", "not eval()"),
    (step_with(mse), "Step 1", "mean squared error"),
    (step_with(lambda out, y: F.nll_loss(out, y, reduction="sum")), "Step 1", "sum over the batch"),
    (step_with(step=False), "Step 1", "call optimizer.step()"),
    (step_with(backward=False), "Step 1", "call loss.backward()"),
    (step_with(zero_late=True), "Step 1", "zero_grad() before loss.backward(), not after"),
]


@pytest.mark.parametrize("step, which, words", BROKEN_STEPS)
def test_a_broken_step_gets_its_own_hint(step, which, words):
    text = one_line_verdict(checks.train_step(step), passed=False)
    assert text.startswith(f"❌ {which}") and words in text


def correct_evaluation(model, loader):
    model.eval()
    loss, correct = 0.0, 0
    with torch.no_grad():
        for images, labels in loader:
            output = model(images)
            loss += F.nll_loss(output, labels, reduction="sum").item()
            correct += (output.argmax(dim=1) == labels).sum().item()
    return loss / len(loader.dataset), 100 * correct / len(loader.dataset)


def evaluation_with(mode="eval", no_grad=True, per_batch=False):
    def evaluate(model, loader):
        getattr(model, mode)()
        right = 0.0
        with torch.set_grad_enabled(not no_grad):
            for images, labels in loader:
                hits = model(images).argmax(dim=1) == labels
                right += hits.float().mean().item() if per_batch else hits.sum().item()
        return 100 * right / (1 if per_batch else len(loader.dataset))

    return evaluate


def test_evaluations_agree_or_get_a_hint():
    one_line_verdict(checks.evaluate(correct_evaluation), passed=True)
    one_line_verdict(checks.evaluate(lambda m, loader: correct_evaluation(m, loader)[1] / 100), passed=True)
    hints = {
        words: one_line_verdict(checks.evaluate(evaluation_with(**broken)), passed=False)
        for broken, words in [
            (dict(mode="train"), "model.eval() first"),
            (dict(no_grad=False), "torch.no_grad()"),
            (dict(per_batch=True), "len(loader.dataset)"),
        ]
    }
    assert all(words in text for words, text in hints.items())


def test_the_initial_loss_is_near_ln_10_or_gets_a_hint():
    assert "ln 10" in one_line_verdict(checks.initial_loss(MyModel1()), passed=True)
    one_line_verdict(checks.initial_loss(2.31), passed=True)
    scaled = get_model("model_1")
    with torch.no_grad():
        scaled.head.weight.mul_(10)  # scores ten times larger: confidently wrong from the start
    assert "too large" in one_line_verdict(checks.initial_loss(scaled), passed=False)
    assert "F.log_softmax" in one_line_verdict(checks.initial_loss(MyModel1(log_softmax=False)), passed=False)
    assert "below 0" in one_line_verdict(checks.initial_loss(-0.4), passed=False)
    assert "better than chance" in one_line_verdict(checks.initial_loss(0.3), passed=False)


def test_overfitting_one_batch_passes_with_a_correct_step_and_leaves_the_network_alone():
    torch.manual_seed(1)  # the same initial weights as the course's Model_1: the same run every time
    model = MyModel1()
    before = [p.detach().clone() for p in model.parameters()]
    text = one_line_verdict(checks.overfit_one_batch(model, good_step), passed=True)
    assert "to 100 %" in text
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


@pytest.mark.parametrize(
    "args, words",
    [
        (dict(lr=1e-4, steps=10), "too low"),  # a crawl
        (dict(lr=20, steps=20), "too high"),  # the loss explodes within a few steps
        (
            dict(step_fn=step_with(mode=None), steps=11),
            "model.train() at the start",
        ),  # the accuracy checks left it in eval
        (dict(step_fn=step_with(zero=False), steps=5), "zero_grad() at the start of every step"),  # caught at step 2
        (dict(step_fn=step_with(mode="eval"), steps=5), "model.train() at the start"),  # eval() in the step itself
        (dict(step_fn=step_with(mse), steps=5), "mean squared error"),  # a wrong loss, named at step 1
        (dict(step_fn=step_with(lambda out, y: F.nll_loss(out, y, reduction="sum")), steps=5), "sum over the batch"),
    ],
)
def test_failing_to_overfit_gets_a_hint(args, words):
    assert words in one_line_verdict(checks.overfit_one_batch("model_1", **args), passed=False)


def test_the_quick_run_prints_its_first_curve_and_shrinks_under_the_smoke_switch(capsys):
    verdict = checks.quick_run(MyModel1(), good_step)  # the tests run under MNIST_KIT_SMOKE=1
    printed = capsys.readouterr().out.splitlines()
    curve = verdict.details["curve"]
    assert len(printed) == len(curve) == 8 and "test accuracy" in printed[-1]
    assert curve[-1]["images"] == 2 * 500 and "of 200 test images" in one_line_verdict(verdict, passed=True)
    assert _sizes(None, smoke=False) == (5000, 1000)  # the full run: a few thousand images


def test_a_layer_too_many_gets_its_own_hint():
    model = MyModel1()
    model.head = nn.Sequential(nn.Conv2d(14, 10, 1, bias=False), nn.ReLU())  # class scores cut at 0
    text = one_line_verdict(checks.network(model), passed=False)
    assert text.startswith("❌ Head") and "negative class score" in text


def lesson_answers() -> dict:
    """The lesson's own build-it cells (the answers between the solution markers), run as a student's would be."""
    cells = read_notebook(LESSON, as_version=4).cells
    found = {"torch": torch, "nn": nn, "F": F}
    for cell in cells:
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            exec(cell.source, found)  # noqa: S102 (the committed notebook's own cells)
    return found


def test_the_lessons_own_answers_pass_their_checkers():
    """The network, step and evaluation the lesson holds between its markers pass, in the order the lesson calls
    them: what nbval and the browser test's Run All execute."""
    answers = lesson_answers()
    assert {"MyModel1", "train_step", "evaluate"} <= answers.keys()
    one_line_verdict(checks.network(answers["MyModel1"](), "model_1"), passed=True)
    one_line_verdict(checks.train_step(answers["train_step"]), passed=True)
    one_line_verdict(checks.evaluate(answers["evaluate"]), passed=True)


def test_a_block_too_many_is_named_as_such():
    """Model_5 drops Model_4's padded sixth block: a student who keeps it is told to remove it, not to add a GAP."""
    course = get_model("model_5")

    class KeptBlock6(nn.Module):
        def __init__(self):
            super().__init__()
            self.course = course
            self.block6 = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), nn.ReLU(), nn.BatchNorm2d(16))

        def forward(self, x):
            for name in ("convblock1", "convblock2", "transition", "convblock3", "convblock4", "convblock5"):
                x = getattr(self.course, name)(x)
            return F.log_softmax(self.course.head(self.course.gap(self.block6(x))).view(-1, 10), dim=-1)

    verdict = checks.network(KeptBlock6(), "model_5")
    assert not verdict and "one convolution block more" in repr(verdict)
