"""Facts validation: limits checked before pydantic, bounded messages, own errors only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from eligibility import Engine, FactsError
from eligibility.facts import check_shape
from eligibility.limits import MAX_FACTS_DEPTH, MAX_STRING_LENGTH
from tests.conftest import household


@pytest.mark.parametrize(("change", "path", "fragment"), [
    ({"economy": {"years_problem": "9e999999"}}, "economy.years_problem", "at most 1e20"),
    ({"economy": {"years_problem": int("9" * 4000)}},
     "economy.years_problem", "at most 21 digits"),
    ({"housing": {"cost_month": Decimal("1e5000")}}, "housing.cost_month", "at most 1e20"),
    ({"housing": {"cost_month": float("inf")}}, "housing.cost_month", "not a finite number"),
    ({"housing": {"tenure": "x" * (MAX_STRING_LENGTH + 1)}}, "housing.tenure",
     f"at most {MAX_STRING_LENGTH} characters"),
    ({"members": [{}] * 10_000}, "members", "at most 100 items"),
    ({"situation": {"homeless": "\ud800"}}, "situation.homeless", "lone surrogate"),
])
def test_limits_are_checked_first(engine: Engine, change: dict[str, Any], path: str,
                                  fragment: str) -> None:
    with pytest.raises(FactsError) as info:
        engine.validate(household(**change))
    assert [i.path for i in info.value.issues] == [path]
    assert fragment in str(info.value)


def test_deep_nesting_is_refused_without_recursion() -> None:
    value: Any = 1
    for _ in range(100_000):
        value = [value]
    with pytest.raises(FactsError) as info:
        check_shape({"economy": {"x": value}})
    assert f"nested deeper than {MAX_FACTS_DEPTH} levels" in str(info.value)


def test_messages_are_bounded(engine: Engine) -> None:
    members = [{"age": "x" * 9000, "income_month": "y" * 9000, "disability": "z" * 9000}] * 100
    with pytest.raises(FactsError) as info:
        engine.validate(household(members=members))
    assert len(info.value.issues) >= 100
    assert len(str(info.value)) < 20_000 and "more" in str(info.value)
