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


def test_the_full_schema_model_is_built_when_first_needed(mini_pack: Any) -> None:
    """Engine start-up leaves the whole schema's pydantic model unbuilt: a plain document
    takes the quick path without it; the first document only the full path reads (here
    one with a wrong value, whose errors the model names) builds it once, and the
    answers are those of a validator that built it at once."""
    fresh = Engine(mini_pack)
    assert fresh.validator._model is None
    fresh.validate(household())
    assert fresh.validator._model is None
    bad = household(household={"adults": "two"})
    with pytest.raises(FactsError) as lazy:
        fresh.validate(bad)
    built = fresh.validator._model
    assert built is not None and fresh.validator.model is built
    eager = Engine(mini_pack)
    _ = eager.validator.model
    with pytest.raises(FactsError) as at_once:
        eager.validate(bad)
    assert [i.path for i in lazy.value.issues] == [i.path for i in at_once.value.issues]
    assert fresh.validate(household()).sha256 == eager.validate(household()).sha256
