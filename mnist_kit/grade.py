"""The assignment's rules applied to one run record: ``grade(record_or_path) -> Grade``, on the record's own numbers
(taught in every notebook's checklist), and ``grade_verified(json_path) -> Verified``, on the numbers its weights
confirm (``verify``), as ``python -m mnist_kit grade <path.json>`` grades.

Three rules: fewer than 8,000 parameters, at least 99.4 % in each of the last 3 epochs, at most 15 epochs.
Each line says whether the rule holds and by how much. A validation-split record is graded on the same
rules and marked "not a test result"; a smoke run is marked too. A verified grade counts the parameters of the
network loaded with the weights and re-evaluates the last epoch's accuracy; a record that disagrees with its weights
is tampered, weights identical to a course checkpoint are copied, a record without weights is unverified
(``VERDICTS``, ``EXIT_STATUS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .course import HOLD_EPOCHS, PARAMETER_BUDGET, TARGET
from .records import Record, record_of
from .report import epoch_ranges
from .splits import accuracies, column, split_of

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
    return column(split_of(record))


def grade(record_or_path) -> Grade:
    """Grade a run record (a dict, the path of its JSON file, or a recipe name) on the assignment's rules.

    Raises ``records.RecordError`` when the file is missing or malformed."""
    record = record_of(record_or_path)
    source = record["recipe"] if isinstance(record_or_path, (dict, Record)) else str(Path(record_or_path))
    split = split_of(record)
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


# --- grading that trusts the weights, not the record -----------------------------------------

VERDICTS = ("pass", "fail", "tampered", "copied", "unverified", "error")
# The command's exit status per verdict (docs/INSTRUCTOR.md): 2 is argparse's usage error, and a record that
# cannot be read; "copied" fails like a rule.
UNVERIFIED_HINT = "hand in the .pt file of the same name beside the .json: the record's numbers are checked against it"
EXIT_STATUS = {"pass": 0, "fail": 1, "tampered": 1, "copied": 1, "unverified": 3, "error": 2}


@dataclass(frozen=True)
class Verified:
    """A grade on verified numbers: the rules, the verdict (one of ``VERDICTS``), why (``reasons``, for any
    verdict but pass and fail) and the evidence (``verify.Evidence``; None when there were no usable weights)."""

    grade: Grade
    verdict: str
    reasons: tuple[str, ...] = ()
    evidence: object = None

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS[self.verdict]

    def __str__(self) -> str:
        head = f"Verdict: {self.verdict.upper()}" + "".join(f"\n  {reason}" for reason in self.reasons)
        return f"{head}\n{self.grade}"


def verified_notes(record, evidence) -> tuple[str, ...]:
    """What the rules rest on: the numbers the weights confirmed, and those only the record states."""
    if evidence is None:
        return ("nothing verified: every rule rests on the record alone",)
    first, last = max(1, record.epochs - HOLD_EPOCHS + 1), record.epochs - 1
    before = "none" if last < first else f"epoch {first}" if last == first else f"epochs {first}–{last}"
    return (
        f"verified from the weights: {evidence.parameters:,} trainable parameters, and the last epoch's accuracy "
        f"({evidence.correct:,} of {evidence.images:,} images right, {evidence.accuracy:.2f} %, on the CPU)",
        f"on the record alone: the accuracies of the earlier epochs in the window ({before}) and the number of "
        "epochs (`--retrain` checks them)",
    )


def disagreements(record, evidence) -> list[str]:
    """Where the record and its weights disagree, each with both numbers; empty when they agree."""
    from .verify import TOLERANCE_IMAGES

    found = []
    if evidence.parameters != record.parameters:
        found.append(
            f"the record says {record.parameters:,} parameters; the network {record.model} built with these "
            f"weights has {evidence.parameters:,}"
        )
    stated = accuracies(record)[-1]
    gap = evidence.correct - round(stated * evidence.images / 100)
    if abs(gap) > TOLERANCE_IMAGES:
        found.append(
            f"the record says {stated:.2f} % at its last epoch; the weights score {evidence.accuracy:.2f} % "
            f"({evidence.correct:,} of {evidence.images:,} images), {abs(gap)} images apart (at most "
            f"{TOLERANCE_IMAGES} allowed)"
        )
    return found


def judge(source: str, record, evidence=None, copied_from: str | None = None, problem: str | None = None) -> Verified:
    """The verdict on a record and its evidence. No evidence: unverified, or an error when ``problem`` says why the
    weights could not be built, loaded or evaluated. ``copied_from``: whose identical weights these are."""
    base = grade(record)
    if evidence is None:
        notes = (*verified_notes(record, None), *base.notes)
        verdict, why = ("error", problem) if problem else ("unverified", f"no weights ({UNVERIFIED_HINT})")
        return Verified(Grade(source, base.rules, notes), verdict, (why,))
    split = split_of(record)
    accs = accuracies(record)[:-1] + [round(evidence.accuracy, 2)]  # the last epoch as the weights score it
    rules = (parameters_rule(evidence.parameters), accuracy_rule(accs, split), epochs_rule(record["epochs"]))
    result = Grade(source, rules, (*verified_notes(record, evidence), *base.notes))
    found = disagreements(record, evidence)
    if found:
        return Verified(result, "tampered", tuple(found), evidence)
    if copied_from is not None:
        return Verified(result, "copied", (f"the weights are identical to {copied_from}",), evidence)
    return Verified(result, "pass" if result.passed else "fail", (), evidence)


def grade_verified(json_path, *, results_dir=None, data_root=None) -> Verified:
    """Grade one record on verified numbers: its weights (``<stem>.pt`` beside it) recounted and re-evaluated
    (``verify.verify``), and compared with every committed checkpoint of the course but its own.

    Raises ``records.RecordError`` when the JSON is missing or malformed."""
    from .records import load_record
    from .verify import EvidenceError, course_fingerprints, verify

    path = Path(json_path)
    record = load_record(path)
    if not path.with_suffix(".pt").exists():
        return judge(str(path), record)
    try:
        evidence = verify(path, record, data_root=data_root)
    except EvidenceError as exc:
        return judge(str(path), record, problem=str(exc))
    original = course_fingerprints(results_dir).get(evidence.fingerprint)
    own = original is not None and original.with_suffix(".json").resolve() == path.resolve()
    copied = None if original is None or own else f"the course's checkpoint {original.name}"
    return judge(str(path), record, evidence, copied_from=copied)
