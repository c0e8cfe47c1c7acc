"""The decision builder's summary results, found by one key of an outcome's parts: equal
outcomes share them, each part that differs gives its own, the memo stays bounded, and a
Decision never changes when another is built from the same shared head; the order of
results."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eligibility import Engine
from eligibility.compile.outcomes import HouseholdOutcomes
from eligibility.decision import STATUSES, Decision
from eligibility.decision_build import DecisionBuilder, Detail, decision_bytes
from tests.conftest import fixtures, household

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)
WHEN = date(2023, 6, 1)  # for the mini pack


def _summary(engine: Engine, facts: Any, when: date) -> HouseholdOutcomes:
    return engine.outcomes(facts, when, observe=False, calculation=False)


def _afresh(outcomes: HouseholdOutcomes) -> HouseholdOutcomes:
    """Equal outcomes in new objects (so no builder knows them by identity)."""
    return outcomes._replace(measures=tuple((i, cm, out._replace())
                                            for i, cm, out in outcomes.measures))


def _with(outcomes: HouseholdOutcomes, index: int, **parts: Any) -> HouseholdOutcomes:
    """``outcomes`` with the parts of measure ``index`` (its position) replaced."""
    measures = list(outcomes.measures)
    i, cm, out = measures[index]
    measures[index] = (i, cm, out._replace(**parts))
    return outcomes._replace(measures=tuple(measures))


def _fresh_bytes(engine: Engine, outcomes: HouseholdOutcomes, lang: str = "en") -> bytes:
    return decision_bytes(DecisionBuilder(engine.compiled).build(outcomes, lang, "summary"))


def test_equal_outcomes_share_their_summary_results(no_engine: Engine) -> None:
    """Outcomes equal in every part but made afresh find the results the first ones made
    (a result showing no amount is the very same object) and give a fresh builder's
    bytes."""
    builder = DecisionBuilder(no_engine.compiled)
    for facts in fixtures():
        outcomes = _summary(no_engine, facts, AS_OF)
        first = builder.build(outcomes, "en", "summary")
        again = builder.build(_afresh(outcomes), "en", "summary")
        assert decision_bytes(again) == decision_bytes(first) == _fresh_bytes(
            no_engine, outcomes)
        shared = [(a, b) for a, b in zip(first.measures, again.measures, strict=True)
                  if a.amount is None]
        assert shared and all(a is b for a, b in shared)


def test_each_part_of_an_outcome_that_differs_gives_its_own_summary_result(
        no_engine: Engine) -> None:
    """A builder that has seen an outcome and every earlier variant of it gives each
    variant — another status, priority, missing facts, discretionary assessments, a
    reason's outcome, a waiving exception, an amount — what a fresh builder gives, and a
    result that differs from the first where that part shows."""
    builder = DecisionBuilder(no_engine.compiled)
    base = _summary(no_engine, fixtures()[0], AS_OF)
    index, cm, out = next((n, cm, out) for n, (_, cm, out) in enumerate(base.measures)
                          if any(r.creq.exceptions for r in out.reasons))
    pos = next(n for n, r in enumerate(out.reasons) if r.creq.exceptions)
    excs = [e for e, _ in out.reasons[pos].creq.exceptions]
    other = next(n for n, r in enumerate(out.reasons) if n != pos)

    def reason(n: int, **parts: Any) -> tuple[Any, ...]:
        reasons = list(out.reasons)
        reasons[n] = reasons[n]._replace(**parts)
        return tuple(reasons)

    title = next(iter(cm.measure.priority)).title if cm.measure.priority else None
    variants: dict[str, HouseholdOutcomes] = {
        "status": _with(base, index, status="undetermined" if out.status != "undetermined"
                        else "not_eligible"),
        "priority": _with(base, index, priority=(77, title)),
        "missing": _with(base, index, status="undetermined", missing=("household.x",)),
        "missing again": _with(base, index, status="undetermined",
                               missing=("household.y",)),
        "discretionary": _with(base, index, status="undetermined",
                               discretionary=(out.reasons[other].creq.req.id,)),
        "outcome": _with(base, index, status="not_eligible",
                         reasons=reason(other, outcome="not_met")),
        "waived": _with(base, index, reasons=reason(pos, outcome="waived",
                                                     waived_by=excs[0])),
        "amount": _with(base, index, status="eligible", amount=Decimal("1234.50")),
        "another amount": _with(base, index, status="eligible", amount=Decimal("1234.5")),
    }
    if len(excs) > 1:
        variants["another exception"] = _with(base, index, reasons=reason(
            pos, outcome="waived", waived_by=excs[1]))
    first = builder.build(base, "en", "summary").measures
    mine = next(m for m in first if m.id == cm.measure.id)
    for name, variant in variants.items():
        for _ in range(2):  # (the second time from the memo)
            decision = builder.build(_afresh(variant), "en", "summary")
            assert decision_bytes(decision) == _fresh_bytes(no_engine, variant), name
        result = decision.measure(cm.measure.id)
        if name in ("waived", "another exception"):
            continue  # (an exception shows in a summary only when it is unconfirmed)
        assert result.model_dump() != mine.model_dump(), name
    shown = [builder.build(_afresh(variants[n]), "en", "summary").measure(cm.measure.id)
             for n in ("amount", "another amount")]
    assert [str(r.amount) for r in shown] == ["1234.50", "1234.5"]


def test_the_summary_memo_is_bounded(no_engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                     ) -> None:
    import eligibility.decision_build.builder as build

    monkeypatch.setattr(build, "_RESULTS_LIMIT", 3)
    builder = DecisionBuilder(no_engine.compiled)
    base = _summary(no_engine, fixtures()[0], AS_OF)
    for n in range(12):
        variant = base._replace(measures=tuple(
            (i, cm, out._replace(status="undetermined", missing=(f"household.x{n}",)))
            for i, cm, out in base.measures))
        decision = builder.build(variant, "en", "summary")
        assert decision_bytes(decision) == _fresh_bytes(no_engine, variant)
    statics = builder._langs["en"].measures
    sizes = [len(statics[i].summaries) for i, _, _ in base.measures]
    assert max(sizes) <= 3 and min(sizes) >= 1


def test_a_decision_never_changes_when_another_is_built_from_its_head(
        engine: Engine) -> None:
    """Results showing an amount are the shared head with this household's amount: a
    Decision built before keeps its amount and bytes while others are built."""
    builder = DecisionBuilder(engine.compiled)
    base = _summary(engine, household(), WHEN)
    index = next(n for n, (_, _, out) in enumerate(base.measures)
                 if out.status == "eligible" and out.amount is not None)
    made: list[tuple[Decision, bytes, Decimal]] = []
    for text in ("983", "983.0", "12", "983"):
        variant = _with(base, index, amount=Decimal(text))
        decision = builder.build(variant, "en", "summary")
        assert decision_bytes(decision) == _fresh_bytes(engine, variant)
        made.append((decision, decision_bytes(decision), Decimal(text)))
    cm = base.measures[index][1]
    for decision, data, amount in made:
        assert decision_bytes(decision) == data
        assert str(decision.measure(cm.measure.id).amount) == str(amount)
    heads = builder._langs["en"].measures[cm.index].summaries.values()
    assert heads and all(head["amount"] is None for _, _, head in heads)


def _order(engine: Engine, decision: Decision) -> list[tuple[int, int, int, int]]:
    goals = {g: i for i, g in enumerate(engine.pack.meta.goals)}
    index = {cm.measure.id: cm.index for cm in engine.compiled.measures}
    return [(goals.get(m.goal, 99), STATUSES.index(m.status), m.priority or 99, index[m.id])
            for m in decision.measures]


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_results_are_in_goal_status_priority_and_pack_order(no_engine: Engine,
                                                            detail: str) -> None:
    for facts in [*fixtures(), {}]:
        decision = no_engine.evaluate(facts, AS_OF, "en", detail=detail)  # type: ignore[arg-type]
        order = _order(no_engine, decision)
        assert order == sorted(order) and len(order) > 1


def test_results_with_priorities_of_every_kind_are_in_order(no_engine: Engine) -> None:
    """Priorities the pack does not name (none, zero, negative, larger) still sort as
    ``priority or 99`` does, each measure's place one int; one far beyond the pack's
    ranks is refused, not put in a wrong place."""
    builder = DecisionBuilder(no_engine.compiled)
    base = _summary(no_engine, fixtures()[0], AS_OF)
    ranks = [None, 0, -5, 3, 30000, 99, 1]
    measures = []
    for n, (i, cm, out) in enumerate(base.measures):
        rank = ranks[n % len(ranks)]
        measures.append((i, cm, out._replace(priority=None if rank is None else (rank, None))))
    detail: Detail
    for detail in ("summary", "full"):
        outcomes = base._replace(measures=tuple(measures))
        if detail == "full":
            outcomes = no_engine.outcomes(fixtures()[0], AS_OF, calculation=False)
            outcomes = outcomes._replace(measures=tuple(
                (i, cm, out._replace(priority=m[2].priority))
                for (i, cm, out), m in zip(outcomes.measures, measures, strict=True)))
        decision = builder.build(outcomes, "en", detail)
        order = _order(no_engine, decision)
        assert order == sorted(order)
        assert [m.priority for m in decision.measures] != [None] * len(measures)
    far = _with(base, 0, priority=(1 << 40, None))
    with pytest.raises(ValueError, match="priority"):
        builder.build(far, "en", "summary")
