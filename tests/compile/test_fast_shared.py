"""Observed requirement outcomes shared between households: unseen households whose
requirement shows equal values of exact kinds (bool, int, str, date, None) get the very
same ReasonOutcome object, so the decision builder finds what it built from it by
identity; a decimal is never shared (1.0 == 1.00, shown differently), and the memo of a
requirement stays bounded."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eligibility import Engine, load_pack
from eligibility.compile.fast import run as fast_run
from eligibility.compile.fast.plan import _SHARE_CHECK
from eligibility.compile.outcomes import ReasonOutcome

ROOT = Path(__file__).resolve().parents[2]
AS_OF = date(2025, 6, 1)
BASE: dict[str, Any] = {
    "adults": 1, "children": 0, "members_with_disability": 0, "annual_income": 300000,
    "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent", "is_homeless": False,
    "eviction_notice": False, "rooms": 2, "municipality_group": 1,
    "bank_loan_refused": True, "age_of_applicant": 30}


def _reason(engine: Engine, measure: str, requirement: str, **facts: Any) -> ReasonOutcome:
    out = engine.outcomes({"household": {**BASE, **facts}}, AS_OF)
    outcomes = next(o for _, cm, o in out.measures if cm.measure.id == measure)
    return next(r for r in outcomes.reasons if r.creq.req.id == requirement)


def test_equal_plain_values_share_one_outcome() -> None:
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    # startlan's other requirements differ (bank refused or not, another income), so
    # its memo of them together misses: `adult` (shows criteria.adult) is one object
    first = _reason(engine, "startlan", "adult", bank_loan_refused=True)
    second = _reason(engine, "startlan", "adult", bank_loan_refused=False,
                     annual_income=250001)
    assert first.values == {"criteria.adult": True}
    assert second is first
    # the same outcome with another shown value: not the same object
    rent = _reason(engine, "bostotte", "tenure", tenure="rent")
    own = _reason(engine, "bostotte", "tenure", tenure="own")
    assert rent.outcome == own.outcome == "met"
    assert rent is not own
    assert (rent.values, own.values) == ({"household.tenure": "rent"},
                                         {"household.tenure": "own"})
    assert _reason(engine, "bostotte", "tenure", tenure="own", adults=2) is own


def test_decimal_values_are_not_shared() -> None:
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    first = _reason(engine, "startlan", "wealth", net_wealth=Decimal("100000"))
    second = _reason(engine, "startlan", "wealth", net_wealth=Decimal("100000"),
                     adults=2)
    assert first == second  # equal, each household's own
    assert first is not second
    assert first.values == {"household.net_wealth": Decimal("100000"),
                            "param(startlan.wealth_cap)": 200000}


def test_true_and_one_are_not_one_key() -> None:
    """Where the expressions do not fix the shown values' classes (:data:`_SHARE_CHECK`:
    a parameter, a table look-up), each class is in the key: True == 1 and hash alike,
    but are shown apart; a decimal there is never shared."""
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    fr = next(fr for fm in engine.fast.measures for fr in fm.requirements if fr.single)
    fr.share = _SHARE_CHECK  # (this engine's own; none of its requirements needs it)
    lock = engine.fast._lock
    a = fast_run._shared(fr, "met", None, True, True, lock)
    b = fast_run._shared(fr, "met", None, True, 1, lock)
    assert a is not b
    assert a.values is not None and b.values is not None
    assert type(next(iter(a.values.values()))) is bool
    assert type(next(iter(b.values.values()))) is int
    assert fast_run._shared(fr, "met", None, True, 1, lock) is b
    one = Decimal("1")
    assert fast_run._shared(fr, "met", None, True, one, lock) is not fast_run._shared(
        fr, "met", None, True, one, lock)


def test_the_shared_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fast_run, "_SHARED_LIMIT", 2)
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    for tenure in ("rent", "own", "none"):
        for age in (16, 30, 70):
            for refused in (True, False):
                facts = {"household": {**BASE, "tenure": tenure, "age_of_applicant": age,
                                       "bank_loan_refused": refused}}
                valid = engine.validate(facts)
                assert engine.outcomes(valid, AS_OF) == engine.reference_outcomes(
                    valid, AS_OF)
    sizes = [len(fr.shared) for fm in engine.fast.measures for fr in fm.requirements]
    assert max(sizes) <= 2
    assert max(sizes) > 0


def test_outcomes_on_the_reference_are_shared_too() -> None:
    """With a fact missing the requirement goes to the reference; equal plain values
    and the same missing facts give one object there as well."""
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    reasons = []
    for adults in (1, 2):  # (other facts under needs_home: not the same memo entry)
        facts = {**BASE, "tenure": "own", "adults": adults}
        del facts["rooms"]  # an owner's needs_home reads criteria.crowded: unknown
        out = engine.outcomes({"household": facts}, AS_OF)
        startlan = next(o for _, cm, o in out.measures if cm.measure.id == "startlan")
        reasons.append(next(r for r in startlan.reasons if r.creq.req.id == "needs_home"))
    first, second = reasons
    assert first.outcome == "unknown" and first.missing == ("household.rooms",)
    assert first.values == {"household.tenure": "own", "criteria.crowded": None}
    assert second is first
