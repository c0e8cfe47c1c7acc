"""Counterfactuals: verified by re-evaluation, limited to changeable facts, minimal first."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from eligibility import Engine
from eligibility.counterfactual import Change, counterfactuals
from eligibility.whatif import apply_changes
from tests.conftest import household
from tests.whatif.conftest import AS_OF


def _apply(solution_changes: Sequence[Change]) -> dict[str, Any]:
    return {c.path: c.after for c in solution_changes}


def test_bostotte_needs_lower_income_only(engine: Engine) -> None:
    facts = household(members=[{"age": 40, "income_month": 30000}])
    result = counterfactuals(engine, facts, "bostotte", AS_OF, "en")
    assert not result.already and result.solutions
    assert set(result.searched) <= {"members[0].income_month", "housing.cost_month"}
    best = result.solutions[0]
    assert [c.path for c in best.changes] == ["members[0].income_month"]
    after = best.changes[0].after
    for s in result.solutions:
        decision = engine.evaluate(apply_changes(facts, _apply(s.changes)), as_of=AS_OF)
        assert decision.measure("bostotte").status == "eligible"
        assert all(c.changeable for c in s.changes)  # age is never proposed
    # smallest: one krone more is not enough
    worse = engine.evaluate(apply_changes(facts, {"members[0].income_month": after + 1}),
                            as_of=AS_OF)
    assert worse.measure("bostotte").status == "not_eligible"
    assert best.amount == Decimal(50)


def test_startlan_combination_with_named_facts(engine: Engine) -> None:
    facts = household(economy={"bank_loan_refused": True, "years_problem": 2,
                               "savings_used": False})
    # nothing changeable matters for startlån in the mini pack
    assert not counterfactuals(engine, facts, "startlan", AS_OF, "nb").solutions
    result = counterfactuals(engine, facts, "startlan", AS_OF, "nb",
                             also=["economy.years_problem", "economy.savings_used"])
    assert result.target == "eligible_pending_assessment"
    changes = [{c.path: c.after for c in s.changes} for s in result.solutions]
    assert {"economy.savings_used": True, "economy.years_problem": Decimal(5)} in changes
    for s in result.solutions:
        m = engine.evaluate(apply_changes(facts, _apply(s.changes)),
                            as_of=AS_OF).measure("startlan")
        assert m.status == "undetermined" and m.discretionary == ["betjeningsevne"]
        assert not m.missing_facts
    # ranked by number of facts
    assert [len(s.changes) for s in result.solutions] == sorted(
        len(s.changes) for s in result.solutions)
    # age is only varied when named: then one fact suffices (a member under 18 makes the
    # household a family with children, which waives the long-term requirement)
    with_age = counterfactuals(engine, facts, "startlan", AS_OF, "nb",
                               also=["economy.savings_used", "economy.years_problem",
                                     "members.age"])
    assert len(with_age.solutions[0].changes) == 1
    assert with_age.solutions[0].changes[0].path == "members[0].age"


def test_already_eligible(engine: Engine) -> None:
    result = counterfactuals(engine, household(), "bostotte", AS_OF, "en")
    assert result.already and not result.solutions


def test_a_spent_budget_gives_a_partial_result(engine: Engine) -> None:
    facts = household(members=[{"age": 40, "income_month": 30000}])
    assert not counterfactuals(engine, facts, "bostotte", AS_OF, "en").partial
    spent = counterfactuals(engine, facts, "bostotte", AS_OF, "en", budget=1e-9)
    assert spent.partial and spent.solutions == []
