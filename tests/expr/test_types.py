"""The type checker: names, types, units and enum values, with hints."""

from __future__ import annotations

import pytest

from eligibility.expr.parser import parse
from eligibility.expr.types import (
    BOOL,
    DATE,
    MEMBERS,
    Checker,
    ExprTypeError,
    Names,
    ParamInfo,
    Type,
)

NAMES = Names(
    names={
        "housing.cost_month": Type("num", "NOK/month"),
        "housing.cost_year": Type("num", "NOK/year"),
        "housing.tenure": Type("enum", values=("leie", "eie")),
        "housing.rooms": Type("num", integer=True),
        "situation.homeless": BOOL,
        "situation.since": DATE,
        "members": MEMBERS,
        "as_of": DATE,
    },
    member_fields={"age": Type("num", "years", integer=True), "disability": BOOL},
    params={
        "b.rate": ParamInfo(Type("num", "ratio")),
        "b.cap": ParamInfo(Type("num", "NOK/year"), ("size",)),
    },
)


def check(text: str) -> Type:
    return Checker(NAMES).check(parse(text))


def error(text: str) -> ExprTypeError:
    with pytest.raises(ExprTypeError) as info:
        check(text)
    return info.value


@pytest.mark.parametrize(
    ("text", "kind", "unit"),
    [
        ("housing.cost_month * 12", "num", "NOK/month"),
        ("yearly(housing.cost_month)", "num", "NOK/year"),
        ("monthly(housing.cost_year)", "num", "NOK/month"),
        ("yearly(housing.cost_month) + housing.cost_year", "num", "NOK/year"),
        ("param(b.rate) * housing.cost_year", "num", "NOK/year"),
        ("param(b.cap, min(count(members), 5))", "num", "NOK/year"),
        ("housing.cost_year / housing.cost_year", "num", None),
        ("count(members, age < 18) > 0", "bool", None),
        ("sum(members, age, disability)", "num", "years"),
        ("any(members, disability) or situation.homeless", "bool", None),
        ('housing.tenure in ["leie", "eie"]', "bool", None),
        ("if situation.homeless then 1 else 2", "num", None),
        ("years_since(situation.since) >= 2", "bool", None),
        ("situation.since < as_of", "bool", None),
        ("known(housing.rooms)", "bool", None),
        ("max(0, housing.cost_year - 1000)", "num", "NOK/year"),
    ],
)
def test_well_typed(text: str, kind: str, unit: str | None) -> None:
    t = check(text)
    assert (t.kind, t.unit) == (kind, unit)


def test_unknown_name_suggests_the_closest() -> None:
    err = error("housing.cost_mont > 0")
    assert "unknown name 'housing.cost_mont'" in err.message
    assert err.hint == "did you mean 'housing.cost_month'?"
    assert err.offset == 0


def test_unknown_parameter_suggests() -> None:
    err = error("param(b.rat) > 0")
    assert "unknown parameter 'b.rat'" in err.message and err.hint == "did you mean 'b.rate'?"


def test_enum_value_must_exist() -> None:
    err = error('housing.tenure == "lei"')
    assert "'lei' is not a value of this field" in err.message
    assert err.hint == "did you mean 'leie'?"
    assert err.offset == 18


def test_unit_mismatch_between_month_and_year() -> None:
    err = error("housing.cost_month + housing.cost_year")
    assert "unit mismatch" in err.message and err.hint == "convert with yearly() or monthly()"
    err = error("housing.cost_month > housing.cost_year")
    assert "unit mismatch" in err.message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("situation.homeless + 1", "`+` needs numbers"),
        ("housing.rooms and situation.homeless", "`and` needs true/false"),
        ("not housing.rooms", "`not` needs true/false"),
        ("if housing.rooms then 1 else 2", "condition of `if`"),
        ("if situation.homeless then 1 else situation.homeless", "`then` gives"),
        ("situation.homeless == 1", "cannot compare"),
        ("members.age > 3", "members is a list"),
        ("age > 3", "unknown name 'age'"),
        ("count(housing.rooms)", "must be `members`"),
        ("count(members, count(members) > 1)", "cannot be nested"),
        ("param(b.cap)", "takes 1 key(s)"),
        ("param(b.rate, 1)", "takes 0 key(s)"),
        ("yearly(housing.cost_year)", "expects an amount in X/month"),
        ("round(housing.rooms, housing.rooms)", "n must be a whole number"),
        ("min()", "takes 1 to 99 argument(s)"),
        ("[1, 2]", "may only follow `in`"),
        ("housing.rooms in housing.rooms", "needs a list"),
        ("years_since(housing.rooms)", "needs a date"),
    ],
)
def test_type_errors(text: str, fragment: str) -> None:
    assert fragment in error(text).message
