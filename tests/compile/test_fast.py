"""The fast path against the three-valued reference: identical outcomes and Decisions.

Households are drawn from each pack's schema, complete and with missing facts, at
dates across the pack's period. For every draw the fast path (two-valued where a
measure's facts are all present, reference elsewhere) and the reference alone must
give equal outcomes and byte-identical Decisions at both detail levels, or raise
the same error. A second test makes sure the fast path really runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.compile.fast import run as fast_run
from eligibility.decision_build import decision_bytes
from eligibility.errors import EligibilityError, EvaluationError
from eligibility.testing.strategies import evaluation_dates, households
from tests.conftest import household

ROOT = Path(__file__).resolve().parents[2]
PACKS = {name: Engine(load_pack(ROOT / path)) for name, path in (
    ("no", "rules/no"), ("mini", "tests/packs/mini"), ("anchors", "bench/anchors"))}


def _run(fn: Any) -> tuple[str, Any]:
    try:
        return "ok", fn()
    except EligibilityError as exc:
        return "error", (type(exc).__name__, str(exc))


def _scenarios(engine: Engine) -> st.SearchStrategy[tuple[dict[str, Any], date, bool]]:
    pack = engine.pack
    return st.one_of(households(pack, complete=True), households(pack, complete=False)).flatmap(
        lambda facts: st.tuples(st.just(facts), evaluation_dates(pack), st.booleans()))


@pytest.mark.parametrize("name", sorted(PACKS))
def test_fast_path_equals_reference(name: str) -> None:
    engine = PACKS[name]
    builder = engine.builder

    @settings(max_examples=120, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(_scenarios(engine))
    def check(scenario: tuple[dict[str, Any], date, bool]) -> None:
        facts, as_of, observe = scenario
        valid = engine.validate(facts)
        kind, fast_out = _run(lambda: engine.fast.evaluate_household(valid, as_of, observe))
        ref_kind, ref_out = _run(lambda: engine.reference_outcomes(valid, as_of, observe))
        assert (kind, kind == "error" and fast_out) == (ref_kind, ref_kind == "error" and ref_out)
        if kind == "error":
            return
        assert fast_out == ref_out
        # and not because the reference stepped in
        assert engine.fast.evaluate_household(valid, as_of, observe, fallback=False) == ref_out
        for lang in ("nb", "en"):
            detail = "full" if observe else "summary"
            decision = builder.build(fast_out, lang, detail)
            text = decision.model_dump_json()
            assert text == builder.build(ref_out, lang, detail).model_dump_json()
            assert decision_bytes(decision) == text.encode()

    check()


def test_fast_path_runs_where_facts_are_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    ran: list[str] = []
    for fm in engine.fast.measures:
        for fr in fm.requirements:
            real = fr.fn

            def counting(ctx: Any, real: Any = real, name: str = f"{fm.cm.measure.id}.{fr.id}",
                         ) -> Any:
                ran.append(name)
                return real(ctx)

            fr.fn = counting
    facts = {"household": {
        "adults": 1, "children": 2, "members_with_disability": 0, "annual_income": 300000,
        "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent", "is_homeless": False,
        "eviction_notice": False, "rooms": 2, "municipality_group": 1,
        "bank_loan_refused": True, "age_of_applicant": 30}}
    decision = engine.evaluate(facts, date(2025, 6, 1))
    assert sorted(ran) == sorted(f"{m.id}.{r.requirement}" for m in decision.measures
                                 for r in m.reasons)
    assert decision.measure("bostotte").status == "eligible"
    ran.clear()
    referred: list[str] = []
    real_reference = fast_run._reference

    def reference(fr: Any, ctx: Any, observe: bool, lock: Any) -> Any:
        referred.append(fr.id)
        return real_reference(fr, ctx, observe, lock)

    monkeypatch.setattr(fast_run, "_reference", reference)
    del facts["household"]["rooms"]  # needs_home reads rooms (crowded): facts missing
    as_of = date(2025, 6, 1)
    valid = engine.validate(facts)
    # tenure rent settles `tenure != "own" or criteria.crowded`: the fast closures decide
    # it although rooms is missing (not observed: nothing else to show)
    assert engine.fast.evaluate_household(valid, as_of, observe=False) == (
        engine.reference_outcomes(valid, as_of, observe=False))
    assert "startlan.needs_home" in ran and "startlan.adult" in ran
    assert "needs_home" not in referred
    # observed, the reason shows criteria.crowded, which is unknown: the reference's
    decision = engine.evaluate(facts, as_of)
    assert decision.measure("startlan").status == "eligible"  # tenure rent settles it
    assert "needs_home" in referred
    assert engine.outcomes(valid, as_of) == engine.reference_outcomes(valid, as_of)
    # an owner needs criteria.crowded itself: the fast closures meet the missing rooms
    referred.clear()
    facts["household"]["tenure"] = "own"
    valid = engine.validate(facts)
    out = engine.fast.evaluate_household(valid, as_of, observe=False)
    assert out == engine.reference_outcomes(valid, as_of, observe=False)
    assert "needs_home" in referred
    startlan = next(o for _, cm, o in out.measures if cm.measure.id == "startlan")
    assert "household.rooms" in startlan.missing


@pytest.mark.parametrize("name", sorted(PACKS))
def test_complete_households_run_on_the_fast_closures_alone(name: str) -> None:
    """With every fact there, the fast closures decide on their own (no hand-over to
    the reference) and agree with it — the memo tables filled across draws included."""
    engine = PACKS[name]

    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(households(engine.pack, complete=True).flatmap(
        lambda facts: st.tuples(st.just(facts), evaluation_dates(engine.pack), st.booleans())))
    def check(scenario: tuple[dict[str, Any], date, bool]) -> None:
        facts, as_of, observe = scenario
        valid = engine.validate(facts)
        ref_kind, ref_out = _run(lambda: engine.reference_outcomes(valid, as_of, observe))
        if ref_kind == "error":
            return
        assert engine.fast.evaluate_household(valid, as_of, observe, fallback=False) == ref_out

    check()


def test_an_error_in_the_fast_closures_is_the_references(
        pack_copy: Callable[..., Path]) -> None:
    """A division by zero on the fast path hands the household to the reference, which
    names the error as it always has; the next household is fast again."""
    root = pack_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless",
         "when: situation.homeless and 100 / (household.kommunegruppe - 1) > 1")]})
    engine = Engine(load_pack(root))
    as_of = date(2025, 6, 1)
    bad = household(household={"kommunegruppe": 1, "registered": True},
                    situation={"homeless": True, "forced_sale": False,
                               "since": "2020-01-01"})
    valid = engine.validate(bad)
    with pytest.raises(EvaluationError) as fast:
        engine.outcomes(valid, as_of)
    with pytest.raises(EvaluationError) as ref:
        engine.reference_outcomes(valid, as_of)
    assert str(fast.value) == str(ref.value)
    assert "division by zero" in str(fast.value)
    with pytest.raises(EligibilityError) as own:  # the fast closures' own, handed over
        engine.fast.evaluate_household(valid, as_of, fallback=False)
    assert not isinstance(own.value, EvaluationError)  # (not the reference's)
    good = engine.validate(household(household={"kommunegruppe": 2, "registered": True}))
    assert engine.outcomes(good, as_of) == engine.reference_outcomes(good, as_of)


def test_memoised_outcomes_keep_each_households_decimals() -> None:
    """Outcomes are shared between households only when the values they show are of
    exact kinds; a decimal is shown as the household wrote it (1.0 ≠ 1.00 in JSON)."""
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    base = {"adults": 1, "children": 0, "members_with_disability": 0,
            "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent",
            "is_homeless": False, "eviction_notice": False, "rooms": 2,
            "municipality_group": 1, "bank_loan_refused": True, "age_of_applicant": 30}
    shown = []
    for income in (Decimal("300000.0"), Decimal("300000.00"), Decimal("300000.0")):
        out = engine.outcomes({"household": {**base, "annual_income": income}},
                              date(2025, 6, 1))
        bostotte = next(o for _, cm, o in out.measures if cm.measure.id == "bostotte")
        reason = next(r for r in bostotte.reasons if r.creq.req.id == "cost_burden")
        assert reason.values is not None
        shown.append(str(reason.values["household.annual_income"]))
    assert shown == ["300000.0", "300000.00", "300000.0"]
