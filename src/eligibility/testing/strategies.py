"""Hypothesis strategies for households, built from any pack's fact schema.

:func:`households` draws fact documents that the pack's
:class:`~eligibility.facts.FactValidator` accepts: every declared type, enum
and range is respected, money is an exact :class:`~decimal.Decimal` in whole
kroner (with a sensible upper bound where the schema declares none, e.g.
200 000 NOK/month), and the ``members`` list has household structure — the
first member is an adult applicant (when the schema has ``role``/``age``),
members with role ``child`` are 0–17, partners are adults. With
``complete=False`` any fact may be missing. :func:`evaluation_dates` draws
dates inside the period the pack covers. Everything here is a pure function
of the pack; the strategies shrink towards small, readable households.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from eligibility.pack.model import FactSchema, FieldSpec, GroupSpec, RulePack

#: Upper bounds for money fields without a declared ``max``, by unit.
MONEY_CEILINGS: Mapping[str, int] = {
    "NOK/month": 200_000,
    "NOK/year": 2_400_000,
    "NOK": 10_000_000,
}
#: Upper bounds for numbers without a declared ``max``, by unit.
NUMBER_CEILINGS: Mapping[str, int] = {"years": 60, "m2": 400, "persons": 12}
DEFAULT_NUMBER_CEILING = 100
DEFAULT_INT_SPAN = 20
DEFAULT_MAX_MEMBERS = 6
ADULT_AGE = 18
OLDEST_AGE = 100
EARLIEST_FACT_DATE = date(1950, 1, 1)
LATEST_FACT_DATE = date(2040, 12, 31)


def bounds(spec: FieldSpec) -> tuple[Any, Any]:
    """The (low, high) range the strategies draw a numeric or date field from."""
    if spec.kind == "date":
        return EARLIEST_FACT_DATE, LATEST_FACT_DATE
    low = spec.minimum if spec.minimum is not None else 0
    if spec.maximum is not None:
        high = spec.maximum
    elif spec.kind == "money":
        high = MONEY_CEILINGS.get(spec.unit or "", 1_000_000)
    elif spec.kind == "number":
        high = NUMBER_CEILINGS.get(spec.unit or "", DEFAULT_NUMBER_CEILING)
    else:
        high = Decimal(low) + DEFAULT_INT_SPAN
    return low, high


Convert = Callable[[Any], Any] | None
#: One field of a drawn mapping: its name, the strategy of its raw value, how the raw
#: value becomes the fact (``None``: as drawn), and whether the field may be missing.
Plan = tuple[str, st.SearchStrategy[Any], Convert, bool]


def _money(n: int) -> Decimal:
    return Decimal(n)


def _tenths(n: int) -> Decimal:
    return Decimal(n) / 10


def raw_values(spec: FieldSpec, low: Any = None, high: Any = None,
               ) -> tuple[st.SearchStrategy[Any], Convert]:
    """The raw strategy of one field's values and its conversion (:func:`field_values`
    maps one onto the other; the households draw the raw values)."""
    if spec.kind == "bool":
        return st.booleans(), None
    if spec.kind == "enum":
        return st.sampled_from([str(v) for v in spec.values or ()]), None
    if spec.kind == "string":
        return st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå ", max_size=12), None
    lo, hi = bounds(spec)
    lo = lo if low is None else max(lo, low)
    hi = hi if high is None else min(hi, high)
    if spec.kind == "date":
        return st.dates(lo, hi), None
    ilo, ihi = math.ceil(Decimal(lo)), math.floor(Decimal(hi))
    if spec.kind == "int":
        return st.integers(ilo, ihi), None
    if spec.kind == "money":
        return st.integers(ilo, ihi), _money
    # number: one decimal place, exact
    return st.integers(ilo * 10, ihi * 10), _tenths


def field_values(spec: FieldSpec, low: Any = None, high: Any = None) -> st.SearchStrategy[Any]:
    """Values of one field, optionally narrowed to ``[low, high]``."""
    strategy, convert = raw_values(spec, low, high)
    return strategy if convert is None else strategy.map(convert)


def _maybe(value: st.SearchStrategy[Any], complete: bool) -> st.SearchStrategy[Any]:
    return value if complete else st.one_of(st.none(), value)


def _plan(name: str, spec: FieldSpec, complete: bool, low: Any = None,
          high: Any = None) -> Plan:
    """How to draw one field; one that may be missing is drawn as ``one_of(none(), ...)``
    chooses (a choice between missing and present, then the value), without the layers."""
    strategy, convert = raw_values(spec, low, high)
    return name, strategy, convert, not (complete or spec.required)


#: Missing or present: the choice ``one_of(none(), value)`` makes (index 0, missing, first).
_PRESENT = st.sampled_from((False, True))


def _mapping(plans: list[Plan]) -> st.SearchStrategy[dict[str, Any]]:
    """A mapping drawn field by field in one composite (no per-field strategy layers);
    a missing field (``None``) is left out."""

    @st.composite
    def draw_mapping(draw: st.DrawFn) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, strategy, convert, optional in plans:
            if optional and not draw(_PRESENT):
                continue
            value = draw(strategy)
            if value is not None:
                out[name] = value if convert is None else convert(value)
        return out

    return draw_mapping()


def _group(spec: GroupSpec, complete: bool) -> st.SearchStrategy[dict[str, Any]]:
    return _mapping([_plan(name, f, complete) for name, f in spec.fields.items()])


def member_strategy(
    spec: GroupSpec, complete: bool, role: str | None = None, adult: bool | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """One household member; ``role`` and ``adult`` fix the member's place in the household.

    ``overrides`` maps a field to a fixed value or to a strategy for it.
    """
    plans: list[Plan] = []
    for name, f in spec.fields.items():
        optional = not (complete or f.required)
        if overrides and name in overrides:
            fixed = overrides[name]
            plans.append((name, fixed if isinstance(fixed, st.SearchStrategy)
                          else st.just(fixed), None, False))
        elif name == "role" and role is not None and f.kind == "enum":
            plans.append((name, st.just(role), None, optional))
        elif name == "age" and f.kind == "int" and adult is not None:
            lo, hi = bounds(f)
            if adult:
                plans.append(_plan(name, f, complete, ADULT_AGE, min(Decimal(hi), OLDEST_AGE)))
            else:
                plans.append(_plan(name, f, complete, lo, ADULT_AGE - 1))
        else:
            plans.append(_plan(name, f, complete))
    return _mapping(plans)


def _roles(spec: GroupSpec) -> tuple[str, ...]:
    role = spec.fields.get("role")
    return tuple(role.values or ()) if role is not None and role.kind == "enum" else ()


def _most_members(spec: GroupSpec) -> int:
    return min(spec.max_items or DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MEMBERS)


def max_facts(pack: RulePack) -> int:
    """The most facts a household from :func:`households` can hold (every field of every
    group, on the most members drawn)."""
    return sum(len(g.fields) * (_most_members(g) if g.is_list else 1)
               for g in pack.schema.groups.values())


def _members(spec: GroupSpec, complete: bool) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Member lists; every member strategy is built here once, not in each draw."""
    roles = _roles(spec)
    has_age = "age" in spec.fields and spec.fields["age"].kind == "int"
    most = _most_members(spec)
    first_role = "applicant" if "applicant" in roles else None
    first = member_strategy(spec, complete, first_role, True if has_age else None)
    others = [r for r in roles if r != "applicant"]
    by_role: dict[str | None, st.SearchStrategy[dict[str, Any]]] = {}
    kinds: list[str | None] = [*others] if others else [None]
    for role in kinds:
        adult: bool | None = None
        if has_age and role == "child":
            adult = False
        elif has_age and role == "partner":
            adult = True
        by_role[role] = member_strategy(spec, complete, role, adult)
    role_choice = st.sampled_from(others) if others else None

    @st.composite
    def draw_members(draw: st.DrawFn) -> list[dict[str, Any]]:
        count = draw(st.integers(1, max(1, most)))
        members = [draw(first)]
        for _ in range(count - 1):
            role = draw(role_choice) if role_choice is not None else None
            members.append(draw(by_role[role]))
        return members

    return draw_members()


def set_fact(facts: dict[str, Any], path: str, value: Any, schema: FactSchema) -> None:
    """Set ``path`` (``group.field``; ``members.field`` sets it on every member) in place."""
    group, _, name = path.partition(".")
    spec = schema.groups[group]
    if spec.is_list:
        for member in facts.get(group, []):
            member[name] = value
    else:
        facts.setdefault(group, {})[name] = value


def households(pack: RulePack, complete: bool = False, as_of: date | None = None,
               given: Mapping[str, Any] | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Fact documents valid under ``pack``'s schema (usable with ``@given``).

    ``complete=True`` gives every fact; otherwise any fact may be missing.
    ``given`` fixes facts (``{"housing.tenure": "leie"}``; a ``members.*`` path
    fixes that field on every member). ``as_of`` is accepted for symmetry with
    :func:`scenarios`: fact ranges do not depend on the date. The strategies of
    every group and member kind are built once here, not in each draw.
    """
    del as_of
    schema = pack.schema
    fixed = dict(given or {})
    groups = [(spec.name, spec.is_list,
               _members(spec, complete) if spec.is_list else _group(spec, complete))
              for spec in schema.groups.values()]

    @st.composite
    def draw_household(draw: st.DrawFn) -> dict[str, Any]:
        facts: dict[str, Any] = {}
        for name, is_list, strategy in groups:
            values = draw(strategy)
            if is_list or values or complete:
                facts[name] = values
        for path, value in fixed.items():
            set_fact(facts, path, value, schema)
        return facts

    return draw_household()


def pack_period(pack: RulePack) -> tuple[date, date]:
    """The dates evaluations are drawn from: the pack's validity, or two years past its
    last dated rule or parameter version when the pack is open-ended."""
    start = pack.meta.valid_from
    if pack.meta.valid_to is not None:
        return start, pack.meta.valid_to
    return start, max([start, *rule_dates(pack)]) + timedelta(days=730)


def rule_dates(pack: RulePack) -> set[date]:
    """Every date where something in the pack changes: each parameter version's first
    day, and each measure's, requirement's and criterion's first and last day."""
    dates: set[date] = set()
    for p in pack.parameters.values():
        dates.update(v.valid_from for v in p.versions)
    for m in pack.measures:
        dates.update(d for d in (m.valid_from, m.valid_to) if d)
        for r in m.requirements:
            dates.update(d for d in (r.valid_from, r.valid_to) if d)
    for c in pack.criteria:
        dates.update(d for d in (c.valid_from, c.valid_to) if d)
    return dates


def evaluation_dates(pack: RulePack, start: date | None = None,
                     end: date | None = None) -> st.SearchStrategy[date]:
    """Evaluation dates inside the period the pack covers (narrowed by start/end).

    Half the draws are the dates where something changes (:func:`rule_dates`) and
    the days either side, because that is where dated rules go wrong.
    """
    lo, hi = pack_period(pack)
    lo = max(lo, start) if start else lo
    hi = min(hi, end) if end else hi
    around = sorted({d + timedelta(days=k) for d in rule_dates(pack) for k in (-1, 0, 1)})
    boundary = [d for d in around if lo <= d <= hi]
    if not boundary:
        return st.dates(lo, hi)
    return st.one_of(st.sampled_from(boundary), st.dates(lo, hi))


def scenarios(pack: RulePack, complete: bool = False,
              given: Mapping[str, Any] | None = None) -> st.SearchStrategy[tuple[dict[str, Any],
                                                                                  date]]:
    """A household and an evaluation date, drawn together."""
    return st.tuples(households(pack, complete, given=given), evaluation_dates(pack))


__all__ = [
    "evaluation_dates",
    "field_values",
    "households",
    "max_facts",
    "member_strategy",
    "pack_period",
    "raw_values",
    "rule_dates",
    "scenarios",
    "set_fact",
]
