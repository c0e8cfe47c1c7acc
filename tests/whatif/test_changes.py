"""apply_changes, value parsing, what_if diffs and scenario files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from eligibility import Engine
from eligibility.whatif import (
    ChangeError,
    apply_changes,
    compare_scenario,
    load_scenario,
    parse_value,
    what_if,
)
from tests.conftest import household
from tests.whatif.conftest import AS_OF


def test_set_remove_and_member_changes_do_not_touch_the_input() -> None:
    facts = household()
    out = apply_changes(facts, {
        "members[0].income_month": Decimal(20000),
        "members[+]": {"age": 5},
        "members[-1].disability": True,
        "housing.cost_month": None,
        "economy": None,
    })
    assert out["members"][0]["income_month"] == Decimal(20000)
    assert out["members"][1] == {"age": 5, "disability": True}
    assert "cost_month" not in out["housing"]
    assert "economy" not in out
    assert facts == household()  # the input is unchanged


def test_remove_and_resize_members() -> None:
    facts = household(members=[{"age": 40}, {"age": 10}, {"age": 7}])
    assert [m["age"] for m in apply_changes(facts, {"members[1]": None})["members"]] == [40, 7]
    assert [m["age"] for m in apply_changes(facts, {"members[-1]": None})["members"]] == [40, 10]
    assert apply_changes(facts, {"members": 1})["members"] == [{"age": 40}]
    assert apply_changes(facts, {"members": 4})["members"][3] == {}
    with pytest.raises(ChangeError, match="no member 5"):
        apply_changes(facts, {"members[5].age": 3})


def test_parse_value_follows_the_schema(engine: Engine) -> None:
    schema = engine.pack.schema
    assert parse_value(schema, "members[0].income_month", "12 345,50") == Decimal("12345.50")
    assert parse_value(schema, "members[0].age", "41") == 41
    assert parse_value(schema, "household.registered", "nei") is False
    assert parse_value(schema, "housing.tenure", "eie") == "eie"
    assert parse_value(schema, "housing.cost_month", "null") is None
    assert parse_value(schema, "members[+]", "age=4,disability=ja") == {"age": 4,
                                                                       "disability": True}
    assert parse_value(schema, "members[+]", "{age: 4}") == {"age": 4}
    assert parse_value(schema, "members", "3") == 3
    for path, text, message in [
        ("members[0].age", "4.5", "whole number"),
        ("members[0].age", "200", "at most 130"),
        ("housing.tenure", "leei", "did you mean 'leie'"),
        ("housing.cost", "1", "did you mean 'cost_month'"),
        ("members.age", "1", "which member"),
        ("housing.cost_month", "abc", "an amount"),
        ("household.registered", "kanskje", "true or false"),
        ("members[+]", "height=3", "no fact 'height'"),
    ]:
        with pytest.raises(ChangeError, match=message):
            parse_value(schema, path, text)


def test_what_if_reports_status_amount_and_reason_changes(engine: Engine) -> None:
    facts = household()
    more = what_if(engine, facts, {"members[0].income_month": "12000"}, AS_OF, "en")
    diff = more.diff("bostotte")
    assert (diff.status_before, diff.status_after) == ("eligible", "eligible")
    assert diff.amount_before == Decimal(983)
    assert diff.amount_after == engine.evaluate(
        apply_changes(facts, {"members[0].income_month": Decimal(12000)}),
        as_of=AS_OF).measure("bostotte").amount
    assert diff.amount_after is not None and diff.amount_delta is not None
    assert diff.amount_delta == diff.amount_after - Decimal(983)
    assert diff.amount_delta < 0
    assert more.changes[0].before == 10000 and more.changes[0].after == Decimal(12000)

    lost = what_if(engine, facts, {"members[0].income_month": Decimal(30000)}, AS_OF)
    diff = lost.diff("bostotte")
    assert (diff.status_before, diff.status_after) == ("eligible", "not_eligible")
    assert diff.amount_delta == Decimal(-983)
    assert [(r.requirement, r.before, r.after) for r in diff.reasons_changed] == [
        ("utbetaling", "met", "not_met")]
    assert [m.id for m in lost.changed()] == ["bostotte"]


def test_adding_a_child_is_one_change(engine: Engine) -> None:
    result = what_if(engine, household(), {"members[+]": "age=3"}, AS_OF)
    startlan = result.diff("startlan")
    assert any(r.requirement == "langvarig" and r.after == "waived"
               for r in startlan.reasons_changed)
    # the household grows: a higher cap raises bostøtte
    assert (result.diff("bostotte").amount_delta or 0) > 0


def test_scenario_file(engine: Engine, tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text("household: {kommunegruppe: 4, registered: true}\n"
                                        "members: [{age: 40, income_month: 10000}]\n"
                                        "housing: {tenure: leie, cost_month: 6000}\n")
    doc = {"baseline": "base.yaml", "variants": {
        "rich": {"set": {"members[0].income_month": 30000}},
        "baby": {"set": {"members[+]": {"age": 0}}},
        "alone_again": {"set": {"members[+]": {"age": 0}}, "remove": ["members[1]"]},
    }}
    scenario = load_scenario(doc, engine.pack.schema, tmp_path)
    result = compare_scenario(engine, scenario, AS_OF, "nb")
    assert [v.name for v in result.variants] == ["rich", "baby", "alone_again"]
    assert result.variants[0].diff("bostotte").status_after == "not_eligible"
    assert (result.variants[1].diff("bostotte").amount_delta or 0) > 0
    assert not result.variants[2].changed()
    with pytest.raises(ChangeError, match="variant 'bad'"):
        load_scenario({"baseline": {}, "variants": {"bad": {"set": {"nope.x": 1}}}},
                      engine.pack.schema)
