"""Recording reads what the reference evaluation kept: the aggregates and `if`
conditions of a calculation's steps, and the aggregates a Reason shows, are computed
once per measure, not again by the recorder or for the Reason, and a kept value lives
only in the evaluation's caches (``ctx.lets`` per measure, ``ctx.crit`` per
evaluation), so it never reaches another measure or household.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from eligibility import Engine, load_pack
from eligibility.compile.calculation import ELIDED, record
from eligibility.compile.calculation.planning import _param_value
from eligibility.compile.calculation.recording import _value
from eligibility.compile.outcomes import json_value
from eligibility.compile.reference import evaluate_measure
from eligibility.compile.runtime import UNKNOWN, Ctx

ROOT = Path(__file__).resolve().parents[2]
ENGINE = Engine(load_pack(ROOT / "rules" / "no"))
AS_OF = date(2026, 6, 1)
CM = {cm.measure.id: cm for cm in ENGINE.compiled.measures}
FIXTURES = {p.stem: yaml.safe_load(p.read_text(encoding="utf-8"))
            for p in sorted((ROOT / "fixtures").glob("*.yaml"))}


class _Counted(dict[str, Any]):
    """A member whose field reads are counted (the closures read members by ``get``)."""

    reads = 0

    def get(self, key: str, default: Any = None) -> Any:
        _Counted.reads += 1
        return super().get(key, default)


def _context(doc: dict[str, Any], counted: bool = False) -> Ctx:
    ctx = ENGINE.context(ENGINE.validate(doc, AS_OF), AS_OF)
    if counted and ctx.members is not None:
        ctx.members = [_Counted(m) for m in ctx.members]
    return ctx


def _household(**change: Any) -> dict[str, Any]:
    """The family of ``fixtures/familie-utkastelse.yaml`` (two adults, three children;
    every fact the calculations read), with groups replaced by ``change``."""
    return {**FIXTURES["familie-utkastelse"], **change}


def _member_reads(doc: dict[str, Any], measure: str, calculation: bool,
                  observe: bool = True) -> int:
    ctx = _context(doc, counted=True)
    _Counted.reads = 0
    evaluate_measure(CM[measure], ctx, observe=observe, calculation=calculation)
    return _Counted.reads


def test_recording_asks_no_member_field_the_evaluation_read() -> None:
    """startlan's norms count members by age and role (count, any, `if any(...)`), and
    bostotte's weights and income sum over them: the recorder takes those values from
    the evaluation, so recording the steps reads no member field again."""
    doc = _household()
    for measure in ("startlan", "bostotte"):
        plan = CM[measure].calculation
        assert plan is not None
        without = _member_reads(doc, measure, calculation=False)
        assert without > 0
        assert _member_reads(doc, measure, calculation=True) == without
    outcomes = evaluate_measure(CM["startlan"], _context(doc))
    steps = {s.name: s for s in outcomes.calculation or ()}
    # the kept values are those shown: one child in each age band, no other adult
    assert [v for _, _, v in steps["norm_barn"].terms][1::2] == [1, 1, 1]
    assert steps["norm_andre_voksne"].terms[1][2] == 0


def test_a_reason_shows_the_aggregates_its_requirement_computed() -> None:
    """bostotte's requirements ask whether any adult member is a conscript or a student;
    the values each Reason shows are those the requirement's closures kept (no member
    field read again), and the same as computed afresh."""
    doc = _household()
    without = _member_reads(doc, "bostotte", calculation=False, observe=False)
    assert without > 0
    assert _member_reads(doc, "bostotte", calculation=False, observe=True) == without
    ctx = _context(doc)
    reasons = evaluate_measure(CM["bostotte"], ctx, calculation=False).reasons
    shown = {label: value for r in reasons for label, value in (r.values or {}).items()}
    assert shown["any(members, age >= 18 and conscript)"] is False
    ctx.lets = {}  # nothing kept: each shown value computed
    for r in reasons:
        assert {label: json_value(fn(ctx)) for label, fn in r.creq.observed} == r.values


def test_a_value_not_kept_is_computed_by_the_recorder() -> None:
    """A kept value the evaluation did not reach (here: dropped from the cache) is
    computed when recording, to the same steps."""
    doc = _household()
    ctx = _context(doc)
    full = evaluate_measure(CM["startlan"], ctx)
    kept = sorted(k for k in ctx.lets if k.startswith("@"))
    assert kept  # the aggregates and conditions of startlan's steps
    for key in kept:
        del ctx.lets[key]
    assert record(CM["startlan"].calculation, ctx, full.amount,  # type: ignore[arg-type]
                  ctx.exact) == full.calculation


def test_kept_values_stay_with_their_measure_and_household() -> None:
    """One context per household, its ``let`` cache made anew per measure (as the fast
    path does): the steps equal those of a fresh context, whatever ran in it before —
    another measure, or the same measure for another household."""
    first = _household()
    second = _household(members=[{"role": "applicant", "age": 70, "income_month": 9000}])
    fresh = {m: evaluate_measure(CM[m], _context(second)) for m in ("startlan", "bostotte")}
    assert fresh["startlan"].calculation != evaluate_measure(
        CM["startlan"], _context(first)).calculation
    ctx = _context(first)
    for m in ("bostotte", "startlan"):
        evaluate_measure(CM[m], ctx)
    again = _context(second)
    # the first household's evaluation, its caches then made anew (a new evaluation)
    ctx.facts, ctx.members, ctx.crit = again.facts, again.members, {}
    for m in ("startlan", "bostotte"):
        assert evaluate_measure(CM[m], ctx) == fresh[m]
    # within one household: each measure after the other equals each alone
    ctx = _context(second)
    assert [evaluate_measure(CM[m], ctx) for m in ("bostotte", "startlan")] == [
        fresh["bostotte"], fresh["startlan"]]


def test_missing_facts_are_the_same_with_kept_values() -> None:
    """With member fields missing, the kept unknown values give the same steps (values,
    the facts each waits for, in order) as recording afresh in a context that kept none."""
    doc = _household(members=[{"role": "applicant", "age": 40},
                              {"role": "partner"}, {"role": "child", "age": 4},
                              {"role": "child"}])
    ctx = _context(doc)
    for m in ("startlan", "bostotte"):
        got = evaluate_measure(CM[m], ctx)
        lets = {k: v for k, v in ctx.lets.items() if not k.startswith("@")}
        crit = {k: v for k, v in ctx.crit.items() if not k.startswith("@")}
        ctx.lets, ctx.crit = lets, crit
        assert record(CM[m].calculation, ctx, got.amount,  # type: ignore[arg-type]
                      ctx.exact) == got.calculation
        assert any(s.waiting_for for s in got.calculation or ())


def _term_by_term(planned: Any, ctx: Ctx) -> tuple[tuple[tuple[int, int, Any], ...],
                                                   list[tuple[str, Any]]]:
    """The terms of ``planned`` read one by one from its plan (its closures computing
    every value): a term inside a branch its condition rules out is left out, that
    branch shown as ELIDED; an UNKNOWN condition takes both branches. And (name, value)
    of each parameter looked up on the way."""
    terms: list[tuple[int, int, Any]] = []
    params: list[tuple[str, Any]] = []
    elided_to = -1
    for term in planned.terms:
        if term.end <= elided_to:
            continue
        taken = True
        for cond, want in term.guards:
            got = _value(cond, ctx)
            if got is not want and got is not UNKNOWN:
                taken = False
                break
        if not taken:
            if term.fn is None:
                elided_to = term.end
                terms.append((term.start, term.end, ELIDED))
            continue
        if term.fn is None:  # a branch taken: its terms follow
            continue
        if term.param is not None:
            keys = tuple(_value(k, ctx) for k in term.param[1])
            value = _param_value(ctx.params, term.param[0].name, keys)
            terms.append((term.start, term.end, value))
            params.append((term.param[0].name, value))
        else:
            terms.append((term.start, term.end, _value(term.fn, ctx)))
    return tuple(terms), params


def test_recorded_terms_are_those_of_the_plan_read_term_by_term() -> None:
    """On households with facts and member fields missing (conditions unknown, branches
    elided or both shown), every recorded step's terms are those the plan gives read
    term by term, and its parameters those its look-ups name."""
    import polars as pl

    from eligibility.batch.frame import drop_nulls
    from eligibility.batch.generate import generate

    frame = generate(ENGINE.pack, 60, seed=11, missing=0.4)
    groups = [c for c in frame.columns if c != "id"]
    seen = {"unknown": 0, "elided": 0}
    for row in frame.select(pl.struct(groups)).iter_rows():
        ctx = _context(drop_nulls(row[0]))
        for m in ("startlan", "bostotte"):
            steps = evaluate_measure(CM[m], ctx).calculation or ()
            plan = CM[m].calculation
            assert plan is not None
            for planned, step in zip(plan.steps, steps, strict=True):
                terms, params = _term_by_term(planned, ctx)
                assert step.terms == terms, (m, step.name)
                assert [(u.name, u.value) for u in step.parameters] == params
                seen["unknown"] += any(v is UNKNOWN for _, _, v in step.terms)
                seen["elided"] += any(v is ELIDED for _, _, v in step.terms)
    assert seen["unknown"] > 0 and seen["elided"] > 0
