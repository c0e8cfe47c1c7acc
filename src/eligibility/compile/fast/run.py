"""The fast path's evaluation of one household on a date's plan: :func:`_complete`
(every fact there: criteria, then the memoised static measures (:func:`_static`), then
the others, two-valued throughout), :func:`_mixed` (facts missing: the bits the
household lacks (:func:`_lack`) say against each part's mask which parts have their
facts; those run on the fast closures, the others are tried on them and otherwise go
to the three-valued reference (:func:`_run`, :func:`_attempt`, :func:`_reference`)
with its caches seeded from what the closures computed; a measure whose amount cannot
finish on them goes to the reference whole, its requirements with their facts taken
from the fast closures (:func:`_known`)), one measure (:func:`_measure`) and requirement
(:func:`_judge`; an observed outcome with shown values of exact kinds is one object
for equal ones, :func:`_shared`, on the reference too), and the recorded calculation
(:func:`_record`, :func:`_record_env`).
Memo tables are written only through :func:`~eligibility.compile.fast.plan._remember`."""

from __future__ import annotations

import threading
from decimal import Decimal
from itertools import repeat
from typing import Any

from eligibility.compile.calculation import EnvStep, record, record_env
from eligibility.compile.fast.compiler import _FALLBACK, Env
from eligibility.compile.fast.plan import (
    _SHARE_EXACT,
    _SHARED_LIMIT,
    _STATIC_LIMIT,
    FastRequirement,
    _At,
    _MeasurePlan,
    _Plan,
    _remember,
)
from eligibility.compile.fast.reads import _common
from eligibility.compile.outcomes import (
    EXACT_CLASSES,
    PLAIN,
    CriterionOutcome,
    HouseholdOutcomes,
    Outcomes,
    ReasonOutcome,
    json_value,
)
from eligibility.compile.reference import evaluate_measure, judge, round_amount, status_of
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import Outcome
from eligibility.facts import ValidFacts
from eligibility.pack.model import RuleException

_new = tuple.__new__
#: a bit's default: none (for ``map``)
_ZEROS = repeat(0)
#: ``ctx.amount`` before a measure's amount is known
_NO_AMOUNT: tuple[Any, tuple[str, ...]] = (UNKNOWN, ())


def _context(plan: _Plan, facts: ValidFacts, env: Env,
             crit: dict[str, tuple[Any, tuple[str, ...]]]) -> Ctx:
    """A reference context whose criteria cache is ``crit``, what the fast closures
    computed (each criterion's value, by id, with no missing facts), with the aggregates
    of it a calculation step shows (kept in ``env`` by its closures; the recorder reads
    them there instead of computing them)."""
    ctx = Ctx(facts.flat, facts.members, plan.as_of, plan.params)
    ctx.crit = crit
    kept = plan.criteria_kept
    if kept:
        for cid in list(crit):
            pairs = kept.get(cid)
            if pairs is not None:
                for ekey, ckey in pairs:
                    if ekey in env:
                        crit[ckey] = (env[ekey], ())
    return ctx


def _record(mp: _MeasurePlan, ctx: Ctx, env: Env, outcomes: Outcomes, exact: Any,
            env_at: tuple[EnvStep | None, ...] = (),
            lock: threading.Lock | None = None) -> Outcomes:
    """``outcomes`` with the recorded calculation, read from this evaluation (the
    ``let`` values the fast closures computed go into the context's cache first;
    ``env_at``: the steps to record from the environment, see :func:`record`)."""
    for name, key, _, _ in mp.fm.lets:
        if key in env and name not in ctx.lets:
            ctx.lets[name] = (env[key], ())
    memo = mp.step_memo
    return _with_steps(outcomes, record(
        mp.cm.calculation, ctx, outcomes.amount, exact,  # type: ignore[arg-type]
        env, env_at, memo if lock is not None else None, mp.fm.calculation_inputs,
        lambda key, step: _remember(lock, memo, key, step)))  # type: ignore[arg-type]


def _with_steps(outcomes: Outcomes, steps: tuple[Any, ...] | None) -> Outcomes:
    """``outcomes._replace(calculation=steps)``, without ``_replace``'s generic path."""
    status, amount, reasons, missing, discretionary, priority, _ = outcomes
    return _new(Outcomes, (status, amount, reasons, missing, discretionary, priority, steps))


def _record_env(plan: _Plan, mp: _MeasurePlan, env: Env, outcomes: Outcomes,
                exact: Any, lock: threading.Lock) -> Outcomes | None:
    """``outcomes`` with the calculation recorded from the environment (the measure's
    amount ran on the fast closures), or None where a closure raised (record it the
    reference way then)."""
    memo = mp.step_memo
    fm = mp.fm
    try:
        steps = record_env(mp.cm.calculation, fm.calculation,  # type: ignore[arg-type]
                           env, plan.as_of, plan.params, outcomes[1], exact,
                           memo, fm.calculation_inputs,
                           lambda key, step: _remember(lock, memo, key, step))
    except _FALLBACK:
        return None
    return _new(Outcomes, (outcomes[0], outcomes[1], outcomes[2], outcomes[3], outcomes[4],
                           outcomes[5], steps))  # (as _with_steps, without its call)


def _complete(plan: _Plan, env: Env, facts: ValidFacts, observe: bool, calculation: bool,
              lock: threading.Lock) -> HouseholdOutcomes:
    """Every fact the date's measures and criteria read is present: two-valued throughout."""
    for _, key, fn, _ in plan.criteria_eval:
        env[key] = fn(env)
    vals = plan.static_getter(env)
    memo = plan.static_memo[observe]
    found = memo.get(vals)
    if found is None:
        found = _static(plan, env, observe, lock)
        _remember(lock, memo, vals, found, _STATIC_LIMIT)
    measures, criteria, groups = found
    if plan.dynamic:
        measures = list(measures)
        ctx: Ctx | None = None
        # (``groups`` is made by _static from plan.dynamic, one per measure: a plain zip,
        # as ``strict=True`` costs zip its fast call on every household)
        for (i, mp), grouped in zip(plan.dynamic, groups):  # noqa: B905
            outcomes = _measure(mp, env, observe, lock, grouped)
            if calculation and mp.cm.calculation is not None:
                recorded = _record_env(plan, mp, env, outcomes, env["@exact"], lock)
                if recorded is not None:
                    outcomes = recorded
                else:
                    if ctx is None:
                        ctx = _context(plan, facts, env, {
                            c: (env[k], ()) for c, k, _, _ in plan.criteria_eval})
                    ctx.lets = {}
                    ctx.exact = exact = env["@exact"]
                    ctx.amount = (outcomes.amount, ())
                    outcomes = _record(mp, ctx, env, outcomes, exact)
            measures[i] = (mp.index, mp.cm, outcomes)
        measures = tuple(measures)
    if criteria is None:
        criteria = tuple([_new(CriterionOutcome, (c, env[k], ()))
                          for c, k, _, _ in plan.criteria])
    return _new(HouseholdOutcomes, (plan.as_of, facts.sha256, plan.unconfirmed,
                                    measures, criteria))


def _static(plan: _Plan, env: Env, observe: bool, lock: threading.Lock) -> tuple[Any, ...]:
    """The measures of the plan that are not in ``plan.dynamic`` (None in their place),
    when they are memoisable the criteria's outcomes (else None), and per measure of
    ``plan.dynamic`` its group's outcomes where ``plan.folded`` (else None)."""
    measures: list[Any] = [None] * len(plan.measures)
    for i, mp in plan.static:
        measures[i] = (mp.index, mp.cm, _measure(mp, env, observe, lock))
    criteria = None
    if plan.criteria_getter is not None:
        criteria = tuple([_new(CriterionOutcome, (c, env[k], ()))
                          for c, k, _, _ in plan.criteria])
    groups = tuple([_grouped(mp, env, observe, lock) if fold else None
                    for (_, mp), fold in zip(plan.dynamic, plan.folded, strict=True)])
    return tuple(measures), criteria, groups


def _mixed(plan: _Plan, env: Env, facts: ValidFacts, observe: bool, calculation: bool,
           lock: threading.Lock) -> HouseholdOutcomes:
    """Some facts missing: complete measures and criteria fast, the rest on the reference."""
    lack = _lack(plan, facts)
    crit: dict[str, tuple[Any, tuple[str, ...]]] = {}
    for cid, key, fn, mask, always in plan.criteria_run:
        if not mask & lack:
            env[key] = value = fn(env)
        elif always & lack:  # a fact it reads on every path is missing
            continue
        else:  # facts it reads are missing, maybe not where it goes
            try:
                env[key] = value = fn(env)
            except KeyError:
                continue
        crit[cid] = (value, ())
    ctx = _context(plan, facts, env, crit)
    measures = []
    for mp in plan.measures:
        fm = mp.fm
        ctx.lets = {}
        ctx.exact = UNKNOWN
        ctx.amount = _NO_AMOUNT
        at: _At = mp.at  # type: ignore[assignment]
        if not at.reads_mask & lack:
            outcomes = _measure(mp, env, observe, lock)
            if fm.amount is not None:
                ctx.exact = env["@exact"]
                ctx.amount = (outcomes.amount, ())
        elif fm.amount is not None and at.amount_strict & lack:
            # the amount cannot finish on the fast closures (a fact it reads on every
            # path is missing): it, the lets it reads and its steps go three-valued,
            # and the reference's one pass over the measure (the amount, then each
            # requirement, the steps from its caches) costs less than trying the other
            # parts on the fast closures first
            measures.append((mp.index, mp.cm, evaluate_measure(
                mp.cm, ctx, mp.reference, observe, calculation,
                _known(mp, env, observe, lack, at, lock))))
            continue
        else:
            outcomes = _run(mp, ctx, env, observe, lack, at, lock)
        if calculation and mp.cm.calculation is not None:
            recorded = None
            if not at.amount_mask & lack:
                recorded = _record_env(plan, mp, env, outcomes, ctx.exact, lock)
            if recorded is None:  # the steps the fast closures computed, from env
                known = ctx.amount[0] is not UNKNOWN and ctx.amount[1] == ()
                env_at = tuple([
                    step if not reads.amount and (
                        step[1] in env if step[1] is not None else known) else None
                    for step, reads in zip(fm.calculation,  # type: ignore[arg-type]
                                           fm.calculation_reads, strict=True)])
                recorded = _record(mp, ctx, env, outcomes, ctx.exact, env_at, lock)
            outcomes = recorded
        measures.append((mp.index, mp.cm, outcomes))
    criteria = []
    missing = ctx.missing
    get = crit.get  # (what the fast closures or the reference computed, by id)
    for c, _, _, reference in plan.criteria:
        hit = get(c.id)
        if hit is not None:  # as the reference's cached closure reads it
            value, seen = hit
            criteria.append(_new(CriterionOutcome, (
                c, value, tuple(dict.fromkeys(seen)) if value is UNKNOWN else ())))
        else:
            mark = len(missing)
            value = reference(ctx)
            criteria.append(_new(CriterionOutcome, (
                c, value, tuple(dict.fromkeys(missing[mark:])) if value is UNKNOWN else ())))
    return _new(HouseholdOutcomes, (plan.as_of, facts.sha256, plan.unconfirmed,
                                    tuple(measures), tuple(criteria)))


def _known(mp: _MeasurePlan, env: Env, observe: bool, lack: int, at: _At,
           lock: threading.Lock) -> list[ReasonOutcome | None] | None:
    """For a measure the reference evaluates whole (see :func:`_mixed`): per
    requirement, its outcome on the fast closures where it has every fact it reads
    and reads no ``let`` or ``amount`` (which the fast closures have not computed
    here), from the run memo as :func:`_run` keeps it; None elsewhere (or None for
    all)."""
    known: list[ReasonOutcome | None] = []
    found = False
    run_memo = mp.run_memo[observe]
    for i, fr, mask, _, memo_ok, reads_amount, _ in at.requirements_run:
        reason = None
        if not mask & lack and not reads_amount:
            try:
                reason = _judged(i, fr, env, observe, memo_ok, run_memo, lock)
            except KeyError:  # it reads a let
                reason = None
            else:
                found = True
        known.append(reason)
    return known if found else None


def _lack(plan: _Plan, facts: ValidFacts) -> int:
    """The bits of ``plan.masks`` the household lacks: each fact read there that it does
    not give, the member list, and each member field read there that some member does
    not have (a part has every fact it reads where none of its mask's bits is here)."""
    have: int = sum(map(plan.bits.get, facts.flat, _ZEROS))
    members = facts.members
    if members is not None:
        have |= plan.members_bit
        if members:
            have |= sum(map(plan.member_bits.get, _common(members), _ZEROS))
    return (plan.members_bit << 1) - 1 - have  # every bit not in ``have``


def _judge(fr: FastRequirement, env: Env, observe: bool, vals: Any,
           lock: threading.Lock) -> ReasonOutcome:
    """One requirement on the fast closures (its facts present); ``vals`` are its shown
    values when already read. Observed, it is shared where it can be (:func:`_shared`)."""
    fn = fr.fn
    value = fn(env) if fn is not None else UNKNOWN
    waived_by = None
    if value is not True and fr.exceptions:
        for exc, efn in fr.exceptions:
            if efn(env) is True:
                waived_by = exc
                break
    outcome: Outcome
    if waived_by is not None:
        outcome = "waived"
    elif fr.discretionary:
        outcome = "discretionary"
    elif value is True:
        if not observe:
            return fr.met
        outcome = "met"
    elif value is False:
        if not observe:
            return fr.not_met
        outcome = "not_met"
    else:
        outcome = "unknown"
    if not observe:
        return _new(ReasonOutcome, (fr.creq, outcome, waived_by, (), value, None))
    if vals is None:
        try:
            vals = fr.getter(env)
        except KeyError:  # one the evaluation did not reach (past a decided `or`, say)
            vals = _computed(fr, env)
    if fr.share:
        return _shared(fr, outcome, waived_by, value, vals, lock)
    return _new(ReasonOutcome, (fr.creq, outcome, waived_by, (), value, fr.values(vals)))


def _shared(fr: FastRequirement, outcome: Outcome, waived_by: RuleException | None,
            value: Any, vals: Any, lock: threading.Lock) -> ReasonOutcome:
    """The observed outcome with shown values ``vals`` (as :attr:`FastRequirement.getter`
    gives them): where they and the value are of exact classes (:data:`EXACT_CLASSES`),
    the one kept in :attr:`FastRequirement.shared`, else a new one. Each value's class is
    in the key (True == 1) unless the requirement's expressions fix them
    (:data:`_SHARE_EXACT`)."""
    key: Any = vals
    if fr.share != _SHARE_EXACT:
        if fr.single:
            key = (vals.__class__, vals) if vals.__class__ in EXACT_CLASSES else None
        else:
            for v in vals:
                if v.__class__ not in EXACT_CLASSES:
                    key = None
                    break
            else:
                key = (tuple([v.__class__ for v in vals]), vals)
    if key is not None:
        if outcome == "met" or outcome == "not_met":  # (the value: True, False)
            key = (outcome, key)
        elif value.__class__ in EXACT_CLASSES or value is UNKNOWN:
            key = (outcome, key, waived_by.id if waived_by is not None else None,
                   value.__class__, value)
        else:
            key = None
    if key is None:
        return _new(ReasonOutcome, (fr.creq, outcome, waived_by, (), value, fr.values(vals)))
    shared = fr.shared
    found = shared.get(key)
    if found is None:
        found = _new(ReasonOutcome, (fr.creq, outcome, waived_by, (), value, fr.values(vals)))
        _remember(lock, shared, key, found, _SHARED_LIMIT)
    return found


def _computed(fr: FastRequirement, env: Env) -> Any:
    """The requirement's shown values, each computed (as :attr:`FastRequirement.getter`
    gives them: one value, or a tuple)."""
    values = tuple([ofn(env) for _, ofn in fr.observed])
    return values[0] if fr.single else values


def _measure(mp: _MeasurePlan, env: Env, observe: bool, lock: threading.Lock,
             grouped: tuple[Any, ...] | None = None) -> Outcomes:
    """One measure whose facts are all present: two-valued throughout (``grouped``: its
    group's outcomes, when the caller has them, see :func:`_grouped`)."""
    getter = mp.getter
    key: Any = None
    if getter is not None:
        key = getter(env)
        hit = mp.memo[observe].get(key)
        if hit is not None:
            return hit
    fm = mp.fm
    for _, lkey, lfn, _ in fm.lets:
        env[lkey] = lfn(env)
    amount: Any = None
    if fm.amount is not None:
        env["@exact"] = exact = fm.amount(env)
        env["@amount"] = amount = (exact if exact.__class__ is Decimal and fm.rounding == "none"
                                   else round_amount(exact, fm.rounding))
    if grouped is None and mp.group_getter is not None:
        grouped = _grouped(mp, env, observe, lock)
    if grouped is not None:
        reasons, failed, unknown, discretionary = grouped
    else:  # every position is one of mp.rest
        reasons, failed, unknown, discretionary = mp.requirements, False, False, False
    if mp.rest:
        reasons = list(reasons)
        for i, fr in mp.rest:
            reasons[i] = reason = _judge(fr, env, observe, None, lock)
            outcome = reason[1]
            if outcome == "met" or outcome == "waived":
                continue
            if outcome == "not_met":
                failed = True
            elif outcome == "discretionary":
                discretionary = True
            else:
                unknown = True
    status = status_of(failed, unknown, discretionary)
    priority = None
    for rank, title, pfn, _, _ in fm.priority:
        if pfn(env) is True:
            priority = (rank, title)
            break
    outcomes: Outcomes = _new(Outcomes, (
        status, amount, tuple(reasons), (),
        tuple([r[0].req.id for r in reasons if r[1] == "discretionary"])
        if discretionary and status == "undetermined" else (), priority, None))
    if getter is not None:
        _remember(lock, mp.memo[observe], key, outcomes)
    return outcomes


def _grouped(mp: _MeasurePlan, env: Env, observe: bool,
             lock: threading.Lock) -> tuple[Any, ...]:
    """The outcomes of ``mp.group`` (see :func:`_group`), from the group memo."""
    vals = mp.group_getter(env)  # type: ignore[misc]
    memo = mp.group_memo[observe]
    found = memo.get(vals)
    if found is None:
        found = _group(mp, env, observe, lock)
        _remember(lock, memo, vals, found)
    return found


def _group(mp: _MeasurePlan, env: Env, observe: bool,
           lock: threading.Lock) -> tuple[Any, ...]:
    """The requirements of ``mp.group`` judged: (the reasons, in place among all the
    measure's, None where another goes; failed, unknown, discretionary)."""
    reasons: list[Any] = [None] * len(mp.requirements)
    failed = unknown = discretionary = False
    for i, fr in mp.group:
        reasons[i] = reason = _judge(fr, env, observe, None, lock)
        outcome = reason[1]
        if outcome == "not_met":
            failed = True
        elif outcome == "discretionary":
            discretionary = True
        elif outcome == "unknown":
            unknown = True
    return tuple(reasons), failed, unknown, discretionary


def _judged(i: int, fr: FastRequirement, env: Env, observe: bool, memo_ok: bool,
            run_memo: dict[Any, ReasonOutcome], lock: threading.Lock) -> ReasonOutcome:
    """Requirement ``i`` (``fr``) judged on the fast closures, found in the measure's
    run memo by its read values where ``memo_ok`` (kept there when new); a KeyError
    (it reads a let the environment lacks) goes to the caller."""
    if not memo_ok:
        return _judge(fr, env, observe, None, lock)
    vals = fr.getter(env)
    key = (i, vals)
    reason = run_memo.get(key)
    if reason is None:
        reason = _judge(fr, env, observe, vals, lock)
        _remember(lock, run_memo, key, reason)
    return reason


def _run(mp: _MeasurePlan, ctx: Ctx, env: Env, observe: bool, lack: int, at: _At,
         lock: threading.Lock) -> Outcomes:
    """One measure: each requirement (and each let, the amount, each priority group,
    each observed value) two-valued when every fact it reads is present (none of its
    mask's bits in ``lack``, the household's missing bits, see :func:`_lack`);
    otherwise tried two-valued unless a fact it reads on every path is missing, and
    three-valued as the reference does it where that meets a missing value (see the
    module docstring)."""
    fm = mp.fm
    lets = ctx.lets
    for name, lkey, lfn, reads_amount, mask, always in at.lets_run:
        if not mask & lack:
            env[lkey] = value = lfn(env)
            if reads_amount:
                continue
        elif reads_amount or always & lack:  # (a fact it always reads is missing:
            continue  # the reference's)
        else:  # facts it reads are missing, but maybe not where this household goes
            try:
                env[lkey] = value = lfn(env)
            except KeyError:
                continue
        lets[name] = (value, ())  # what the reference's cache would hold: no facts missing
    env.pop("@amount", None)
    missing = ctx.missing
    amount: Any = None
    if fm.amount is not None:
        if not at.amount_mask & lack:
            ctx.exact = exact = fm.amount(env)
            amount = round_amount(exact, fm.rounding)
            ctx.amount = (amount, ())
        else:
            try:  # facts it reads are missing, but maybe not where this household goes
                exact = fm.amount(env)  # (one it always reads missing: see _mixed)
            except KeyError:
                mark = len(missing)
                ctx.exact = exact = fm.cm.amount(ctx)  # type: ignore[misc]
                amount = round_amount(exact, fm.rounding)
                ctx.amount = (amount, tuple(missing[mark:]))
                del missing[mark:]
            else:
                ctx.exact = exact
                amount = round_amount(exact, fm.rounding)
                ctx.amount = (amount, ())
        if amount is not UNKNOWN:
            env["@amount"] = amount
    reasons: list[ReasonOutcome] = []
    append = reasons.append
    failed = unknown = discretionary = False
    need: list[str] = []
    assess: list[str] = []
    run_memo = mp.run_memo[observe]
    members = ctx.members
    for i, fr, mask, needs, memo_ok, reads_amount, exact_reads in at.requirements_run:
        if not mask & lack and (not reads_amount or amount is not UNKNOWN):
            reason = _judged(i, fr, env, observe, memo_ok, run_memo, lock)
            outcome = reason[1]
        else:  # the reference, for a requirement with facts missing
            if exact_reads is not None:
                fields = exact_reads.fields
                # (a key of four: never one of a complete requirement's above)
                mkey = (i, UNKNOWN, tuple(map(env.get, exact_reads.facts,
                                              exact_reads.facts_unknown)),
                        None if fields is None or members is None else tuple([
                            tuple(map(m.get, fields, exact_reads.fields_unknown))
                            for m in members]))
                kept = run_memo.get(mkey)
                if kept is None:
                    reason = (_reference(fr, ctx, observe, lock) if needs[observe] & lack
                              else _attempt(fr, env, ctx, observe, lock))
                    _remember(lock, run_memo, mkey, reason)
                else:
                    reason = kept
            else:
                reason = (_reference(fr, ctx, observe, lock) if needs[observe] & lack
                          else _attempt(fr, env, ctx, observe, lock))
            outcome = reason[1]
            if reason[3]:
                need.extend(reason[3])
        append(reason)
        if outcome == "met" or outcome == "waived":
            continue
        if outcome == "not_met":
            failed = True
        elif outcome == "unknown":
            unknown = True
        elif outcome == "discretionary":
            discretionary = True
            assess.append(fr.id)
    status = status_of(failed, unknown, discretionary)
    priority = None
    for rank, title, pfn, reference, mask, always in at.priority_run:
        if not mask & lack:
            decided = pfn(env)
        elif always & lack:
            decided = reference(ctx)
        else:
            try:
                decided = pfn(env)
            except KeyError:
                decided = reference(ctx)
        if decided is True:
            priority = (rank, title)
            break
    if status != "undetermined":
        return _new(Outcomes, (status, amount, tuple(reasons), (), (), priority, None))
    return _new(Outcomes, (status, amount, tuple(reasons), tuple(dict.fromkeys(need)),
                           tuple(assess), priority, None))


def _attempt(fr: FastRequirement, env: Env, ctx: Ctx, observe: bool,
             lock: threading.Lock) -> ReasonOutcome:
    """A requirement with facts missing: on the fast closures where this household's
    evaluation does not reach a missing one (see :func:`_run`), else the reference."""
    try:
        return _judge(fr, env, observe, None, lock)
    except KeyError:
        return _reference(fr, ctx, observe, lock)


def _reference(fr: FastRequirement, ctx: Ctx, observe: bool,
               lock: threading.Lock) -> ReasonOutcome:
    """One requirement with facts missing, on the reference (and its shown values);
    observed, the one kept in :attr:`FastRequirement.shared` where the value and the
    shown values are of exact classes (keyed by its missing facts first: never one of
    :func:`_shared`'s keys)."""
    outcome, waived_by, seen, value = judge(fr.creq, ctx)
    if not observe:
        return _new(ReasonOutcome, (fr.creq, outcome, waived_by, seen, value, None))
    missing = ctx.missing
    mark = len(missing)
    values = {}
    for label, ofn in fr.creq.observed:  # (a loop, not a comprehension: no function)
        shown = ofn(ctx)
        values[label] = shown if shown.__class__ in PLAIN else json_value(shown)
    del missing[mark:]
    if fr.share and (value.__class__ in EXACT_CLASSES or value is UNKNOWN):
        vals = tuple(values.values())
        classes = tuple([v.__class__ for v in vals])
        if EXACT_CLASSES.issuperset(classes):
            key = (seen, outcome, waived_by.id if waived_by is not None else None,
                   value.__class__, value, classes, vals)
            shared = fr.shared
            found = shared.get(key)
            if found is None:
                found = _new(ReasonOutcome, (fr.creq, outcome, waived_by, seen, value, values))
                _remember(lock, shared, key, found, _SHARED_LIMIT)
            return found
    return _new(ReasonOutcome, (fr.creq, outcome, waived_by, seen, value, values))

