"""The fast path: two-valued execution of a compiled pack when a measure's facts are all there.

For each measure :class:`FastPack` knows every fact it reads (through its lets,
requirements, exceptions, amount, priority groups and the criteria they use,
transitively) and holds a second set of closures compiled from the same AST with
*two-valued* logic: no UNKNOWN checks and no missing-fact bookkeeping. These closures
read one flat *environment* per household (a dict: the facts under their
``group.field`` keys, and under keys starting with ``@`` the parameters in force, the
evaluation date, each criterion and ``let`` value once computed, and the values a
Reason shows), so a fact, criterion or parameter read is one ``itemgetter``. Every
criterion whose facts are present is computed once per household, in dependency order,
and every ``let`` of a complete measure once per measure; the closures then read them
without a cache check.

When every fact a measure reads is present in the household (for a member field:
present on every member), the measure runs on those closures; otherwise each of its
parts that is complete runs on them and the rest on the three-valued reference
(:mod:`eligibility.compile.reference`). With complete facts both evaluate the same
operations, so they return equal outcomes — the differential property tests in
``tests/compile/test_fast.py`` and ``tests/compile/test_fast_mixed.py`` hold them to it,
on households with and without missing facts. Where the fast closures meet an error (a
division by zero, a table key that is not there, an arithmetic overflow) the whole
household is evaluated again on the reference, which raises the error it documents —
the fast path never decides what an error looks like.

A part with facts missing (a criterion, a ``let``, the amount, a requirement, a
priority group) is first tried on the fast closures too: a missing fact, member field,
member list, or a value not computed is a ``KeyError`` there, and then the part goes to
the reference. A part the fast closures finish read only values that are there, along
the same path the reference takes (both stop at the same decisive operand, take the
same branch), so the reference would give the same value with no missing fact — e.g.
``tenure != "own" or criteria.crowded`` for a tenant whose room count is missing, or
an income summed over the adults where the children give none. Such a value then
counts as computed: the reference's caches are seeded with it and the calculation is
recorded from it.

What is in force on a date, the parameter values and the layout of the environment
are resolved once per ``as_of`` (:class:`_Plan`). A requirement whose shown values
are all facts, criteria or parameters of exact, hashable kinds (true/false, whole
numbers, texts, dates) is decided by those values alone, so its outcome is memoised
per date keyed by them (and a measure made only of such requirements, its whole
outcome); amounts and anything showing a decimal are computed every time. An amount's
calculation is recorded from the environment
(:func:`eligibility.compile.calculation.record_env`; step by step where the amount
lacks facts), its steps decided by exact values memoised likewise. A FastPack
is immutable apart from those bounded, lock-guarded memo tables.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, NamedTuple

from eligibility.compile.calculation import EnvStep, env_steps, record, record_env
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
    InForce,
    criteria_order,
    observables,
    refs,
)
from eligibility.compile.reference import evaluate_household as reference_household
from eligibility.compile.reference import judge, round_amount, status_of
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import Outcome
from eligibility.errors import EligibilityError
from eligibility.expr import ast
from eligibility.facts import ValidFacts
from eligibility.pack.model import Criterion, Expr, RuleException

_MEMBER_CALLS = frozenset({"count", "sum", "any", "all"})

#: One household's environment, and a closure over it.
Env = dict[str, Any]
EFn = Callable[[Env], Any]

#: kinds of value a memo may be keyed by: hashable, and equal only when shown alike
#: (a decimal is not: 1.0 == 1.00 == 1, but they are shown differently)
_MEMO_KINDS = frozenset({"bool", "int", "str", "date"})
#: entries per memo table (emptied when full) and dates with a plan kept
_MEMO_LIMIT = 256
_PLAN_LIMIT = 256
#: entries of a date's memo of its memoisable measures and criteria together (their
#: values combine, so there are more of them; each entry only points at shared outcomes)
_STATIC_LIMIT = 2048

#: what makes the fast path hand the household to the reference (which raises the
#: error as it documents it, or — past a branch the fast path evaluated eagerly — none)
_FALLBACK: tuple[type[BaseException], ...] = (ArithmeticError, LookupError, EligibilityError)


class _DivisionByZero(EligibilityError):
    """A division by zero in a fast closure: the reference reports it."""


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

#: what an expression reads on every path its fast closures take: (facts, the member
#: list); one of them missing and the closures cannot finish (:meth:`FastPack._strict`)
Strict = tuple[frozenset[str], bool]
_NONE_STRICT: Strict = (frozenset(), False)


class FastRequirement:
    """A requirement's two-valued closures, where its shown values are found, and its
    met / not met outcomes without shown values (made once)."""

    __slots__ = ("creq", "discretionary", "exceptions", "fn", "getter", "id", "keys",
                 "labels", "memo_ok", "met", "not_met", "observed", "reads", "reads_exact",
                 "single", "strict", "strict_shown", "values")

    def __init__(self, creq: CompiledRequirement, fn: EFn | None,
                 exceptions: tuple[tuple[RuleException, EFn], ...],
                 observed: tuple[tuple[str, EFn], ...], keys: tuple[str, ...],
                 memo_ok: bool, reads: Reads,
                 reads_exact: tuple[tuple[str, ...], tuple[str, ...] | None] | None = None,
                 strict: Strict = _NONE_STRICT, strict_shown: Strict = _NONE_STRICT,
                 ) -> None:
        self.creq = creq
        self.reads = reads
        self.fn = fn
        self.exceptions = exceptions
        #: (label, closure) per shown value, for when a value is not in the environment
        self.observed = observed
        self.labels = tuple(label for label, _ in observed)
        self.keys = keys  # where each shown value is kept in the environment
        #: the shown values from the environment: one value when there is one, a tuple
        #: otherwise (KeyError when one is not there yet)
        self.getter: Callable[[Env], Any] = itemgetter(*keys) if keys else _empty
        self.single = len(keys) == 1
        #: what the getter gives → the shown values by label
        self.values = _dict_of(self.labels)
        #: decided by the shown values alone, which are always in the environment
        self.memo_ok = memo_ok
        #: every fact and member field the requirement reads (through its lets and
        #: criteria too; None for the member fields when it reads no member list), when
        #: they are all of exact, hashable kinds and it does not read ``amount``: then
        #: with facts missing its reference outcome is decided by their values (per
        #: member) and which of them are absent (None otherwise)
        self.reads_exact = reads_exact
        #: what its expression reads on every path, and that with its shown values
        self.strict = strict
        self.strict_shown = strict_shown
        self.id = creq.req.id
        self.discretionary = creq.req.discretionary
        self.met = ReasonOutcome(creq, "met", None, (), True)
        self.not_met = ReasonOutcome(creq, "not_met", None, (), False)


def _empty(env: Env) -> tuple[()]:
    return ()


@dataclass(frozen=True)
class FastMeasure:
    cm: CompiledMeasure
    reads: Reads  # everything the measure reads
    amount: EFn | None
    amount_reads: Reads
    rounding: str
    requirements: tuple[FastRequirement, ...]
    #: (rank, title, two-valued fn, reads, reference fn) per priority group
    priority: tuple[tuple[int, Any, EFn, Reads, Fn], ...]
    #: (name, environment key, two-valued fn, reads) per let, in order
    lets: tuple[tuple[str, str, EFn, Reads], ...]
    #: environment keys the priority groups are decided by, or None when they are not
    #: decided by memoisable, always-present values
    priority_keys: tuple[str, ...] | None
    #: the amount's calculation steps over the environment (:func:`record_env`), or None
    calculation: tuple[EnvStep, ...] | None = None
    #: what each of those steps reads (a let's, a criterion's, the amount's Reads)
    calculation_reads: tuple[Reads, ...] = ()
    #: per step, a getter of the environment values that decide it whole (facts,
    #: criteria, lets of exact, hashable kinds; no member list), or None
    calculation_inputs: tuple[Callable[[Env], Any] | None, ...] = ()
    #: what the amount, each let and each priority group read on every path
    amount_strict: Strict = _NONE_STRICT
    lets_strict: tuple[Strict, ...] = ()
    priority_strict: tuple[Strict, ...] = ()


@dataclass(frozen=True)
class _MeasurePlan:
    index: int
    cm: CompiledMeasure
    fm: FastMeasure
    requirements: tuple[FastRequirement, ...]  # in force
    reference: tuple[CompiledRequirement, ...]  # the same, for the reference
    #: the whole outcome memoised by these values (None: not memoisable), per observe
    keys: tuple[str, ...] | None
    getter: Callable[[Env], Any] | None
    memo: tuple[dict[Any, Outcomes], dict[Any, Outcomes]]
    #: the requirements decided by their shown values (memo_ok), memoised together by
    #: the values: (reasons with None where another requirement goes, failed, unknown,
    #: discretionary), per observe
    group: tuple[tuple[int, FastRequirement], ...]
    group_getter: Callable[[Env], Any] | None
    group_memo: tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]
    #: the other requirements, by position
    rest: tuple[tuple[int, FastRequirement], ...]
    #: where the measure runs with facts missing (:func:`_run`): the outcome of each
    #: requirement that is ``memo_ok``, memoised by (its position, its shown values);
    #: not observed, observed
    run_memo: tuple[dict[Any, ReasonOutcome], dict[Any, ReasonOutcome]]
    #: per layout (:func:`_layout`) where the amount lacks facts: the calculation steps
    #: to record from the environment (None: the reference way), see :func:`_mixed`
    env_at: dict[bytes, tuple[EnvStep | None, ...]] = field(default_factory=dict)
    #: calculation steps decided by their inputs (``FastMeasure.calculation_inputs``),
    #: by (position, inputs), for this plan's date
    step_memo: dict[Any, Any] = field(default_factory=dict)
    #: where in a layout (:func:`_layout`) each part of the measure is found
    at: _At | None = None

    def fresh(self) -> _MeasurePlan:
        """The same plan with empty memos of its own (for another date)."""
        return _MeasurePlan(self.index, self.cm, self.fm, self.requirements, self.reference,
                            self.keys, self.getter, ({}, {}), self.group, self.group_getter,
                            ({}, {}), self.rest, ({}, {}), at=self.at)


class _At(NamedTuple):
    """A measure's parts' places in a layout (:func:`_layout`): 1 there where the
    household has every fact the part reads."""

    reads: int
    amount: int
    lets: tuple[int, ...]
    requirements: tuple[int, ...]
    priority: tuple[int, ...]
    calculation: tuple[int, ...]
    #: the masks (:attr:`_Plan.masks`' bits) of what the amount, each let, each
    #: requirement (not observed, observed) and each priority group read on every path
    #: (:meth:`FastPack._strict`): one of those bits lacking, the fast closures fail
    amount_strict: int = 0
    lets_strict: tuple[int, ...] = ()
    requirements_strict: tuple[tuple[int, int], ...] = ()
    priority_strict: tuple[int, ...] = ()


@dataclass(frozen=True)
class _Plan:
    """What one date needs: the environment's base, the measures and criteria in force."""

    as_of: date
    params: dict[str, Any]
    unconfirmed: frozenset[str]
    base: Env
    measures: tuple[_MeasurePlan, ...]
    #: criteria to compute, in dependency order: (id, key, fn, reads)
    criteria_eval: tuple[tuple[str, str, EFn, Reads], ...]
    #: criteria in force: (criterion, key, reads, reference cached fn)
    criteria: tuple[tuple[Criterion, str, Reads, Fn], ...]
    #: the criteria's values, when all are of memoisable kinds (else None)
    criteria_getter: Callable[[Env], Any] | None
    reads: Reads  # everything above reads
    #: the measures whose whole outcome is decided by facts, criteria and parameters of
    #: memoisable kinds (no amount, no let), memoised together with the criteria's
    #: outcomes by those values: (measures, with None where another goes; criteria or
    #: None), per observe
    static_getter: Callable[[Env], Any]
    static_memo: tuple[dict[Any, tuple[Any, ...]], dict[Any, tuple[Any, ...]]]
    #: the other measures, by position
    dynamic: tuple[tuple[int, _MeasurePlan], ...]
    #: every Reads above (each part of what is in force)
    every: tuple[Reads, ...]
    #: which facts a household lacks → its layout (:func:`_layout`): per mask of
    #: ``masks``, 1 where the household has every fact of the Reads behind it (0 else)
    layouts: dict[Any, tuple[bytes, int]]
    #: a bit per fact and member field read above, the member list's bit, and the
    #: distinct masks of those bits of the Reads of ``every``; a part's place among them
    #: is in its measure's ``_MeasurePlan.at`` (and ``criteria_at``)
    bits: dict[str, int] = field(default_factory=dict)
    member_bits: dict[str, int] = field(default_factory=dict)
    members_bit: int = 0
    masks: tuple[int, ...] = ()
    #: each of ``criteria_eval``'s place in a layout, and the mask of what it reads on
    #: every path (see :class:`_At`)
    criteria_at: tuple[int, ...] = ()
    criteria_strict: tuple[int, ...] = ()


class FastPack:
    """Two-valued closures and fact read sets for a compiled pack (see module docstring)."""

    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        self._fact_kinds = {f.path: _FACT_KINDS.get(f.kind) for f in
                            compiled.pack.schema.all_fields() if not f.in_list}
        self._member_kinds = {f.name: _FACT_KINDS.get(f.kind) for f in
                              compiled.pack.schema.all_fields() if f.in_list}
        self._criteria_fns: dict[str, EFn] = {}
        self._criteria_reads: dict[str, Reads] = {}
        self._criteria_kinds: dict[str, str | None] = {}
        self._criteria_strict: dict[str, Strict] = {}
        by_id = {c.id: c for c in compiled.pack.criteria}
        self._order = criteria_order(compiled.pack.criteria)
        self._criteria_deps = {c.id: refs([c.expr])[1] for c in compiled.pack.criteria}
        #: the aggregates and calls a calculation step shows (count, sum, any, all,
        #: known): the closures computing them keep their value in the environment
        #: under these keys, for the recorder to read
        self._calc_at: dict[int, str] = {}
        for cm in compiled.measures:
            for planned in cm.calculation.steps if cm.calculation else ():
                for term in planned.terms:
                    if (term.fn is not None and term.cached is None and term.param is None
                            and isinstance(term.node, ast.Call)):
                        self._calc_at.setdefault(id(term.node), f"@t{len(self._calc_at)}")
        for cid in self._order:
            expr = by_id[cid].expr
            self._criteria_reads[cid] = self._reads(expr.node)
            compiler = _Compiler(self, -1, {}, f"{by_id[cid].file} criterion {cid}",
                                 record_at=self._calc_at)
            self._criteria_fns[cid] = compiler.compile(expr.node, False)
            self._criteria_kinds[cid] = compiler.kind(expr.node)
            self._criteria_strict[cid] = self._strict(expr.node, {})
        self.measures = tuple(self._measure(cm) for cm in compiled.measures)
        self._plans: dict[date, _Plan] = {}
        self._shapes: dict[Any, tuple[Any, ...]] = {}
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

    def _strict(self, node: ast.Node, lets: dict[str, Strict]) -> Strict:
        """The facts (and whether the member list) ``node``'s fast closures read on
        every path they take — through criteria and ``lets`` too, which are not in the
        environment when such a fact is missing. Under-approximate: a member field, the
        operands past the first of ``and``/``or``, a branch read by only one side of an
        ``if``, anything in a member loop count as not always read."""
        if isinstance(node, ast.Name):
            dotted = node.dotted
            if dotted in lets:
                return lets[dotted]
            if node.parts[0] == "criteria" and dotted[9:] in self._criteria_strict:
                return self._criteria_strict[dotted[9:]]
            if dotted == "members":
                return frozenset(), True
            if dotted in self.compiled.facts:
                return frozenset({dotted}), False
            return _NONE_STRICT
        parts: tuple[ast.Node, ...]
        if isinstance(node, ast.BoolOp):
            parts = node.operands[:1]
        elif isinstance(node, ast.Compare):
            parts = node.operands[:2]
            if node.ops[0] in ("in", "notin"):
                right = node.operands[1]
                assert isinstance(right, ast.ListLit)
                parts = (node.operands[0], *right.items)
        elif isinstance(node, ast.If):
            cond = self._strict(node.cond, lets)
            then, orelse = self._strict(node.then, lets), self._strict(node.orelse, lets)
            return cond[0] | (then[0] & orelse[0]), cond[1] or (then[1] and orelse[1])
        elif isinstance(node, ast.Call):
            if node.func in _MEMBER_CALLS:
                return frozenset(), True
            parts = node.args[1:] if node.func == "param" else node.args
        elif isinstance(node, ast.Unary | ast.Binary):
            parts = ast.children(node)
        else:
            return _NONE_STRICT
        facts: frozenset[str] = frozenset()
        members = False
        for part in parts:
            f, m = self._strict(part, lets)
            facts |= f
            members = members or m
        return facts, members

    def _measure(self, cm: CompiledMeasure) -> FastMeasure:
        m = cm.measure
        mi = cm.index
        lets: dict[str, str] = {}  # let name → environment key
        let_kinds: dict[str, str | None] = {}
        let_reads: dict[str, Reads] = {}
        let_list = []
        let_strict: dict[str, Strict] = {}
        for name, expr in m.lets:
            compiler = _Compiler(self, mi, dict(lets), f"{m.file} let {name}", let_kinds,
                                 self._calc_at)
            fn = compiler.compile(expr.node, False)
            let_reads[name] = reads_ = self._reads(expr.node, let_reads)
            let_kinds[name] = compiler.kind(expr.node)
            let_strict[name] = self._strict(expr.node, let_strict)
            lets[name] = key = f"@l{mi}:{name}"
            let_list.append((name, key, fn, reads_))
        compiler = _Compiler(self, mi, lets, m.file, let_kinds, self._calc_at)
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
            exprs = ([req.expr] if req.expr else []) + [e.expr for e in req.exceptions]
            nodes: dict[str, ast.Node] = {}
            for expr in exprs:
                for node in observables(expr):
                    nodes.setdefault(expr.slice(node), node)
            keys: list[str] = []
            observed = []
            memo_ok = True
            record_at: dict[int, str] = {}
            for label, _ in creq.observed:
                node = nodes[label]
                okey = compiler.read_key(node, False)
                if okey is None:  # a table look-up or an aggregate: kept as computed
                    okey = f"@o{mi}:{label}"
                    record_at[id(node)] = okey
                    memo_ok = False
                elif compiler.kind(node) not in _MEMO_KINDS:
                    memo_ok = False
                keys.append(okey)
                observed.append((label, compiler.compile(node, False)))
            recorder = _Compiler(self, mi, lets, m.file, let_kinds, record_at)
            rfn = recorder.compile(req.expr.node, False) if req.expr else None
            exceptions = tuple((e, recorder.compile(e.expr.node, False))
                               for e in req.exceptions)
            req_reads = reads(*exprs)
            exact = None
            if not req_reads.amount and all(
                    self._fact_kinds.get(f) in _MEMO_KINDS for f in req_reads.facts) and all(
                    self._member_kinds.get(f) in _MEMO_KINDS for f in req_reads.member_fields):
                exact = (tuple(sorted(req_reads.facts)),
                         tuple(sorted(req_reads.member_fields)) if req_reads.members else None)
            strict = self._strict(req.expr.node, let_strict) if req.expr else _NONE_STRICT
            shown = strict
            for label, _ in creq.observed:
                f, mem = self._strict(nodes[label], let_strict)
                shown = (shown[0] | f, shown[1] or mem)
            requirements.append(FastRequirement(creq, rfn, exceptions, tuple(observed),
                                                tuple(keys), memo_ok, req_reads, exact,
                                                strict, shown))
        amount = compiler.compile(m.amount.expr.node, False) if m.amount else None
        amount_reads = reads(m.amount.expr) if m.amount else _NOTHING
        priority = tuple(
            (p.rank, p.title, compiler.compile(p.expr.node, False), reads(p.expr), ref[3])
            for p, ref in zip(m.priority, cm.priority, strict=True))
        priority_keys: tuple[str, ...] | None = ()
        for p in m.priority:
            for node in observables(p.expr):
                pkey = compiler.read_key(node, False)
                if pkey is None or compiler.kind(node) not in _MEMO_KINDS:
                    priority_keys = None
                    break
                assert priority_keys is not None
                priority_keys += (pkey,)
            if priority_keys is None:
                break
        calc = None
        calc_reads: tuple[Reads, ...] = ()
        calc_inputs: tuple[Callable[[Env], Any] | None, ...] = ()
        if cm.calculation is not None:
            calc = env_steps(cm.calculation, lambda node: compiler.compile(node, False),
                             lets.__getitem__, lambda cid: f"@c:{cid}",
                             lambda node: self._calc_at.get(id(node), ""))
            calc_reads = tuple(
                amount_reads if p.cached is None else let_reads[p.cached[1]]
                if p.cached[0] == "lets" else self._criteria_reads[p.cached[1]]
                for p in cm.calculation.steps)
            calc_inputs = tuple(_step_inputs(compiler, p.node)
                                for p in cm.calculation.steps)
        return FastMeasure(cm, total, amount, amount_reads,
                           m.amount.rounding if m.amount else "none", tuple(requirements),
                           priority, tuple(let_list), priority_keys, calc, calc_reads,
                           calc_inputs,
                           self._strict(m.amount.expr.node, let_strict) if m.amount
                           else _NONE_STRICT,
                           tuple(let_strict[name] for name, _ in m.lets),
                           tuple(self._strict(p.expr.node, let_strict) for p in m.priority))

    # -- per date ------------------------------------------------------------
    def _plan(self, as_of: date) -> _Plan:
        found = self._plans.get(as_of)
        if found is not None:
            return found
        compiled = self.compiled
        params, unconfirmed = compiled.parameters_at(as_of)
        in_force = compiled.in_force_at(as_of)
        base: Env = {f"@p:{name}": value for name, value in params.items()
                     if value.__class__ is not NoValue}
        base["@as_of"] = as_of
        # what is in force decides the plan's layout; the memos are the date's own
        signature = (tuple((index, tuple(map(id, reqs))) for index, _, reqs in in_force.measures),
                     tuple(c.id for c in in_force.criteria))
        layout = self._shapes.get(signature)
        if layout is None:
            layout = self._shape(in_force)
            with self._lock:
                if len(self._shapes) >= _PLAN_LIMIT:
                    self._shapes.clear()
                self._shapes[signature] = layout
        (measures, criteria_eval, criteria, criteria_getter, total, static_getter, dynamic,
         every, bits, member_bits, members_bit, masks, criteria_at, criteria_strict) = layout
        fresh = tuple([mp.fresh() for mp in measures])
        plan = _Plan(as_of, params, unconfirmed, base, fresh, criteria_eval,
                     criteria, criteria_getter, total, static_getter, ({}, {}),
                     tuple((i, fresh[i]) for i in dynamic), every, {}, bits, member_bits,
                     members_bit, masks, criteria_at, criteria_strict)
        with self._lock:
            if len(self._plans) >= _PLAN_LIMIT:
                self._plans.clear()
            self._plans[as_of] = plan
        return plan

    def _shape(self, in_force: InForce) -> tuple[Any, ...]:
        """The parts of a plan that depend only on what is in force (see :meth:`_plan`)."""
        compiled = self.compiled
        measures = []
        needed: set[str] = {c.id for c in in_force.criteria}
        total = _NOTHING
        for index, cm, reqs in in_force.measures:
            fm = self.measures[index]
            wanted = {id(r) for r in reqs}
            fast_reqs = tuple(r for r in fm.requirements if id(r.creq) in wanted)
            group = tuple((i, r) for i, r in enumerate(fast_reqs) if r.memo_ok)
            rest = tuple((i, r) for i, r in enumerate(fast_reqs) if not r.memo_ok)
            group_keys = tuple(dict.fromkeys(k for _, r in group for k in r.keys))
            getter = keys = None
            if fm.amount is None and fm.priority_keys is not None and not rest:
                keys = tuple(dict.fromkeys(group_keys + fm.priority_keys))
                getter = itemgetter(*keys) if keys else _empty
            measures.append(_MeasurePlan(
                index, cm, fm, fast_reqs, reqs, keys, getter, ({}, {}), group,
                (itemgetter(*group_keys) if group_keys else _empty) if group else None,
                ({}, {}), rest, ({}, {})))
            needed |= cm.criteria_used
            total |= fm.reads
            for _, _, _, let_reads in fm.lets:
                total |= let_reads
        stack = list(needed)
        while stack:
            for dep in self._criteria_deps.get(stack.pop(), ()):
                if dep not in needed and dep in self._criteria_fns:
                    needed.add(dep)
                    stack.append(dep)
        criteria_eval = tuple((cid, f"@c:{cid}", self._criteria_fns[cid],
                               self._criteria_reads[cid])
                              for cid in self._order if cid in needed)
        for _, _, _, reads in criteria_eval:
            total |= reads
        criteria = tuple((c, f"@c:{c.id}", self._criteria_reads[c.id],
                          compiled.criterion_cached[c.id]) for c in in_force.criteria)
        criteria_getter = None
        if all(self._criteria_kinds[c.id] in _MEMO_KINDS for c in in_force.criteria):
            keys = tuple(key for _, key, _, _ in criteria)
            criteria_getter = itemgetter(*keys) if keys else _empty
        static_keys: list[str] = []
        dynamic = []
        for i, mp in enumerate(measures):
            if mp.keys is not None and not any(k.startswith("@l") for k in mp.keys):
                static_keys.extend(mp.keys)
            else:
                dynamic.append(i)
        if criteria_getter is not None:
            static_keys.extend(key for _, key, _, _ in criteria)
        keys = tuple(dict.fromkeys(static_keys))
        every: list[Reads] = [reads for _, _, _, reads in criteria_eval]
        for mp in measures:
            fm = mp.fm
            every += [fm.reads, fm.amount_reads, *(r for _, _, _, r in fm.lets),
                      *fm.calculation_reads,
                      *(fr.reads for fr in mp.requirements),
                      *(r for _, _, _, r, _ in fm.priority)]
        distinct = tuple({id(r): r for r in every}.values())
        read = frozenset().union(*(r.facts for r in distinct))
        member_read = frozenset().union(*(r.member_fields for r in distinct))
        bits = {name: 1 << i for i, name in enumerate(sorted(read))}
        member_bits = {name: 1 << (len(bits) + i)
                       for i, name in enumerate(sorted(member_read))}
        members_bit = 1 << (len(bits) + len(member_bits))
        masks = tuple(dict.fromkeys(_mask(r, bits, member_bits, members_bit)
                                    for r in distinct))

        def at(reads: Reads) -> int:
            return masks.index(_mask(reads, bits, member_bits, members_bit))

        def strict(found: Strict) -> int:
            return sum(bits.get(f, 0) for f in found[0]) | (members_bit if found[1] else 0)

        measures = [replace(mp, at=_At(
            at(mp.fm.reads), at(mp.fm.amount_reads),
            tuple(at(r) for _, _, _, r in mp.fm.lets),
            tuple(at(fr.reads) for fr in mp.requirements),
            tuple(at(r) for _, _, _, r, _ in mp.fm.priority),
            tuple(at(r) for r in mp.fm.calculation_reads),
            strict(mp.fm.amount_strict), tuple(map(strict, mp.fm.lets_strict)),
            tuple((strict(fr.strict), strict(fr.strict_shown)) for fr in mp.requirements),
            tuple(map(strict, mp.fm.priority_strict)))) for mp in measures]
        criteria_at = tuple(at(r) for _, _, _, r in criteria_eval)
        criteria_strict = tuple(strict(self._criteria_strict[cid])
                                for cid, _, _, _ in criteria_eval)
        return (tuple(measures), criteria_eval, criteria, criteria_getter, total,
                itemgetter(*keys) if keys else _empty, tuple(dynamic), distinct, bits,
                member_bits, members_bit, masks, criteria_at, criteria_strict)

    # -- evaluation ----------------------------------------------------------
    def evaluate_household(self, facts: ValidFacts, as_of: date, observe: bool = True,
                           calculation: bool = True, *,
                           fallback: bool = True) -> HouseholdOutcomes:
        """Every measure in force and every criterion: fast where complete, else reference.

        ``fallback=False`` (for tests) raises where an error on the fast closures would
        hand the household to the reference."""
        plan = self._plan(as_of)
        env = plan.base.copy()
        env.update(facts.flat)
        members = facts.members
        if members is not None:
            env["@members"] = members
        reads = plan.reads
        try:
            if facts.flat.keys() >= reads.facts and (not reads.members or (
                    members is not None and _common(members) >= reads.member_fields)):
                return _complete(plan, env, facts, observe, calculation, self._lock)
            return _mixed(plan, env, facts, observe, calculation, self._lock)
        except _FALLBACK:
            if not fallback:
                raise
            return reference_household(self.compiled, facts, as_of, observe, calculation)


def _step_inputs(compiler: _Compiler, node: ast.Node | None) -> Callable[[Env], Any] | None:
    """A getter of the environment values ``node`` (a calculation step's expression)
    reads, when they decide the step whole: every name a fact, criterion, ``let`` or the
    date of an exact, hashable kind (:data:`_MEMO_KINDS`), no member list, no
    ``amount`` (parameters follow from the date); else None."""
    if node is None:
        return None
    keys: list[str] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call):
            if n.func in _MEMBER_CALLS:
                return None
            stack.extend(n.args[1:] if n.func == "param" else n.args)
            continue
        if isinstance(n, ast.Name):
            if n.dotted in ("members", "amount"):
                return None
            key = compiler.read_key(n, False)
            if key is None or compiler.kind(n) not in _MEMO_KINDS:
                return None
            keys.append(key)
            continue
        stack.extend(ast.children(n))
    keys = list(dict.fromkeys(keys))
    return itemgetter(*keys) if keys else _empty


def _mask(reads: Reads, bits: dict[str, int], member_bits: dict[str, int],
          members_bit: int) -> int:
    """The bits of what ``reads`` reads (see :attr:`_Plan.masks`)."""
    mask = sum(bits[f] for f in reads.facts)
    if reads.members:
        mask |= members_bit | sum(member_bits[f] for f in reads.member_fields)
    return mask


def _common(members: list[dict[str, Any]]) -> set[str]:
    common = set(members[0])
    for member in members[1:]:
        common &= member.keys()
    return common


def _remember(lock: threading.Lock, memo: dict[Any, Any], key: Any, value: Any,
              limit: int = _MEMO_LIMIT) -> None:
    with lock:
        if len(memo) >= limit:
            memo.clear()
        memo[key] = value


_new = tuple.__new__


def _context(plan: _Plan, facts: ValidFacts, env: Env,
             computed: Iterable[tuple[str, str]]) -> Ctx:
    """A reference context whose criteria cache holds what the fast closures computed."""
    ctx = Ctx(facts.flat, facts.members, plan.as_of, plan.params)
    ctx.crit = {cid: (env[key], ()) for cid, key in computed}
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
    try:
        steps = record_env(mp.cm.calculation, mp.fm.calculation,  # type: ignore[arg-type]
                           env, plan.as_of, plan.params, outcomes.amount, exact,
                           memo, mp.fm.calculation_inputs,
                           lambda key, step: _remember(lock, memo, key, step))
    except _FALLBACK:
        return None
    return _with_steps(outcomes, steps)


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
    measures, criteria = found
    if plan.dynamic:
        measures = list(measures)
        ctx: Ctx | None = None
        for i, mp in plan.dynamic:
            outcomes = _measure(mp, env, observe, lock)
            if calculation and mp.cm.calculation is not None:
                recorded = _record_env(plan, mp, env, outcomes, env["@exact"], lock)
                if recorded is not None:
                    outcomes = recorded
                else:
                    if ctx is None:
                        ctx = _context(plan, facts, env,
                                       [(c, k) for c, k, _, _ in plan.criteria_eval])
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
    """The measures of the plan that are not in ``plan.dynamic`` (None in their place)
    and, when they are memoisable, the criteria's outcomes (else None)."""
    measures: list[Any] = [None] * len(plan.measures)
    dynamic = {i for i, _ in plan.dynamic}
    for i, mp in enumerate(plan.measures):
        if i not in dynamic:
            measures[i] = (mp.index, mp.cm, _measure(mp, env, observe, lock))
    criteria = None
    if plan.criteria_getter is not None:
        criteria = tuple([_new(CriterionOutcome, (c, env[k], ()))
                          for c, k, _, _ in plan.criteria])
    return tuple(measures), criteria


def _mixed(plan: _Plan, env: Env, facts: ValidFacts, observe: bool, calculation: bool,
           lock: threading.Lock) -> HouseholdOutcomes:
    """Some facts missing: complete measures and criteria fast, the rest on the reference."""
    members = facts.members
    reads = plan.reads
    lacking: Any = (tuple(sorted(reads.facts.difference(facts.flat))),
                    () if not reads.members else None if members is None else
                    tuple(sorted(reads.member_fields.difference(_common(members)))))
    found = plan.layouts.get(lacking)
    if found is None:
        found = _layout(plan, facts)
        _remember(lock, plan.layouts, lacking, found)
    layout, lack = found
    computed = []
    for (cid, key, fn, _), where, always in zip(plan.criteria_eval, plan.criteria_at,
                                                plan.criteria_strict, strict=True):
        if layout[where]:
            env[key] = fn(env)
            computed.append((cid, key))
        elif not always & lack:  # facts it reads are missing, maybe not where it goes
            try:
                env[key] = fn(env)
            except KeyError:
                continue
            computed.append((cid, key))
    ctx = _context(plan, facts, env, computed)
    measures = []
    for mp in plan.measures:
        fm = mp.fm
        ctx.lets = {}
        ctx.exact = UNKNOWN
        ctx.amount = (UNKNOWN, ())
        at: _At = mp.at  # type: ignore[assignment]
        if layout[at.reads]:
            outcomes = _measure(mp, env, observe, lock)
            if fm.amount is not None:
                ctx.exact = env["@exact"]
                ctx.amount = (outcomes.amount, ())
        else:
            outcomes = _run(mp, ctx, env, observe, layout, lack, at, lock)
        if calculation and mp.cm.calculation is not None:
            recorded = None
            if layout[at.amount]:
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
    for c, key, _, reference in plan.criteria:
        if key in env:
            criteria.append(_new(CriterionOutcome, (c, env[key], ())))
        else:
            mark = len(missing)
            value = reference(ctx)
            criteria.append(CriterionOutcome(
                c, value, tuple(dict.fromkeys(missing[mark:])) if value is UNKNOWN else ()))
    return _new(HouseholdOutcomes, (plan.as_of, facts.sha256, plan.unconfirmed,
                                    tuple(measures), tuple(criteria)))


def _layout(plan: _Plan, facts: ValidFacts) -> tuple[bytes, int]:
    """Per distinct mask of ``plan.masks`` (of the Reads of ``plan.every``), 1 where
    ``facts`` has all it reads (for a member field: every member has it), else 0; and
    the bits of ``plan.masks`` the household lacks."""
    bits = plan.bits
    have = sum([bits[key] for key in facts.flat if key in bits])
    members = facts.members
    if members is not None:
        have |= plan.members_bit
        if members:
            member_bits = plan.member_bits
            have |= sum([member_bits[f] for f in _common(members) if f in member_bits])
    lack = (plan.members_bit << 1) - 1 - have  # every bit not in ``have``
    return bytes([not mask & lack for mask in plan.masks]), lack


def _judge(fr: FastRequirement, env: Env, observe: bool, vals: Any) -> ReasonOutcome:
    """One requirement on the fast closures (its facts present); ``vals`` are its shown
    values when already read."""
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
    return _new(ReasonOutcome, (fr.creq, outcome, waived_by, (), value, fr.values(vals)))


def _dict_of(labels: tuple[str, ...]) -> Callable[[Any], dict[str, Any]]:
    """Values as an itemgetter over ``labels``' keys gives them (one value, or a tuple)
    → a dict by label; a dict display for up to three (faster than ``dict(zip())``)."""
    if len(labels) == 1:
        (a,) = labels
        return lambda v: {a: v}
    if len(labels) == 2:
        a, b = labels
        return lambda v: {a: v[0], b: v[1]}
    if len(labels) == 3:
        a, b, c = labels
        return lambda v: {a: v[0], b: v[1], c: v[2]}
    return lambda v: dict(zip(labels, v, strict=True))


def _computed(fr: FastRequirement, env: Env) -> Any:
    """The requirement's shown values, each computed (as :attr:`FastRequirement.getter`
    gives them: one value, or a tuple)."""
    values = tuple([ofn(env) for _, ofn in fr.observed])
    return values[0] if fr.single else values


def _measure(mp: _MeasurePlan, env: Env, observe: bool, lock: threading.Lock) -> Outcomes:
    """One measure whose facts are all present: two-valued throughout."""
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
    group_getter = mp.group_getter
    if group_getter is not None:
        vals = group_getter(env)
        memo = mp.group_memo[observe]
        found = memo.get(vals)
        if found is None:
            found = _group(mp, env, observe)
            _remember(lock, memo, vals, found)
        reasons, failed, unknown, discretionary = found
    else:  # every position is one of mp.rest
        reasons, failed, unknown, discretionary = mp.requirements, False, False, False
    if mp.rest:
        reasons = list(reasons)
        for i, fr in mp.rest:
            reasons[i] = reason = _judge(fr, env, observe, None)
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


def _group(mp: _MeasurePlan, env: Env, observe: bool) -> tuple[Any, ...]:
    """The requirements of ``mp.group`` judged: (the reasons, in place among all the
    measure's, None where another goes; failed, unknown, discretionary)."""
    reasons: list[Any] = [None] * len(mp.requirements)
    failed = unknown = discretionary = False
    for i, fr in mp.group:
        reasons[i] = reason = _judge(fr, env, observe, None)
        outcome = reason[1]
        if outcome == "not_met":
            failed = True
        elif outcome == "discretionary":
            discretionary = True
        elif outcome == "unknown":
            unknown = True
    return tuple(reasons), failed, unknown, discretionary


def _run(mp: _MeasurePlan, ctx: Ctx, env: Env, observe: bool, layout: bytes,
         lack: int, at: _At, lock: threading.Lock) -> Outcomes:
    """One measure: each requirement (and each let, the amount, each priority group,
    each observed value) two-valued when every fact it reads is present (``layout``,
    see :func:`_layout`); otherwise tried two-valued unless a fact it reads on every
    path is missing (``lack``, the household's missing bits), and three-valued as the
    reference does it where that meets a missing value (see the module docstring)."""
    fm = mp.fm
    lets = ctx.lets
    for (name, lkey, lfn, lreads), i, always in zip(fm.lets, at.lets, at.lets_strict,
                                                    strict=True):
        if lreads.amount:
            if layout[i]:
                env[lkey] = lfn(env)
            continue
        if layout[i]:
            env[lkey] = value = lfn(env)
        elif always & lack:  # a fact it always reads is missing: the reference's
            continue
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
        if layout[at.amount]:
            ctx.exact = exact = fm.amount(env)
            amount = round_amount(exact, fm.rounding)
            ctx.amount = (amount, ())
        else:
            try:  # facts it reads are missing, but maybe not where this household goes
                if at.amount_strict & lack:
                    raise KeyError  # one it always reads
                exact = fm.amount(env)
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
    for i, (fr, where, needs) in enumerate(zip(mp.requirements, at.requirements,
                                                at.requirements_strict, strict=True)):
        if layout[where] and (not fr.reads.amount or amount is not UNKNOWN):
            if fr.memo_ok:
                vals = fr.getter(env)
                key = (i, vals)
                reason = run_memo.get(key)
                if reason is None:
                    reason = _judge(fr, env, observe, vals)
                    _remember(lock, run_memo, key, reason)
            else:
                reason = _judge(fr, env, observe, None)
            outcome = reason[1]
        else:  # the reference, for a requirement with facts missing
            exact_reads = fr.reads_exact
            if exact_reads is not None:
                get = env.get
                fields = exact_reads[1]
                # (a key of four: never one of a complete requirement's above)
                mkey = (i, UNKNOWN, tuple([get(f, UNKNOWN) for f in exact_reads[0]]),
                        None if fields is None or members is None else tuple([
                            tuple([m.get(f, UNKNOWN) for f in fields]) for m in members]))
                reason = run_memo.get(mkey)
                if reason is None:
                    reason = (_reference(fr, ctx, observe) if needs[observe] & lack
                              else _attempt(fr, env, ctx, observe))
                    _remember(lock, run_memo, mkey, reason)
            else:
                reason = (_reference(fr, ctx, observe) if needs[observe] & lack
                          else _attempt(fr, env, ctx, observe))
            outcome = reason[1]
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
    for (rank, title, pfn, _, reference), where, always in zip(
            fm.priority, at.priority, at.priority_strict, strict=True):
        if layout[where]:
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
    return _new(Outcomes, (status, amount, tuple(reasons),
                           tuple(dict.fromkeys(need)) if status == "undetermined" else (),
                           tuple(assess) if status == "undetermined" else (), priority, None))


def _attempt(fr: FastRequirement, env: Env, ctx: Ctx, observe: bool) -> ReasonOutcome:
    """A requirement with facts missing: on the fast closures where this household's
    evaluation does not reach a missing one (see :func:`_run`), else the reference."""
    try:
        return _judge(fr, env, observe, None)
    except KeyError:
        return _reference(fr, ctx, observe)


def _reference(fr: FastRequirement, ctx: Ctx, observe: bool) -> ReasonOutcome:
    """One requirement with facts missing, on the reference (and its shown values)."""
    outcome, waived_by, seen, value = judge(fr.creq, ctx)
    values = None
    if observe:
        missing = ctx.missing
        mark = len(missing)
        values = {label: json_value(ofn(ctx)) for label, ofn in fr.creq.observed}
        del missing[mark:]
    return _new(ReasonOutcome, (fr.creq, outcome, waived_by, seen, value, values))


#: a fact's kind → the kind of its value (None: a decimal)
_FACT_KINDS = {"bool": "bool", "int": "int", "enum": "str", "string": "str", "date": "date"}
_INT_CALLS = frozenset({"count", "years_since", "months_since", "months_until", "floor",
                        "ceil"})
_BOOL_CALLS = frozenset({"any", "all", "known"})


class _Compiler(CompilerBase):
    """AST → two-valued closures over one household's environment (facts present)."""

    def __init__(self, pack: FastPack, measure: int, lets: dict[str, str], where: str,
                 let_kinds: dict[str, str | None] | None = None,
                 record_at: dict[int, str] | None = None) -> None:
        self.pack = pack
        self.measure = measure
        self.lets = lets  # let name → environment key
        self.let_kinds = let_kinds or {}
        self.where = where
        self.record_at = record_at or {}

    def compile(self, node: ast.Node, in_member: bool) -> EFn:
        fn = super().compile(node, in_member)
        key = self.record_at.get(id(node))
        if key is None:
            return fn

        def recorded(env: Env) -> Any:  # a shown value, kept as computed
            value = env[key] = fn(env)
            return value

        return recorded

    # -- names ---------------------------------------------------------------
    def read_key(self, node: ast.Node, in_member: bool) -> str | None:
        """The environment key holding ``node``'s value whenever a closure runs
        (a fact, criterion, let, parameter without keys, the date), if it has one."""
        if isinstance(node, ast.Call):
            if node.func == "param" and len(node.args) == 1:
                return f"@p:{node.args[0].dotted}"  # type: ignore[attr-defined]
            return None
        if not isinstance(node, ast.Name):
            return None
        dotted = node.dotted
        compiled = self.pack.compiled
        if in_member and len(node.parts) == 1 and dotted in compiled.member_fields:
            return None
        if dotted == "as_of":
            return "@as_of"
        if dotted == "amount":
            return "@amount"
        if dotted in self.lets:
            return self.lets[dotted]
        if node.parts[0] == "criteria" and dotted[9:] in self.pack._criteria_fns:
            return f"@c:{dotted[9:]}"
        if dotted == "members":
            return "@members"
        if dotted in compiled.facts:
            return dotted
        raise AssertionError(f"unresolved name {dotted!r} passed the type checker")

    def kind(self, node: ast.Node) -> str | None:
        """The kind of ``node``'s value where it is exact and hashable (``bool``,
        ``int``, ``str``, ``date``), else None (a decimal, a table value, unknown)."""
        if isinstance(node, ast.Number):
            return "int" if type(node.value) is int else None
        if isinstance(node, ast.String):
            return "str"
        if isinstance(node, ast.Boolean):
            return "bool"
        if isinstance(node, ast.DateLit):
            return "date"
        if isinstance(node, ast.Name):
            dotted = node.dotted
            if dotted == "as_of":
                return "date"
            if dotted in self.lets:
                return self.let_kinds.get(dotted)
            if node.parts[0] == "criteria" and dotted[9:] in self.pack._criteria_kinds:
                return self.pack._criteria_kinds[dotted[9:]]
            return self.pack._fact_kinds.get(dotted)
        if isinstance(node, ast.Unary):
            if node.op == "not":
                return "bool"
            return "int" if self.kind(node.operand) == "int" else None
        if isinstance(node, ast.Binary):
            return "int" if node.op != "/" and self.kind(node.left) == "int" == self.kind(
                node.right) else None
        if isinstance(node, ast.Compare | ast.BoolOp):
            return "bool"
        if isinstance(node, ast.If):
            then = self.kind(node.then)
            return then if then == self.kind(node.orelse) else None
        if isinstance(node, ast.Call):
            if node.func in _BOOL_CALLS:
                return "bool"
            if node.func in _INT_CALLS or (node.func == "round" and len(node.args) == 1):
                return "int"
            if node.func in ("min", "max", "abs", "yearly") and all(
                    self.kind(a) == "int" for a in node.args):
                return "int"
        return None

    def _Name(self, node: ast.Name, in_member: bool) -> EFn:
        dotted = node.dotted
        if in_member and len(node.parts) == 1 and dotted in self.pack.compiled.member_fields:
            field = dotted
            return lambda env: env["@m"][field]
        key = self.read_key(node, in_member)
        assert key is not None
        return itemgetter(key)

    def _Call(self, node: ast.Call, in_member: bool) -> EFn:
        if node.func == "param" and len(node.args) == 1:
            return itemgetter(f"@p:{node.args[0].dotted}")  # type: ignore[attr-defined]
        return super()._Call(node, in_member)

    def _literal(self, node: Any, in_member: bool) -> EFn:
        value = node.value
        return lambda env: value

    _Number = _String = _Boolean = _DateLit = _literal

    def _operand(self, node: ast.Node, in_member: bool) -> tuple[str, Any]:
        """("key", environment key), ("const", value) or ("fn", closure)."""
        if isinstance(node, ast.Number | ast.String | ast.Boolean | ast.DateLit):
            return "const", node.value
        if id(node) not in self.record_at and not (
                isinstance(node, ast.Name) and in_member and len(node.parts) == 1
                and node.dotted in self.pack.compiled.member_fields):
            key = self.read_key(node, in_member)
            if key is not None:
                return "key", key
        return "fn", self.compile(node, in_member)

    # -- operators -----------------------------------------------------------
    def _apply(self, args: list[EFn], fn: Callable[..., Any]) -> EFn:
        return _call(args, fn)

    def _Unary(self, node: ast.Unary, in_member: bool) -> EFn:
        inner = self.compile(node.operand, in_member)
        if node.op == "not":
            return lambda env: not inner(env)
        return lambda env: -inner(env)

    def _Binary(self, node: ast.Binary, in_member: bool) -> EFn:
        op = node.op
        if op in ("+", "-", "*"):
            return _binary(op, self._operand(node.left, in_member),
                           self._operand(node.right, in_member))
        left = self.compile(node.left, in_member)
        right = self.compile(node.right, in_member)

        def div(env: Env) -> Any:
            a, b = left(env), right(env)
            if b == 0:
                raise _DivisionByZero("division by zero")
            return Decimal(a) / b

        return div

    def _compare_pair(self, op: str, left_node: ast.Node, right_node: ast.Node,
                      in_member: bool) -> EFn:
        if op in ("in", "notin"):
            return super()._compare_pair(op, left_node, right_node, in_member)
        return _binary(op, self._operand(left_node, in_member),
                       self._operand(right_node, in_member))

    def _all_of(self, fns: tuple[EFn, ...]) -> EFn:
        return _and(fns)

    def _in_literal(self, left: EFn, choices: frozenset[Any], negate: bool) -> EFn:
        if negate:
            return lambda env: left(env) not in choices
        return lambda env: left(env) in choices

    def _in_dynamic(self, left: EFn, items: list[EFn], negate: bool) -> EFn:
        def in_dynamic(env: Env) -> Any:
            value = left(env)
            seen = [f(env) for f in items]
            return (value in seen) != negate

        return in_dynamic

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> EFn:
        fns = tuple(self.compile(o, in_member) for o in node.operands)
        return _and(fns) if node.op == "and" else _or(fns)

    def _If(self, node: ast.If, in_member: bool) -> EFn:
        cond = self.compile(node.cond, in_member)
        then = self.compile(node.then, in_member)
        orelse = self.compile(node.orelse, in_member)
        return lambda env: then(env) if cond(env) is True else orelse(env)

    def _call_round(self, node: ast.Call, in_member: bool) -> EFn:
        (arg, *_) = self._args(node, in_member)
        digits = node.args[1].value if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        quantum = Decimal(1).scaleb(-int(digits))

        def round_(env: Env) -> Any:
            value = arg(env)
            if isinstance(value, int):
                return value
            rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
            return int(rounded) if digits == 0 else rounded

        return round_

    def _call_yearly(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: arg(env) * 12

    def _call_monthly(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: Decimal(arg(env)) / 12

    def _date_fn(self, node: ast.Call, in_member: bool,
                 compute: Callable[[date, date], int]) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: compute(arg(env), env["@as_of"])

    def _call_known(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)

        def known(env: Env) -> Any:
            arg(env)  # evaluated as the reference does (it may raise)
            return True

        return known

    def _call_param(self, node: ast.Call, in_member: bool) -> EFn:
        table = f"@p:{node.args[0].dotted}"  # type: ignore[attr-defined]
        keys = tuple(self.compile(a, in_member) for a in node.args[1:])
        # a parameter without a value on the date is not in the environment, nor is a
        # missing table key in its table: KeyError, and the reference says which
        if len(keys) == 1:
            (first,) = keys

            def lookup1(env: Env) -> Any:
                key = first(env)
                return env[table][_norm_key(key) if key.__class__ is Decimal else key]

            return lookup1
        if len(keys) == 2:
            first, second = keys

            def lookup2(env: Env) -> Any:
                a, b = first(env), second(env)
                return env[table][_norm_key(a) if a.__class__ is Decimal else a][
                    _norm_key(b) if b.__class__ is Decimal else b]

            return lookup2

        def lookup(env: Env) -> Any:
            value = env[table]
            for key_fn in keys:
                value = value[_norm_key(key_fn(env))]
            return value

        return lookup

    def _call_count(self, node: ast.Call, in_member: bool) -> EFn:
        if len(node.args) != 2:
            return lambda env: len(env["@members"])
        cond = self.compile(node.args[1], True)

        def count(env: Env) -> Any:
            n = 0
            for member in env["@members"]:
                env["@m"] = member
                if cond(env) is True:
                    n += 1
            return n

        return count

    def _call_sum(self, node: ast.Call, in_member: bool) -> EFn:
        value_fn = self.compile(node.args[1], True)
        cond = self.compile(node.args[2], True) if len(node.args) == 3 else None

        def sum_(env: Env) -> Any:
            total: Any = 0
            for member in env["@members"]:
                env["@m"] = member
                if cond is not None and cond(env) is False:
                    continue
                total += value_fn(env)
            return total

        return sum_

    def _quantifier(self, node: ast.Call, stop: bool) -> EFn:
        cond = self.compile(node.args[1], True)

        def quantifier(env: Env) -> Any:
            for member in env["@members"]:
                env["@m"] = member
                if cond(env) is stop:
                    return stop
            return not stop

        return quantifier


def _binary(symbol: str, left: tuple[str, Any], right: tuple[str, Any]) -> EFn:
    """``left op right`` as one closure where an operand is an environment read or a
    constant (the common shapes: a fact against a literal, a fact against a criterion,
    a parameter times an expression)."""
    lk, lv = left
    rk, rv = right
    shapes = _SHAPES[symbol]
    index = _SHAPE_INDEX.get((lk, rk))
    if index is not None:
        return shapes[index](lv, rv)
    lf = (lambda env: lv) if lk == "const" else lv  # (const∘const: folded by nobody)
    rf = (lambda env: rv) if rk == "const" else rv
    return shapes[3](lf, rf)


_SHAPE_INDEX = {("key", "const"): 0, ("key", "key"): 1, ("const", "key"): 2, ("fn", "fn"): 3,
                ("key", "fn"): 4, ("fn", "key"): 5, ("fn", "const"): 6}


def _shapes(symbol: str) -> tuple[Callable[[Any, Any], EFn], ...]:
    """The closures of one operator, by the kinds of its operands (see _SHAPE_INDEX)."""
    if symbol == "+":
        return (lambda a, v: lambda e: e[a] + v,
                lambda a, b: lambda e: e[a] + e[b],
                lambda v, b: lambda e: v + e[b],
                lambda f, g: lambda e: f(e) + g(e),
                lambda a, g: lambda e: e[a] + g(e),
                lambda f, b: lambda e: f(e) + e[b],
                lambda f, v: lambda e: f(e) + v)
    if symbol == "-":
        return (lambda a, v: lambda e: e[a] - v,
                lambda a, b: lambda e: e[a] - e[b],
                lambda v, b: lambda e: v - e[b],
                lambda f, g: lambda e: f(e) - g(e),
                lambda a, g: lambda e: e[a] - g(e),
                lambda f, b: lambda e: f(e) - e[b],
                lambda f, v: lambda e: f(e) - v)
    if symbol == "*":
        return (lambda a, v: lambda e: e[a] * v,
                lambda a, b: lambda e: e[a] * e[b],
                lambda v, b: lambda e: v * e[b],
                lambda f, g: lambda e: f(e) * g(e),
                lambda a, g: lambda e: e[a] * g(e),
                lambda f, b: lambda e: f(e) * e[b],
                lambda f, v: lambda e: f(e) * v)
    if symbol == "==":
        return (lambda a, v: lambda e: e[a] == v,
                lambda a, b: lambda e: e[a] == e[b],
                lambda v, b: lambda e: v == e[b],
                lambda f, g: lambda e: f(e) == g(e),
                lambda a, g: lambda e: e[a] == g(e),
                lambda f, b: lambda e: f(e) == e[b],
                lambda f, v: lambda e: f(e) == v)
    if symbol == "!=":
        return (lambda a, v: lambda e: e[a] != v,
                lambda a, b: lambda e: e[a] != e[b],
                lambda v, b: lambda e: v != e[b],
                lambda f, g: lambda e: f(e) != g(e),
                lambda a, g: lambda e: e[a] != g(e),
                lambda f, b: lambda e: f(e) != e[b],
                lambda f, v: lambda e: f(e) != v)
    if symbol == "<":
        return (lambda a, v: lambda e: e[a] < v,
                lambda a, b: lambda e: e[a] < e[b],
                lambda v, b: lambda e: v < e[b],
                lambda f, g: lambda e: f(e) < g(e),
                lambda a, g: lambda e: e[a] < g(e),
                lambda f, b: lambda e: f(e) < e[b],
                lambda f, v: lambda e: f(e) < v)
    if symbol == "<=":
        return (lambda a, v: lambda e: e[a] <= v,
                lambda a, b: lambda e: e[a] <= e[b],
                lambda v, b: lambda e: v <= e[b],
                lambda f, g: lambda e: f(e) <= g(e),
                lambda a, g: lambda e: e[a] <= g(e),
                lambda f, b: lambda e: f(e) <= e[b],
                lambda f, v: lambda e: f(e) <= v)
    if symbol == ">":
        return (lambda a, v: lambda e: e[a] > v,
                lambda a, b: lambda e: e[a] > e[b],
                lambda v, b: lambda e: v > e[b],
                lambda f, g: lambda e: f(e) > g(e),
                lambda a, g: lambda e: e[a] > g(e),
                lambda f, b: lambda e: f(e) > e[b],
                lambda f, v: lambda e: f(e) > v)
    return (lambda a, v: lambda e: e[a] >= v,
            lambda a, b: lambda e: e[a] >= e[b],
            lambda v, b: lambda e: v >= e[b],
            lambda f, g: lambda e: f(e) >= g(e),
            lambda a, g: lambda e: e[a] >= g(e),
            lambda f, b: lambda e: f(e) >= e[b],
            lambda f, v: lambda e: f(e) >= v)


_SHAPES = {s: _shapes(s) for s in ("+", "-", "*", "==", "!=", "<", "<=", ">", ">=")}


def _call(args: list[EFn], fn: Callable[..., Any]) -> EFn:
    if len(args) == 1:
        (only,) = args
        return lambda env: fn(only(env))
    if len(args) == 2:
        a, b = args
        return lambda env: fn(a(env), b(env))
    return lambda env: fn(*[a(env) for a in args])


def _and(fns: tuple[EFn, ...]) -> EFn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) is True and b(env) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) is True and b(env) is True and c(env) is True

    def and_(env: Env) -> Any:
        return all(f(env) is True for f in fns)

    return and_


def _or(fns: tuple[EFn, ...]) -> EFn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) is True or b(env) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) is True or b(env) is True or c(env) is True

    def or_(env: Env) -> Any:
        return any(f(env) is True for f in fns)

    return or_
