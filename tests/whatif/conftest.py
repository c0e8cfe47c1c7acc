"""Shared helpers for the what-if tests: evaluate one measure with one fact changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from eligibility import Engine
from eligibility.decision import MeasureResult
from eligibility.whatif import apply_changes

AS_OF = date(2023, 6, 1)


def measure_at(engine: Engine, facts: dict[str, Any], changes: dict[str, Any],
               measure: str, as_of: date = AS_OF) -> MeasureResult:
    """The measure's result for ``facts`` with ``changes``: a plain, full evaluation."""
    return engine.evaluate(apply_changes(facts, changes), as_of=as_of).measure(measure)


def outcome_at(engine: Engine, facts: dict[str, Any], changes: dict[str, Any], measure: str,
               requirement: str) -> str:
    m = measure_at(engine, facts, changes, measure)
    return next(r.outcome for r in m.reasons if r.requirement == requirement)
