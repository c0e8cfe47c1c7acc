"""Why-not thresholds, checked against brute force around the reported value."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from eligibility import Engine
from eligibility.explain.whynot import Flip, why_not
from tests.conftest import household
from tests.whatif.conftest import AS_OF, measure_at, outcome_at

INCOME = "members[0].income_month"
COST = "housing.cost_month"


def _threshold(flips: list[Flip], path: str) -> Flip:
    return next(f for f in flips if f.path == path)


def _rich(income: int = 30000, **more: Any) -> dict[str, Any]:
    return household(members=[{"age": 40, "income_month": income}], **more)


@pytest.mark.parametrize("members", [
    [{"age": 40, "income_month": 30000}],
    [{"age": 40, "income_month": 30000}, {"age": 38, "income_month": 2000}, {"age": 4}],
])
def test_bostotte_income_threshold_is_exact_to_one_krone(engine: Engine,
                                                         members: list[Any]) -> None:
    facts = household(members=members)
    result = why_not(engine, facts, AS_OF, "en", "bostotte")
    m = result.measures[0]
    assert m.status == "not_eligible"
    flip = _threshold(m.thresholds, INCOME)
    assert flip.direction == "at_or_below" and flip.verified and flip.changeable
    t = flip.value
    assert isinstance(t, Decimal) and t == t.to_integral_value()
    # brute force: paid at and below the threshold, not one krone above
    for value in range(int(t) - 25, int(t) + 26):
        status = measure_at(engine, facts, {INCOME: Decimal(value)}, "bostotte").status
        assert status == ("eligible" if value <= t else "not_eligible"), value
    at = measure_at(engine, facts, {INCOME: t}, "bostotte")
    assert at.amount == flip.amount == Decimal(50)  # the minimum payout decides it
    # the failed requirement names the same value
    req = next(r for r in m.requirements if r.requirement == "utbetaling")
    assert _threshold(req.flips, INCOME).value == t
    assert "or less" in flip.message and INCOME in flip.message


def test_bostotte_housing_cost_threshold(engine: Engine) -> None:
    facts = household(housing={"tenure": "leie", "cost_month": 3000})
    m = why_not(engine, facts, AS_OF, "nb", "bostotte").measures[0]
    flip = _threshold(m.thresholds, COST)
    assert flip.direction == "at_or_above" and flip.verified
    c = int(flip.value)
    for value in range(c - 25, c + 26):
        status = measure_at(engine, facts, {COST: Decimal(value)}, "bostotte").status
        assert status == ("eligible" if value >= c else "not_eligible"), value
    assert "eller høyere" in flip.message


def test_limits_of_an_eligible_bostotte(engine: Engine) -> None:
    facts = household()
    m = why_not(engine, facts, AS_OF, "en", "bostotte").measures[0]
    assert m.status == "eligible" and not m.requirements
    income = _threshold(m.limits, INCOME)
    assert income.direction == "at_or_below"
    assert measure_at(engine, facts, {INCOME: income.value}, "bostotte").status == "eligible"
    assert measure_at(engine, facts, {INCOME: income.value + 1},
                      "bostotte").status == "not_eligible"
    cost = _threshold(m.limits, COST)
    assert cost.direction == "at_or_above"
    assert measure_at(engine, facts, {COST: cost.value}, "bostotte").status == "eligible"
    assert measure_at(engine, facts, {COST: cost.value - 1}, "bostotte").status == "not_eligible"


def test_startlan_criteria_thresholds(engine: Engine) -> None:
    facts = household(economy={"bank_loan_refused": False, "years_problem": 2,
                               "savings_used": True})
    m = why_not(engine, facts, AS_OF, "nb", "startlan").measures[0]
    assert m.status == "not_eligible"
    by_req = {r.requirement: r for r in m.requirements}
    assert by_req["bank"].outcome == "not_met"
    bank = _threshold(by_req["bank"].flips, "economy.bank_loan_refused")
    assert (bank.direction, bank.value) == ("set_to", True)
    assert outcome_at(engine, facts, {"economy.bank_loan_refused": True}, "startlan",
                      "bank") == "met"
    years = _threshold(by_req["langvarig"].flips, "economy.years_problem")
    assert years.direction == "at_or_above" and years.value == Decimal(5)
    y = years.value
    assert outcome_at(engine, facts, {"economy.years_problem": y}, "startlan",
                      "langvarig") == "met"
    assert outcome_at(engine, facts, {"economy.years_problem": y - Decimal("0.01")},
                      "startlan", "langvarig") == "not_met"
    assert outcome_at(engine, facts, {"economy.years_problem": y + 3}, "startlan",
                      "langvarig") == "met"
    # two requirements fail: no single fact lifts the whole measure
    assert not m.thresholds
    # the discretionary requirement is listed, without a flip
    assert by_req["betjeningsevne"].outcome == "discretionary"


def test_why_not_skips_granted_measures_and_rejects_unknown_ids(engine: Engine) -> None:
    result = why_not(engine, household(), AS_OF, "en")
    assert "bostotte" not in [m.id for m in result.measures]
    assert "midlertidig_botilbud" in [m.id for m in result.measures]
    with pytest.raises(KeyError):
        why_not(engine, household(), AS_OF, "en", "nope")


def test_unknown_requirement_lists_missing_facts(engine: Engine) -> None:
    facts = household()
    del facts["housing"]
    m = why_not(engine, facts, AS_OF, "en", "bostotte").measures[0]
    assert m.status == "undetermined"
    assert COST in m.missing_facts


def test_a_spent_budget_gives_a_partial_result(engine: Engine) -> None:
    facts = _rich()
    full = why_not(engine, facts, AS_OF, "en")
    assert not full.partial and full.measures
    spent = why_not(engine, facts, AS_OF, "en", budget=1e-9)
    assert spent.partial and spent.measures == []
    assert spent.provenance == full.provenance
