"""The recorder over the fast path's environment (``record_env``) against the reference
recorder: the same steps, values (of the same types and digits), texts and parameter
uses, on generated households with every fact and with facts missing."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import Engine, load_pack
from eligibility.compile.calculation import recording as calculation
from eligibility.compile.fast import run as fast_run
from eligibility.compile.outcomes import HouseholdOutcomes
from eligibility.errors import EligibilityError
from eligibility.testing.strategies import evaluation_dates, households

ROOT = Path(__file__).resolve().parents[2]
PACKS = {name: Engine(load_pack(ROOT / path)) for name, path in (
    ("no", "rules/no"), ("anchors", "bench/anchors"))}


def _calculations(out: HouseholdOutcomes) -> list[tuple[str, str]]:
    """Per measure with a calculation: its id and the steps' repr (a repr tells
    1 from True and 1.0 from 1.00, which ``==`` does not)."""
    return [(cm.measure.id, repr(o.calculation)) for _, cm, o in out.measures
            if o.calculation is not None]


def _fast_equals_reference(engine: Engine, examples: int,
                           counted: dict[str, int] | None = None) -> None:
    """On generated households (complete and not) and dates, the fast path's recorded
    calculations equal the reference's; ``counted`` gets the measures and steps seen."""

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.one_of(households(engine.pack, complete=True),
                     households(engine.pack, complete=False)).flatmap(
        lambda facts: st.tuples(st.just(facts), evaluation_dates(engine.pack))))
    def check(scenario: tuple[dict[str, Any], date]) -> None:
        facts, as_of = scenario
        valid = engine.validate(facts)
        try:
            ref = engine.reference_outcomes(valid, as_of)
        except EligibilityError:
            return
        out = engine.fast.evaluate_household(valid, as_of, fallback=False)
        assert _calculations(out) == _calculations(ref)
        if counted is not None:
            counted["measures"] += len(_calculations(ref))
            counted["steps"] += sum(len(o.calculation) for _, _, o in ref.measures
                                    if o.calculation)

    check()


@pytest.mark.parametrize("name", sorted(PACKS))
def test_recording_from_the_environment_equals_the_reference(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Engine(PACKS[name].pack)  # (fresh: its steps' recorders made in this test)
    used = {"env": 0, "measures": 0, "env steps": 0, "steps": 0, "direct": 0}
    real, real_step, real_recorder = (fast_run._record_env, calculation._env_step,
                                      calculation._recorder)

    def counting(*args: Any) -> Any:
        found = real(*args)
        used["env"] += found is not None
        return found

    def counting_step(*args: Any) -> Any:
        found = real_step(*args)
        used["env steps"] += 1
        return found

    def counting_recorder(*args: Any) -> Any:
        recorder = real_recorder(*args)

        def counted(*call: Any) -> Any:
            found = recorder(*call)
            used["env steps"] += found is not None
            used["direct"] += found is not None
            return found

        return counted

    monkeypatch.setattr(fast_run, "_record_env", counting)
    monkeypatch.setattr(calculation, "_env_step", counting_step)
    monkeypatch.setattr(calculation, "_recorder", counting_recorder)

    _fast_equals_reference(engine, 150, used)
    # the environment recorded a real share of the calculations (not all fell back),
    # whole (every fact there) and step by step (facts missing elsewhere in the amount)
    assert used["env"] >= used["measures"] // 4 > 0
    assert used["steps"] > used["env steps"] > used["env"]
    assert used["direct"] > 0  # steps recorded by their recorders on the date


def test_a_closure_that_raises_records_the_reference_way() -> None:
    engine = Engine(load_pack(ROOT / "bench" / "anchors"))
    facts = {"household": {
        "adults": 1, "children": 2, "members_with_disability": 0, "annual_income": 300000,
        "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent", "is_homeless": False,
        "eviction_notice": False, "rooms": 2, "municipality_group": 1,
        "bank_loan_refused": True, "age_of_applicant": 30}}
    as_of = date(2025, 6, 1)
    valid = engine.validate(facts)
    ref = engine.reference_outcomes(valid, as_of)
    spoilt = 0
    measures = []
    for fm in engine.fast.measures:
        if fm.calculation:
            # every step's value looked up under a key the environment does not have
            # (a step laid out per date, or per outcomes of its `if` conditions)
            fm = replace(fm, calculation=tuple(
                (planned, "@nowhere" if vkey is not None else None, flat,
                 replace(direct, vkey="@nowhere" if vkey is not None else None,
                         **({"dated": {}} if isinstance(direct, calculation._Direct)
                            else {"layouts": {}})))
                for planned, vkey, flat, direct in fm.calculation))
            spoilt += any(vkey is not None for _, vkey, _, _ in fm.calculation)
        measures.append(fm)
    engine.fast.measures = tuple(measures)
    assert spoilt
    out = engine.fast.evaluate_household(valid, as_of, fallback=False)
    assert _calculations(out) == _calculations(ref) != []
    # and the spoilt steps did not decide anything: an untouched engine gives the same
    assert _calculations(PACKS["anchors"].fast.evaluate_household(valid, as_of)) == \
        _calculations(ref)


def test_steps_recorded_the_reference_way_are_kept_by_their_inputs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A step whose facts are missing, decided by inputs of exact kinds, is recorded
    once per date and inputs and then shared: a warm engine (each fixture, and a copy
    of it, twice) gives the steps a fresh engine's reference recording gives."""
    from eligibility.pack.yamlio import load_yaml_text, plain

    pack = load_pack(ROOT / "rules" / "no")
    warm = Engine(pack)
    keyed = {"keys": 0}
    real = calculation._ref_key

    def counting(*args: Any) -> Any:
        found = real(*args)
        keyed["keys"] += found is not None
        return found

    monkeypatch.setattr(calculation, "_ref_key", counting)
    as_of = date(2026, 6, 1)
    docs = [plain(load_yaml_text(p.read_text(encoding="utf-8"), p.name))
            for p in sorted((ROOT / "fixtures").glob("*.yaml"))]
    shared = 0
    for facts in docs:
        first = warm.fast.evaluate_household(warm.validate(facts), as_of, fallback=False)
        again = warm.fast.evaluate_household(warm.validate(dict(facts)), as_of,
                                             fallback=False)
        fresh = Engine(pack).reference_outcomes(facts, as_of)
        assert _calculations(first) == _calculations(again) == _calculations(fresh)
        shared += sum(a is b for (_, _, x), (_, _, y) in zip(first.measures, again.measures,
                                                              strict=True)
                      for a, b in zip(x.calculation or (), y.calculation or (), strict=True))
    assert keyed["keys"] > 0 and shared > 0


@pytest.mark.parametrize("name", sorted(PACKS))
def test_a_step_with_conditions_laid_out_per_outcomes_equals_term_by_term(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A step with `if` conditions is recorded from the layout of its conditions'
    outcomes (its recorder on the date, ``_guarded_recorder``): the step the
    term-by-term recorder (``_env_step``)
    gives in the same environment, with the branches not taken elided, and the same
    conditions asked (kept for the other steps as the term-by-term way keeps them), on
    generated households and dates."""
    engine = Engine(load_pack(ROOT / ("rules/no" if name == "no" else "bench/anchors")))
    seen = {"steps": 0, "elided": 0, "layouts": 0}
    real = calculation._guarded_recorder

    def both(plan: Any, g: Any, as_of: date, params: Any) -> Any:
        recorder = real(plan, g, as_of, params)

        def checked(env: Any, conds: dict[Any, Any], amount: Any, exact: Any) -> Any:
            before = dict(conds)
            got = recorder(env, conds, amount, exact)
            if got is not None:
                asked = dict(before)
                want = calculation._env_step(plan, (g.planned, g.vkey, g.flat, g), env,
                                             asked, plan.keyless_uses(as_of, params), as_of,
                                             params, amount, exact)
                assert repr(got) == repr(want)
                assert {c: v for c, v in conds.items() if c not in before} == {
                    c: v for c, v in asked.items() if c not in before}
                seen["steps"] += 1
                seen["elided"] += any(t[2] is calculation.ELIDED for t in got.terms)
                seen["layouts"] = max(seen["layouts"], len(g.layouts))
            return got

        return checked

    monkeypatch.setattr(calculation, "_guarded_recorder", both)

    _fast_equals_reference(engine, 80)
    assert seen["steps"] > 0 and seen["elided"] > 0 and seen["layouts"] > 1


@pytest.mark.parametrize("name", sorted(PACKS))
def test_a_step_recorder_equals_the_step_term_by_term(
        name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each shape of a step's recorder on a date (``_recorder``: one, two or three
    values, four to six among fixed terms, one keyed look-up, others) gives the step its
    layout gives term by term (``_direct_terms``), also where a fact it shows is not in
    the environment (None) or an aggregate was not kept there (computed), on generated
    households and dates."""
    engine = Engine(PACKS[name].pack)
    shapes: dict[str, int] = {}
    real = calculation._recorder

    def both(plan: Any, d: Any, as_of: date, bound: Any) -> Any:
        recorder = real(plan, d, as_of, bound)

        def checked(env: Any, conds: Any, amount: Any, exact: Any) -> Any:
            want = calculation._direct_terms(plan, d, bound, dict(env), as_of, bound[0],
                                             amount, exact)
            got = recorder(env, conds, amount, exact)
            assert repr(got) == repr(want)
            shapes[recorder.__name__] = shapes.get(recorder.__name__, 0) + 1
            for key in d.env_keys[:1] + tuple(k for *_, k, _ in d.evals)[:1]:
                less = {k: v for k, v in env.items() if k != key}  # not there
                assert repr(recorder(dict(less), conds, amount, exact)) == repr(
                    calculation._direct_terms(plan, d, bound, dict(less), as_of, bound[0],
                                              amount, exact))
                shapes["without"] = shapes.get("without", 0) + 1
            return got

        return checked

    monkeypatch.setattr(calculation, "_recorder", both)
    _fast_equals_reference(engine, 80)
    assert {"one", "keyed_step", "without"} <= shapes.keys(), shapes
    if name == "no":
        assert {"two", "three", "many", "terms_of"} <= shapes.keys(), shapes


#: an anchor-set household whose measures record their calculation
_HOUSE: dict[str, Any] = {
    "adults": 1, "children": 2, "members_with_disability": 0, "annual_income": 300000,
    "net_wealth": 0, "monthly_housing_cost": 9000, "tenure": "rent", "is_homeless": False,
    "eviction_notice": False, "rooms": 2, "municipality_group": 1,
    "bank_loan_refused": True, "age_of_applicant": 30}


def _spied(monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, list[tuple[Any, ...]]]:
    """An anchor-set engine, and the arguments of every ``_record_env`` call it makes."""
    engine = Engine(PACKS["anchors"].pack)
    calls: list[tuple[Any, ...]] = []
    real = fast_run._record_env

    def keeping(*args: Any) -> Any:
        calls.append(args)
        return real(*args)

    monkeypatch.setattr(fast_run, "_record_env", keeping)
    return engine, calls


def test_the_step_memo_is_tried_and_a_step_that_keeps_missing_is_dropped(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """On a date's first ``_TRIAL`` calls ``record_env`` counts how often each step is
    found in the memo: equal inputs share one step; a step found in fewer than half of
    them (inputs that differ every call) is then neither looked up nor kept, the others
    still are; other getters start the trial again."""
    monkeypatch.setattr(calculation, "_TRIAL", 8)
    engine, calls = _spied(monkeypatch)
    engine.outcomes({"household": dict(_HOUSE)}, date(2025, 6, 1))
    plan, mp, env, outcomes, exact, _ = calls[0]
    steps = mp.fm.calculation
    n = len(steps)
    fresh = iter(range(10**6))
    # step 0 by a constant (found again), step 1 by a value new on every call, no others
    getters = (lambda env: "same", lambda env: next(fresh)) + (None,) * (n - 2)
    memo: dict[Any, Any] = {}

    def remember(key: Any, step: Any) -> None:
        memo[key] = step

    def call() -> tuple[Any, ...]:
        return calculation.record_env(mp.cm.calculation, steps, env, plan.as_of,
                                      plan.params, outcomes.amount, exact, memo, getters,
                                      remember)

    first = call()  # (the first of the trial's 8 calls)
    runs = [call() for _ in range(7)]
    assert all(r[0] is first[0] for r in runs)  # equal inputs: one step, shared
    assert all(r[1] is not first[1] and repr(r[1]) == repr(first[1]) for r in runs)
    size = len(memo)
    assert size == 1 + 8  # step 0 once, step 1 per call
    trial = mp.cm.calculation._programs[plan.as_of][4]
    assert trial[2] == 0 and trial[1][0][2] is getters[0] and trial[1][1][2] is None
    later = [call() for _ in range(5)]
    assert len(memo) == size  # the dropped step no longer kept (the memo stays bounded)
    assert all(r[0] is first[0] for r in later)
    assert [repr(r) for r in later] == [repr(first)] * 5
    other = (getters[0], getters[1]) + (None,) * (n - 2)  # other getters: a new trial
    calculation.record_env(mp.cm.calculation, steps, env, plan.as_of, plan.params,
                           outcomes.amount, exact, memo, other, remember)
    assert trial[0] is other and trial[2] == 7 and len(memo) == size + 1


def test_a_step_recorder_keeps_its_keyed_look_up_per_keys(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A step with one keyed look-up (``_keyed_recorder``) keeps the look-up's term and
    the step's parameter uses per keys on the date: equal keys share them (whatever
    else differs), different keys do not, and it keeps at most ``_KEYED_KEPT``."""
    monkeypatch.setattr(calculation, "_KEYED_KEPT", 3)
    engine, calls = _spied(monkeypatch)
    house = dict(_HOUSE)
    as_of = date(2025, 6, 1)

    def amount_step(**changes: Any) -> Any:
        calls.clear()
        out = engine.outcomes({"household": {**house, **changes}}, as_of)
        (_, mp, _, _, _, _), = calls
        found = [o.calculation for _, cm, o in out.measures if cm is mp.cm]
        return found[0][-1]

    first = amount_step()
    assert first.name == "amount" and first.parameters
    richer = amount_step(annual_income=310000)  # the same keys, another income
    assert richer.parameters is first.parameters and richer.terms != first.terms
    assert [t for t in richer.terms if t[2] is not None] != []
    keyed = [i for i, use in enumerate(first.parameters) if use.keys]
    assert keyed
    at = keyed[0]
    other = amount_step(municipality_group=2)  # other keys: another look-up
    assert other.parameters is not first.parameters
    assert other.parameters[at].keys != first.parameters[at].keys
    _, mp, *_ = calls[0]
    recorder = next(b[4] for b in (s[3].dated.get(as_of) for s in mp.fm.calculation
                                   if isinstance(s[3], calculation._Direct)) if b and
                    b[4].__name__ == "keyed_step")
    kept = recorder.__closure__[recorder.__code__.co_freevars.index("kept")].cell_contents
    for group in (3, 4, 1, 2, 3):
        amount_step(municipality_group=group)
        assert 0 < len(kept) <= 3
