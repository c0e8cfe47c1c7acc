"""Fact provenance: {value, source, confirmed} wrappers, the confirm-before-deciding list,
and that confirming a fact without changing its value never changes an outcome."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.errors import FactsError
from tests.conftest import household

WHEN = date(2025, 1, 1)
SOURCES = "sources: [{ref: \"Test source\"}]\n"


@pytest.fixture(scope="module")
def sourced(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    import shutil
    root = Path(__file__).resolve().parents[1] / "tests" / "packs" / "mini"
    target = tmp_path_factory.mktemp("provenance") / "pack"
    shutil.copytree(root, target)
    pack_yaml = target / "pack.yaml"
    text = pack_yaml.read_text(encoding="utf-8")
    assert SOURCES in text
    pack_yaml.write_text(text.replace(
        SOURCES, SOURCES + "fact_sources: [folkeregisteret, a-ordningen, applicant]\n"),
        encoding="utf-8")
    return Engine(load_pack(target))


def wrap(value: Any, source: str = "a-ordningen", confirmed: bool = False) -> dict[str, Any]:
    return {"value": value, "source": source, "confirmed": confirmed}


def test_plain_input_gives_the_same_json(sourced: Engine) -> None:
    plain = sourced.evaluate_json(household(), WHEN)
    assert b"confirm_before_deciding" not in plain
    assert sourced.evaluate(household(), WHEN).to_json().find("confirm_before") == -1
    confirmed = household(housing={"tenure": "leie",
                                   "cost_month": wrap(6000, confirmed=True)})
    decision = sourced.evaluate(confirmed, WHEN)
    assert decision.confirm_before_deciding == []
    assert decision.provenance.facts_sha256 == sourced.evaluate(
        household(), WHEN).provenance.facts_sha256


def test_unconfirmed_facts_are_listed_per_measure(sourced: Engine) -> None:
    facts = household(housing={"tenure": "leie", "cost_month": wrap(6000)},
                      members=[{"age": 40, "disability": False,
                                "income_month": wrap(10000, "applicant")}])
    decision = sourced.evaluate(facts, WHEN)
    items = {c.path: c for c in decision.confirm_before_deciding or []}
    assert set(items) == {"housing.cost_month", "members[0].income_month"}
    assert "bostotte" in items["housing.cost_month"].affects
    assert items["members[0].income_month"].source == "applicant"
    assert decision.missing_facts == []  # distinct from missing facts
    data = json.loads(sourced.evaluate_json(facts, WHEN))
    assert data["confirm_before_deciding"][0]["affects"]
    # the fast JSON (orjson) gives pydantic's bytes, the confirm list included
    assert sourced.evaluate_json(facts, WHEN) == decision.model_dump_json().encode()


def test_a_fact_no_measure_reads_is_not_listed(sourced: Engine) -> None:
    facts = household(members=[{"age": 40, "disability": wrap(False), "income_month": 10000}])
    assert sourced.evaluate(facts, WHEN).confirm_before_deciding == []


def _affects(engine: Engine, facts: Any) -> dict[str, list[str]]:
    decision = engine.evaluate(facts, WHEN)
    return {c.path: c.affects for c in decision.confirm_before_deciding or []}


def test_only_the_failing_requirements_of_a_measure_not_granted(sourced: Engine) -> None:
    # startlån fails on `bank`; `langvarig` is met: its facts did not decide the outcome
    facts = household(economy={"bank_loan_refused": wrap(False), "years_problem": wrap(5),
                               "savings_used": wrap(True)},
                      situation={"homeless": False, "forced_sale": wrap(False)})
    decision = sourced.evaluate(facts, WHEN)
    assert decision.measure("startlan").status == "not_eligible"
    assert _affects(sourced, facts) == {"economy.bank_loan_refused": ["startlan"]}
    summary = sourced.evaluate(facts, WHEN, detail="summary")  # no reasons in the Decision
    assert summary.confirm_before_deciding == decision.confirm_before_deciding
    # with `langvarig` failing too, its facts and its exceptions' facts decide as well
    failing = household(economy={"bank_loan_refused": wrap(False), "years_problem": wrap(0),
                                 "savings_used": wrap(True)},
                        situation={"homeless": False, "forced_sale": wrap(False)})
    assert set(_affects(sourced, failing)) == {
        "economy.bank_loan_refused", "economy.years_problem", "economy.savings_used",
        "situation.forced_sale"}


def test_a_met_requirement_brings_its_expression_not_its_exceptions(sourced: Engine) -> None:
    facts = household(economy={"bank_loan_refused": wrap(True), "years_problem": wrap(5),
                               "savings_used": wrap(True)},
                      situation={"homeless": False, "forced_sale": wrap(False)})
    assert sourced.evaluate(facts, WHEN).measure("startlan").status == "undetermined"
    assert set(_affects(sourced, facts)) == {
        "economy.bank_loan_refused", "economy.years_problem", "economy.savings_used"}


def test_a_waived_requirement_brings_the_exception_that_waived_it(sourced: Engine) -> None:
    facts = household(economy={"bank_loan_refused": wrap(True), "years_problem": wrap(0),
                               "savings_used": wrap(False)},
                      situation={"homeless": False, "forced_sale": wrap(True)})
    decision = sourced.evaluate(facts, WHEN)
    langvarig = next(r for r in decision.measure("startlan").reasons
                     if r.requirement == "langvarig")
    assert (langvarig.outcome, langvarig.exception) == ("waived", "tvangssalg")
    assert set(_affects(sourced, facts)) == {"economy.bank_loan_refused",
                                             "situation.forced_sale"}


def test_the_amount_and_a_requirement_reading_it_bring_the_amounts_facts(
        sourced: Engine) -> None:
    # bostøtte granted: its requirements and the amount (housing cost, income) decide
    facts = household(housing={"tenure": "leie", "cost_month": wrap(6000)},
                      members=[{"age": 40, "disability": False, "income_month": wrap(10000)}])
    assert sourced.evaluate(facts, WHEN).measure("bostotte").status == "eligible"
    assert _affects(sourced, facts) == {"housing.cost_month": ["bostotte"],
                                        "members[0].income_month": ["bostotte"]}
    # not granted because the amount is under the minimum: `utbetaling` reads the amount
    high = household(housing={"tenure": "leie", "cost_month": wrap(6000)},
                     members=[{"age": 40, "disability": False, "income_month": wrap(40000)}],
                     household={"kommunegruppe": 4, "registered": wrap(True)})
    decision = sourced.evaluate(high, WHEN)
    assert decision.measure("bostotte").status == "not_eligible"
    affects = _affects(sourced, high)
    assert affects.get("housing.cost_month") == ["bostotte"]
    assert "household.registered" not in affects  # met, and not what failed


_VARIED: dict[str, Any] = {
    "economy.bank_loan_refused": st.booleans(),
    "economy.years_problem": st.integers(0, 6),
    "economy.savings_used": st.booleans(),
    "situation.forced_sale": st.booleans(),
    "situation.homeless": st.booleans(),
    "household.registered": st.booleans(),
    "housing.cost_month": st.integers(0, 20000),
    "members[0].income_month": st.integers(0, 40000),
    "members[0].age": st.integers(0, 90),
    "members[0].disability": st.booleans(),
}


def _set(facts: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    group, _, name = path.partition(".")
    out = json.loads(json.dumps(facts))
    if group.startswith("members["):
        out["members"][0][name] = value
    else:
        out[group][name] = value
    return out


@st.composite
def _households(draw: st.DrawFn) -> dict[str, Any]:
    facts: dict[str, Any] = household(
        household={"kommunegruppe": 4, "registered": True},
        members=[{"age": 40, "disability": False, "income_month": 10000}],
        housing={"tenure": "leie", "cost_month": 6000},
        economy={"bank_loan_refused": False, "years_problem": 0, "savings_used": False},
        situation={"homeless": False, "forced_sale": False})
    for path, values in _VARIED.items():
        facts = _set(facts, path, draw(values))
    return facts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=_households(), data=st.data())
def test_a_fact_not_listed_for_a_measure_cannot_change_its_outcome(
        sourced: Engine, facts: dict[str, Any], data: st.DataObject) -> None:
    """The list is sound: an unconfirmed fact left out for a measure is one the
    measure's outcome did not depend on, so no other value of it changes the outcome."""
    before = sourced.evaluate(facts, WHEN)
    for path in sorted(_VARIED):
        group, _, name = path.partition(".")
        value = (facts["members"][0] if group.startswith("members[") else facts[group])[name]
        affects = set(_affects(sourced, _set(facts, path, wrap(value))).get(path, []))
        other = data.draw(_VARIED[path], label=path)
        after = sourced.evaluate(_set(facts, path, other), WHEN)
        for m in before.measures:
            if m.id not in affects:
                changed = after.measure(m.id)
                assert (changed.status, changed.amount) == (m.status, m.amount), (
                    m.id, path, other)


@pytest.mark.parametrize(("value", "path"), [
    ({"value": 6000, "source": "gossip"}, "housing.cost_month.source"),
    ({"value": 6000, "origin": "applicant"}, "housing.cost_month.origin"),
    ({"source": "applicant"}, "housing.cost_month.value"),
    ({"value": 6000, "confirmed": "yes"}, "housing.cost_month.confirmed"),
    ({"value": {"nested": 1}}, "housing.cost_month.value"),
])
def test_bad_wrappers_name_the_path(sourced: Engine, value: Any, path: str) -> None:
    with pytest.raises(FactsError) as info:
        sourced.evaluate(household(housing={"tenure": "leie", "cost_month": value}), WHEN)
    assert [i.path for i in info.value.issues] == [path]


def test_a_pack_without_sources_refuses_a_source(engine: Engine) -> None:
    with pytest.raises(FactsError) as info:
        engine.evaluate(household(housing={"tenure": "leie", "cost_month": wrap(6000)}), WHEN)
    assert info.value.issues[0].path == "housing.cost_month.source"
    # a wrapper without a source is fine in any pack
    decision = engine.evaluate(household(housing={"tenure": "leie",
                                                  "cost_month": {"value": 6000}}), WHEN)
    assert decision.confirm_before_deciding and decision.confirm_before_deciding[0].source is None


def _outcomes(engine: Engine, facts: Any) -> Any:
    d = engine.evaluate(facts, WHEN)
    return [(m.id, m.status, m.amount, [r.outcome for r in m.reasons]) for m in d.measures]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(income=st.integers(0, 40000), cost=st.integers(0, 20000),
       registered=st.booleans(), which=st.sets(st.sampled_from(["cost", "income", "reg"])))
def test_confirming_a_fact_never_changes_an_outcome(
        sourced: Engine, income: int, cost: int, registered: bool, which: set[str]) -> None:
    def facts(confirm: Callable[[str], bool]) -> dict[str, Any]:
        def w(name: str, v: Any) -> Any:
            return wrap(v, confirmed=confirm(name)) if name in which else v
        return household(
            household={"kommunegruppe": 4, "registered": w("reg", registered)},
            housing={"tenure": "leie", "cost_month": w("cost", cost)},
            members=[{"age": 40, "disability": False, "income_month": w("income", income)}])

    unconfirmed = sourced.evaluate(facts(lambda _: False), WHEN)
    confirmed = sourced.evaluate(facts(lambda _: True), WHEN)
    assert _outcomes(sourced, facts(lambda _: False)) == _outcomes(sourced, facts(lambda _: True))
    assert confirmed.confirm_before_deciding in ([], None)
    assert unconfirmed.model_dump(exclude={"confirm_before_deciding"}) == confirmed.model_dump(
        exclude={"confirm_before_deciding"})
