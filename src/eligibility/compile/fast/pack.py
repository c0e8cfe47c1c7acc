"""The fast path's entry, :class:`FastPack`: built once per compiled pack, it compiles
every criterion, let, requirement, exception, amount, priority group and calculation
step to two-valued closures (:mod:`eligibility.compile.fast.compiler`) with what each
reads (:mod:`eligibility.compile.fast.reads`), resolves a plan per date
(:mod:`eligibility.compile.fast.plan`: what is in force, the parameters, the layout
masks; kept in bounded, lock-guarded tables), and evaluates a household on it
(:mod:`eligibility.compile.fast.run`), handing the household to the reference where a
fast closure raises."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from operator import itemgetter
from typing import Any

from eligibility.compile.calculation import criteria_kept_keys, env_steps
from eligibility.compile.closures import NoValue
from eligibility.compile.fast.compiler import (
    _FACT_KINDS,
    _FALLBACK,
    _MEMO_KINDS,
    EFn,
    Env,
    _Compiler,
)
from eligibility.compile.fast.plan import (
    _PLAN_LIMIT,
    _SHARE_CHECK,
    _SHARE_EXACT,
    _SHARE_NEVER,
    FastMeasure,
    FastRequirement,
    _At,
    _empty,
    _ExactReads,
    _mask,
    _MeasurePlan,
    _Plan,
)
from eligibility.compile.fast.reads import (
    _MEMBER_CALLS,
    _NONE_STRICT,
    _NOTHING,
    Reads,
    Strict,
    _common,
    reads_of,
    strict_of,
)
from eligibility.compile.fast.run import _complete, _mixed
from eligibility.compile.outcomes import HouseholdOutcomes
from eligibility.compile.pack import (
    CompiledMeasure,
    CompiledPack,
    InForce,
    criteria_order,
    observables,
    refs,
)
from eligibility.compile.reference import evaluate_household as reference_household
from eligibility.compile.runtime import UNKNOWN
from eligibility.expr import ast
from eligibility.facts import ValidFacts
from eligibility.pack.model import Expr


class FastPack:
    """Two-valued closures and fact read sets for a compiled pack (see
    :mod:`eligibility.compile.fast`)."""

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
        #: per criterion that is a calculation step: (environment key, reference cache
        #: key) of each aggregate it shows, so that a reference context seeded with the
        #: criterion's value holds them too where the recorder reads them
        kept = criteria_kept_keys(compiled.pack.measures, by_id)
        self._criteria_kept: dict[str, tuple[tuple[str, str], ...]] = {
            cid: pairs for cid, keys in kept.items() if (pairs := tuple(
                (self._calc_at[node], key) for node, key in keys.items()
                if node in self._calc_at))}
        for cid in self._order:
            expr = by_id[cid].expr
            self._criteria_reads[cid] = self._reads(expr.node)
            compiler = _Compiler(self, -1, {}, f"{by_id[cid].file} criterion {cid}",
                                 record_at=self._calc_at)
            self._criteria_fns[cid] = compiler.compile(expr.node, False)
            self._criteria_kinds[cid] = compiler.kind(expr.node)
            self._criteria_strict[cid] = self._strict(expr.node, {})
        self._lock = threading.Lock()
        self.measures = tuple(self._measure(cm) for cm in compiled.measures)
        self._plans: dict[date, _Plan] = {}
        self._shapes: dict[Any, tuple[Any, ...]] = {}

    # -- compilation -------------------------------------------------------
    def _reads(self, node: ast.Node, lets: dict[str, Reads] | None = None) -> Reads:
        """What ``node`` reads (:func:`~eligibility.compile.fast.reads.reads_of`)."""
        return reads_of(self.compiled, self._criteria_reads, node, lets)

    def _strict(self, node: ast.Node, lets: dict[str, Strict]) -> Strict:
        """What ``node`` reads on every path
        (:func:`~eligibility.compile.fast.reads.strict_of`)."""
        return strict_of(self.compiled, self._criteria_strict, node, lets)

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
            share = _SHARE_EXACT
            record_at: dict[int, str] = {}
            for label, _ in creq.observed:
                node = nodes[label]
                okey = compiler.read_key(node, False)
                exact_kind = compiler.kind(node) in _MEMO_KINDS
                if okey is None:  # a table look-up or an aggregate: kept as computed
                    okey = f"@o{mi}:{label}"
                    record_at[id(node)] = okey
                    memo_ok = False
                elif not exact_kind:
                    memo_ok = False
                    if not okey.startswith("@p:"):  # a decimal fact, let or criterion
                        share = _SHARE_NEVER
                if not exact_kind and share == _SHARE_EXACT:
                    share = _SHARE_CHECK
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
                f, mem, fields = self._strict(nodes[label], let_strict)
                shown = (shown[0] | f, shown[1] or mem, shown[2] | fields)
            requirements.append(FastRequirement(creq, rfn, exceptions, tuple(observed),
                                                tuple(keys), memo_ok, req_reads, exact,
                                                strict, shown, share))
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
         every, bits, member_bits, members_bit, masks, criteria_at, criteria_strict,
         folded) = layout
        fresh = tuple([mp.fresh() for mp in measures])
        plan = _Plan(as_of, params, unconfirmed, base, fresh, criteria_eval,
                     criteria, criteria_getter, total, static_getter, ({}, {}),
                     tuple((i, fresh[i]) for i in dynamic), every, bits, member_bits,
                     members_bit, masks, criteria_at, criteria_strict, folded,
                     tuple((i, mp) for i, mp in enumerate(fresh) if i not in dynamic),
                     self._criteria_kept,
                     tuple((cid, key, fn, masks[where], always) for (cid, key, fn, _), where,
                           always in zip(criteria_eval, criteria_at, criteria_strict,
                                         strict=True)))
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
        folded = []  # per dynamic measure: its group's outcomes in the static memo
        for i, mp in enumerate(measures):
            if mp.keys is not None and not any(k.startswith("@l") for k in mp.keys):
                static_keys.extend(mp.keys)
                continue
            dynamic.append(i)
            group_keys = tuple(k for _, r in mp.group for k in r.keys)
            fold = mp.getter is None and bool(mp.group) and not any(
                k.startswith("@l") for k in group_keys)  # (lets come after the memo)
            if fold:
                static_keys.extend(group_keys)
            folded.append(fold)
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
            return (sum(bits.get(f, 0) for f in found[0]) | (members_bit if found[1] else 0)
                    | sum(member_bits.get(f, 0) for f in found[2]))

        measures = [replace(mp, at=_walked(_At(
            at(mp.fm.reads), at(mp.fm.amount_reads),
            tuple(at(r) for _, _, _, r in mp.fm.lets),
            tuple(at(fr.reads) for fr in mp.requirements),
            tuple(at(r) for _, _, _, r, _ in mp.fm.priority),
            strict(mp.fm.amount_strict), tuple(map(strict, mp.fm.lets_strict)),
            tuple((strict(fr.strict), strict(fr.strict_shown)) for fr in mp.requirements),
            tuple(map(strict, mp.fm.priority_strict))), mp, masks)) for mp in measures]
        criteria_at = tuple(at(r) for _, _, _, r in criteria_eval)
        criteria_strict = tuple(strict(self._criteria_strict[cid])
                                for cid, _, _, _ in criteria_eval)
        return (tuple(measures), criteria_eval, criteria, criteria_getter, total,
                itemgetter(*keys) if keys else _empty, tuple(dynamic), distinct, bits,
                member_bits, members_bit, masks, criteria_at, criteria_strict, tuple(folded))

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


def _walked(at: _At, mp: _MeasurePlan, masks: tuple[int, ...]) -> _At:
    """``at`` with the measure's parts as :func:`~eligibility.compile.fast.run._run`
    walks them, each with its mask of ``masks`` (see :class:`_At`)."""
    fm = mp.fm
    return at._replace(
        reads_mask=masks[at.reads], amount_mask=masks[at.amount],
        lets_run=tuple((name, key, fn, reads.amount, masks[where], always) for (
            name, key, fn, reads), where, always in zip(fm.lets, at.lets, at.lets_strict,
                                                        strict=True)),
        requirements_run=tuple(
            (i, fr, masks[where], needs, fr.memo_ok, fr.reads.amount,
             None if fr.reads_exact is None
             else _ExactReads(fr.reads_exact[0], fr.reads_exact[1],
                              (UNKNOWN,) * len(fr.reads_exact[0]),
                              (UNKNOWN,) * len(fr.reads_exact[1] or ())))
            for i, (fr, where, needs) in enumerate(zip(
                mp.requirements, at.requirements, at.requirements_strict, strict=True))),
        priority_run=tuple((rank, title, fn, reference, masks[where], always) for (
            rank, title, fn, _, reference), where, always in zip(
                fm.priority, at.priority, at.priority_strict, strict=True)))


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

