"""Run a pack's example households (``cases/*.yaml``) and report every difference.

A case passes when every expectation it states holds: a measure's status,
amount (exact), missing facts and priority, the hand-worked values of the amount's
calculation steps (to the øre), and the values of criteria. Facts
that do not fit the schema and evaluation errors are reported as failures of that
case, never as a crash of the whole run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eligibility.decision import Decision, MeasureResult
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.pack.model import Case


@dataclass
class CaseResult:
    case: Case
    problems: list[str] = field(default_factory=list)
    decision: Decision | None = None

    @property
    def passed(self) -> bool:
        return not self.problems


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | Decimal) and isinstance(actual, int | Decimal):
        return Decimal(expected) == Decimal(actual)
    return bool(expected == actual)


_ORE = Decimal("0.01")


def to_ore(value: Any) -> Decimal:
    """A value rounded half up to the øre (two decimals)."""
    return Decimal(value).quantize(_ORE, rounding=ROUND_HALF_UP)


def step_problems(measure: MeasureResult, expected: dict[str, Any]) -> list[str]:
    """How the measure's calculation differs from hand-worked step values (to the øre)."""
    steps = {s.name: s for s in measure.calculation or []}
    problems = []
    for name, want in expected.items():
        got = steps.get(name)
        if got is None:
            problems.append(f"{measure.id}: no calculation step {name!r}")
        elif not got.known or isinstance(got.value, bool | str) or got.value is None:
            problems.append(f"{measure.id}: step {name!r} expected {want}, got "
                            f"{got.value if got.known else 'unknown'}")
        elif to_ore(got.value) != to_ore(want):
            problems.append(f"{measure.id}: step {name!r} expected {to_ore(want)}, got "
                            f"{to_ore(got.value)} (exact {got.value})")
    return problems


def run_case(engine: Engine, case: Case) -> CaseResult:
    """Evaluate one case and compare the decision with what it expects."""
    result = CaseResult(case)
    try:
        decision = engine.evaluate(case.facts, as_of=case.as_of, lang="en")
    except EligibilityError as exc:
        result.problems.append(f"could not evaluate: {exc}")
        return result
    result.decision = decision
    by_id = {m.id: m for m in decision.measures}
    for mid, expect in case.expect_measures.items():
        got = by_id.get(mid)
        if got is None:
            result.problems.append(f"{mid}: not in force on {case.as_of}")
            continue
        if "status" in expect and expect["status"] != got.status:
            detail = got.summary
            result.problems.append(f"{mid}: expected status {expect['status']}, got "
                                   f"{got.status} ({detail})")
        if "amount" in expect and not (got.amount is not None
                                       and _same(expect["amount"], got.amount)):
            result.problems.append(f"{mid}: expected amount {expect['amount']}, got {got.amount}")
        if "missing_facts" in expect and set(expect["missing_facts"]) != set(got.missing_facts):
            want = sorted(expect["missing_facts"])
            result.problems.append(f"{mid}: expected missing facts {want}, "
                                   f"got {sorted(got.missing_facts)}")
        if "steps" in expect:
            result.problems.extend(step_problems(got, expect["steps"]))
        if "priority" in expect and expect["priority"] != got.priority:
            result.problems.append(f"{mid}: expected priority {expect['priority']}, "
                                   f"got {got.priority}")
    criteria = {c.id: c for c in decision.criteria}
    for cid, expected in case.expect_criteria.items():
        crit = criteria.get(cid)
        actual = crit.value if crit else None
        if not _same(expected, actual):
            result.problems.append(f"criteria.{cid}: expected {expected!r}, got {actual!r}")
    return result


def run_cases(engine: Engine) -> list[CaseResult]:
    """Run every case of the engine's pack."""
    return [run_case(engine, case) for case in engine.pack.cases]
