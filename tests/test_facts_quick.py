"""The quick validation path against the full one: the same ValidFacts, or no answer.

:meth:`FactValidator.quick` must give exactly what the pydantic model path gives (the
same values of the same types, in the same order, the same hash) or ``None`` — never a
document the full path refuses. Documents are drawn from each pack's schema, complete
and not, and then spoilt field by field with values the full path converts or refuses.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import load_pack
from eligibility.errors import FactsError
from eligibility.facts import FactValidator, ValidFacts
from eligibility.limits import DEFAULT_MAX_MEMBERS
from eligibility.pack.yamlio import load_yaml_text, plain
from eligibility.testing.strategies import households

ROOT = Path(__file__).resolve().parents[1]
PACKS = {name: load_pack(ROOT / path) for name, path in (
    ("no", "rules/no"), ("mini", "tests/packs/mini"), ("anchors", "bench/anchors"))}
VALIDATORS = {name: FactValidator(pack.schema) for name, pack in PACKS.items()}

#: values the full path converts (an int as text, a float, a bool for an int, a long
#: number as text) or refuses (null where required, out of range, too many digits)
ODD = st.sampled_from([
    None, True, False, 0, -1, 3, 10**20, 10**20 + 1, 10**25, 2.5, 3.0, float("nan"),
    "3", "2.50", "1_000", " 7 ", "0" * 80 + "1", "9e999999", "x", "\ud800", "ingen",
    "2025-06-01", "2025-02-30", "20250601", Decimal("12.50"), Decimal("1E+2"),
    Decimal("-0"), Decimal("1." + "1" * 40), Decimal("NaN"), date(2025, 6, 1), [], {},
])


def _as_json(value: Any) -> Any:
    """``value`` with each whole decimal an int, as a JSON body or a YAML file gives it."""
    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if type(value) is Decimal and value.is_finite() and value == value.to_integral_value():
        return int(value)
    return str(value) if isinstance(value, str) else value


def _typed(value: Any) -> Any:
    """``value`` with the type of every leaf spelt out (3 == Decimal(3) == 3.0 in Python)."""
    if isinstance(value, dict):
        return [(k, _typed(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, str(value))


def _agree(validator: FactValidator, facts: Any) -> bool:
    """Whether the full path takes ``facts``; asserts that the quick path (and each of
    its two ways: the exact pass and the quick schema) gives what it gives, or no
    answer."""
    answers = [validator.quick(facts)]
    if isinstance(facts, dict):
        answers += [validator._exact(facts), validator._schema_quick(facts)]
    try:
        full = validator.validate(facts, use_quick=False)
    except FactsError:
        assert answers == [None] * len(answers)
        return False
    for quick in answers:
        if quick is not None:
            _same(quick, full)
    return True


def _same(quick: ValidFacts, full: ValidFacts) -> None:
    assert _typed(quick.flat) == _typed(full.flat)
    assert _typed(quick.data) == _typed(full.data)
    assert (quick.members is None) == (full.members is None)
    if quick.members is not None:
        assert _typed(quick.members) == _typed(full.members)
    assert quick.sha256 == full.sha256
    assert quick == full


@st.composite
def _spoilt(draw: st.DrawFn, name: str) -> dict[str, Any]:
    pack = PACKS[name]
    facts: dict[str, Any] = draw(households(pack, complete=draw(st.booleans())))
    if draw(st.booleans()):
        facts = _as_json(facts)
    for _ in range(draw(st.integers(0, 3))):
        groups = [g for g, v in facts.items() if isinstance(v, dict) and v]
        if not groups:
            break
        group = draw(st.sampled_from(sorted(groups)))
        field = draw(st.sampled_from(sorted(facts[group])))
        facts[group][field] = draw(ODD)
    if draw(st.integers(0, 9)) == 0:  # an unknown field, or a group that is null
        facts[draw(st.sampled_from(sorted(pack.schema.groups)))] = draw(
            st.sampled_from([None, {"no_such_fact": 1}]))
    return facts


@pytest.mark.parametrize("name", sorted(PACKS))
def test_quick_gives_what_the_full_path_gives(name: str) -> None:
    validator = VALIDATORS[name]

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_spoilt(name))
    def check(facts: dict[str, Any]) -> None:
        _agree(validator, facts)

    check()


@pytest.mark.parametrize("name", sorted(PACKS))
def test_quick_takes_plain_complete_documents(name: str) -> None:
    validator = VALIDATORS[name]
    taken = []
    exact = []

    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(households(PACKS[name], complete=True), st.booleans())
    def check(facts: dict[str, Any], as_json: bool) -> None:
        if as_json:
            facts = _as_json(facts)
        quick = validator.quick(facts)
        taken.append(quick is not None and validator._schema_quick(facts) is not None)
        exact.append(validator._exact(facts) is not None)
        _agree(validator, facts)

    check()
    assert all(taken)
    # the exact pass takes some: bools, ints, enums as JSON gives them (not the schema's
    # own strings the strategies draw) and decimals (rules/no draws fractional ones in
    # every document), not a date (mini has one)
    assert any(exact) == (name != "mini")


def test_the_exact_pass_takes_the_fixtures() -> None:
    validator = VALIDATORS["no"]
    for path in sorted((ROOT / "fixtures").glob("*.yaml")):
        facts = plain(load_yaml_text(path.read_text(encoding="utf-8"), path.name))
        assert validator._exact(facts) is not None, path.name
        assert _agree(validator, facts)


def test_quick_keeps_the_schema_order_and_the_full_path_errors() -> None:
    validator = VALIDATORS["no"]
    facts = {"housing": {"rooms": 3, "tenure": "ingen", "cost_month": 12000},
             "members": [{"income_month": 100, "age": 30}]}
    quick = validator.quick(facts)
    assert quick is not None
    assert type(quick) is ValidFacts  # (made as the tuple it is, still the named tuple)
    assert list(quick.data) == ["members", "housing"]  # the schema's order, not the input's
    assert list(quick.flat) == ["housing.tenure", "housing.cost_month", "housing.rooms"]
    assert quick.flat["housing.cost_month"] == Decimal(12000)
    assert type(quick.flat["housing.cost_month"]) is Decimal
    _same(quick, validator.validate(facts, use_quick=False))
    bad = {"housing": {"rooms": -1}}
    assert validator.quick(bad) is None
    with pytest.raises(FactsError) as info:
        validator.validate(bad)
    assert "housing.rooms" in str(info.value)


#: hostile leaves: numbers at and past the limits (10**20 is the largest the quick
#: schema takes as an int), decimals with many digits or trailing zeros, text numbers,
#: bad Unicode and wrong types
HOSTILE = st.one_of(ODD, st.sampled_from([
    10**20 - 1, -(10**20), -(10**20) - 1, 10**21, 2**64, 2**64 - 1, -(2**63), 2**70, 420000,
    -120, 1000, 0, 7, 1e20, 1e21, 0.1, -0.0, float("inf"), "12", "1e5", "1E20", "12.5000",
    "0x10", "١٢", "420000", "-0", "1" * 31, "1." + "0" * 29, "\udcff", "é" * 3, "a" * 2000,
    Decimal("420000"), Decimal("4.2E+5"), Decimal("1E+20"), Decimal("1E+21"),
    Decimal("1.00"), Decimal("-0.0"), Decimal("1" * 30), Decimal("1" * 31), Decimal("sNaN"),
    Decimal("Infinity"), Decimal("0E-30"), b"1", (1,), [1], {"value": 1}, {"a": {"b": []}},
]), st.integers(-(2**72), 2**72), st.decimals(places=2, min_value=-(10**22),
                                                max_value=10**22, allow_nan=False),
    st.text(max_size=4))


def _deep(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"x": value}
    return value


@st.composite
def _hostile(draw: st.DrawFn, name: str) -> Any:
    pack = PACKS[name]
    facts: dict[str, Any] = draw(households(pack, complete=draw(st.booleans())))
    if draw(st.booleans()):
        facts = _as_json(facts)
    groups = sorted(pack.schema.groups)
    for _ in range(draw(st.integers(0, 6))):
        group = draw(st.sampled_from(groups))
        spec = pack.schema.groups[group]
        target = facts.get(group)
        if spec.is_list and isinstance(target, list) and target:
            target = draw(st.sampled_from(target))
        if not isinstance(target, dict):
            continue
        numbers = sorted(f for f, fs in spec.fields.items() if fs.kind in ("number", "money"))
        field = draw(st.sampled_from(numbers if numbers and draw(st.booleans())
                                     else sorted(spec.fields)))
        target[field] = draw(HOSTILE)
    shape = draw(st.integers(0, 11))
    group = draw(st.sampled_from(groups))
    spec = pack.schema.groups[group]
    if shape == 0:  # deep
        facts[group] = _deep(draw(st.integers(1, 80)))
    elif shape == 1:  # wide: unknown keys
        facts[group] = {f"f{i}": i for i in range(draw(st.integers(1, 300)))}
    elif shape == 2 and spec.is_list and isinstance(facts.get(group), list) \
            and facts[group]:  # a long member list
        facts[group] = facts[group] * draw(st.integers(2, 40))
    elif shape == 3 and group in facts:  # a tuple, not a list or a mapping
        value = facts[group]
        facts[group] = tuple(value) if isinstance(value, list) else (value,)
    elif shape == 4:  # a key that is not a field, or not text
        facts[draw(st.sampled_from(["x" * 200, "\ud800", "members.age"]))] = {}
    elif shape == 5:
        return draw(st.sampled_from([[], None, "facts", 3, [facts]]))
    return facts


@pytest.mark.parametrize("name", ["anchors", "no"])
def test_quick_agrees_with_the_full_path_on_hostile_documents(name: str) -> None:
    validator = VALIDATORS[name]
    taken = []

    @settings(max_examples=250, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_hostile(name))
    def check(facts: Any) -> None:
        if _agree(validator, facts):
            taken.append(validator.quick(facts) is not None)

    check()
    assert any(taken)  # the documents drawn were not all refused


@pytest.mark.parametrize("value", [420000, 0, -120, 10**20, -(10**20), 7, 1005])
def test_quick_writes_a_whole_money_amount_as_the_full_path(value: int) -> None:
    validator = VALIDATORS["anchors"]
    facts = {"household": {"net_wealth": value, "adults": 2}}
    for quick in (validator._exact(facts), validator._schema_quick(facts)):
        assert quick is not None
        assert type(quick.flat["household.net_wealth"]) is Decimal
        _same(quick, validator.validate(facts, use_quick=False))


#: values check_shape() refuses in a number field that the field's type would take (the
#: quick path must look at them), and values it takes
LIMITS = [Decimal("1." + "1" * 40), Decimal("0E-30"), Decimal("1E-25"), "1." + "1" * 40,
          "1e5", "1E-3", "1" * 25, "12.50", 0.1, 1e-25, 2.5, Decimal("12.50"),
          Decimal("420000"), Decimal("-0"), True]


@pytest.mark.parametrize("value", LIMITS, ids=repr)
@pytest.mark.parametrize("path", ["anchors:household.net_wealth", "no:economy.savings",
                                  "no:members.income_month", "no:household.years_in_municipality"])
def test_quick_looks_at_a_number_as_check_shape_does(path: str, value: Any) -> None:
    name, dotted = path.split(":")
    group, field = dotted.split(".")
    validator = VALIDATORS[name]
    facts: dict[str, Any] = {group: [{field: value}] if group == "members" else {field: value}}
    _agree(validator, facts)


def test_the_exact_pass_keeps_the_member_list_bounds() -> None:
    validator = VALIDATORS["no"]
    longest = PACKS["no"].schema.groups["members"].max_items or DEFAULT_MAX_MEMBERS
    member = {"age": 30, "role": "applicant"}
    for count in (0, 1, longest, longest + 1):
        facts = {"members": [dict(member) for _ in range(count)],
                 "household": {"lawful_residence": True}}
        assert (validator._exact(facts) is not None) == (0 < count <= longest)
        assert _agree(validator, facts) == (0 < count <= longest)


#: decimals in a number field: the exact pass takes those within the bounds and the
#: limits (the very object, as pydantic gives it), and leaves the rest to the schema
EXACT_DECIMALS = [
    (Decimal("12.50"), True), (Decimal("104.5000000000"), True), (Decimal("1E+2"), True),
    (Decimal("-0"), True), (Decimal("0E-30"), True), (Decimal("1E+20"), True),
    (Decimal("1" * 30), False),  # beyond 1e20: the schema's path decides
    (Decimal("0." + "1" * 30), True), (Decimal("0." + "1" * 31), False),
    (Decimal("-0.01"), False), (Decimal("1E+21"), False), (Decimal("NaN"), False),
    (Decimal("sNaN"), False), (Decimal("Infinity"), False), (Decimal("-Infinity"), False),
]


def _one_fact(path: str, value: Any) -> tuple[str, str, str, str, dict[str, Any]]:
    """``"pack:group.field"`` and a value → the pack's name, the dotted field, its
    group and field, and a document giving just that fact (on one member for a
    member field)."""
    name, dotted = path.split(":")
    group, field = dotted.split(".")
    item: dict[str, Any] = {field: value}
    return name, dotted, group, field, {group: [item] if group == "members" else item}


@pytest.mark.parametrize(("value", "taken"), EXACT_DECIMALS, ids=repr)
@pytest.mark.parametrize("path", ["no:economy.savings", "no:members.income_month",
                                  "no:household.years_in_municipality"])
def test_the_exact_pass_takes_a_decimal_as_the_full_path(path: str, value: Decimal,
                                                         taken: bool) -> None:
    name, _, group, field, facts = _one_fact(path, value)
    validator = VALIDATORS[name]
    exact = validator._exact(facts)
    bounded = field == "years_in_municipality"  # at most 130
    assert (exact is not None) == (taken and not (bounded and value > 130))
    _agree(validator, facts)
    if exact is not None:
        got = exact.data[group][0] if group == "members" else exact.data[group]
        assert got[field] is value


def test_the_exact_pass_refuses_a_decimal_where_an_int_or_a_bool_goes() -> None:
    validator = VALIDATORS["no"]
    for facts in ({"housing": {"rooms": Decimal(3)}},
                  {"household": {"lawful_residence": Decimal(1)}}):
        assert validator._exact(facts) is None
        _agree(validator, facts)


#: floats in a number field (a JSON body's fractions): the exact pass takes those
#: within the field's bounds and the number limits as the decimal pydantic makes of them
EXACT_FLOATS = [2.5, 0.1, 3.0, -0.0, 1e-7, 123456789012345.67, 1e20, 1e21, -0.01, -1e20,
                float("nan"), float("inf"), float("-inf")]


@pytest.mark.parametrize("value", EXACT_FLOATS, ids=repr)
@pytest.mark.parametrize("path", ["no:economy.savings", "no:members.income_month",
                                  "anchors:household.net_wealth"])
def test_the_exact_pass_takes_a_float_as_the_full_path(path: str, value: float) -> None:
    name, dotted, group, field, facts = _one_fact(path, value)
    validator = VALIDATORS[name]
    exact = validator._exact(facts)
    spec = PACKS[name].schema.field(dotted)
    assert spec is not None
    within = math.isfinite(value) and abs(value) <= 1e20 and (
        spec.minimum is None or value >= spec.minimum) and (
        spec.maximum is None or value <= spec.maximum)
    assert (exact is not None) == within
    assert _agree(validator, facts) == within
    if exact is not None:
        got = exact.data[group][0] if group == "members" else exact.data[group]
        assert type(got[field]) is Decimal and repr(got[field]) == repr(Decimal(repr(value)))
