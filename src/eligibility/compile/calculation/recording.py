"""The recorders of an amount's calculation: a plan's steps read from one evaluation.

:func:`record` reads a reference context *after* the evaluation computed the amount:
each step's value (or the facts it waits for), the parameters it used and the values to
show in its expression, from what the evaluation kept (the unrounded amount, the
``let`` and criterion caches, the facts, and the aggregates and `if` conditions the
closures kept), evaluating only what it did not; a step whose facts are all in a
backend's environment is recorded from there, and one decided by inputs of exact kinds
is found in the date's step memo. :func:`record_env` records a measure whose amount ran
on a backend's two-valued closures from its environment, on the layouts of
:mod:`.layout`: each step by its recorder on the date (:func:`_recorder`, one closure
per layout and date, bound with it by :func:`_bind`; :func:`_guarded_recorder` for a
step with conditions), term by term (:func:`_env_step`) where a layout does not apply.
Neither changes the outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from operator import itemgetter
from typing import Any

from eligibility.compile.calculation.layout import (
    _LAYOUT_AFTER,
    _LAYOUTS_AT_START,
    EnvStep,
    _bind,
    _Direct,
    _direct,
    _Guarded,
    _guarded_layout,
    _laid_out,
)
from eligibility.compile.calculation.planning import (
    _BRANCH,
    _CRIT,
    _EVAL,
    _FACT,
    _LET,
    _PARAM,
    ELIDED,
    CalculationPlan,
    Fn,
    ParamUse,
    RecordedStep,
    _param_value,
    _PlannedStep,
)
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import EligibilityError

#: ``record``'s ``exact`` when the caller does not give the amount before rounding
_NOT_GIVEN: Any = object()


def _evaluate(fn: Fn, ctx: Ctx) -> tuple[Any, tuple[str, ...]]:
    """``fn``'s value in ``ctx`` and the missing facts it read; ``ctx.missing`` stays as it was."""
    missing = ctx.missing
    mark = len(missing)
    try:
        value = fn(ctx)
    except EligibilityError:
        value = UNKNOWN
    if len(missing) == mark:
        return value, ()
    read = tuple(dict.fromkeys(missing[mark:]))
    del missing[mark:]
    return value, read


def record(plan: CalculationPlan, ctx: Ctx, amount: Any,
           exact: Any = _NOT_GIVEN, env: Mapping[str, Any] | None = None,
           env_at: tuple[EnvStep | None, ...] = (),
           memo: Mapping[Any, RecordedStep] | None = None,
           getters: tuple[Callable[[Any], Any] | None, ...] = (),
           remember: Callable[[Any, RecordedStep], None] | None = None,
           ) -> tuple[RecordedStep, ...]:
    """Record every step of ``plan`` in ``ctx`` after the measure was evaluated there.

    ``amount`` is the rounded amount the evaluation computed, ``exact`` the value before
    rounding (evaluated again here when not given). Terms and conditions are evaluated
    directly (``ctx.missing`` is put back as it was at the end; a step's own value
    keeps the missing facts it read as ``waiting_for``).

    ``env_at`` (with ``env``, a backend's environment; see :func:`record_env`) gives per
    step the :data:`EnvStep` to record it from the environment, for steps whose facts
    are all there, or None; a step whose closure raises is recorded the reference way.
    ``memo``, ``getters`` and ``remember`` as for :func:`record_env`."""
    steps: list[RecordedStep] = []
    env_conds: dict[Any, Any] = {}
    conds: dict[Fn, Any] = {}  # the value of each `if` condition, evaluated once
    as_of = ctx.as_of
    facts_get, lets_get, crit_get = ctx.facts.get, ctx.lets.get, ctx.crit.get
    params = ctx.params
    missing = ctx.missing
    mark = len(missing)
    rounding = plan.rounding
    param_use = plan.param_use
    new = _new_step
    for at, planned in enumerate(plan.steps):
        if env_at:
            step = env_at[at]
            if step is not None:
                try:
                    steps.append(_step_from_env(
                        plan, step, at, env, env_conds, as_of, params,  # type: ignore[arg-type]
                        amount, exact, memo, getters, remember))
                    continue
                except _RAISES:
                    pass
        waiting: tuple[str, ...] = ()
        step_exact = None
        kind = planned.kind
        cached = planned.cached
        hit = None
        if cached is not None:
            hit = (lets_get if cached[0] == "lets" else crit_get)(cached[1])
        if hit is not None:  # the evaluation's cached value (and the facts it waited for)
            value = hit[0]
            if value is UNKNOWN and hit[1]:
                waiting = tuple(dict.fromkeys(hit[1]))
        elif kind == "amount" and exact is not _NOT_GIVEN:
            value, step_exact = amount, exact
            if amount is UNKNOWN and ctx.amount[1]:
                waiting = tuple(dict.fromkeys(ctx.amount[1]))
        else:
            value, waiting = _evaluate(planned.value, ctx)
            if kind == "amount":
                step_exact, value = value, amount
        mkey: tuple[Any, ...] | None = None
        if memo is not None and planned.inputs is not None:
            # decided by its inputs, all facts or values the evaluation kept: the step
            # made before from equal inputs (the date's memo), without evaluating again
            mkey = _ref_key(at, value, waiting, step_exact, planned.inputs, facts_get,
                            lets_get, crit_get)
            if mkey is not None:
                found = memo.get(mkey)
                if found is not None:
                    steps.append(found)
                    continue
        # the step laid out for the outcomes of its conditions (each asked once)
        okey: tuple[Any, ...] = ()
        if planned.conds:
            outcomes: list[Any] = []
            for cond, outer in planned.conds:
                for at_, want in outer:
                    got = outcomes[at_]
                    if got is not want and got is not UNKNOWN:
                        outcomes.append(None)  # not asked: a branch around it not taken
                        break
                else:
                    got = conds.get(cond, _NOT_GIVEN)
                    if got is _NOT_GIVEN:
                        got = conds[cond] = _value(cond, ctx)
                    outcomes.append(got)
            okey = tuple(outcomes)
        laid = planned.layouts.get(okey)
        if laid is None:
            laid = _ref_layout(plan, planned, okey)
        laid_out, reads = laid
        bound = laid_out.dated.get(as_of)
        if bound is None or bound[0] is not params:
            bound = _bind(plan, laid_out, as_of, params)  # the date's plain look-ups in place
        terms = bound[1].copy()
        for pos, start, end, how, key, fn in reads:
            if how == _LET:  # (the most frequent first)
                hit = lets_get(key)
                tvalue = hit[0] if hit is not None else _value(fn, ctx)
            elif how == _FACT:
                tvalue = facts_get(key, UNKNOWN)
            elif how == _CRIT:
                hit = crit_get(key)
                tvalue = hit[0] if hit is not None else _value(fn, ctx)
            else:  # _EVAL
                tvalue = _value(fn, ctx)
            terms[pos] = (start, end, tvalue)
        uses = bound[2]
        if laid_out.keyed:
            found_uses = list(uses)
            for pos, start, end, name, key_fns, use_at in laid_out.keyed:
                keys = tuple([_value(k, ctx) for k in key_fns])
                tvalue = _param_value(params, name, keys)
                found_uses[use_at] = param_use(as_of, name, keys, tvalue)
                terms[pos] = (start, end, tvalue)
            uses = tuple(found_uses)
        made = new(RecordedStep, (
            planned.name, kind, planned.title, planned.unit, planned.sources,
            planned.text, value, waiting if value is UNKNOWN else (), uses, tuple(terms),
            rounding if kind == "amount" else None, step_exact, planned.ident,
        ))
        if mkey is not None:
            remember(mkey, made)  # type: ignore[misc]
        steps.append(made)
    del missing[mark:]
    return tuple(steps)


_new_step = tuple.__new__


def _ref_layout(plan: CalculationPlan, planned: _PlannedStep, outcomes: tuple[Any, ...],
                ) -> tuple[_Direct, tuple[tuple[Any, ...], ...]]:
    """``planned`` laid out for :func:`record` where its conditions came out as
    ``outcomes`` (an UNKNOWN one takes both branches): the terms then recorded as a
    :class:`_Direct` (whose plain look-ups and elided branches :func:`_bind` puts in
    place per date), and (position, start, end, how, key, closure) of each term read
    from the context; kept in ``planned.layouts`` (bounded, under the plan's lock)."""
    kept = _laid_out(planned.flat, planned.cond_index, outcomes, unknown_taken=True)
    direct = _direct(planned, None, kept)
    assert direct is not None  # (no guards are left)
    reads = tuple((pos, start, end, how, key, fn)
                  for pos, (start, end, how, key, fn, _, _) in enumerate(kept)
                  if how in (_LET, _FACT, _CRIT, _EVAL))
    laid = (direct, reads)
    with plan._lock:
        if len(planned.layouts) >= 64:
            planned.layouts.clear()
        planned.layouts[outcomes] = laid
    return laid

#: the first item of :func:`_ref_key`'s keys (apart from the environment steps' keys)
_REF: Any = object()
#: the kinds of value a memo key holds as they are (a bool by a token: True == 1)
_KEY_KINDS = frozenset({int, str, type(None), type(UNKNOWN), date})
_TRUE: Any = object()
_FALSE: Any = object()


def _ref_key(at: int, value: Any, waiting: tuple[str, ...], exact: Any,
             inputs: tuple[tuple[int, str], ...], facts_get: Callable[..., Any],
             lets_get: Callable[[str], Any], crit_get: Callable[[str], Any],
             ) -> tuple[Any, ...] | None:
    """The memo key of step ``at`` recorded the reference way: its value, the facts it
    waits for, its exact amount and every input's value (facts, and ``let`` and
    criterion values the evaluation kept), each of an exact kind; None where one is
    not (a decimal, a list) or an input was not kept (recording would evaluate it, and
    keep it, then)."""
    shown: list[Any] = [value, exact]
    for how, name in inputs:
        if how == _FACT:
            shown.append(facts_get(name, UNKNOWN))
        else:
            hit = (lets_get if how == _LET else crit_get)(name)
            if hit is None:
                return None
            shown.append(hit[0])
    key: list[Any] = [_REF, at, waiting]
    for v in shown:
        cls = v.__class__
        if cls is bool:
            v = _TRUE if v else _FALSE
        elif cls not in _KEY_KINDS:
            return None
        key.append(v)
    return tuple(key)


def _value(fn: Fn, ctx: Ctx) -> Any:
    """``fn``'s value in ``ctx`` (UNKNOWN where it raises a rule error)."""
    try:
        return fn(ctx)
    except EligibilityError:
        return UNKNOWN





def _guarded_step(plan: CalculationPlan, g: _Guarded, env: Mapping[str, Any],
                  conds: dict[Any, Any], as_of: date, params: Mapping[str, Any],
                  amount: Any, exact: Any) -> RecordedStep | None:
    """The step :func:`_env_step` records, by :func:`_direct_step` on the layout of its
    conditions' outcomes (asked as it asks them; ``conds``: those asked so far); None
    where that gives None or the outcomes come for the first time (the caller records
    the step term by term then)."""
    outcomes: list[Any] = []
    for cond, outer in g.conds:
        for at, want in outer:
            if outcomes[at] is not want:
                outcomes.append(None)  # not asked: a branch around it not taken
                break
        else:
            got = conds.get(cond)
            if got is None:
                got = conds[cond] = cond(env)
            outcomes.append(got)
    key = tuple(outcomes)
    layouts = g.layouts
    d: Any = layouts.get(key)
    if d.__class__ is not _Direct:
        # outcomes seen fewer than _LAYOUT_AFTER times: term by term (the caller, with
        # the conditions asked here), then laid out (a layout and its binding per date
        # cost more than a few term-by-term records)
        seen: Any = (d or 0) + 1
        made = _guarded_layout(g, key) if seen >= _LAYOUT_AFTER else seen
        with plan._lock:
            if len(layouts) >= 2 * _LAYOUTS_AT_START:
                layouts.clear()
            layouts[key] = made
        if made.__class__ is not _Direct:
            return None
        d = made
    return _direct_step(plan, d, env, as_of, params, amount, exact)


def _direct_step(plan: CalculationPlan, d: _Direct, env: Mapping[str, Any], as_of: date,
                 params: Mapping[str, Any], amount: Any, exact: Any) -> RecordedStep | None:
    """The step :func:`_env_step` records, from ``d`` (bound once per date, ``d.dated``,
    with its recorder there, :func:`_recorder`); None where a fact it shows is not in
    ``env`` (the caller records it term by term then)."""
    bound = d.dated.get(as_of)
    if bound is None or bound[0] is not params:
        bound = _bind(plan, d, as_of, params, _recorder)
    return bound[4](env, None, amount, exact)  # type: ignore[no-any-return]


#: the recorder of a step on one date: (environment, the conditions asked so far (one
#: with conditions), amount, exact) → the step, or None (record it term by term then)
_Recorder = Callable[[Mapping[str, Any], Any, Any, Any], "RecordedStep | None"]


def _recorder(plan: CalculationPlan, d: _Direct, as_of: date, bound: tuple[Any, ...],
              ) -> _Recorder:
    """``d``'s step on the date ``bound`` is for, as one closure: the values that vary
    (facts and ``let`` values, and the aggregates the evaluation kept) read from the
    environment (up to three, or four to six among terms the date fixes, by subscript,
    each term made in place, no loop: :func:`_mixed_recorder`; more by one getter;
    :func:`_keyed_recorder` with one keyed look-up); where one is not there (a fact
    missing, an aggregate the evaluation did not keep) or a term is computed every
    time, as :func:`_direct_terms` records it."""
    params, base, uses, memo = bound[0], bound[1], bound[2], bound[3]
    name, kind, title, unit, sources, text, ident = d.head
    vkey = d.vkey
    rounding = plan.rounding
    new = _new_step
    rs = RecordedStep

    def slow(env: Mapping[str, Any], amount: Any, exact: Any) -> RecordedStep | None:
        return _direct_terms(plan, d, bound, env, as_of, params, amount, exact)

    if any(not key for _, _, _, key, _ in d.evals):  # (computed every time)
        return lambda env, conds, amount, exact: slow(env, amount, exact)
    # the terms whose values vary, in order: (position, start, end, environment key)
    varying = sorted([(pos, start, end, key) for (pos, start, end), key in zip(
        d.env_terms, d.env_keys, strict=True)] + [
        (pos, start, end, key) for pos, start, end, key, _ in d.evals])
    k = len(varying)
    getter: Any = itemgetter(*[key for *_, key in varying]) if varying else None
    keyed = d.keyed
    whole = k == d.n  # every term varies: no term fixed by the date
    if len(keyed) == 1 and k <= 3 and 1 <= len(keyed[0][4]) <= 2:
        return _keyed_recorder(plan, d, as_of, bound, varying, slow)
    if not keyed and not whole and 3 < k <= 6:
        return _mixed_recorder(plan, d, bound, varying, slow)
    if keyed or not 0 < k <= 3:
        spans = tuple([(pos, start, end) for pos, start, end, _ in varying])
        starts = tuple([start for _, start, _, _ in varying])
        ends = tuple([end for _, _, end, _ in varying])
        fixed = tuple(base)

        def terms_of(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
                     ) -> RecordedStep | None:
            step_uses = uses
            if getter is None:
                if not keyed:
                    terms: Any = fixed
                else:
                    t = base.copy()
                    step_uses = _keyed(plan, keyed, memo, env, as_of, params, t, uses)
                    terms = tuple(t)
            else:
                try:
                    got = getter(env)
                except KeyError:
                    return slow(env, amount, exact)
                if whole and not keyed:  # (more than three: zip makes them faster)
                    # (no strict=: a keyword argument costs zip its fast call)
                    terms = tuple(zip(starts, ends, got))  # noqa: B905
                else:
                    t = base.copy()
                    if k == 1:
                        pos, start, end = spans[0]
                        t[pos] = (start, end, got)
                    else:
                        for (pos, start, end), value in zip(spans, got):  # noqa: B905
                            t[pos] = (start, end, value)
                    if keyed:
                        step_uses = _keyed(plan, keyed, memo, env, as_of, params, t, uses)
                    terms = tuple(t)
            if vkey is None:
                return new(rs, (name, kind, title, unit, sources, text, amount, (), step_uses,
                                terms, rounding, exact, ident))
            return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), step_uses,
                            terms, None, None, ident))

        return terms_of
    # (read by subscript: cheaper than the getter's call and tuple for up to three)
    (p0, s0, e0, q0), (p1, s1, e1, q1), (p2, s2, e2, q2) = (
        varying + [(0, 0, 0, "")] * 2)[:3]
    if k == 1:
        def one(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any) -> RecordedStep | None:
            try:
                a = env[q0]
            except KeyError:
                return slow(env, amount, exact)
            if whole:
                terms: Any = ((s0, e0, a),)
            else:
                t = base.copy()
                t[p0] = (s0, e0, a)
                terms = tuple(t)
            if vkey is None:
                return new(rs, (name, kind, title, unit, sources, text, amount, (), uses,
                                terms, rounding, exact, ident))
            return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), uses,
                            terms, None, None, ident))

        return one
    if k == 2:
        def two(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any) -> RecordedStep | None:
            try:
                a = env[q0]
                b = env[q1]
            except KeyError:
                return slow(env, amount, exact)
            if whole:
                terms: Any = ((s0, e0, a), (s1, e1, b))
            else:
                t = base.copy()
                t[p0] = (s0, e0, a)
                t[p1] = (s1, e1, b)
                terms = tuple(t)
            if vkey is None:
                return new(rs, (name, kind, title, unit, sources, text, amount, (), uses,
                                terms, rounding, exact, ident))
            return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), uses,
                            terms, None, None, ident))

        return two

    def three(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any) -> RecordedStep | None:
        try:
            a = env[q0]
            b = env[q1]
            c = env[q2]
        except KeyError:
            return slow(env, amount, exact)
        if whole:
            terms: Any = ((s0, e0, a), (s1, e1, b), (s2, e2, c))
        else:
            t = base.copy()
            t[p0] = (s0, e0, a)
            t[p1] = (s1, e1, b)
            t[p2] = (s2, e2, c)
            terms = tuple(t)
        if vkey is None:
            return new(rs, (name, kind, title, unit, sources, text, amount, (), uses,
                            terms, rounding, exact, ident))
        return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), uses,
                        terms, None, None, ident))

    return three


def _mixed_recorder(plan: CalculationPlan, d: _Direct, bound: tuple[Any, ...],
                   varying: list[tuple[int, int, int, str]],
                   slow: Callable[..., RecordedStep | None]) -> _Recorder:
    """:func:`_recorder` for a step with four to six values that vary among terms the
    date fixes (no keyed look-up): each read by subscript and its term put in place
    (no loop)."""
    base, uses = bound[1], bound[2]
    name, kind, title, unit, sources, text, ident = d.head
    vkey = d.vkey
    rounding = plan.rounding
    new = _new_step
    rs = RecordedStep
    k = len(varying)
    ((p0, s0, e0, q0), (p1, s1, e1, q1), (p2, s2, e2, q2), (p3, s3, e3, q3),
     (p4, s4, e4, q4), (p5, s5, e5, q5)) = (varying + [(0, 0, 0, "")] * 2)[:6]

    def many(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
             ) -> RecordedStep | None:
        t = base.copy()
        try:
            t[p0] = (s0, e0, env[q0])
            t[p1] = (s1, e1, env[q1])
            t[p2] = (s2, e2, env[q2])
            t[p3] = (s3, e3, env[q3])
            if k > 4:
                t[p4] = (s4, e4, env[q4])
                if k > 5:
                    t[p5] = (s5, e5, env[q5])
        except KeyError:
            return slow(env, amount, exact)
        if vkey is None:
            return new(rs, (name, kind, title, unit, sources, text, amount, (), uses,
                            tuple(t), rounding, exact, ident))
        return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), uses,
                        tuple(t), None, None, ident))

    return many


#: the most keys whose look-up a step's recorder keeps (:func:`_keyed_recorder`)
_KEYED_KEPT = 4096


def _keyed_recorder(plan: CalculationPlan, d: _Direct, as_of: date,
                    bound: tuple[Any, ...], varying: list[tuple[int, int, int, str]],
                    slow: Callable[..., RecordedStep | None]) -> _Recorder:
    """:func:`_recorder` for a step with one keyed look-up (one or two keys) and up to
    three values that vary: the look-up's term and the step's uses kept per keys of
    exact kinds (int, str) on the date (bounded, under the plan's lock), each made
    once by :func:`_keyed`."""
    params, base, uses, memo = bound[0], bound[1], bound[2], bound[3]
    name, kind, title, unit, sources, text, ident = d.head
    vkey = d.vkey
    rounding = plan.rounding
    new = _new_step
    rs = RecordedStep
    keyed = d.keyed
    kpos = keyed[0][0]
    key_fns = keyed[0][4]
    kf0 = key_fns[0]
    kf1 = key_fns[1] if len(key_fns) == 2 else None
    k = len(varying)
    (p0, s0, e0, q0), (p1, s1, e1, q1), (p2, s2, e2, q2) = (
        varying + [(0, 0, 0, "")] * 3)[:3]
    kept: dict[Any, tuple[Any, tuple[ParamUse, ...]]] = {}

    def keyed_step(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
                   ) -> RecordedStep | None:
        t = base.copy()
        if k:
            try:
                t[p0] = (s0, e0, env[q0])
                if k > 1:
                    t[p1] = (s1, e1, env[q1])
                    if k > 2:
                        t[p2] = (s2, e2, env[q2])
            except KeyError:
                return slow(env, amount, exact)
        ka = kf0(env)
        if kf1 is None:
            mkey: Any = ka if ka.__class__ is int or ka.__class__ is str else None
        else:
            kb = kf1(env)
            mkey = (ka, kb) if (ka.__class__ is int or ka.__class__ is str) and (
                kb.__class__ is int or kb.__class__ is str) else None
        hit = kept.get(mkey) if mkey is not None else None
        if hit is None:
            step_uses = _keyed(plan, keyed, memo, env, as_of, params, t, uses)
            if mkey is not None:
                with plan._lock:
                    if len(kept) >= _KEYED_KEPT:
                        kept.clear()
                    kept[mkey] = (t[kpos], step_uses)
        else:
            t[kpos] = hit[0]
            step_uses = hit[1]
        if vkey is None:
            return new(rs, (name, kind, title, unit, sources, text, amount, (), step_uses,
                            tuple(t), rounding, exact, ident))
        return new(rs, (name, kind, title, unit, sources, text, env[vkey], (), step_uses,
                        tuple(t), None, None, ident))

    return keyed_step


def _keyed(plan: CalculationPlan, keyed: tuple[tuple[Any, ...], ...],
           memo: dict[tuple[Any, ...], tuple[Any, ParamUse]], env: Mapping[str, Any],
           as_of: date, params: Mapping[str, Any], terms: list[Any],
           uses: tuple[Any, ...]) -> tuple[ParamUse, ...]:
    """The keyed look-ups of a step over ``env`` put in ``terms``; the step's uses."""
    found = list(uses)
    for pos, start, end, name, key_fns, at in keyed:
        n = len(key_fns)
        keys = ((key_fns[0](env),) if n == 1 else
                (key_fns[0](env), key_fns[1](env)) if n == 2 else
                tuple([k(env) for k in key_fns]))
        mkey: tuple[Any, ...] | None = (name, keys)
        for k in keys:  # exact kinds only: 1 == True, 1 == Decimal("1.0")
            if k.__class__ is not int and k.__class__ is not str:
                mkey = None
                break
        hit = memo.get(mkey) if mkey is not None else None
        if hit is None:
            value = _param_value(params, name, keys)
            hit = (value, plan.param_use(as_of, name, keys, value))
            if mkey is not None:
                plan.keep_keyed(memo, mkey, hit)
        terms[pos] = (start, end, hit[0])
        found[at] = hit[1]
    return tuple(found)


def _direct_terms(plan: CalculationPlan, d: _Direct, bound: tuple[Any, ...],
                  env: Mapping[str, Any], as_of: date, params: Mapping[str, Any],
                  amount: Any, exact: Any) -> RecordedStep | None:
    """:func:`_direct_step` term by term on ``bound``: the facts and ``let`` values read
    from ``env`` (None where a fact is not there), each aggregate from where the
    evaluation kept it or by its closure."""
    terms = bound[1].copy()
    getter = d.getter
    if getter is not None:
        try:
            got = getter(env)
        except KeyError:
            return None
        env_terms = d.env_terms
        if len(env_terms) == 1:
            pos, start, end = env_terms[0]
            terms[pos] = (start, end, got)
        else:
            for (pos, start, end), value in zip(env_terms, got, strict=True):
                terms[pos] = (start, end, value)
    for pos, start, end, key, efn in d.evals:  # kept by the evaluation where it ran it
        value = env.get(key, _NOT_GIVEN) if key else _NOT_GIVEN
        terms[pos] = (start, end, efn(env) if value is _NOT_GIVEN else value)
    uses = bound[2]
    if d.keyed:
        uses = _keyed(plan, d.keyed, bound[3], env, as_of, params, terms, uses)
    name_, kind, title, unit, sources, text, ident = d.head
    vkey = d.vkey
    if vkey is None:
        return _new_step(RecordedStep, (name_, kind, title, unit, sources, text, amount, (),
                                        uses, tuple(terms), plan.rounding, exact, ident))
    return _new_step(RecordedStep, (name_, kind, title, unit, sources, text, env[vkey], (),
                                    uses, tuple(terms), None, None, ident))


#: what a backend's closure may raise where the reference gives UNKNOWN or an error
#: (a division by zero, a table key or parameter value that is not there)
_RAISES: tuple[type[BaseException], ...] = (ArithmeticError, LookupError, EligibilityError)


def record_env(plan: CalculationPlan, steps: tuple[EnvStep, ...], env: Mapping[str, Any],
               as_of: date, params: Mapping[str, Any], amount: Any, exact: Any,
               memo: Mapping[Any, RecordedStep] | None = None,
               getters: tuple[Callable[[Any], Any] | None, ...] = (),
               remember: Callable[[Any, RecordedStep], None] | None = None,
               ) -> tuple[RecordedStep, ...]:
    """:func:`record` for a measure whose amount's facts are all present, reading the
    values a two-valued evaluation kept in ``env`` (facts under their keys, ``let`` and
    criterion values where ``steps`` say) and running its closures (see
    :func:`env_steps`) for the rest. Gives the steps :func:`record` gives for the same
    household; where a closure raises (a division by zero, a table key that is not
    there), the caller records the reference way instead.

    With ``memo`` (for one date and parameters), a step with a getter in ``getters``
    (its inputs from ``env``: values of exact kinds that decide the whole step) is
    looked up there by the step's position and those values, and ``remember`` keeps
    what is not; on the date's first :data:`_TRIAL` calls the hits are counted, and a
    step found in fewer than half of them is no longer looked up (:func:`_tried`).
    Each step is recorded by its recorder on the date (:func:`_recorder`, or
    :func:`_guarded_recorder` for one with conditions; all found at once in
    :func:`_recorders`), term by term (:func:`_env_step`) where that gives None."""
    found = plan._programs.get(as_of)
    if found is None or found[0] is not params or found[1] is not steps:
        found = _recorders(plan, steps, as_of, params)
    conds: dict[Any, Any] = {}
    out: list[RecordedStep] = []
    hits: list[int] | None = None
    if memo is None or not getters:
        entries = found[3]  # (no getters)
    else:
        trial = found[4]
        if trial[0] is getters:
            entries = trial[1]
            if trial[2]:
                hits = []
        else:  # other getters: tried again
            entries = _entries(found[2], getters)
            with plan._lock:
                trial[:] = [getters, entries, _TRIAL, [0] * len(steps)]
            hits = []
    for at, rec, getter in entries:
        key: Any = None
        if getter is not None:
            key = (at, getter(env))
            hit = memo.get(key)  # type: ignore[union-attr]
            if hit is not None:
                out.append(hit)
                if hits is not None:
                    hits.append(at)
                continue
        made = rec(env, conds, amount, exact)
        if made is None:
            made = _made(plan, steps[at], env, conds, as_of, params, amount, exact)
        if key is not None:
            remember(key, made)  # type: ignore[misc]
        out.append(made)
    if hits is not None:
        _tried(plan, found, hits)
    return tuple(out)


def _entries(recs: tuple[_Recorder, ...], getters: tuple[Callable[[Any], Any] | None, ...],
             ) -> tuple[tuple[int, _Recorder, Callable[[Any], Any] | None], ...]:
    """(position, recorder, getter or None) per step, as :func:`record_env` goes."""
    return tuple(zip(range(len(recs)), recs, getters, strict=True))


#: the calls of :func:`record_env` on one date in which its memo's hits are counted
_TRIAL = 128


def _tried(plan: CalculationPlan, found: tuple[Any, ...], hits: list[int]) -> None:
    """Count ``hits`` (positions of steps found in the memo) in the trial of ``found``
    (``[the caller's getters, the entries used (:func:`_entries`), calls left in the
    trial, hits per step]``); after :data:`_TRIAL` calls a step found in fewer than half
    of them is no longer looked up (nor kept) on the date: a miss costs more than a hit
    saves."""
    trial = found[4]
    with plan._lock:
        if not trial[2]:
            return
        counts = trial[3]
        for at in hits:
            counts[at] += 1
        trial[2] -= 1
        if not trial[2]:
            trial[1] = _entries(found[2], tuple([
                g if 2 * n >= _TRIAL else None
                for g, n in zip(trial[0], counts, strict=True)]))


def _guarded_recorder(plan: CalculationPlan, g: _Guarded, as_of: date,
                      params: Mapping[str, Any]) -> _Recorder:
    """:func:`_guarded_step` on ``as_of`` with ``params`` as one closure: its conditions
    asked as it asks them, and the recorder on the date of each layout made so far found
    by their outcomes; :func:`_guarded_step` itself for outcomes without one."""
    by: dict[tuple[Any, ...], _Recorder] = {}
    for outcomes, d in list(g.layouts.items()):
        if d.__class__ is _Direct:
            bound = d.dated.get(as_of)
            if bound is None or bound[0] is not params:
                bound = _bind(plan, d, as_of, params, _recorder)
            by[outcomes] = bound[4]
    gconds = g.conds

    def other(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
              ) -> RecordedStep | None:
        return _guarded_step(plan, g, env, conds, as_of, params, amount, exact)

    if len(gconds) == 1:
        cond = gconds[0][0]
        ckey = g.cond_keys[0] if g.cond_keys else ""
        by_one = {key[0]: rec for key, rec in by.items()}

        def one_condition(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
                          ) -> RecordedStep | None:
            got = conds.get(cond)
            if got is None:  # kept by the evaluation where it computed it
                got = env.get(ckey, _NOT_GIVEN) if ckey else _NOT_GIVEN
                if got is _NOT_GIVEN:
                    got = cond(env)
                conds[cond] = got
            rec = by_one.get(got)
            if rec is None or got.__class__ is not bool:
                return other(env, conds, amount, exact)
            return rec(env, conds, amount, exact)

        return one_condition

    asked = tuple(zip(gconds, g.cond_keys or ("",) * len(gconds), strict=True))

    def conditions(env: Mapping[str, Any], conds: Any, amount: Any, exact: Any,
                   ) -> RecordedStep | None:
        outcomes: list[Any] = []
        for (cond, outer), ckey in asked:
            for at, want in outer:
                if outcomes[at] is not want:
                    outcomes.append(None)  # not asked: a branch around it not taken
                    break
            else:
                got = conds.get(cond)
                if got is None:  # kept by the evaluation where it computed it
                    got = env.get(ckey, _NOT_GIVEN) if ckey else _NOT_GIVEN
                    if got is _NOT_GIVEN:
                        got = cond(env)
                    conds[cond] = got
                if got.__class__ is not bool:
                    return other(env, conds, amount, exact)
                outcomes.append(got)
        rec = by.get(tuple(outcomes))
        if rec is None:
            return other(env, conds, amount, exact)
        return rec(env, conds, amount, exact)

    return conditions


def _recorders(plan: CalculationPlan, steps: tuple[EnvStep, ...], as_of: date,
               params: Mapping[str, Any]) -> tuple[Any, ...]:
    """``plan._programs`` on ``as_of`` for ``steps`` with ``params``: (the parameters,
    the steps, per step its recorder on the date (:func:`_recorder`,
    :func:`_guarded_recorder`), their entries without getters (:func:`_entries`), the
    memo's trial (see :func:`_tried`));
    kept bounded, under the plan's lock."""
    recs: list[_Recorder] = []
    for _, _, _, d in steps:
        if d.__class__ is _Direct:
            bound = d.dated.get(as_of)
            if bound is None or bound[0] is not params:
                bound = _bind(plan, d, as_of, params, _recorder)
            recs.append(bound[4])
        else:
            recs.append(_guarded_recorder(plan, d, as_of, params))  # type: ignore[arg-type]
    nones = (None,) * len(steps)
    entries = _entries(tuple(recs), nones)
    found = (params, steps, tuple(recs), entries, [nones, entries, 0, []])
    with plan._lock:
        if len(plan._programs) > 256:
            plan._programs.clear()
        plan._programs[as_of] = found
    return found


def _step_from_env(plan: CalculationPlan, step: EnvStep, at: int, env: Mapping[str, Any],
                   conds: dict[Any, Any], as_of: date, params: Mapping[str, Any],
                   amount: Any, exact: Any, memo: Mapping[Any, RecordedStep] | None,
                   getters: tuple[Callable[[Any], Any] | None, ...],
                   remember: Callable[[Any, RecordedStep], None] | None) -> RecordedStep:
    """Step ``at`` (``step``) of :func:`record_env`: from the memo by its inputs where it
    has a getter, else from its layout (:func:`_made`); ``conds``: the conditions asked
    so far."""
    getter = getters[at] if memo is not None else None
    key: Any = None
    if getter is not None:
        key = (at, getter(env))
        found = memo.get(key)  # type: ignore[union-attr]
        if found is not None:
            return found
    made = _made(plan, step, env, conds, as_of, params, amount, exact)
    if getter is not None:
        remember(key, made)  # type: ignore[misc]
    return made


def _made(plan: CalculationPlan, step: EnvStep, env: Mapping[str, Any],
          conds: dict[Any, Any], as_of: date, params: Mapping[str, Any], amount: Any,
          exact: Any) -> RecordedStep:
    """``step`` from its layout (:func:`_direct_step`, :func:`_guarded_step`), else term
    by term (:func:`_env_step`); ``conds``: the conditions asked so far."""
    d = step[3]
    made = _direct_step(plan, d, env, as_of, params, amount, exact) if (
        d.__class__ is _Direct) else _guarded_step(
        plan, d, env, conds, as_of, params, amount, exact)  # type: ignore[arg-type]
    if made is None:
        made = _env_step(plan, step, env, conds, plan.keyless_uses(as_of, params), as_of,
                         params, amount, exact)
    return made


def _env_step(plan: CalculationPlan, step: EnvStep, env: Mapping[str, Any],
              conds: dict[Any, Any], keyless: Mapping[str, ParamUse], as_of: date,
              params: Mapping[str, Any], amount: Any, exact: Any) -> RecordedStep:
    """One step of :func:`record_env` term by term (``conds``: the conditions asked so
    far; ``keyless``: :meth:`CalculationPlan.keyless_uses` on the date)."""
    planned, vkey, flat, _ = step
    env_get = env.get
    terms: list[tuple[int, int, Any]] = []
    uses: list[ParamUse] = []
    elided_to = -1
    for start, end, how, key, efn, guards, key_fns in flat:
        if end <= elided_to:
            continue
        if guards:
            taken = True
            for cond, want in guards:
                got = conds.get(cond)
                if got is None:
                    got = conds[cond] = cond(env)
                if got is not want:
                    taken = False
                    break
            if not taken:
                if how == _BRANCH:
                    elided_to = end
                    terms.append((start, end, ELIDED))
                continue
        if how == _FACT:
            tvalue = env_get(key, UNKNOWN)
        elif how == _LET:
            tvalue = env[key]
        elif how == _PARAM:
            if key_fns:
                keys = tuple([k(env) for k in key_fns])
                tvalue = _param_value(params, key, keys)
                uses.append(plan.param_use(as_of, key, keys, tvalue))
            else:
                use = keyless[key]
                tvalue = use.value
                uses.append(use)
        elif how == _EVAL:  # kept by the evaluation where it computed it
            tvalue = env_get(key, _NOT_GIVEN) if key else _NOT_GIVEN
            if tvalue is _NOT_GIVEN:
                tvalue = efn(env)
        else:
            continue
        terms.append((start, end, tvalue))
    if vkey is None:
        return _new_step(RecordedStep, (
            planned.name, "amount", planned.title, planned.unit, planned.sources,
            planned.text, amount, (), tuple(uses) if uses else (), tuple(terms),
            plan.rounding, exact, planned.ident))
    return _new_step(RecordedStep, (
        planned.name, planned.kind, planned.title, planned.unit, planned.sources,
        planned.text, env[vkey], (), tuple(uses) if uses else (), tuple(terms), None, None,
        planned.ident))

