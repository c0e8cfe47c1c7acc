"""The bundled pack after issue 14: properties of household roles, the single-pensioner
rule and the owners' wealth exemption, checked over the pack's own case households (fixed
inputs, so CI time stays small); the bostøtte parameters form whole sets; a decision past
the last confirmed date lists the stale parameters."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

from eligibility import Engine, RulePack
from eligibility.pack.sets import set_conflicts, stale_versions

ROOT = Path(__file__).resolve().parents[2]
MEMBER = {"disability": False, "needs_adapted_dwelling": False, "student": False,
          "conscript": False, "ung_ufor": False, "pension": "ingen", "income_month": 0}


def criterion(engine: Engine, facts: dict[str, Any], when: date, cid: str) -> Any:
    return next(c.value for c in engine.evaluate(facts, as_of=when).criteria if c.id == cid)


def with_member(facts: dict[str, Any], **member: Any) -> dict[str, Any]:
    out = copy.deepcopy(facts)
    out["members"] = [*out["members"], {**MEMBER, **member}]
    return out


def test_a_minor_sibling_never_makes_a_family_with_children(pack: RulePack,
                                                            engine: Engine) -> None:
    checked = 0
    for case in pack.cases:
        before = criterion(engine, case.facts, case.as_of, "barnefamilie")
        for age in (0, 9, 17):
            after = criterion(engine, with_member(case.facts, role="sibling", age=age),
                              case.as_of, "barnefamilie")
            assert after == before or (before is None and after is not True), case.name
            checked += 1
    assert checked >= 3 * 30


def test_a_single_pensioner_keeps_the_thresholds_when_an_adult_child_moves_in(
        pack: RulePack, engine: Engine) -> None:
    singles = [c for c in pack.cases
               if criterion(engine, c.facts, c.as_of, "bostotte_enslig_pensjonist") is True]
    assert len(singles) >= 3
    for case in singles:
        for age in (18, 45):
            facts = with_member(case.facts, role="child", age=age, income_month=9000)
            assert criterion(engine, facts, case.as_of, "bostotte_enslig_pensjonist") is True
    # a partner makes the applicant not single
    couple = with_member(singles[0].facts, role="partner", age=70, pension="alderspensjon")
    couple["members"] = [m for m in couple["members"] if m["role"] in ("applicant", "partner")]
    assert criterion(engine, couple, singles[0].as_of, "bostotte_enslig_pensjonist") is False


def test_an_owners_allowance_never_falls_as_the_dwelling_tax_value_rises(
        pack: RulePack, engine: Engine) -> None:
    owners = [c for c in pack.cases if c.facts["housing"].get("tenure") == "eier_enebolig"
              and "own_dwelling_tax_value" in c.facts.get("economy", {})]
    assert len(owners) >= 2
    for case in owners:
        amounts = []
        for value in (0, 100000, 250000, 400000, 651436, 900000):
            facts = copy.deepcopy(case.facts)
            facts["economy"]["own_dwelling_tax_value"] = value
            amounts.append(engine.evaluate(facts, as_of=case.as_of).measure("bostotte").amount
                           or 0)
        assert amounts == sorted(amounts), (case.name, amounts)
        # above the cap the tax value no longer matters
        assert amounts[-1] == amounts[-2], case.name
        if case.file.endswith("bostotte-eier-lav-boligverdi.yaml"):
            # savings above a low tax value count: the exemption is not the whole cap
            assert amounts[0] < amounts[2] < amounts[-1], amounts


def test_the_need_for_an_adapted_dwelling_alone_never_raises_the_allowance(
        pack: RulePack, engine: Engine) -> None:
    def amount(facts: dict[str, Any], when: date, need: bool, raises: bool) -> Any:
        facts = copy.deepcopy(facts)
        for m in facts["members"]:
            m["needs_adapted_dwelling"] = need
        facts["housing"]["adaptation_raises_costs"] = raises
        return engine.evaluate(facts, as_of=when).measure("bostotte").amount or 0

    raised = 0
    for case in pack.cases:
        if "housing" not in case.facts or "members" not in case.facts:
            continue
        without = amount(case.facts, case.as_of, False, False)
        assert amount(case.facts, case.as_of, True, False) == without, case.name
        assert amount(case.facts, case.as_of, False, True) == without, case.name
        with_both = amount(case.facts, case.as_of, True, True)
        assert with_both >= without, case.name
        raised += with_both > without
    assert raised >= 3  # the addition does apply where both conditions hold


def test_the_bostotte_formula_uses_one_parameter_set_at_every_date(pack: RulePack) -> None:
    assert set_conflicts(pack) == []
    tagged = {p.name for p in pack.parameters.values() if any(v.set for v in p.versions)}
    assert {"bostotte.boutgiftstak", "bostotte.minste_egenandel", "bostotte.t1",
            "bostotte.driftsutgifter", "bostotte.formue_fribelop_eier"} <= tagged


def test_values_used_past_2022_are_listed_as_stale(pack: RulePack, engine: Engine) -> None:
    case = next(c for c in pack.cases if c.file.endswith("bostotte-periode-2023.yaml"))
    unconfirmed = engine.evaluate(case.facts, as_of=case.as_of).measure("bostotte").unconfirmed
    assert "stale:bostotte.minste_egenandel = 22487 (confirmed until 2022-12-31)" in unconfirmed
    stale, _ = stale_versions(pack, date(2026, 12, 1))
    assert {"bostotte.t1", "bostotte.boutgiftstak"} <= {s.parameter for s in stale}
