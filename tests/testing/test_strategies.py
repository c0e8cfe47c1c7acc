"""The household strategies give valid, structured households for any pack."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings

from eligibility import Engine, load_pack
from eligibility.testing.strategies import households, pack_period, scenarios

ROOT = Path(__file__).parents[2]
MINI = load_pack(ROOT / "tests" / "packs" / "mini")
MINI_ENGINE = Engine(MINI)
FAST = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


@FAST
@given(households(MINI, complete=True))
def test_complete_households_fit_the_schema_and_have_every_fact(facts: dict[str, Any]) -> None:
    valid = MINI_ENGINE.validate(facts)  # raises FactsError if anything does not fit
    for group in MINI.schema.groups.values():
        if group.is_list:
            assert facts["members"]
            for member in facts["members"]:
                assert set(member) == set(group.fields)
        else:
            assert set(facts[group.name]) == set(group.fields)
    assert valid.members is not None and valid.members[0]["age"] >= 18
    for member in facts["members"]:
        assert isinstance(member["income_month"], Decimal)
        assert 0 <= member["income_month"] <= 200_000
    assert 1 <= facts["household"]["kommunegruppe"] <= 4


@FAST
@given(scenarios(MINI, complete=False))
def test_partial_households_evaluate(scenario: tuple[dict[str, Any], Any]) -> None:
    facts, as_of = scenario
    start, end = pack_period(MINI)
    assert start <= as_of <= end
    MINI_ENGINE.evaluate(facts, as_of=as_of)


def test_partial_households_do_leave_facts_out() -> None:
    seen_missing: list[bool] = []

    @FAST
    @given(households(MINI))
    def probe(facts: dict[str, Any]) -> None:
        seen_missing.append(len(facts.get("housing", {})) < 2)

    probe()
    assert any(seen_missing) and not all(seen_missing)


@FAST
@given(households(MINI, complete=True, given={"housing.tenure": "eie",
                                              "members.disability": True}))
def test_given_fixes_facts(facts: dict[str, Any]) -> None:
    assert facts["housing"]["tenure"] == "eie"
    assert all(m["disability"] is True for m in facts["members"])


def test_roles_and_ages_follow_household_structure() -> None:
    no = ROOT / "rules" / "no"
    if not (no / "pack.yaml").is_file():  # pragma: no cover - the pack is in the repo
        return
    pack = load_pack(no)
    engine = Engine(pack)

    @FAST
    @given(households(pack, complete=True))
    def check(facts: dict[str, Any]) -> None:
        engine.validate(facts)
        first, *others = facts["members"]
        assert first["role"] == "applicant" and first["age"] >= 18
        for member in others:
            assert member["role"] != "applicant"
            if member["role"] == "child":
                assert 0 <= member["age"] <= 17
            if member["role"] == "partner":
                assert member["age"] >= 18

    check()
