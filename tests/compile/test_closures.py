"""The closure compiler's semantics: Kleene logic, missing facts, exact arithmetic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from eligibility.compile.closures import Resolver, compile_expr
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import EvaluationError
from eligibility.expr.parser import parse

FACTS = frozenset({"f.a", "f.b", "f.x", "f.y", "f.d"})
RES = Resolver(FACTS, frozenset({"age", "flag"}), {})
T, F, U = True, False, UNKNOWN


def run(text: str, facts: dict[str, Any], members: list[dict[str, Any]] | None = None,
        as_of: date = date(2025, 1, 1)) -> tuple[Any, list[str]]:
    ctx = Ctx(facts, members, as_of, {})
    value = compile_expr(parse(text), RES)(ctx)
    return value, ctx.missing


def facts_for(a: Any, b: Any) -> dict[str, Any]:
    out = {}
    if a is not UNKNOWN:
        out["f.a"] = a
    if b is not UNKNOWN:
        out["f.b"] = b
    return out


AND = {(T, T): T, (T, F): F, (T, U): U, (F, T): F, (F, F): F, (F, U): F,
       (U, T): U, (U, F): F, (U, U): U}
OR = {(T, T): T, (T, F): T, (T, U): T, (F, T): T, (F, F): F, (F, U): U,
      (U, T): T, (U, F): U, (U, U): U}


@pytest.mark.parametrize(("a", "b"), list(AND))
def test_kleene_and(a: Any, b: Any) -> None:
    value, missing = run("f.a and f.b", facts_for(a, b))
    assert value is AND[(a, b)]
    # a determined result never asks for facts that could not change it
    assert (missing == []) == (value is not UNKNOWN)


@pytest.mark.parametrize(("a", "b"), list(OR))
def test_kleene_or(a: Any, b: Any) -> None:
    value, missing = run("f.a or f.b", facts_for(a, b))
    assert value is OR[(a, b)]
    assert (missing == []) == (value is not UNKNOWN)


@pytest.mark.parametrize(("a", "expected"), [(T, F), (F, T), (U, U)])
def test_kleene_not(a: Any, expected: Any) -> None:
    assert run("not f.a", facts_for(a, U))[0] is expected


def test_unknown_lists_exactly_the_missing_facts() -> None:
    value, missing = run("f.a and f.b", {})
    assert value is UNKNOWN and missing == ["f.a", "f.b"]


def test_comparisons_with_unknown() -> None:
    assert run("f.x > 3", {})[0] is UNKNOWN
    assert run("f.x > 3", {"f.x": 4})[0] is True
    assert run("1 < f.x < 3", {"f.x": 4})[0] is False
    # a chain with one decided false pair is false even if the other pair is unknown
    assert run("f.y < f.x < 3", {"f.x": 4})[0] is False


def test_if_with_unknown_condition_and_equal_branches() -> None:
    assert run("if f.a then 1 else 1", {}) == (1, [])
    assert run("if f.a then 1 else 2", {})[0] is UNKNOWN


def test_arithmetic_is_exact_decimal() -> None:
    value, _ = run("f.x / 3 * 3", {"f.x": 1})
    assert isinstance(value, Decimal)
    assert run("0.1 + 0.2", {})[0] == Decimal("0.3")
    assert run("round(2.5)", {})[0] == 3
    assert run("round(0.125, 2)", {})[0] == Decimal("0.13")
    assert run("floor(2.7) + ceil(2.1)", {})[0] == 5
    assert run("monthly(f.x)", {"f.x": 100})[0] == Decimal(100) / 12


def test_division_by_zero_is_an_error_not_a_crash() -> None:
    with pytest.raises(EvaluationError):
        run("f.x / f.y", {"f.x": 1, "f.y": 0})


def test_aggregates() -> None:
    members = [{"age": 40, "flag": True}, {"age": 5}, {"age": 12, "flag": False}]
    assert run("count(members)", {}, members)[0] == 3
    assert run("count(members, age < 18)", {}, members)[0] == 2
    assert run("sum(members, age)", {}, members)[0] == 57
    assert run("sum(members, age, age >= 18)", {}, members)[0] == 40
    # the second member's flag is missing: any() is still true, all() is false
    assert run("any(members, flag)", {}, members) == (True, [])
    assert run("all(members, flag)", {}, members) == (False, [])
    value, missing = run("any(members, not flag)", {}, members[:2])
    assert value is UNKNOWN and missing == ["members[1].flag"]
    value, missing = run("count(members)", {}, None)
    assert value is UNKNOWN and missing == ["members"]


@pytest.mark.parametrize(("text", "expected"), [
    ("count(members, age >= 18)", 1), ("count(members, age > 12)", 1),
    ("count(members, age < 12)", 1), ("count(members, age <= 12)", 2),
    ("count(members, age == 12)", 1), ("count(members, age != 12)", 2)])
def test_member_field_against_a_literal(text: str, expected: int) -> None:
    members = [{"age": 40, "flag": True}, {"age": 5}, {"age": 12, "flag": False}]
    assert run(text, {}, members) == (expected, [])
    # a member without the field: unknown, and asked for by its place
    value, missing = run(text, {}, [*members, {"flag": True}])
    assert value is UNKNOWN and missing == ["members[3].age"]
    # decided without it (``flag`` false first): the question is dropped again
    value, missing = run(text.replace("count(members, ", "count(members, flag and "),
                         {}, [{"flag": False}])
    assert (value, missing) == (0, [])


def test_known_never_asks() -> None:
    assert run("known(f.a)", {}) == (False, [])
    assert run("known(f.a)", {"f.a": True}) == (True, [])


def test_dates_count_whole_units_at_as_of() -> None:
    facts = {"f.d": date(2020, 6, 15)}
    assert run("years_since(f.d)", facts, as_of=date(2025, 6, 14))[0] == 4
    assert run("years_since(f.d)", facts, as_of=date(2025, 6, 15))[0] == 5
    assert run("months_since(f.d)", facts, as_of=date(2020, 8, 14))[0] == 1
    assert run("months_until(f.d)", facts, as_of=date(2020, 4, 15))[0] == 2
    assert run("f.d < as_of", facts, as_of=date(2021, 1, 1))[0] is True


def test_in_with_literals() -> None:
    assert run('f.a in ["x", "y"]', {"f.a": "y"})[0] is True
    assert run('f.a not in ["x", "y"]', {"f.a": "y"})[0] is False
    assert run('f.a in ["x"]', {})[0] is UNKNOWN


def test_unknown_has_no_truth_value() -> None:
    with pytest.raises(TypeError):
        bool(UNKNOWN)



_EQUALITY = ['f.a in ["x", 1]', 'f.a not in ["x", 1]', "f.a == 1", "f.a != 1"]
_ORDER = ["f.a < 2", "f.a <= 1", "f.a > 0", "f.a >= 1"]


@pytest.mark.parametrize(("text", "value"), [
    *[(t, v) for t in _EQUALITY for v in ("x", 1, Decimal("1.0"), 3, True, UNKNOWN)],
    *[(t, v) for t in _ORDER for v in (1, Decimal("1.0"), 3, Decimal("0.5"), UNKNOWN)]])
def test_a_fact_or_member_field_compared_with_literals_reads_it_in_place(
        text: str, value: Any) -> None:
    """A fact (or, in a member condition, a member field) compared with literals is read
    by the comparison itself: the same value and missing facts as a comparison of a
    ``let`` that holds the fact, which reads it through a closure of its own."""
    facts = facts_for(value, U)
    direct = run(text, facts)
    via_let = Resolver(FACTS, frozenset({"age", "flag"}), {},
                       {"v": compile_expr(parse("f.a"), RES)})
    ctx = Ctx(facts, None, date(2025, 1, 1), {})
    assert direct == (compile_expr(parse(text.replace("f.a", "v", 1)), via_let)(ctx),
                      ctx.missing)
    assert direct[1] == ([] if value is not UNKNOWN else ["f.a"])
    members = [{"flag": value}] if value is not UNKNOWN else [{}]
    assert run("any(members, " + text.replace("f.a", "flag", 1) + ")", {}, members) == (
        direct[0], [] if value is not UNKNOWN else ["members[0].flag"])
