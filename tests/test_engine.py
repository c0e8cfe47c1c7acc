"""The engine end to end on the mini pack: statuses, exceptions, discretion, money, provenance."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from eligibility import AsOfError, Engine, FactsError, RulePack, load_pack
from tests.conftest import MINI, household

AS_OF = date(2023, 6, 1)


def test_eligible_with_exact_amount(engine: Engine) -> None:
    d = engine.evaluate(household(), as_of=AS_OF, lang="en")
    bostotte = d.measure("bostotte")
    # income 120 000/yr; own share 20 000 + 0.2 × 120 000 = 44 000; cap(1) 60 000;
    # 0.737 × (60 000 − 44 000) / 12 = 982.67 → 983 (krone, half up)
    assert bostotte.status == "eligible"
    assert bostotte.amount == Decimal("983") and isinstance(bostotte.amount, Decimal)
    assert bostotte.unit == "NOK/month"
    assert [r.outcome for r in bostotte.reasons] == ["met", "met", "met"]


def test_minimum_payout_makes_it_not_eligible(engine: Engine) -> None:
    facts = household(members=[{"age": 40, "income_month": 19000}])
    bostotte = engine.evaluate(facts, as_of=AS_OF).measure("bostotte")
    assert bostotte.status == "not_eligible"
    assert bostotte.amount is None
    failed = [r for r in bostotte.reasons if r.outcome == "not_met"]
    assert [r.requirement for r in failed] == ["utbetaling"]
    assert failed[0].values["amount"] == Decimal("0")


def test_parameter_version_follows_as_of(engine: Engine) -> None:
    before = engine.evaluate(household(), as_of=date(2023, 12, 31)).measure("bostotte")
    after = engine.evaluate(household(), as_of=date(2024, 1, 1)).measure("bostotte")
    # 2024: cap 72 000, own share 24 000 + 24 000 = 48 000 → 0.737 × 24 000 / 12 = 1 474
    assert (before.amount, after.amount) == (Decimal("983"), Decimal("1474"))
    assert after.unconfirmed == ["param:bostotte.egenandel"]
    assert before.unconfirmed == []


def test_exception_waives_a_requirement_and_is_named(engine: Engine) -> None:
    facts = household(members=[{"age": 17, "income_month": 5000}, {"age": 1}])
    reasons = {r.requirement: r for r in engine.evaluate(facts, as_of=AS_OF,
                                                         lang="en").measure("bostotte").reasons}
    assert reasons["voksen"].outcome == "waived"
    assert reasons["voksen"].exception == "egne_barn"
    assert "Has own children" in reasons["voksen"].message


def test_startlan_exception_and_discretion(engine: Engine) -> None:
    facts = household(economy={"bank_loan_refused": True, "years_problem": 1,
                               "savings_used": True},
                      situation={"homeless": False, "forced_sale": True})
    startlan = engine.evaluate(facts, as_of=AS_OF).measure("startlan")
    outcomes = {r.requirement: r.outcome for r in startlan.reasons}
    assert outcomes == {"bank": "met", "langvarig": "waived", "betjeningsevne": "discretionary"}
    assert startlan.status == "undetermined"
    assert startlan.discretionary == ["betjeningsevne"]
    assert startlan.missing_facts == []


def test_the_bank_gate_is_never_waived(engine: Engine) -> None:
    facts = household(economy={"bank_loan_refused": False},
                      situation={"homeless": False, "forced_sale": True})
    assert engine.evaluate(facts, as_of=AS_OF).measure("startlan").status == "not_eligible"


def test_missing_facts_make_it_undetermined_and_are_asked_for(engine: Engine) -> None:
    facts = household(household={"kommunegruppe": 4})  # not known: registered
    d = engine.evaluate(facts, as_of=AS_OF, lang="en")
    bostotte = d.measure("bostotte")
    assert bostotte.status == "undetermined"
    assert bostotte.missing_facts == ["household.registered"]
    asked = {m.path: m for m in d.missing_facts}
    assert asked["household.registered"].affects == ["bostotte"]


def test_false_and_unknown_is_not_eligible(engine: Engine) -> None:
    facts = household(household={"kommunegruppe": 4},
                      members=[{"age": 40, "income_month": 19000}])
    bostotte = engine.evaluate(facts, as_of=AS_OF).measure("bostotte")
    assert bostotte.status == "not_eligible"
    assert bostotte.missing_facts == []


def test_member_facts_are_asked_per_member(engine: Engine) -> None:
    facts = household(members=[{"income_month": 1000}])
    d = engine.evaluate(facts, as_of=AS_OF, lang="en")
    paths = [m.path for m in d.missing_facts]
    assert "members[0].age" in paths
    question = next(m for m in d.missing_facts if m.path == "members[0].age").question
    assert question == "#1: How old is the person?"


def test_decision_orders_measures_by_goal_then_status(engine: Engine) -> None:
    d = engine.evaluate(household(situation={"homeless": True}), as_of=AS_OF)
    assert [m.id for m in d.measures] == ["midlertidig_botilbud", "bostotte", "startlan"]


def test_priority_rank(engine: Engine) -> None:
    facts = household(members=[{"age": 30, "income_month": 9000}, {"age": 4}])
    bostotte = engine.evaluate(facts, as_of=AS_OF, lang="en").measure("bostotte")
    assert bostotte.priority == 1 and bostotte.priority_reason == "Family with children"


def test_reasons_carry_values_sources_and_both_languages(engine: Engine) -> None:
    nb = engine.evaluate(household(), as_of=AS_OF, lang="nb").measure("bostotte")
    en = engine.evaluate(household(), as_of=AS_OF, lang="en").measure("bostotte")
    assert nb.reasons[1].message == "Folkeregistrert på adressen: oppfylt"
    assert en.reasons[1].message == "Registered at the address: met"
    assert nb.reasons[1].values == {"household.registered": True}
    assert nb.sources[0].url == "https://lovdata.no/dokument/NL/lov/2012-08-24-64"


def test_criteria_are_reported(engine: Engine) -> None:
    d = engine.evaluate(household(members=[{"age": 30}, {"age": 3}]), as_of=AS_OF)
    assert d.criterion("barnefamilie").value is True
    assert d.criterion("husstand").value == 2
    unknown = engine.evaluate({"members": [{"age": 30}]}, as_of=AS_OF).criterion("prioritert")
    assert unknown.value is None and unknown.known is False
    assert set(unknown.missing_facts) == {"members[0].disability", "situation.homeless"}


def test_provenance_is_stable_byte_for_byte(engine: Engine) -> None:
    facts = household()
    first = engine.evaluate(facts, as_of=AS_OF).to_json()
    second = Engine(load_pack(MINI)).evaluate(household(), as_of=AS_OF).to_json()
    assert first == second
    p = engine.evaluate(facts, as_of=AS_OF).provenance
    assert p.pack_id == "mini" and p.as_of == AS_OF and len(p.facts_sha256) == 64
    assert p.content_hash == engine.pack.content_hash
    other = engine.evaluate(household(housing={"tenure": "leie", "cost_month": 6001}),
                            as_of=AS_OF).provenance
    assert other.facts_sha256 != p.facts_sha256


def test_facts_hash_ignores_key_order_and_number_spelling(engine: Engine) -> None:
    a = engine.evaluate({"housing": {"cost_month": 6000, "tenure": "leie"}}, as_of=AS_OF)
    b = engine.evaluate({"housing": {"tenure": "leie", "cost_month": "6000.00"}}, as_of=AS_OF)
    assert a.provenance.facts_sha256 == b.provenance.facts_sha256


def test_as_of_outside_the_pack(engine: Engine) -> None:
    with pytest.raises(AsOfError) as info:
        engine.evaluate(household(), as_of=date(2019, 12, 31))
    assert "outside the period" in str(info.value)


def test_bad_facts_name_every_field(engine: Engine) -> None:
    facts = household(members=[{"age": -1, "income_month": "lots"}],
                      housing={"tenure": "villa", "cost_month": 6000, "garden": True})
    with pytest.raises(FactsError) as info:
        engine.evaluate(facts, as_of=AS_OF)
    paths = {i.path for i in info.value.issues}
    assert paths == {"members[0].age", "members[0].income_month", "housing.tenure",
                     "housing.garden"}
    tenure = next(i for i in info.value.issues if i.path == "housing.tenure")
    assert tenure.value == "villa" and tenure.expected == "one of leie, eie, ingen"


def test_no_float_reaches_a_decision(engine: Engine) -> None:
    facts = household(members=[{"age": 40, "income_month": 10000.5}])
    amount = engine.evaluate(facts, as_of=AS_OF).measure("bostotte").amount
    assert isinstance(amount, Decimal)


def test_one_engine_serves_many_threads(engine: Engine) -> None:
    expected = engine.evaluate(household(), as_of=AS_OF).to_json()
    results: list[str] = []

    def work() -> None:
        for _ in range(50):
            results.append(engine.evaluate(household(), as_of=AS_OF).to_json())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 200 and set(results) == {expected}


def test_reading_a_closed_parameter_names_it(pack_copy: Callable[..., Path]) -> None:
    closed = Engine(load_pack(pack_copy({"parameters/startlan.yaml": [
        ("values: {2016-01-01: 5}", "values: {2016-01-01: 5, 2022-01-01: null}")]})))
    facts = household(economy={"bank_loan_refused": True, "years_problem": 6,
                               "savings_used": True})
    assert closed.evaluate(facts, as_of=date(2021, 12, 31)).measure("startlan").reasons
    with pytest.raises(AsOfError) as info:
        closed.evaluate(facts, as_of=date(2022, 1, 1))
    assert "parameter 'startlan.langvarig_aar' has no value on 2022-01-01" in str(info.value)


def test_absurd_amounts_are_refused_before_any_arithmetic(
        pack_copy: Callable[..., Path]) -> None:
    uncapped = Engine(load_pack(pack_copy({"measures/bostotte.yaml": [
        ("formula: monthly(", "formula: housing.cost_month + 0 * monthly(")]})))
    facts = household(housing={"tenure": "leie", "cost_month": "1e30"})
    with pytest.raises(FactsError) as info:
        uncapped.evaluate(facts, as_of=AS_OF)
    assert [i.path for i in info.value.issues] == ["housing.cost_month"]
    assert "at most 1e20 in size" in str(info.value)


def test_the_collector_is_resumed_after_an_engine_compiles(mini_pack: RulePack) -> None:
    import gc

    assert gc.isenabled()
    Engine(mini_pack)
    assert gc.isenabled()
    gc.disable()
    try:
        Engine(mini_pack)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
