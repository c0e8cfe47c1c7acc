"""The quick validation path on edge values gives what the full path gives, or leaves
the document to it.

:meth:`FactValidator.quick` (its exact one-pass reading of plain documents, and the quick
schema behind it) is held to :meth:`FactValidator.validate` with the quick path off, on
generated documents of ``rules/no`` and the anchor pack spoilt with edge values: the
bounds and one past them, big ints, negative zero and trailing-zero decimals, floats,
wrong types, nulls, keys that are not fields and missing or null groups. Where the full
path refuses a document, ``quick`` gives ``None``; where it takes one, ``quick`` gives
``None`` or the same flat facts, members and data (the same types, in the same order)
and the same facts hash; the exact pass decides where it takes a document, and takes
a share of them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import load_pack
from eligibility.facts import FactValidator
from eligibility.testing.strategies import households
from tests.test_facts_quick import PACKS, VALIDATORS, _agree


def _edges(pack: str, group: str, field: str) -> tuple[list[Any], list[Any]]:
    """Edge values for one field: those its kind may take (its bounds, negative zero,
    trailing zeros, exponents, floats, big ints) and those it refuses or converts."""
    spec = PACKS[pack].schema.groups[group].fields[field]
    odd: list[Any] = [None, "1", [], {}, "x", float("inf"), 10**20 + 1, 2**64,
                      -(2**63) - 1, Decimal("NaN"), Decimal("1" * 25)]
    fine: list[Any] = [0, 1, -1, 10**20, -(10**20)]
    for bound in (spec.minimum, spec.maximum):
        if bound is not None:
            fine += [int(bound), int(bound) - 1, int(bound) + 1]
            odd += [Decimal(bound), float(bound), Decimal(bound) - Decimal("0.01")]
    if spec.kind in ("number", "money"):
        fine += [Decimal("-0"), Decimal("-0.0"), Decimal("0E-7"), Decimal("1.10"),
                 Decimal("12.5"), Decimal("120"), Decimal("12"), Decimal("1E+2"),
                 Decimal("1.20E+3"), Decimal("1E-3"), Decimal("7.000"),
                 Decimal("0." + "1" * 30), 2.5, -0.0, 3.0, 1e-7, 123456.5, 1e20, 420000]
    elif spec.kind == "enum":
        fine += list(spec.values or ())
        odd += ["INGEN", ""]
    elif spec.kind == "bool":
        fine += [True, False]
    return fine, odd


@st.composite
def _documents(draw: st.DrawFn, name: str) -> dict[str, Any]:
    schema = PACKS[name].schema
    facts: dict[str, Any] = draw(households(PACKS[name], complete=draw(st.booleans())))
    if draw(st.booleans()):  # as a JSON body gives them: whole decimals as ints
        facts = {g: [_json(m) for m in v] if isinstance(v, list) else _json(v)
                 for g, v in facts.items()}
    for _ in range(draw(st.integers(0, 6))):
        group = draw(st.sampled_from(sorted(schema.groups)))
        target = facts.get(group)
        if isinstance(target, list) and target:
            target = draw(st.sampled_from(target))
        if not isinstance(target, dict):
            continue
        fields = schema.groups[group].fields
        numbers = sorted(f for f, spec in fields.items() if spec.kind in ("number", "money"))
        field = draw(st.sampled_from(numbers if numbers and draw(st.booleans())
                                     else sorted(fields)))
        fine, odd = _edges(name, group, field)
        target[field] = draw(st.sampled_from(odd if draw(st.integers(0, 5)) == 0 else fine))
    shape = draw(st.integers(0, 7))
    group = draw(st.sampled_from(sorted(schema.groups)))
    if shape == 0:
        facts.pop(group, None)  # a missing group
    elif shape == 1:
        facts[group] = None  # a null group
    elif shape == 2 and isinstance(facts.get(group), dict):
        facts[group]["no_such_fact"] = 1  # a key that is not a field
    elif shape == 3:
        facts["no_such_group"] = {}
    elif shape == 4 and isinstance(facts.get(group), dict):
        facts[group] = dict(reversed(facts[group].items()))  # not the schema's order
    return facts


def _json(item: dict[str, Any]) -> dict[str, Any]:
    return {k: int(v) if type(v) is Decimal and v == v.to_integral_value() else v
            for k, v in item.items()}


@pytest.mark.parametrize("name", sorted(PACKS))
def test_quick_gives_what_the_full_path_gives(name: str) -> None:
    validator = VALIDATORS[name]
    taken = []

    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_documents(name))
    def check(facts: dict[str, Any]) -> None:
        if _agree(validator, facts):  # (the quick path, its exact pass and its schema)
            taken.append(validator._exact(facts) is not None)

    check()
    assert any(taken)  # the exact pass took some documents


@pytest.mark.parametrize("path", ["anchors:household.net_wealth",
                                  "anchors:household.monthly_housing_cost",
                                  "no:economy.savings", "no:members.income_month",
                                  "no:household.years_in_municipality", "no:housing.rooms",
                                  "no:situation.homeless"])
def test_each_edge_value_gives_what_the_full_path_gives(path: str) -> None:
    name, dotted = path.split(":")
    group, field = dotted.split(".")
    validator = VALIDATORS[name]
    fine, odd = _edges(name, group, field)
    for value in fine + odd:
        item = {field: value}
        facts: dict[str, Any] = {group: [item] if group == "members" else item}
        _agree(validator, facts)


#: required and optional facts of every kind, the kinds interleaved, a date and a text
REQUIRED = load_pack(Path(__file__).parent / "facts_packs" / "required")
SHUFFLED = {"required": REQUIRED, "no": PACKS["no"], "anchors": PACKS["anchors"]}
SHUFFLED_VALIDATORS = {"required": FactValidator(REQUIRED.schema), "no": VALIDATORS["no"],
                       "anchors": VALIDATORS["anchors"]}


@st.composite
def _shuffled(draw: st.DrawFn, name: str) -> dict[str, Any]:
    """A document whose groups and members give their fields in any order and any
    subset (required ones too), now and then a null, a key that is not a field, a date
    or a text, or a whole group left out."""
    schema = SHUFFLED[name].schema
    facts: dict[str, Any] = draw(households(SHUFFLED[name], complete=draw(st.booleans())))
    if draw(st.booleans()):
        facts = {g: [_json(m) for m in v] if isinstance(v, list) else _json(v)
                 for g, v in facts.items()}

    def spoil(group: str, item: dict[str, Any]) -> dict[str, Any]:
        keys = draw(st.permutations(sorted(item)))
        kept = [k for k in keys if draw(st.integers(0, 5))]  # each left out w.p. 1/6
        out = {k: item[k] for k in kept}
        fields = schema.groups[group].fields
        spoilt = draw(st.integers(0, 11))
        if spoilt == 0 and fields:  # a null
            out[draw(st.sampled_from(sorted(fields)))] = None
        elif spoilt == 1:
            out["no_such_fact"] = True
        elif spoilt == 2:  # a date or a text where the schema has one
            for fname, spec in fields.items():
                if spec.kind == "date":
                    out[fname] = date(2025, 6, 1)
                elif spec.kind == "string":
                    out[fname] = "Oslo"
        return out

    out: dict[str, Any] = {}
    for group in draw(st.permutations(sorted(facts))):
        value = facts[group]
        if draw(st.integers(0, 7)) == 0:
            continue  # the whole group left out
        out[group] = [spoil(group, m) for m in value] if isinstance(value, list) \
            else spoil(group, value)
    return out


@pytest.mark.parametrize("name", sorted(SHUFFLED))
def test_the_exact_pass_reads_fields_in_any_order_and_subset(name: str) -> None:
    validator = SHUFFLED_VALIDATORS[name]
    taken = []

    @settings(max_examples=100, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(_shuffled(name))
    def check(facts: dict[str, Any]) -> None:
        if _agree(validator, facts):  # the same values, flat facts and data in the
            # schema's order, the same hash (the exact pass's copies of the schema's
            # fields and flat keys with those not given taken out)
            taken.append(validator._exact(facts) is not None)

    check()
    assert any(taken)  # the exact pass took some documents
    assert not all(taken)  # and left some to the schema's path
