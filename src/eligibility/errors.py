"""User-facing error types: every error a user can cause names where it is.

Rule-file errors carry file, line and column (and a "did you mean" hint where one
helps); fact errors carry the path of every bad field with the value seen and what
was expected. The CLI and the HTTP service print these as one paragraph, never as
a traceback.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass, field
from typing import Any

from eligibility.limits import MAX_ECHOED_VALUE, MAX_REPORTED_ISSUES

_SHORT = reprlib.Repr()
_SHORT.maxstring = MAX_ECHOED_VALUE
_SHORT.maxother = MAX_ECHOED_VALUE
_SHORT.maxlevel = 2
_SHORT.maxlist = _SHORT.maxtuple = _SHORT.maxdict = _SHORT.maxset = 4


def short_repr(value: Any) -> str:
    """A bounded ``repr`` of a value seen in bad input (cheap for any size)."""
    try:
        text = _SHORT.repr(value)
    except Exception:  # a hostile object's __repr__ must not escape
        text = f"<{type(value).__name__}>"
    return text if len(text) <= MAX_ECHOED_VALUE + 10 else text[:MAX_ECHOED_VALUE] + "…"


class EligibilityError(Exception):
    """Base class of every error the engine raises on purpose."""


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a rule pack, with its position."""

    file: str
    line: int
    column: int
    message: str
    hint: str | None = None
    code: str = "error"

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class PackError(EligibilityError):
    """A rule pack that cannot be loaded: one or more diagnostics."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        lines = [str(d) for d in self.diagnostics]
        head = f"{len(lines)} error(s) in the rule pack"
        super().__init__(head + ":\n" + "\n".join(lines))


@dataclass(frozen=True)
class FactIssue:
    """One field of a household's facts that does not fit the schema."""

    path: str
    message: str
    value: Any = None
    expected: str | None = None

    def shown_value(self) -> str | None:
        """The value seen, as a bounded ``repr`` (``None`` when there is none)."""
        return None if self.value is None else short_repr(self.value)

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        if self.value is not None:
            text += f" (got {self.shown_value()})"
        return text


class FactsError(EligibilityError):
    """Facts that do not fit the pack's fact schema; names every bad field.

    The message is rendered when asked for, and bounded: the first
    :data:`~eligibility.limits.MAX_REPORTED_ISSUES` issues, each value shortened.
    """

    def __init__(self, issues: list[FactIssue]) -> None:
        self.issues = list(issues)
        super().__init__()

    def __str__(self) -> str:
        shown = "; ".join(str(i) for i in self.issues[:MAX_REPORTED_ISSUES])
        more = len(self.issues) - MAX_REPORTED_ISSUES
        tail = f"; and {more} more" if more > 0 else ""
        return f"{len(self.issues)} invalid fact(s): {shown}{tail}"


class AsOfError(EligibilityError):
    """An evaluation date outside the period the pack's rules and parameters cover."""


class PeriodError(AsOfError):
    """A period (``from``/``to``) that cannot be decided: ``field`` names the end that is
    wrong (``from`` or ``to``), ``value`` its date; ``outside`` when that date is outside
    the pack's period (else the range itself is wrong: backwards or too long)."""

    def __init__(self, message: str, field: str, value: str, outside: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.value = value
        self.outside = outside


@dataclass
class EvaluationError(EligibilityError):
    """A rule that cannot be computed for these facts (e.g. division by zero)."""

    message: str
    where: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class BudgetExceeded(EligibilityError):
    """A search (why-not, counterfactual, sweep) ran out of its time budget."""
