"""A class at once: ``grade_class(submissions/) -> list[Row]``, a CSV gradebook and one feedback file per student.

``submissions/`` holds one folder per student, named for the student; in it the record (any ``*.json`` with the
``.pt`` of the same stem beside it) and, for a network of the student's own, the ``.py`` file defining it. Every
submission is verified (``verify``) before it is judged (``grade.judge``), and weights identical to a course
checkpoint or to another student's are flagged as copied. One bad submission (a missing file, a corrupt checkpoint,
malformed JSON, a network that raises) becomes an ``error`` row and never stops the others.
``python -m mnist_kit grade submissions/ --csv grades.csv --feedback feedback/`` (docs/INSTRUCTOR.md).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from .grade import MAX_EPOCHS, Verified, judge
from .paths import atomic_write_bytes
from .records import RecordError, load_record
from .verify import CHILD_TIMEOUT_S, EvidenceError, course_fingerprints, short, verify

RULE_COLUMNS = ("parameters_margin", "accuracy_margin", "epochs_margin")  # in the order of grade.grade's rules
COLUMNS = ("student", "verdict", "failed_rules", "reasons", *RULE_COLUMNS, "parameters", "accuracy", "record")


@dataclass
class Row:
    """One student's outcome: the verified grade, or why there is none (``problem``)."""

    student: str
    record: Path | None = None
    result: Verified | None = None
    problem: str | None = None

    @property
    def verdict(self) -> str:
        return self.result.verdict if self.result is not None else "error"


def find_record(folder: Path) -> Path:
    """The record a student handed in: the one ``*.json`` with a ``.pt`` beside it (else the only ``*.json``)."""
    records = sorted(folder.glob("*.json"))
    with_weights = [path for path in records if path.with_suffix(".pt").exists()]
    if len(with_weights) == 1 or (not with_weights and len(records) == 1):
        return (with_weights or records)[0]
    if not records:
        raise RecordError("no record (*.json) in the folder")
    names = ", ".join(path.name for path in (with_weights or records))
    raise RecordError(f"several records ({names}): hand in one, with its .pt beside it")


def _gather(student: str, folder: Path, data_root, timeout) -> tuple[Row, object, object]:
    """Read one submission: its row, its record and its evidence (None when missing or unusable)."""
    row = Row(student)
    try:
        row.record = find_record(folder)
        record = load_record(row.record)
    except RecordError as exc:
        row.problem = str(exc).replace(f"{folder}/", "")
        return row, None, None
    if not row.record.with_suffix(".pt").exists():
        return row, record, None
    try:
        return row, record, verify(row.record, record, data_root=data_root, timeout=timeout)
    except EvidenceError as exc:
        row.problem = str(exc)
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong, the other students are still graded
        row.problem = f"could not be checked ({type(exc).__name__}: {short(exc)})"
    return row, record, None


def grade_class(submissions, *, results_dir=None, data_root=None, timeout=CHILD_TIMEOUT_S) -> list[Row]:
    """Every student folder of ``submissions`` graded on verified numbers, by student name (``timeout``: seconds
    a custom network's child process may take)."""
    folders = sorted(path for path in Path(submissions).iterdir() if path.is_dir() and not path.name.startswith("."))
    gathered = [_gather(folder.name, folder, data_root, timeout) for folder in folders]
    course = course_fingerprints(results_dir)
    owners: dict[str, list[str]] = {}
    for row, _record, evidence in gathered:
        if evidence is not None:
            owners.setdefault(evidence.fingerprint, []).append(row.student)
    rows = []
    for row, record, evidence in gathered:
        if record is not None:
            copied = _copied(row.student, evidence, course, owners)
            row.result = judge(row.student, record, evidence, copied, row.problem)
        rows.append(row)
    return rows


def _copied(student: str, evidence, course: dict, owners: dict) -> str | None:
    """Whose identical weights a submission's are: a course checkpoint, or other students of the batch."""
    if evidence is None:
        return None
    if evidence.fingerprint in course:
        return f"the course's checkpoint {course[evidence.fingerprint].name}"
    others = [name for name in owners[evidence.fingerprint] if name != student]
    return f"the weights handed in by {', '.join(others)}" if others else None


def csv_row(row: Row) -> dict:
    """The gradebook's row: verdict, failed rules, reasons, each rule's margin and the verified numbers."""
    out = dict.fromkeys(COLUMNS, "")
    out.update(student=row.student, verdict=row.verdict, record=row.record.name if row.record else "")
    if row.result is None:
        return {**out, "reasons": row.problem}
    out.update(failed_rules="; ".join(row.result.grade.failed), reasons="; ".join(row.result.reasons))
    for column, rule in zip(RULE_COLUMNS, row.result.grade.rules, strict=True):
        out[column] = f"{rule.margin:g}"
    evidence = row.result.evidence
    if evidence is not None:
        out.update(parameters=evidence.parameters, accuracy=f"{evidence.accuracy:.2f}")
    return out


def csv_text(rows: list[Row]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_row(row) for row in rows)
    return buffer.getvalue()


VERDICT_WORDS = {
    "pass": "Your submission passes: every rule holds on numbers checked against your weights.",
    "fail": "Your submission does not pass yet: the rules marked ❌ below are not met.",
    "tampered": "Your record does not match your weights, so it cannot be graded as it stands.",
    "copied": "Your weights are identical to someone else's, so they cannot be graded as your own work.",
    "unverified": "Your record could not be checked: your weights were not handed in with it.",
    "error": "Your submission could not be graded.",
}


def feedback_text(row: Row) -> str:
    """One student's feedback in Markdown: the verdict in words, why, each rule, and what was checked."""
    lines = [f"# Feedback for {row.student}", "", f"**Verdict: {row.verdict}.** {VERDICT_WORDS[row.verdict]}", ""]
    reasons = [row.problem] if row.result is None else list(row.result.reasons)
    lines += [f"- {reason[0].upper()}{reason[1:]}." for reason in reasons if reason]
    if row.result is not None:
        lines += ["", "## The rules", "", *(f"- {rule}" for rule in row.result.grade.rules)]
        notes = row.result.grade.notes
        lines += ["", "## What was checked", "", *(f"- {note[0].upper()}{note[1:]}." for note in notes)]
    if row.verdict == "error":
        lines += ["", f"Hand in one folder with your record (`.json`), its weights (`.pt`, same name) and, for a "
                  f"network of your own, the `network.py` that defines it; at most {MAX_EPOCHS} epochs."]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_gradebook(rows: list[Row], csv_path=None, feedback_dir=None) -> None:
    """The CSV (one row per student) and the feedback files (``<student>.md``), each written atomically."""
    if csv_path is not None:
        atomic_write_bytes(Path(csv_path), csv_text(rows).encode())
    if feedback_dir is not None:
        for row in rows:
            atomic_write_bytes(Path(feedback_dir) / f"{row.student}.md", feedback_text(row).encode())


def summary(rows: list[Row]) -> str:
    """One line per student (verdict, and why or which rules failed) and the count of each verdict."""
    lines, counts = [], {}
    for row in rows:
        out = csv_row(row)
        why = out["reasons"] or out["failed_rules"]
        lines.append(f"{row.student}: {row.verdict.upper()}" + (f" ({why})" if why else ""))
        counts[row.verdict] = counts.get(row.verdict, 0) + 1
    return "\n".join([*lines, f"{len(rows)} submission(s): " + ", ".join(f"{n} {v}" for v, n in counts.items())])
