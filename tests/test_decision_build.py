"""The decision builder: Decisions built once, without validation, equal to validated ones;
the summary detail level; JSON bytes in one step."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from eligibility import Engine, load_pack
from eligibility.decision import Decision
from eligibility.decision_build import decision_bytes
from tests.conftest import fixtures, household

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_built_decision_equals_a_validated_one(no_engine: Engine, lang: str) -> None:
    for facts in [*fixtures(), {}]:
        decision = no_engine.evaluate(facts, AS_OF, lang)
        validated = Decision.model_validate(decision.model_dump())
        assert validated == decision
        assert validated.model_dump_json() == decision.model_dump_json()


def test_summary_has_everything_but_the_reasons(no_engine: Engine) -> None:
    for facts in [*fixtures(), {}]:
        full = json.loads(no_engine.evaluate(facts, AS_OF).model_dump_json())
        summary = json.loads(no_engine.evaluate(facts, AS_OF, detail="summary")
                             .model_dump_json())
        assert all(m["reasons"] == [] for m in summary["measures"])
        assert any(m["reasons"] for m in full["measures"])
        assert all(m["calculation"] is None for m in summary["measures"])
        for m in full["measures"]:
            m["reasons"] = []
            m["calculation"] = None
        assert summary == full


def test_summary_of_missing_facts_names_them(engine: Engine) -> None:
    decision = engine.evaluate({}, date(2023, 6, 1), detail="summary")
    assert {m.status for m in decision.measures} == {"undetermined"}
    assert "situation.homeless" in {f.path for f in decision.missing_facts}


def test_unknown_detail_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="summary"):
        engine.evaluate(household(), date(2023, 6, 1), detail="short")  # type: ignore[arg-type]


def test_evaluate_json_is_the_decisions_json(no_engine: Engine) -> None:
    facts = fixtures()[0]
    assert (no_engine.evaluate_json(facts, AS_OF, "en")
            == no_engine.evaluate(facts, AS_OF, "en").model_dump_json().encode())


def test_shared_parts_do_not_leak_between_decisions(engine: Engine) -> None:
    first = engine.evaluate(household(), date(2023, 6, 1), "en")
    poor = household(members=[{"age": 40, "income_month": 0, "disability": False}])
    engine.evaluate(poor, date(2023, 6, 1), "en")
    engine.evaluate(household(), date(2023, 6, 1), "nb")
    again = engine.evaluate(household(), date(2023, 6, 1), "en")
    assert again.model_dump_json() == first.model_dump_json()
    assert first.measure("bostotte").amount == 983


def test_a_warm_builder_with_full_memos_gives_a_fresh_ones_bytes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Reasons, criteria, steps and results shared between Decisions (memos cleared when
    full, here after two entries) give the bytes an engine that saw nothing else gives."""
    import eligibility.decision_build.builder as build
    from eligibility.decision_build import memo
    from eligibility.explain.calculation import StepViews

    monkeypatch.setattr(build, "_REASON_LIMIT", 2)
    monkeypatch.setattr(build, "_MEMO_LIMIT", 2)
    monkeypatch.setattr(memo, "_MEMO_LIMIT", 2)
    monkeypatch.setattr(StepViews, "_STEPS", 2)
    monkeypatch.setattr(StepViews, "_LIMIT", 2)
    pack = load_pack(ROOT / "rules" / "no")
    warm = Engine(pack)
    cases = [(facts, lang, when) for facts in [*fixtures(), {}] for lang in ("nb", "en")
             for when in (AS_OF, date(2026, 1, 15))]
    for facts, lang, when in [*cases, *reversed(cases), *cases]:
        assert (warm.evaluate(facts, when, lang).model_dump_json()
                == Engine(pack).evaluate(facts, when, lang).model_dump_json())


def test_decimal_values_keep_their_digits(engine: Engine) -> None:
    one = household(economy={"bank_loan_refused": True, "years_problem": "5.0",
                             "savings_used": False})
    two = household(economy={"bank_loan_refused": True, "years_problem": "5.00",
                             "savings_used": False})
    texts = [engine.evaluate(f, date(2023, 6, 1)).model_dump_json() for f in (one, two, one)]
    assert '"5.0"' in texts[0] and '"5.00"' in texts[1] and texts[2] == texts[0]


def test_decision_bytes_match_pydantic_also_where_orjson_refuses(engine: Engine) -> None:
    decision = engine.evaluate(household(), date(2023, 6, 1), "en")
    assert decision_bytes(decision) == decision.model_dump_json().encode()
    data = decision.model_dump()
    data["criteria"][0]["value"] = 2**70  # beyond 64 bits: pydantic-core writes it
    odd = Decision.model_validate(data)
    assert decision_bytes(odd) == odd.__pydantic_serializer__.to_json(odd)
    assert str(2**70).encode() in decision_bytes(odd)


def test_a_template_copy_is_a_model_of_its_own() -> None:
    from eligibility.decision import SourceRef, field_template
    from eligibility.decision_build import construct

    template = field_template(SourceRef, {"ref": "Husbankloven § 1", "url": None})
    one, two = template.copy(), template.copy()
    two["url"] = "https://lovdata.no/"
    a, b = construct(SourceRef, one), construct(SourceRef, two)
    assert template == {"ref": "Husbankloven § 1", "url": None}
    assert a == SourceRef(ref="Husbankloven § 1") and a.model_dump_json() == \
        SourceRef(ref="Husbankloven § 1").model_dump_json()
    assert b.url == "https://lovdata.no/" and list(b.__dict__) == ["ref", "url"]


# -- the identity memo ----------------------------------------------------------------
class _Thing:
    """An object that can be weakly referenced (to see when the memo lets it go)."""


def test_identity_memo_hits_only_the_very_same_object() -> None:
    import threading

    from eligibility.decision_build import IdentityMemo

    memo = IdentityMemo(threading.Lock(), 8)
    key = tuple(["met", 1])
    memo.put(key, "built")
    assert memo.get(key) == "built"
    assert memo.get(tuple(["met", 1])) is None  # equal, but another object
    assert memo.get(_Thing()) is None


def test_identity_memo_keeps_its_key_alive_and_a_reused_id_cannot_hit() -> None:
    import gc
    import threading
    import weakref

    from eligibility.decision_build import IdentityMemo

    memo = IdentityMemo(threading.Lock(), 2)
    thing = _Thing()
    ref = weakref.ref(thing)
    memo.put(thing, "built")
    del thing
    gc.collect()
    assert ref() is not None  # held by its entry: its id is not free to be reused
    newcomers = [_Thing() for _ in range(1000)]
    assert all(memo.get(n) is None for n in newcomers)
    # an entry whose object is not the one asked about (as if its id had been reused)
    stranger = _Thing()
    memo.entries[id(stranger)] = (_Thing(), "someone else's")
    assert memo.get(stranger) is None


def test_identity_memo_is_bounded_and_lets_go_when_emptied() -> None:
    import gc
    import threading
    import weakref

    from eligibility.decision_build import IdentityMemo

    memo = IdentityMemo(threading.Lock(), 3)
    things = [_Thing() for _ in range(10)]
    refs = [weakref.ref(t) for t in things]
    for t in things:
        memo.put(t, id(t))
        assert len(memo) <= 3
    del things, t
    gc.collect()
    assert sum(r() is not None for r in refs) == len(memo) <= 3


def _identity_entries(engine: Engine) -> int:
    builder = engine.builder
    return sum(len(m) for memos in (builder._result_ids, builder._reason_ids,
                                    builder._criteria_ids) for m in memos.values())


def test_shared_outcomes_are_kept_by_identity_and_give_the_same_bytes() -> None:
    """A household evaluated again gets the core's shared outcomes again: the builder
    finds what it built from them by identity; every language and detail level still
    gives a fresh engine's bytes."""
    pack = load_pack(ROOT / "rules" / "no")
    warm = Engine(pack)
    levels = [(lang, detail) for lang in ("nb", "nn", "en") for detail in ("full", "summary")]
    for facts in [*fixtures(), {}]:
        cold = Engine(pack)  # has seen nothing else
        want = {level: cold.evaluate_json(facts, AS_OF, level[0], detail=level[1])  # type: ignore[arg-type]
                for level in levels}
        for _ in range(3):
            for lang, detail in levels:
                assert warm.evaluate_json(facts, AS_OF, lang, detail=detail) == want[  # type: ignore[arg-type]
                    lang, detail]
    assert _identity_entries(warm) > 0


def test_an_identity_hit_is_the_part_built_for_that_object(engine: Engine) -> None:
    from eligibility.decision_build import DecisionBuilder

    builder = DecisionBuilder(engine.compiled)
    outcomes = engine.outcomes(household(), date(2023, 6, 1))
    first = [builder.build(outcomes, "en") for _ in range(3)]
    # the third time, a measure whose outcome is kept by identity gets the very result of
    # the second (the first found it by values, and saw the same object again)
    ids = builder._result_ids["en", True, outcomes.as_of, outcomes.unconfirmed_params]
    kept = [cm.measure.id for _, cm, out in outcomes.measures if ids.get(out) is not None]
    assert kept
    second = {m.id: m for m in first[1].measures}
    assert all(second[m.id] is m for m in first[2].measures if m.id in kept)
    assert decision_bytes(first[2]) == decision_bytes(first[0])
    # the same outcomes in another language are not that language's parts
    nb = builder.build(outcomes, "nb")
    assert nb.lang == "nb" and nb.measures[0].title != first[0].measures[0].title
    assert decision_bytes(nb) == decision_bytes(DecisionBuilder(engine.compiled)
                                                .build(outcomes, "nb"))
    # nor at another detail level
    summary = builder.build(outcomes, "en", "summary")
    assert all(m.reasons == [] for m in summary.measures)


def test_a_decimal_shown_differently_is_never_an_identity_hit(engine: Engine) -> None:
    from decimal import Decimal

    from eligibility.decision_build import DecisionBuilder

    builder = DecisionBuilder(engine.compiled)
    outcomes = engine.outcomes(household(), date(2023, 6, 1), calculation=False)
    index, cm, _ = next(m for m in outcomes.measures if m[2].amount is not None
                          and m[2].status == "eligible")
    shown = []
    for text in ("983.0", "983.00", "983.0"):
        measures = tuple((i, c, o._replace(amount=Decimal(text)) if i == index else o)
                         for i, c, o in outcomes.measures)
        mine = outcomes._replace(measures=measures)
        for _ in range(3):
            decision = builder.build(mine, "en")
        shown.append(json.loads(decision_bytes(decision))["measures"])
    amounts = [next(m["amount"] for m in ms if m["id"] == cm.measure.id) for ms in shown]
    assert amounts == ["983.0", "983.00", "983.0"]


def test_outcomes_made_afresh_each_time_are_not_kept(engine: Engine) -> None:
    """The reference makes new outcome objects on every call: equal ones are shared by
    value as before, none is held by identity."""
    from eligibility.decision_build import DecisionBuilder

    builder = DecisionBuilder(engine.compiled)
    for _ in range(4):
        builder.build(engine.reference_outcomes(household(), date(2023, 6, 1)), "en")
    assert sum(len(m) for memos in (builder._result_ids, builder._reason_ids,
                                    builder._criteria_ids) for m in memos.values()) == 0


def test_not_eligible_results_that_differ_only_in_the_unshown_amount_are_one(
        engine: Engine) -> None:
    """A not-eligible result shows no amount: households whose only difference is the
    amount the core computed share one result, and neither shows an amount."""
    from eligibility.decision_build import DecisionBuilder

    builder = DecisionBuilder(engine.compiled)
    found = []
    for income in (10000, 12000):
        facts = household(household={"kommunegruppe": 4, "registered": False},
                          members=[{"age": 40, "income_month": income, "disability": False}])
        outcomes = engine.outcomes(facts, date(2023, 6, 1), observe=False, calculation=False)
        out = next(o for _, cm, o in outcomes.measures if cm.measure.id == "bostotte")
        decision = builder.build(outcomes, "en", "summary")
        found.append((out.amount, decision.measure("bostotte")))
    (one, first), (two, second) = found
    assert first.status == "not_eligible" and one != two
    assert first is second and first.amount is None


def test_priority_groups_of_one_rank_keep_their_own_titles(
        pack_copy: Callable[..., Path]) -> None:
    """A measure whose priority groups share a rank keys its result heads by the group
    (rank and title), not the rank alone: a warm builder that has kept the head of one
    group gives a household of the other group that group's title."""
    from eligibility.decision_build import DecisionBuilder

    group = "  - {when: criteria.barnefamilie, rank: 1, title: {nb: Barnefamilie, en: Family " \
            "with children}}"
    path = pack_copy({"measures/bostotte.yaml": [(group, group + "\n  - {when: household."
                                                  "registered, rank: 1, title: {nb: Registrert,"
                                                  " en: Registered}}")]})
    engine = Engine(load_pack(path))
    builder = DecisionBuilder(engine.compiled)
    bostotte = next(cm for cm in engine.compiled.measures if cm.measure.id == "bostotte")
    assert not builder._langs["en"].measures[bostotte.index].ranked
    assert all(m.ranked for i, m in enumerate(builder._langs["en"].measures)
               if i != bostotte.index)
    family = household(members=[{"age": 40, "income_month": 10000, "disability": False},
                                {"age": 5, "income_month": 0, "disability": False}])
    when = date(2023, 6, 1)
    for detail in ("full", "summary"):
        for facts, title in ((family, "Family with children"), (family, "Family with children"),
                             (household(), "Registered")):
            outcomes = engine.outcomes(facts, when, observe=detail == "full")
            result = builder.build(outcomes, "en", detail).measure("bostotte")  # type: ignore[arg-type]
            assert (result.priority, result.priority_reason) == (1, title)
            fresh = DecisionBuilder(engine.compiled).build(outcomes, "en", detail)  # type: ignore[arg-type]
            assert fresh.measure("bostotte") == result


def test_criteria_results_of_every_kind_match_a_fresh_builders(engine: Engine) -> None:
    """Criteria known (bools, ints), unknown with and without missing facts and decimal
    give, on a builder that has seen them before, what a fresh builder gives."""
    from eligibility.compile.outcomes import CriterionOutcome
    from eligibility.compile.runtime import UNKNOWN
    from eligibility.decision_build import DecisionBuilder

    outcomes = engine.outcomes(household(), date(2023, 6, 1))
    crits = [c.criterion for c in outcomes.criteria]
    values: list[tuple[Any, tuple[str, ...]]] = [
        (True, ()), (3, ()), (UNKNOWN, ()), (UNKNOWN, ("members[0].age",)),
        (Decimal("2.50"), ()), (Decimal("2.5"), ()), (False, ("members[1].age",)),
        # equal values of other kinds (True == 1, 0 == False == Decimal(0)): each its own
        (1, ()), (False, ()), (0, ()), (Decimal("0"), ()), (Decimal("0.0"), ()),
        (0, ("members[1].age",)), (False, ("members[1].age",))]
    warm = DecisionBuilder(engine.compiled)
    for _ in range(3):
        for value, missing in values:
            odd = outcomes._replace(criteria=tuple(
                CriterionOutcome(c, value, missing) for c in crits))
            for builder in (warm, DecisionBuilder(engine.compiled)):
                decision = builder.build(odd, "en", "summary")
                assert decision.model_dump_json() == DecisionBuilder(
                    engine.compiled).build(odd, "en", "summary").model_dump_json()
                for result in decision.criteria:
                    assert result.known is (value is not UNKNOWN)
                    assert result.value == (None if value is UNKNOWN else value)
                    assert result.missing_facts == list(missing)
    texts = [warm.build(outcomes._replace(criteria=tuple(
        CriterionOutcome(c, v, ()) for c in crits)), "en", "summary").model_dump_json()
        for v in (Decimal("2.50"), Decimal("2.5"))]
    assert '"2.50"' in texts[0] and '"2.50"' not in texts[1]


def _criteria_json(builder: Any, outcomes: Any) -> str:
    return json.dumps([json.loads(c.model_dump_json()) for c in builder.build(
        outcomes, "en", "summary").criteria])


def test_criteria_memos_are_bounded_and_a_varied_criterion_keeps_nothing(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A criterion's results are kept the second time a value is met, within the
    memos' bounds; once it has met many values once (a household's own income) none
    is kept; every result is still a fresh builder's."""
    from eligibility.compile.outcomes import CriterionOutcome
    from eligibility.decision_build import DecisionBuilder
    from eligibility.decision_build import builder as build

    monkeypatch.setattr(build, "_REASON_LIMIT", 4)
    monkeypatch.setattr(build, "_MEMO_LIMIT", 64)
    monkeypatch.setattr(build, "_VARIED", 8)
    outcomes = engine.outcomes(household(), date(2023, 6, 1))
    crits = [c.criterion for c in outcomes.criteria]
    warm = DecisionBuilder(engine.compiled)
    values = [v for n in range(12) for v in (n, n, Decimal(f"{n}.5"), Decimal(f"{n}.50"))]
    for value in values:
        odd = outcomes._replace(criteria=tuple(CriterionOutcome(c, value, ()) for c in crits))
        assert _criteria_json(warm, odd) == _criteria_json(DecisionBuilder(engine.compiled),
                                                           odd)
    slots = list(warm._crits["en"].values())
    assert all(len(s.memo) <= 4 and len(s.decimals) <= 4 and len(s.seen) <= 64
               for s in slots)
    assert all(s.varied for s in slots)
    kept = [(len(s.memo), len(s.decimals)) for s in slots]
    for n in range(100, 110):  # new values, each twice: none kept any more
        for _ in range(2):
            odd = outcomes._replace(criteria=tuple(CriterionOutcome(c, n, ()) for c in crits))
            warm.build(odd, "en", "summary")
    assert [(len(s.memo), len(s.decimals)) for s in slots] == kept


def test_criteria_in_another_order_or_fewer_get_their_own_results(engine: Engine) -> None:
    """The layout of a date's criteria is a shortcut only: criteria in another order, or
    fewer of them, on the same date give what a fresh builder gives."""
    from eligibility.decision_build import DecisionBuilder

    outcomes = engine.outcomes(household(), date(2023, 6, 1))
    warm = DecisionBuilder(engine.compiled)
    for criteria in (outcomes.criteria, outcomes.criteria[::-1], outcomes.criteria[1:],
                     outcomes.criteria, ()):
        odd = outcomes._replace(criteria=criteria)
        for _ in range(2):
            got = _criteria_json(warm, odd)
        assert got == _criteria_json(DecisionBuilder(engine.compiled), odd)
        assert [c["id"] for c in json.loads(got)] == [c.criterion.id for c in criteria]


@pytest.mark.parametrize("detail", ["full", "summary"])
def test_an_outcome_held_elsewhere_is_kept_by_identity_at_first_sight(
        engine: Engine, detail: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """An outcome something else holds too (as the core's memos hold the ones it shares)
    is kept by identity the first time: the next Decision gets the very same result,
    every Decision keeps a fresh builder's bytes, and one that held no outcome keeps
    nothing; the identity memo stays bounded."""
    from eligibility.decision_build import DecisionBuilder, memo

    when = date(2023, 6, 1)
    full = detail == "full"
    outcomes = engine.reference_outcomes(household(), when, observe=full, calculation=False)
    builder = DecisionBuilder(engine.compiled)
    builder.build(outcomes, "en", detail)  # type: ignore[arg-type]
    key = ("en", full, outcomes.as_of, outcomes.unconfirmed_params)
    if full:  # (made afresh: nothing else holds them; a summary keeps the outcome its
        # head was made from)
        assert len(builder._result_ids[key]) == 0
    held = [out for _, _, out in outcomes.measures]  # now something else holds each
    first = builder.build(outcomes, "en", detail)  # type: ignore[arg-type]
    ids = builder._result_ids[key]
    assert all(ids.get(out) is not None for out in held)
    second = builder.build(outcomes, "en", detail)  # type: ignore[arg-type]
    assert all(a is b for a, b in zip(first.measures, second.measures, strict=True))
    fresh = DecisionBuilder(engine.compiled).build(outcomes, "en", detail)  # type: ignore[arg-type]
    assert decision_bytes(first) == decision_bytes(second) == decision_bytes(fresh)
    # another household's held outcomes get their own results; the first's stay as built
    other = engine.reference_outcomes(household(members=[
        {"age": 70, "income_month": 9000, "disability": True}]), when, observe=full,
        calculation=False)
    held += [out for _, _, out in other.measures]
    mine = builder.build(other, "en", detail)  # type: ignore[arg-type]
    assert decision_bytes(mine) == decision_bytes(
        DecisionBuilder(engine.compiled).build(other, "en", detail))  # type: ignore[arg-type]
    assert decision_bytes(mine) != decision_bytes(first)
    assert decision_bytes(first) == decision_bytes(fresh)
    monkeypatch.setattr(memo, "_IDENTITY_LIMIT", 3)
    for _ in range(3):
        again = engine.reference_outcomes(household(), when, observe=full, calculation=False)
        held += [out for _, _, out in again.measures]
        builder.build(again, "en", detail)  # type: ignore[arg-type]
        assert len(builder._result_ids[key]) <= 3


def test_criteria_something_else_holds_are_kept_by_identity_at_first_sight(
        engine: Engine) -> None:
    """A criteria tuple of known exact values that something besides the household
    holds (as the core's memo holds the ones it shares) is kept at first sight: the
    next Decision gets the very same list; one of decimals, or made afresh, is not."""
    from eligibility.decision_build import DecisionBuilder

    outcomes = engine.reference_outcomes(household(), date(2023, 6, 1), observe=False,
                                         calculation=False)
    plain = outcomes._replace(criteria=tuple(
        c._replace(value=bool(c.value)) for c in outcomes.criteria))
    builder = DecisionBuilder(engine.compiled)
    builder.build(plain._replace(criteria=tuple(plain.criteria)[::-1]), "en", "summary")
    assert len(builder._criteria_ids["en"]) == 0  # (nothing else holds that tuple)
    held = plain.criteria
    first = builder.build(plain, "en", "summary")
    assert builder._criteria_ids["en"].get(held) is first.criteria
    second = builder.build(plain, "en", "summary")
    assert first.criteria is second.criteria and len(builder._criteria_ids["en"]) == 1
    assert decision_bytes(first) == decision_bytes(
        DecisionBuilder(engine.compiled).build(plain, "en", "summary"))
    decimals = plain._replace(criteria=tuple(
        c._replace(value=Decimal("1.50")) for c in held))
    held_too = decimals.criteria
    one = builder.build(decimals, "en", "summary")
    two = builder.build(decimals, "en", "summary")
    assert one.criteria is not two.criteria and len(builder._criteria_ids["en"]) == 1
    assert all(c.value == Decimal("1.50") for c in two.criteria) and held_too
