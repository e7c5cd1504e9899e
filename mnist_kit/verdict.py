"""What every build-it checker returns: a ``Verdict`` that shows its one-line verdict and nothing else.

A notebook cell that ends in ``checks.network(MyModel1(), "model_1")`` shows that line (✅ or ❌ with a hint), never
a stray ``True`` or ``False``; ``bool(verdict)`` says whether it passed, so a test can ``assert`` it. The answer is
shown only when the checker was asked for it (``show_answer=True``).
Every build-it cell of the lessons shows one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ANSWERS_SHOWN = True  # ``make release`` writes False in the students' copy (tools/release.py): no worked answers there
NO_ANSWERS = "The worked answers are not part of this release: ask your instructor."


@dataclass(frozen=True)
class Verdict:
    """A checker's result: ``passed``, its one-line ``line``, the ``answer`` (empty unless asked for) and
    ``details`` (the numbers behind it: losses, accuracies, a table), kept for whoever wants to look."""

    passed: bool
    line: str
    answer: str = ""
    details: dict = field(default_factory=dict, compare=False)

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if not self.answer:
            return self.line
        return f"{self.line}\n{self.answer if ANSWERS_SHOWN else NO_ANSWERS}"

    __str__ = __repr__

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's display of a cell's last value
        printer.text(repr(self))


def passed(line: str, answer: str = "", **details) -> Verdict:
    return Verdict(True, f"✅ {line}", answer, details)


def failed(line: str, hint: str, answer: str = "", **details) -> Verdict:
    return Verdict(False, f"❌ {line} Hint: {hint}", answer, details)


def sentence(hint: str) -> str:
    """A hint written in lower case, as a sentence of its own."""
    return hint[0].upper() + hint[1:] + "."
