"""The fast path: two-valued execution of a compiled pack when a measure's facts are all there.

For each measure :class:`FastPack` knows every fact it reads (through its lets,
requirements, exceptions, amount, priority groups and the criteria they use,
transitively) and holds a second set of closures compiled from the same AST with
*two-valued* logic: no UNKNOWN checks and no missing-fact bookkeeping. When every
fact a measure reads is present in the household (for a member field: present on
every member), the measure runs on those closures; otherwise it falls back to
the three-valued reference (:mod:`eligibility.compile.reference`). With complete
facts both evaluate the same operations in the same order, so they return equal
outcomes — the differential property test in ``tests/compile/test_fast.py`` holds
them to it, on households with and without missing facts. The values each Reason
shows are recorded while the measure runs. A FastPack is immutable apart from a
lock-guarded memo of what is in force per date.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eligibility.compile.calculation import record
from eligibility.compile.closures import CompilerBase, NoValue, _norm_key
from eligibility.compile.outcomes import (
    CriterionOutcome,
    HouseholdOutcomes,
    Outcomes,
    ReasonOutcome,
    json_value,
)
from eligibility.compile.pack import (
    CompiledMeasure,
    CompiledPack,
    CompiledRequirement,
    Fn,
    criteria_order,
    observables,
)
from eligibility.compile.reference import judge, round_amount, status_of
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import Outcome
from eligibility.errors import AsOfError, EvaluationError
from eligibility.expr import ast
from eligibility.facts import ValidFacts
from eligibility.pack.model import Expr, RuleException

_MEMBER_CALLS = frozenset({"count", "sum", "any", "all"})


@dataclass(frozen=True)
class Reads:
    """The facts an expression (or a whole measure) reads."""

    facts: frozenset[str]
    member_fields: frozenset[str]
    members: bool  # reads the member list at all
    amount: bool = False  # reads the measure's ``amount``

    def __or__(self, other: Reads) -> Reads:
        return Reads(self.facts | other.facts, self.member_fields | other.member_fields,
                     self.members or other.members, self.amount or other.amount)


_NOTHING = Reads(frozenset(), frozenset(), False)


class FastRequirement:
    """A requirement's two-valued closures, and its met / not met outcomes made once."""

    __slots__ = ("creq", "discretionary", "exceptions", "fn", "id", "met", "not_met",
                 "observed", "reads")

    def __init__(self, creq: CompiledRequirement, fn: Fn | None,
                 exceptions: tuple[tuple[RuleException, Fn], ...],
                 observed: tuple[tuple[str, Fn], ...], reads: Reads) -> None:
        self.creq = creq
        self.reads = reads
        self.fn = fn
        self.exceptions = exceptions
        self.observed = observed
        self.id = creq.req.id
        self.discretionary = creq.req.discretionary
        # the outcomes without observed values are the same for every household
        self.met = ReasonOutcome(creq, "met", None, (), True)
        self.not_met = ReasonOutcome(creq, "not_met", None, (), False)


@dataclass(frozen=True)
class FastMeasure:
    cm: CompiledMeasure
    reads: Reads  # everything the measure reads
    amount: Fn | None
    amount_reads: Reads
    rounding: str
    requirements: tuple[FastRequirement, ...]
    #: (rank, title, two-valued fn, reads, reference fn) per priority group
    priority: tuple[tuple[int, Any, Fn, Reads, Fn], ...]


class FastPack:
    """Two-valued closures and fact read sets for a compiled pack (see module docstring)."""

    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        self._criteria_fns: dict[str, Fn] = {}
        self._criteria_reads: dict[str, Reads] = {}
        by_id = {c.id: c for c in compiled.pack.criteria}
        criterion_where = {c.id: f"{c.file} criterion {c.id}" for c in compiled.pack.criteria}
        for cid in criteria_order(compiled.pack.criteria):
            expr = by_id[cid].expr
            self._criteria_reads[cid] = self._reads(expr.node)
            self._criteria_fns[cid] = _Compiler(self, {}, criterion_where[cid]).compile(
                expr.node, False)
        self._criterion_cached = {
            cid: _Compiler(self, {}, "").cached(cid, fn, "crit")
            for cid, fn in self._criteria_fns.items()}
        self.measures = tuple(self._measure(cm) for cm in compiled.measures)
        self._in_force: dict[date, tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    # -- compilation -------------------------------------------------------
    def _reads(self, node: ast.Node, lets: dict[str, Reads] | None = None) -> Reads:
        facts: set[str] = set()
        member_fields: set[str] = set()
        members = amount = False
        compiled = self.compiled
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                if len(n.parts) == 1 and n.dotted in compiled.member_fields:
                    member_fields.add(n.dotted)  # over-approximates (a let of that name)
                if lets and n.dotted in lets:
                    other = lets[n.dotted]
                    facts |= other.facts
                    member_fields |= other.member_fields
                    members = members or other.members
                    amount = amount or other.amount
                elif n.dotted == "amount":
                    amount = True
                elif n.dotted in compiled.facts:
                    facts.add(n.dotted)
                elif n.dotted == "members":
                    members = True
                elif n.parts[0] == "criteria" and n.parts[1] in self._criteria_reads:
                    other = self._criteria_reads[n.parts[1]]
                    facts |= other.facts
                    member_fields |= other.member_fields
                    members = members or other.members
            elif isinstance(n, ast.Call) and n.func in _MEMBER_CALLS:
                members = True
        return Reads(frozenset(facts), frozenset(member_fields), members or bool(member_fields),
                     amount)

    def _measure(self, cm: CompiledMeasure) -> FastMeasure:
        m = cm.measure
        lets: dict[str, Fn] = {}
        let_reads: dict[str, Reads] = {}
        for name, expr in m.lets:
            lets[name] = _Compiler(self, dict(lets), f"{m.file} let {name}").compile(
                expr.node, False)
            let_reads[name] = self._reads(expr.node, let_reads)
        compiler = _Compiler(self, lets, m.file)
        total = _NOTHING

        def reads(*exprs: Expr) -> Reads:
            nonlocal total
            found = _NOTHING
            for expr in exprs:
                found |= self._reads(expr.node, let_reads)
            total |= found
            return found

        requirements = []
        for creq in cm.requirements:
            req = creq.req
            fn = compiler.compile(req.expr.node, False) if req.expr else None
            exceptions = tuple((e, compiler.compile(e.expr.node, False)) for e in req.exceptions)
            observed = []
            exprs = ([req.expr] if req.expr else []) + [e.expr for e in req.exceptions]
            nodes: dict[str, ast.Node] = {}
            for expr in exprs:
                for node in observables(expr):
                    nodes.setdefault(expr.slice(node), node)
            for label, _ in creq.observed:
                observed.append((label, compiler.compile(nodes[label], False)))
            requirements.append(FastRequirement(creq, fn, exceptions, tuple(observed),
                                                reads(*exprs)))
        amount = compiler.compile(m.amount.expr.node, False) if m.amount else None
        amount_reads = reads(m.amount.expr) if m.amount else _NOTHING
        priority = tuple(
            (p.rank, p.title, compiler.compile(p.expr.node, False), reads(p.expr), ref[3])
            for p, ref in zip(m.priority, cm.priority, strict=True))
        return FastMeasure(cm, total, amount, amount_reads,
                           m.amount.rounding if m.amount else "none", tuple(requirements),
                           priority)

    # -- per date ------------------------------------------------------------
    def in_force_at(self, as_of: date) -> tuple[Any, ...]:
        cached = self._in_force.get(as_of)
        if cached is not None:
            return cached
        in_force = self.compiled.in_force_at(as_of)
        result = []
        for index, cm, reqs in in_force.measures:
            fm = self.measures[index]
            wanted = {id(r) for r in reqs}
            fast_reqs = tuple(r for r in fm.requirements if id(r.creq) in wanted)
            result.append((index, cm, fm, fast_reqs, reqs))
        criteria = tuple((c, self._criteria_reads[c.id], self._criterion_cached[c.id],
                          self.compiled.criterion_cached[c.id]) for c in in_force.criteria)
        value = (tuple(result), criteria)
        with self._lock:
            if len(self._in_force) > 256:
                self._in_force.clear()
            self._in_force[as_of] = value
        return value

    # -- evaluation ----------------------------------------------------------
    def evaluate_household(self, facts: ValidFacts, as_of: date, observe: bool = True,
                           calculation: bool = True) -> HouseholdOutcomes:
        """Every measure in force and every criterion: fast where complete, else reference."""
        compiled = self.compiled
        params, unconfirmed_params = compiled.parameters_at(as_of)
        ctx = Ctx(facts.flat, facts.members, as_of, params)
        measures_in_force, criteria_in_force = self.in_force_at(as_of)
        present = facts.flat.keys()
        members = facts.members
        common: frozenset[str] | set[str] = frozenset()
        if members:
            common = set(members[0])
            for member in members[1:]:
                common &= member.keys()

        def complete(reads: Reads) -> bool:
            return present >= reads.facts and (not reads.members or (
                members is not None and common >= reads.member_fields))

        measures = []
        for index, cm, fm, fast_reqs, _ in measures_in_force:
            try:
                if complete(fm.reads):
                    outcomes = _run_complete(fm, ctx, fast_reqs, observe)
                else:
                    outcomes = _run(fm, ctx, fast_reqs, observe, complete)
                if calculation and cm.calculation is not None:
                    # the one recorder, reading this evaluation's caches (as the reference)
                    outcomes = outcomes._replace(
                        calculation=record(cm.calculation, ctx, outcomes.amount, ctx.exact))
            except ArithmeticError as exc:  # e.g. an amount beyond Decimal's precision
                raise EvaluationError(
                    f"arithmetic error ({type(exc).__name__}); check the size of the "
                    "amounts in the facts", f"measure {cm.measure.id}") from None
            measures.append((index, cm, outcomes))
        criteria = []
        missing = ctx.missing
        for c, reads, fast, reference in criteria_in_force:
            if complete(reads):
                criteria.append(_new(CriterionOutcome, (c, fast(ctx), ())))
            else:
                mark = len(missing)
                value = reference(ctx)
                criteria.append(CriterionOutcome(
                    c, value, tuple(dict.fromkeys(missing[mark:])) if value is UNKNOWN else ()))
        return HouseholdOutcomes(as_of, facts.sha256, unconfirmed_params, tuple(measures),
                                 tuple(criteria))


_new = tuple.__new__
_SCALARS = frozenset({bool, int, str, Decimal, date})


def _run_complete(fm: FastMeasure, ctx: Ctx, requirements: tuple[FastRequirement, ...],
                  observe: bool) -> Outcomes:
    """One measure whose facts are all present: two-valued throughout."""
    ctx.lets = {}
    amount: Any = None
    if fm.amount is not None:
        ctx.exact = exact = fm.amount(ctx)
        amount = round_amount(exact, fm.rounding)
        ctx.amount = (amount, ())
    reasons: list[tuple[FastRequirement, Outcome, RuleException | None, Any]] = []
    append = reasons.append
    failed = unknown = discretionary = False
    assess: list[str] = []
    for fr in requirements:
        fn = fr.fn
        value = fn(ctx) if fn is not None else UNKNOWN
        if value is not True and fr.exceptions:
            waived_by = None
            for exc, efn in fr.exceptions:
                if efn(ctx) is True:
                    waived_by = exc
                    break
            if waived_by is not None:
                append((fr, "waived", waived_by, value))
                continue
        if fr.discretionary:
            discretionary = True
            assess.append(fr.id)
            append((fr, "discretionary", None, value))
        elif value is True:
            append((fr, "met", None, True))
        elif value is False:
            failed = True
            append((fr, "not_met", None, False))
        else:
            unknown = True
            append((fr, "unknown", None, value))
    status = status_of(failed, unknown, discretionary)
    priority = None
    for rank, title, pfn, _, _ in fm.priority:
        if pfn(ctx) is True:
            priority = (rank, title)
            break
    done: list[ReasonOutcome] = []
    if observe:
        scalars = _SCALARS
        for fr, outcome, waived, value in reasons:
            values = {}
            for label, ofn in fr.observed:
                seen_value = ofn(ctx)
                values[label] = (seen_value if seen_value.__class__ in scalars
                                 else json_value(seen_value))
            done.append(_new(ReasonOutcome, (fr.creq, outcome, waived, (), value, values)))
    else:
        for fr, outcome, waived, value in reasons:
            if outcome == "met":
                done.append(fr.met)
            elif outcome == "not_met":
                done.append(fr.not_met)
            else:
                done.append(_new(ReasonOutcome, (fr.creq, outcome, waived, (), value, None)))
    return _new(Outcomes, (status, amount, tuple(done), (),
                           tuple(assess) if status == "undetermined" else (), priority, None))


def _run(fm: FastMeasure, ctx: Ctx, requirements: tuple[FastRequirement, ...],
         observe: bool, complete: Callable[[Reads], bool]) -> Outcomes:
    """One measure: each requirement (and the amount, each priority group, each
    observed value) two-valued when every fact it reads is present, three-valued
    as the reference does it otherwise."""
    ctx.lets = {}
    missing = ctx.missing
    amount: Any = None
    if fm.amount is not None:
        if complete(fm.amount_reads):
            ctx.exact = exact = fm.amount(ctx)
            amount = round_amount(exact, fm.rounding)
            ctx.amount = (amount, ())
        else:
            mark = len(missing)
            ctx.exact = exact = fm.cm.amount(ctx)  # type: ignore[misc]
            amount = round_amount(exact, fm.rounding)
            ctx.amount = (amount, tuple(missing[mark:]))
            del missing[mark:]
    reasons: list[tuple[FastRequirement, Outcome, RuleException | None, tuple[str, ...], Any,
                        bool]] = []
    append = reasons.append
    failed = unknown = discretionary = False
    need: list[str] = []
    assess: list[str] = []
    for fr in requirements:
        waived_by: RuleException | None = None
        outcome: Outcome
        if complete(fr.reads) and (not fr.reads.amount or amount is not UNKNOWN):
            fn = fr.fn
            value = fn(ctx) if fn is not None else UNKNOWN
            if value is not True and fr.exceptions:
                for exc, efn in fr.exceptions:
                    if efn(ctx) is True:
                        waived_by = exc
                        break
            if waived_by is not None:
                outcome = "waived"
            elif fr.discretionary:
                outcome = "discretionary"
                discretionary = True
                assess.append(fr.id)
            elif value is True:
                outcome = "met"
            elif value is False:
                outcome = "not_met"
                failed = True
            else:
                outcome = "unknown"
                unknown = True
            append((fr, outcome, waived_by, (), value, True))
            continue
        # the reference, for a requirement with facts missing
        outcome, waived_by, seen, value = judge(fr.creq, ctx)
        if outcome == "not_met":
            failed = True
        elif outcome == "unknown":
            unknown = True
        elif outcome == "discretionary":
            discretionary = True
            assess.append(fr.id)
        need.extend(seen)
        append((fr, outcome, waived_by, seen, value, False))
    status = status_of(failed, unknown, discretionary)
    priority = None
    for rank, title, pfn, preads, reference in fm.priority:
        if (pfn if complete(preads) else reference)(ctx) is True:
            priority = (rank, title)
            break
    done: list[ReasonOutcome] = []
    if observe:
        mark = len(missing)
        scalars = _SCALARS
        for fr, outcome, waived, seen, value, fast in reasons:
            values = {}
            for label, ofn in (fr.observed if fast else fr.creq.observed):
                seen_value = ofn(ctx)
                values[label] = (seen_value if seen_value.__class__ in scalars
                                 else json_value(seen_value))
            done.append(_new(ReasonOutcome, (fr.creq, outcome, waived, seen, value, values)))
        del missing[mark:]
    else:
        for fr, outcome, waived, seen, value, fast in reasons:
            if fast and waived is None and outcome == "met":
                done.append(fr.met)
            elif fast and waived is None and outcome == "not_met":
                done.append(fr.not_met)
            else:
                done.append(_new(ReasonOutcome, (fr.creq, outcome, waived, seen, value, None)))
    return _new(Outcomes, (status, amount, tuple(done),
                           tuple(dict.fromkeys(need)) if status == "undetermined" else (),
                           tuple(assess) if status == "undetermined" else (), priority, None))


class _Compiler(CompilerBase):
    """AST → two-valued closures (facts known to be present)."""

    def __init__(self, pack: FastPack, lets: dict[str, Fn], where: str) -> None:
        self.pack = pack
        self.lets = lets
        self.where = where

    def _apply(self, args: list[Fn], fn: Callable[..., Any]) -> Fn:
        return _call(args, fn)

    def _Name(self, node: ast.Name, in_member: bool) -> Fn:
        dotted = node.dotted
        compiled = self.pack.compiled
        if in_member and len(node.parts) == 1 and dotted in compiled.member_fields:
            field = dotted
            return lambda ctx: ctx.member[field]
        if dotted == "as_of":
            return lambda ctx: ctx.as_of
        if dotted == "amount":
            return lambda ctx: ctx.amount[0]
        if dotted in self.lets:
            return self.cached(dotted, self.lets[dotted], "lets")
        if node.parts[0] == "criteria" and dotted[9:] in self.pack._criteria_fns:
            return self.cached(dotted[9:], self.pack._criteria_fns[dotted[9:]], "crit")
        if dotted == "members":
            return lambda ctx: ctx.members
        if dotted in compiled.facts:
            key = dotted
            return lambda ctx: ctx.facts[key]
        raise AssertionError(f"unresolved name {dotted!r} passed the type checker")

    @staticmethod
    def cached(key: str, fn: Fn, cache: str) -> Fn:
        """Once per evaluation, in the same cache (and format) the reference uses."""
        if cache == "crit":
            def crit(ctx: Ctx) -> Any:
                hit = ctx.crit.get(key)
                if hit is None:
                    value = fn(ctx)
                    ctx.crit[key] = (value, ())
                    return value
                return hit[0]
            return crit

        def let(ctx: Ctx) -> Any:
            hit = ctx.lets.get(key)
            if hit is None:
                value = fn(ctx)
                ctx.lets[key] = (value, ())
                return value
            return hit[0]
        return let

    def _Unary(self, node: ast.Unary, in_member: bool) -> Fn:
        inner = self.compile(node.operand, in_member)
        if node.op == "not":
            return lambda ctx: not inner(ctx)
        return lambda ctx: -inner(ctx)

    def _Binary(self, node: ast.Binary, in_member: bool) -> Fn:
        left = self.compile(node.left, in_member)
        right = self.compile(node.right, in_member)
        op = node.op
        if op == "+":
            return lambda ctx: left(ctx) + right(ctx)
        if op == "-":
            return lambda ctx: left(ctx) - right(ctx)
        if op == "*":
            return lambda ctx: left(ctx) * right(ctx)
        where = self.where

        def div(ctx: Ctx) -> Any:
            a, b = left(ctx), right(ctx)
            if b == 0:
                raise EvaluationError("division by zero", where)
            return Decimal(a) / b

        return div

    def _all_of(self, fns: tuple[Fn, ...]) -> Fn:
        return _and(fns)

    def _in_literal(self, left: Fn, choices: frozenset[Any], negate: bool) -> Fn:
        if negate:
            return lambda ctx: left(ctx) not in choices
        return lambda ctx: left(ctx) in choices

    def _in_dynamic(self, left: Fn, items: list[Fn], negate: bool) -> Fn:
        def in_dynamic(ctx: Ctx) -> Any:
            value = left(ctx)
            seen = [f(ctx) for f in items]
            return (value in seen) != negate

        return in_dynamic

    def _compare(self, op: str, left: Fn, right: Fn) -> Fn:
        if op == "==":
            return lambda ctx: left(ctx) == right(ctx)
        if op == "!=":
            return lambda ctx: left(ctx) != right(ctx)
        if op == "<":
            return lambda ctx: left(ctx) < right(ctx)
        if op == "<=":
            return lambda ctx: left(ctx) <= right(ctx)
        if op == ">":
            return lambda ctx: left(ctx) > right(ctx)
        return lambda ctx: left(ctx) >= right(ctx)

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> Fn:
        fns = tuple(self.compile(o, in_member) for o in node.operands)
        return _and(fns) if node.op == "and" else _or(fns)

    def _If(self, node: ast.If, in_member: bool) -> Fn:
        cond = self.compile(node.cond, in_member)
        then = self.compile(node.then, in_member)
        orelse = self.compile(node.orelse, in_member)
        return lambda ctx: then(ctx) if cond(ctx) is True else orelse(ctx)

    def _call_round(self, node: ast.Call, in_member: bool) -> Fn:
        (arg, *_) = self._args(node, in_member)
        digits = node.args[1].value if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        quantum = Decimal(1).scaleb(-int(digits))

        def round_(ctx: Ctx) -> Any:
            value = arg(ctx)
            if isinstance(value, int):
                return value
            rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
            return int(rounded) if digits == 0 else rounded

        return round_

    def _call_yearly(self, node: ast.Call, in_member: bool) -> Fn:
        (arg,) = self._args(node, in_member)
        return lambda ctx: arg(ctx) * 12

    def _call_monthly(self, node: ast.Call, in_member: bool) -> Fn:
        (arg,) = self._args(node, in_member)
        return lambda ctx: Decimal(arg(ctx)) / 12

    def _date_fn(self, node: ast.Call, in_member: bool,
                 compute: Callable[[date, date], int]) -> Fn:
        (arg,) = self._args(node, in_member)
        return lambda ctx: compute(arg(ctx), ctx.as_of)

    def _call_known(self, node: ast.Call, in_member: bool) -> Fn:
        (arg,) = self._args(node, in_member)

        def known(ctx: Ctx) -> Any:
            arg(ctx)  # evaluated as the reference does (it may raise)
            return True

        return known

    def _call_param(self, node: ast.Call, in_member: bool) -> Fn:
        name = node.args[0].dotted  # type: ignore[attr-defined]
        keys = tuple(self.compile(a, in_member) for a in node.args[1:])
        where = self.where

        def lookup(ctx: Ctx) -> Any:
            value = ctx.params[name]
            if value.__class__ is NoValue:
                raise AsOfError(
                    f"parameter {name!r} has no value on {ctx.as_of.isoformat()} "
                    f"(used in {where})"
                )
            for key_fn in keys:
                key = key_fn(ctx)
                try:
                    value = value[_norm_key(key)]
                except KeyError:
                    raise EvaluationError(
                        f"parameter {name!r} has no entry for key {key!r} "
                        f"(keys: {', '.join(map(str, value))})",
                        where,
                    ) from None
            return value

        return lookup

    def _call_count(self, node: ast.Call, in_member: bool) -> Fn:
        if len(node.args) != 2:
            return lambda ctx: len(ctx.members)  # type: ignore[arg-type]
        cond = self.compile(node.args[1], True)

        def count(ctx: Ctx) -> Any:
            n = 0
            for i, member in enumerate(ctx.members):  # type: ignore[arg-type]
                ctx.member, ctx.member_index = member, i
                if cond(ctx) is True:
                    n += 1
            return n

        return count

    def _call_sum(self, node: ast.Call, in_member: bool) -> Fn:
        value_fn = self.compile(node.args[1], True)
        cond = self.compile(node.args[2], True) if len(node.args) == 3 else None

        def sum_(ctx: Ctx) -> Any:
            total: Any = 0
            for i, member in enumerate(ctx.members):  # type: ignore[arg-type]
                ctx.member, ctx.member_index = member, i
                if cond is not None and cond(ctx) is False:
                    continue
                total += value_fn(ctx)
            return total

        return sum_

    def _quantifier(self, node: ast.Call, stop: bool) -> Fn:
        cond = self.compile(node.args[1], True)

        def quantifier(ctx: Ctx) -> Any:
            for i, member in enumerate(ctx.members):  # type: ignore[arg-type]
                ctx.member, ctx.member_index = member, i
                if cond(ctx) is stop:
                    return stop
            return not stop

        return quantifier


def _call(args: list[Fn], fn: Callable[..., Any]) -> Fn:
    if len(args) == 1:
        (only,) = args
        return lambda ctx: fn(only(ctx))
    if len(args) == 2:
        a, b = args
        return lambda ctx: fn(a(ctx), b(ctx))
    return lambda ctx: fn(*[a(ctx) for a in args])


def _and(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda ctx: a(ctx) is True and b(ctx) is True

    def and_(ctx: Ctx) -> Any:
        return all(f(ctx) is True for f in fns)

    return and_


def _or(fns: tuple[Fn, ...]) -> Fn:
    if len(fns) == 2:
        a, b = fns
        return lambda ctx: a(ctx) is True or b(ctx) is True

    def or_(ctx: Ctx) -> Any:
        return any(f(ctx) is True for f in fns)

    return or_
