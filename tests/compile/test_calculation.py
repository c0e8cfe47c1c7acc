"""The recorder of an amount's calculation: steps in rule order, exact values, the
parameters and dated versions used, the facts an unknown step waits for."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from eligibility import Engine, RulePack, load_pack

Copier = Callable[..., Path]

FACTS: dict[str, Any] = {
    "household": {"kommunegruppe": 4, "registered": True},
    "members": [{"age": 40, "income_month": 10000}],
    "housing": {"tenure": "leie", "cost_month": 6000},
    "situation": {"homeless": False},
}


def test_steps_follow_the_rule_file_with_exact_values(engine: Engine) -> None:
    calc = engine.evaluate(FACTS, as_of=date(2023, 6, 1), lang="en").measure("bostotte").calculation
    assert calc is not None
    assert [(s.name, s.kind) for s in calc] == [
        ("inntekt_aar", "let"), ("criteria.husstand", "criterion"), ("tak", "let"),
        ("egenandel", "let"), ("amount", "amount")]
    values = {s.name: s.value for s in calc}
    assert values == {"inntekt_aar": 120000, "criteria.husstand": 1, "tak": 60000,
                      "egenandel": 44000, "amount": 983}
    amount = calc[-1]
    assert amount.rounding == "krone" and amount.unit == "NOK/month"
    assert amount.exact == Decimal(11792) / 12  # exact, before rounding
    assert calc[1].title == "Household size" and calc[1].sources[0].ref.endswith("§ 7")


def test_steps_show_their_expression_with_the_values_used(engine: Engine) -> None:
    calc = engine.evaluate(FACTS, as_of=date(2023, 6, 1), lang="en").measure("bostotte").calculation
    assert calc is not None
    by_name = {s.name: s for s in calc}
    assert by_name["egenandel"].expression == (
        "param(bostotte.egenandel) + param(bostotte.sats) * inntekt_aar")
    assert by_name["egenandel"].with_values == "20 000 + 0.2 * 120 000"
    assert by_name["amount"].with_values == (
        "monthly(0.737 * max(0, min(yearly(6 000), 60 000) - 44 000))")
    nb = engine.evaluate(FACTS, as_of=date(2023, 6, 1), lang="nb").measure("bostotte")
    assert nb.calculation is not None and nb.calculation[3].with_values == "20 000 + 0,2 * 120 000"


def test_parameters_name_the_dated_version_and_its_source(engine: Engine) -> None:
    old = engine.evaluate(FACTS, as_of=date(2023, 6, 1)).measure("bostotte").calculation
    new = engine.evaluate(FACTS, as_of=date(2024, 6, 1)).measure("bostotte").calculation
    assert old is not None and new is not None
    (tak_old,) = old[2].parameters
    (tak_new,) = new[2].parameters
    assert (tak_old.name, tak_old.keys, tak_old.value, tak_old.valid_from) == (
        "bostotte.tak", [1], 60000, date(2016, 1, 1))
    assert (tak_new.value, tak_new.valid_from) == (72000, date(2024, 1, 1))
    assert tak_new.source is not None and tak_new.source.ref == "Forskrift om bostøtte § 3"
    egenandel_new = new[3].parameters[0]
    assert egenandel_new.name == "bostotte.egenandel" and egenandel_new.unconfirmed


def test_an_unknown_step_says_which_facts_it_waits_for(engine: Engine) -> None:
    facts = {**FACTS, "members": [{"age": 40}]}
    calc = engine.evaluate(facts, as_of=date(2023, 6, 1), lang="en").measure(
        "bostotte").calculation
    assert calc is not None
    state = {s.name: (s.known, s.value, s.waiting_for) for s in calc}
    assert state["inntekt_aar"] == (False, None, ["members[0].income_month"])
    assert state["tak"] == (True, 60000, [])  # does not depend on the income
    assert state["amount"] == (False, None, ["members[0].income_month"])
    assert calc[3].with_values == "20 000 + 0.2 * ?"


def test_an_untaken_branch_is_elided_and_lists_no_parameters(pack_copy: Copier) -> None:
    pack = load_pack(pack_copy({"measures/bostotte.yaml": [(
        "  tak: param(bostotte.tak, min(criteria.husstand, 3))",
        "  tak: if household.registered then param(bostotte.tak, min(criteria.husstand, 3))"
        " else param(bostotte.egenandel)")]}))
    calc = Engine(pack).evaluate(FACTS, as_of=date(2023, 6, 1), lang="en").measure(
        "bostotte").calculation
    assert calc is not None
    tak = next(s for s in calc if s.name == "tak")
    assert [p.name for p in tak.parameters] == ["bostotte.tak"]
    assert tak.with_values == "if yes then 60 000 else …"  # the branch not taken is elided


def test_recording_leaves_the_decision_unchanged(engine: Engine, mini_pack: RulePack) -> None:
    for case in mini_pack.cases:
        full = engine.evaluate(case.facts, as_of=case.as_of)
        bare = engine.evaluate(case.facts, as_of=case.as_of, calculation=False)
        assert all(m.calculation is None for m in bare.measures)
        stripped = full.model_copy(update={"measures": [
            m.model_copy(update={"calculation": None}) for m in full.measures]})
        assert stripped.to_json() == bare.to_json()
    # measures without an amount carry no calculation
    decision = engine.evaluate(FACTS, as_of=date(2023, 6, 1))
    assert [m.id for m in decision.measures if m.calculation is not None] == ["bostotte"]


def test_steps_are_built_as_validated_models_would_be(engine: Engine,
                                                      mini_pack: RulePack) -> None:
    from eligibility.decision import CalculationStep

    for facts in (FACTS, {**FACTS, "members": [{"age": 40}]}):
        calc = engine.evaluate(facts, as_of=date(2024, 6, 1)).measure("bostotte").calculation
        assert calc is not None
        for step in calc:
            again = CalculationStep.model_validate(step.model_dump())
            assert again == step
            assert again.model_dump_json() == step.model_dump_json()


def test_a_plain_look_up_is_resolved_once_per_date_and_parameters(engine: Engine) -> None:
    plan = next(cm.calculation for cm in engine.measures if cm.calculation is not None)
    when = date(2023, 6, 1)
    params, _ = engine.parameters_at(when)
    uses = plan.keyless_uses(when, params)
    assert plan.keyless_uses(when, params) is uses  # once per date
    assert set(uses) == {"bostotte.egenandel", "bostotte.sats", "bostotte.dekning"}
    assert uses["bostotte.egenandel"].value == params["bostotte.egenandel"]
    assert uses["bostotte.egenandel"].valid_from is not None
    # other parameters on the same date (a what-if) get their own values
    other = {**params, "bostotte.egenandel": Decimal("1234")}
    assert plan.keyless_uses(when, other)["bostotte.egenandel"].value == Decimal("1234")
    assert plan.keyless_uses(when, params)["bostotte.egenandel"].value == (
        params["bostotte.egenandel"])
    # and every evaluation on the date records that same look-up
    first = engine.outcomes(FACTS, as_of=when)
    second = engine.outcomes(FACTS, as_of=when)
    steps = [next(o.calculation for _, _, o in out.measures if o.calculation)
             for out in (first, second)]
    egenandel = [next(s for s in calc if s.name == "egenandel") for calc in steps]
    assert egenandel[0].parameters[0] is egenandel[1].parameters[0]
    assert egenandel[0].parameters[0].name == "bostotte.egenandel"


def test_each_recorded_step_carries_its_planned_step(engine: Engine) -> None:
    """A recorded step names the planned step it came from by that step's identity (the
    views keep a step's static part under it), on the fast path, on the reference path
    with a fact missing and on a fresh compile, whose steps read alike."""
    plan = next(cm.calculation for cm in engine.measures if cm.calculation is not None)
    idents = [p.ident for p in plan.steps]
    assert len({id(i) for i in idents}) == len(idents) and None not in idents
    when = date(2023, 6, 1)
    for facts in (FACTS, {**FACTS, "members": [{"age": 40}]}):
        out = engine.outcomes(facts, as_of=when)
        calc = next(o.calculation for _, _, o in out.measures if o.calculation)
        assert [s.planned for s in calc] == idents
        assert all(s.planned is i for s, i in zip(calc, idents, strict=True))
        fresh = Engine(engine.pack).outcomes(facts, as_of=when)
        again = next(o.calculation for _, _, o in fresh.measures if o.calculation)
        assert repr(again) == repr(calc) and again[0].planned is not calc[0].planned
    assert repr(idents[0]) == "<step inntekt_aar>"
