"""Outcomes: what an execution backend returns, and what the decision builder consumes.

Every backend (reference, fast, polars, rete) turns one household at one date into
a :class:`HouseholdOutcomes`: per measure in force an :class:`Outcomes` (status,
amount, per requirement a :class:`ReasonOutcome` with the values it observed, the
missing facts that matter, the discretionary assessments, the priority group), and
per criterion in force a :class:`CriterionOutcome`. These are plain immutable
values with no text in them; :mod:`eligibility.decision_build` turns them into a
Decision. Two backends agree when they return equal outcomes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import NoneType
from typing import TYPE_CHECKING, Any, NamedTuple

from eligibility.compile.calculation import RecordedStep
from eligibility.compile.runtime import UNKNOWN
from eligibility.decision import Outcome, Status
from eligibility.pack.model import Criterion, RuleException
from eligibility.pack.yamlio import LocStr

if TYPE_CHECKING:
    from eligibility.compile.pack import CompiledMeasure, CompiledRequirement

#: the kinds of value :func:`json_value` gives back as they are (a caller may skip the
#: call for them)
PLAIN = frozenset({bool, int, str, Decimal, date, type(None)})

#: the classes of shown values that are exact and hashable: equal values of one class
#: are shown alike (no decimal: 1.0 == 1.00, shown differently; no float), so a backend
#: may hand out one ReasonOutcome for equal ones (the decision builder keys its memos
#: by the same classes)
EXACT_CLASSES = frozenset({bool, int, str, LocStr, date, NoneType})


class ReasonOutcome(NamedTuple):
    """One requirement's outcome (a tuple, so ``creq, outcome, *_ = r`` keeps working)."""

    creq: CompiledRequirement
    outcome: Outcome
    waived_by: RuleException | None
    #: missing facts that matter for this requirement (empty unless unknown/discretionary)
    missing: tuple[str, ...]
    #: the requirement expression's value (True, False, UNKNOWN, or a non-boolean indicator)
    value: Any
    #: observed sub-expression values by source text, JSON-ready (UNKNOWN → None);
    #: None when the backend was asked not to observe
    values: dict[str, Any] | None = None


class Outcomes(NamedTuple):
    """The raw result of evaluating one measure, before it becomes text."""

    status: Status
    amount: Any
    reasons: tuple[ReasonOutcome, ...]
    missing: tuple[str, ...]
    discretionary: tuple[str, ...]
    priority: tuple[int, Any] | None
    #: the recorded steps of the amount (full detail); None when not recorded
    calculation: tuple[RecordedStep, ...] | None = None


class CriterionOutcome(NamedTuple):
    """A criterion's value (UNKNOWN when unknown) and the missing facts behind it."""

    criterion: Criterion
    value: Any
    missing: tuple[str, ...]


class HouseholdOutcomes(NamedTuple):
    """One household at one date: what the decision builder needs, from any backend."""

    as_of: date
    facts_sha256: str
    #: parameters in force at ``as_of`` that are unconfirmed
    unconfirmed_params: frozenset[str]
    #: (index in CompiledPack.measures, measure, outcomes) for each measure in force
    measures: tuple[tuple[int, CompiledMeasure, Outcomes], ...]
    criteria: tuple[CriterionOutcome, ...]


def json_value(value: Any) -> Any:
    """An observed value as a Decision carries it (UNKNOWN → None, mapping keys as text)."""
    if value.__class__ in PLAIN:  # (the most frequent: a value carried as it is)
        return value
    if value is UNKNOWN:
        return None
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    return value
