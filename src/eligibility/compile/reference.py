"""The reference execution: three-valued (Kleene) evaluation of a compiled pack.

:func:`evaluate_measure` runs one :class:`~eligibility.compile.pack.CompiledMeasure`
in a :class:`~eligibility.compile.runtime.Ctx` and returns its
:class:`~eligibility.compile.outcomes.Outcomes`: the amount (rounded as the measure
declares), each requirement in force as met / not_met / waived / unknown /
discretionary with the missing facts that matter, the status, the priority group,
and (unless ``observe=False``) the observed values each Reason shows.
:func:`evaluate_household` does this for every measure in force plus the criteria.
This is the semantics every other backend is held to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from eligibility.compile.calculation import record
from eligibility.compile.outcomes import (
    PLAIN,
    CriterionOutcome,
    HouseholdOutcomes,
    Outcomes,
    ReasonOutcome,
    json_value,
)
from eligibility.compile.pack import CompiledMeasure, CompiledPack, CompiledRequirement
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import Outcome, Status
from eligibility.errors import EvaluationError
from eligibility.facts import ValidFacts
from eligibility.pack.model import RuleException

_new = tuple.__new__

__all__ = ["Outcomes", "evaluate_criteria", "evaluate_household", "evaluate_measure",
           "round_amount"]


def round_amount(value: Any, rounding: str) -> Any:
    """Round a computed amount as the rule declares (exact Decimal arithmetic)."""
    if value is UNKNOWN:
        return value
    amount = Decimal(value)
    if rounding == "krone":
        return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if rounding == "krone_down":
        return amount.quantize(Decimal(1), rounding=ROUND_FLOOR)
    if rounding == "ore":
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return amount


#: what :func:`judge` gives for a requirement met, or not met (no exception applying)
_MET: tuple[Outcome, None, tuple[str, ...], Any] = ("met", None, (), True)
_NOT_MET: tuple[Outcome, None, tuple[str, ...], Any] = ("not_met", None, (), False)


def judge(creq: CompiledRequirement, ctx: Ctx,
          ) -> tuple[Outcome, RuleException | None, tuple[str, ...], Any]:
    """One requirement, three-valued: its outcome, the exception that waived it, the
    missing facts that matter (for an unknown or discretionary outcome) and the
    expression's value. Missing facts that cannot change the outcome are dropped from
    ``ctx.missing`` again."""
    missing = ctx.missing
    mark = len(missing)
    fn = creq.fn
    value = fn(ctx) if fn is not None else UNKNOWN
    if value is not True and creq.exceptions:
        for exc, efn in creq.exceptions:
            if efn(ctx) is True:
                if len(missing) != mark:
                    del missing[mark:]
                return "waived", exc, (), value
    outcome: Outcome
    if creq.req.discretionary:
        outcome = "discretionary"
    elif value is True:
        if len(missing) != mark:
            del missing[mark:]
        return _MET
    elif value is False and len(missing) == mark:
        return _NOT_MET
    else:  # unknown, or false while an exception could still apply
        outcome = "unknown"
    return outcome, None, tuple(dict.fromkeys(missing[mark:])), value


def status_of(failed: bool, unknown: bool, discretionary: bool) -> Status:
    """A measure's status from its requirements: one not met decides."""
    if failed:
        return "not_eligible"
    if unknown or discretionary:
        return "undetermined"
    return "eligible"


def evaluate_measure(cm: CompiledMeasure, ctx: Ctx,
                     requirements: Sequence[CompiledRequirement] | None = None,
                     observe: bool = True, calculation: bool = True,
                     known: Sequence[ReasonOutcome | None] | None = None) -> Outcomes:
    """Evaluate one compiled measure in ``ctx`` (the criteria cache is shared).

    ``requirements`` are those in force (default: filtered by ``ctx.as_of`` here);
    ``calculation`` records the steps of the amount
    (:func:`eligibility.compile.calculation.record`); ``known`` gives, per requirement
    in force, its outcome where the caller already has it as this evaluation would
    give it (None where not: judged here)."""
    ctx.lets = {}
    missing = ctx.missing
    as_of = ctx.as_of
    if requirements is None:
        requirements = [r for r in cm.requirements if r.req.in_force(as_of)]
    amount: Any = None
    if cm.amount is not None:
        mark = len(missing)
        ctx.exact = exact = cm.amount(ctx)
        amount = round_amount(exact, cm.measure.amount.rounding)  # type: ignore[union-attr]
        if len(missing) == mark:
            ctx.amount = (amount, ())
        else:
            ctx.amount = (amount, tuple(missing[mark:]))
            del missing[mark:]
    reasons: list[Any] = []  # (creq, outcome, waived_by, seen, value), or a known one
    failed = unknown = discretionary = False
    need: list[str] = []
    assess: list[str] = []
    for at, creq in enumerate(requirements):
        found = known[at] if known is not None else None
        if found is not None:
            reasons.append(found)
            outcome, seen = found[1], found[3]
        else:
            outcome, waived_by, seen, value = judge(creq, ctx)
            reasons.append((creq, outcome, waived_by, seen, value))
        if outcome == "not_met":
            failed = True
        elif outcome == "unknown":
            unknown = True
        elif outcome == "discretionary":
            discretionary = True
            assess.append(creq.req.id)
        need.extend(seen)
    status = status_of(failed, unknown, discretionary)
    priority = None
    for rank, _, title, pfn in cm.priority:
        if pfn(ctx) is True:
            priority = (rank, title)
            break
    if observe:
        mark = len(missing)
        shown_all = []
        for r in reasons:  # (a loop, not a comprehension per reason: no function each)
            if r.__class__ is ReasonOutcome:  # a known one, with its shown values
                shown_all.append(r)
                continue
            shown: dict[str, Any] = {}
            for label, fn in r[0].observed:
                got = fn(ctx)
                shown[label] = got if got.__class__ in PLAIN else json_value(got)
            shown_all.append(_new(ReasonOutcome, (*r, shown)))
        done = tuple(shown_all)
        if len(missing) != mark:
            del missing[mark:]
    else:
        done = tuple([r if r.__class__ is ReasonOutcome else _new(ReasonOutcome, (*r, None))
                      for r in reasons])
    steps = (record(cm.calculation, ctx, amount, ctx.exact)
             if calculation and cm.calculation else None)
    return Outcomes(status, amount, done,
                    tuple(dict.fromkeys(need)) if status == "undetermined" else (),
                    tuple(assess) if status == "undetermined" else (), priority, steps)


def evaluate_criteria(compiled: CompiledPack, ctx: Ctx) -> tuple[CriterionOutcome, ...]:
    """Every criterion in force at ``ctx.as_of``, through the evaluation's cache."""
    out = []
    cached = compiled.criterion_cached
    for c in compiled.in_force_at(ctx.as_of).criteria:
        mark = len(ctx.missing)
        value = cached[c.id](ctx)
        missing = tuple(dict.fromkeys(ctx.missing[mark:])) if value is UNKNOWN else ()
        out.append(CriterionOutcome(c, value, missing))
    return tuple(out)


def evaluate_household(compiled: CompiledPack, facts: ValidFacts, as_of: date,
                       observe: bool = True, calculation: bool = True) -> HouseholdOutcomes:
    """Evaluate every measure in force and every criterion for one household."""
    params, unconfirmed_params = compiled.parameters_at(as_of)
    ctx = Ctx(facts.flat, facts.members, as_of, params)
    measures = []
    for index, cm, requirements in compiled.in_force_at(as_of).measures:
        try:
            outcomes = evaluate_measure(cm, ctx, requirements, observe, calculation)
        except ArithmeticError as exc:  # e.g. an amount beyond Decimal's precision
            raise EvaluationError(
                f"arithmetic error ({type(exc).__name__}); check the size of the "
                "amounts in the facts", f"measure {cm.measure.id}") from None
        measures.append((index, cm, outcomes))
    return HouseholdOutcomes(as_of, facts.sha256, unconfirmed_params, tuple(measures),
                             evaluate_criteria(compiled, ctx))
