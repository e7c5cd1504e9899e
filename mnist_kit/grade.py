"""The assignment's rules applied to one run record: ``grade(record_or_path) -> Grade``.

Three rules: fewer than 8,000 parameters, at least 99.4 % in each of the last 3 epochs, at most 15 epochs.
Each line says whether the rule holds and by how much. A validation-split record is graded on the same
rules and marked "not a test result"; a smoke run is marked too. ``python -m mnist_kit grade <path.json>``
prints the grade and exits 1 when a rule fails. Taught in every notebook's checklist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .course import HOLD_EPOCHS, PARAMETER_BUDGET, TARGET
from .records import SPLIT_PREFIX, Record, record_of
from .report import epoch_ranges

MAX_EPOCHS = 15  # the assignment's limit on training length


@dataclass(frozen=True)
class Rule:
    """One rule of the assignment: whether the run keeps it, and by how much (``margin`` < 0: short by that)."""

    name: str
    passed: bool
    margin: float
    detail: str

    def __str__(self) -> str:
        return f"{'✅' if self.passed else '❌'} {self.name}: {self.detail}"


@dataclass(frozen=True)
class Grade:
    """The rules applied to one record; ``notes`` say what kind of result it is (validation split, smoke run)."""

    source: str
    rules: tuple[Rule, ...]
    notes: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return all(rule.passed for rule in self.rules)

    @property
    def failed(self) -> list[str]:
        return [rule.name for rule in self.rules if not rule.passed]

    @property
    def verdict(self) -> str:
        return "passes every rule" if self.passed else f"fails {len(self.failed)} of {len(self.rules)} rules"

    def __str__(self) -> str:
        lines = [f"{self.source}: {self.verdict}", *(str(rule) for rule in self.rules)]
        return "\n".join(lines + [f"Note: {note}" for note in self.notes])

    def _repr_markdown_(self) -> str:
        """A notebook shows the grade as a checklist."""
        lines = [f"**{self.source}** {self.verdict}", "", *(f"- {rule}" for rule in self.rules)]
        return "\n".join(lines + [f"- ℹ️ {note[0].upper()}{note[1:]}" for note in self.notes])


def parameters_rule(parameters: int) -> Rule:
    margin = PARAMETER_BUDGET - parameters
    how = f"{margin:,} under the limit" if margin > 0 else f"{-margin:,} over the limit (cut at least {1 - margin:,})"
    if margin == 0:
        how = "exactly at the limit (cut at least 1)"
    return Rule(f"Parameters under {PARAMETER_BUDGET:,}", margin > 0, margin, f"{parameters:,}, {how}")


def accuracy_rule(accuracies: list[float], split: str) -> Rule:
    name = f"{split.capitalize()} accuracy ≥ {TARGET} % in each of the last {HOLD_EPOCHS} epochs"
    if len(accuracies) < HOLD_EPOCHS:
        return Rule(name, False, float("-inf"), f"only {len(accuracies)} epoch(s) recorded")
    first = len(accuracies) - HOLD_EPOCHS + 1
    last = accuracies[-HOLD_EPOCHS:]
    margin = round(min(last) - TARGET, 2)  # accuracies are recorded to 0.01 points (10,000 images)
    below = [epoch for epoch, acc in enumerate(last, start=first) if acc < TARGET]
    window = f"epochs {first}–{len(accuracies)}: {', '.join(f'{acc:.2f}' for acc in last)} %"
    if not below:
        return Rule(name, True, margin, f"{window}; the lowest is {margin:.2f} points above")
    return Rule(
        name,
        False,
        margin,
        f"{window}; the lowest is {-margin:.2f} points short, below in epoch(s) {epoch_ranges(below)}",
    )


def epochs_rule(epochs: int) -> Rule:
    margin = MAX_EPOCHS - epochs
    how = f"{margin} to spare" if margin >= 0 else f"{-margin} too many"
    return Rule(f"At most {MAX_EPOCHS} epochs", margin >= 0, margin, f"{epochs}, {how}")


def accuracy_key(record: dict) -> str:
    """The history column of a record's accuracy: ``test_acc``, or ``val_acc`` for a validation-split run."""
    return f"{SPLIT_PREFIX[record.get('evaluated_on', 'test')]}_acc"


def accuracies(record: dict) -> list[float]:
    """The record's accuracy per epoch, on whichever split it was evaluated on."""
    return [row[accuracy_key(record)] for row in record["history"]]


def grade(record_or_path) -> Grade:
    """Grade a run record (a dict, the path of its JSON file, or a recipe name) on the assignment's rules.

    Raises ``records.RecordError`` when the file is missing or malformed."""
    record = record_of(record_or_path)
    source = record["recipe"] if isinstance(record_or_path, (dict, Record)) else str(Path(record_or_path))
    split = record.get("evaluated_on", "test")
    notes = []
    if split != "test":
        notes.append(f"not a test result: accuracy on the {split} split, graded on the same rules")
    if record["smoke"]:
        notes.append("a smoke run (a small subset of MNIST): not a result")
    if not record["complete"]:
        notes.append("an unfinished run: fewer epochs than its recipe asked for")
    rules = (
        parameters_rule(record["parameters"]),
        accuracy_rule(accuracies(record), split),
        epochs_rule(record["epochs"]),
    )
    return Grade(source, rules, tuple(notes))
