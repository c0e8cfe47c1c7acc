"""The compiled pack: what every execution backend runs, built once per RulePack.

:func:`compile_pack` turns a :class:`~eligibility.pack.model.RulePack` into a
:class:`CompiledPack`: per criterion a closure, per measure a
:class:`CompiledMeasure` (its ``let`` closures, amount, priority groups and one
:class:`CompiledRequirement` per requirement with its function, its exceptions,
the sub-expressions whose values explain it — the *observed* values, whose aggregates
over members are read from what the requirement's closures kept where they ran — and the
static parts of its Reason such as the sources, built once and shared by every
Decision). Parameter values and what is in force are resolved once per ``as_of``
(:meth:`CompiledPack.parameters_at`, :meth:`CompiledPack.in_force_at`) and memoised.
A CompiledPack is immutable apart from those memo tables (guarded by a lock), so
one can serve many threads. Backends (the reference and fast closures, polars,
rete) read it; none of them changes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from eligibility.compile.calculation import (
    CalculationPlan,
    criteria_kept_keys,
    measure_kept_keys,
    plan_calculation,
)
from eligibility.compile.closures import NoValue, Resolver, compile_expr, read_kept
from eligibility.compile.runtime import Ctx
from eligibility.errors import AsOfError
from eligibility.expr import ast
from eligibility.pack.model import (
    Criterion,
    Expr,
    Measure,
    Requirement,
    RuleException,
    RulePack,
    Source,
)

#: A compiled expression: a pure function of one evaluation's context.
Fn = Callable[[Ctx], Any]

_AGGREGATES = frozenset({"count", "sum", "any", "all", "param"})
_OVER_MEMBERS = _AGGREGATES - {"param"}


@dataclass(frozen=True)
class CompiledRequirement:
    """One requirement of a measure, compiled."""

    req: Requirement
    fn: Fn | None
    exceptions: tuple[tuple[RuleException, Fn], ...]
    #: (source text, closure) of each sub-expression whose value a Reason shows
    observed: tuple[tuple[str, Fn], ...]
    sources: tuple[dict[str, Any], ...]  # built once, shared by every Decision
    exception_sources: Mapping[str, tuple[dict[str, Any], ...]]


@dataclass(frozen=True)
class CompiledMeasure:
    """One measure, compiled: lets, amount, requirements, priority groups."""

    measure: Measure
    lets: tuple[tuple[str, Fn], ...]
    amount: Fn | None
    requirements: tuple[CompiledRequirement, ...]
    priority: tuple[tuple[int, str | None, Any, Fn], ...]
    params_used: frozenset[str]
    criteria_used: frozenset[str]
    sources: tuple[dict[str, Any], ...]
    unconfirmed: frozenset[str]  # the measure and the criteria it uses, if unconfirmed
    index: int = 0  # position in CompiledPack.measures
    #: the steps of the amount, for backends that record the calculation (full detail)
    calculation: CalculationPlan | None = None


@dataclass(frozen=True)
class InForce:
    """What is in force on one date: the measures (pack order, with their index in
    :attr:`CompiledPack.measures`), per measure the requirements, and the criteria."""

    measures: tuple[tuple[int, CompiledMeasure, tuple[CompiledRequirement, ...]], ...]
    criteria: tuple[Criterion, ...]
    #: per measure (by :attr:`CompiledMeasure.index`) its requirements in force
    requirements: tuple[tuple[CompiledRequirement, ...], ...]


class CompiledPack:
    """A RulePack compiled for execution (see module docstring)."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.facts = frozenset(f.path for f in pack.schema.all_fields() if not f.in_list)
        self.member_fields = frozenset(f.name for f in pack.schema.all_fields() if f.in_list)
        criteria_fns: dict[str, Fn] = {}
        by_id = {c.id: c for c in pack.criteria}
        # the values the calculations' record asks, kept by the closures computing them
        kept = criteria_kept_keys(pack.measures, by_id)
        for cid in criteria_order(pack.criteria):
            criterion = by_id[cid]
            res = Resolver(self.facts, self.member_fields, criteria_fns,
                           where=f"{criterion.file} criterion {cid}",
                           keep=kept.get(cid), keep_in="crit")
            criteria_fns[cid] = compile_expr(criterion.expr.node, res)
        #: criterion id → its closure (uncached)
        self.criteria_fns: Mapping[str, Fn] = criteria_fns
        #: criterion id → a closure reading it through the per-evaluation cache
        self.criterion_cached: Mapping[str, Fn] = {
            cid: compile_expr(ast.Name(0, 0, ("criteria", cid)),
                              Resolver(self.facts, self.member_fields, criteria_fns))
            for cid in criteria_fns
        }
        self._criteria_deps = {c.id: refs([c.expr]) for c in pack.criteria}
        self._criteria_by_id = by_id
        self._unconfirmed_criteria = {c.id: c.unconfirmed for c in pack.criteria}
        self.measures: tuple[CompiledMeasure, ...] = tuple(
            self._compile_measure(m, i) for i, m in enumerate(pack.measures))
        self._snapshots: dict[date, tuple[dict[str, Any], frozenset[str]]] = {}
        self._stale: dict[date, Mapping[str, str]] = {}
        self._in_force: dict[date, InForce] = {}
        self._lock = threading.Lock()

    # -- compilation -------------------------------------------------------
    def _compile_measure(self, m: Measure, index: int) -> CompiledMeasure:
        facts, members = self.facts, self.member_fields
        lets: dict[str, Fn] = {}
        let_list: list[tuple[str, Fn]] = []
        # the values the calculation's record asks, and the aggregates a Reason shows,
        # kept by the closures computing them (for the recorder and the observed values)
        keep = measure_kept_keys(m, self._criteria_by_id)
        keep.update(_observed_keys(m))
        for name, expr in m.lets:
            res = Resolver(facts, members, self.criteria_fns, lets,
                           where=f"{m.file} let {name}", keep=keep)
            fn = compile_expr(expr.node, res)
            lets[name] = fn
            let_list.append((name, fn))
        res = Resolver(facts, members, self.criteria_fns, lets, where=m.file, keep=keep)

        def compiled(expr: Expr) -> Fn:
            return compile_expr(expr.node, res)

        plain = Resolver(facts, members, self.criteria_fns, lets, where=m.file)

        def observed(exprs: list[Expr]) -> tuple[tuple[str, Fn], ...]:
            seen: dict[str, Fn] = {}
            for expr in exprs:
                for node in observables(expr):
                    label = expr.slice(node)
                    if label not in seen:
                        fn = compile_expr(node, plain)
                        key = keep.get(id(node))
                        # an aggregate the requirement's closure kept: read, else computed
                        seen[label] = fn if key is None else read_kept(fn, key, "lets")
            return tuple(seen.items())

        requirements = []
        all_exprs: list[Expr] = [e for _, e in m.lets]
        for req in m.requirements:
            exprs = ([req.expr] if req.expr else []) + [e.expr for e in req.exceptions]
            all_exprs.extend(exprs)
            requirements.append(CompiledRequirement(
                req,
                compiled(req.expr) if req.expr else None,
                tuple((e, compiled(e.expr)) for e in req.exceptions),
                observed(exprs),
                source_dicts(req.sources),
                {e.id: source_dicts(e.sources) for e in req.exceptions},
            ))
        if m.amount:
            all_exprs.append(m.amount.expr)
        priority = tuple((p.rank, None, p.title, compiled(p.expr)) for p in m.priority)
        all_exprs.extend(p.expr for p in m.priority)
        params, criteria = refs(all_exprs)
        # follow criteria transitively for the parameters and criteria they use
        stack = list(criteria)
        while stack:
            cid = stack.pop()
            more_params, more_criteria = self._criteria_deps.get(cid, (set(), set()))
            params |= more_params
            for c in more_criteria - criteria:
                criteria.add(c)
                stack.append(c)
        return CompiledMeasure(
            m,
            tuple(let_list),
            compiled(m.amount.expr) if m.amount else None,
            tuple(requirements),
            priority,
            frozenset(params),
            frozenset(criteria),
            source_dicts(m.sources),
            frozenset({f"criterion:{c}" for c in criteria if self._unconfirmed_criteria.get(c)}
                      | ({f"measure:{m.id}"} if m.unconfirmed else set())),
            index,
            plan_calculation(m, self._criteria_by_id, self.pack.parameters, res),
        )

    # -- per date ------------------------------------------------------------
    def parameters_at(self, as_of: date) -> tuple[dict[str, Any], frozenset[str]]:
        """The value of every parameter on ``as_of``, and which of them are unconfirmed.

        Raises :class:`~eligibility.errors.AsOfError` outside the pack's period."""
        cached = self._snapshots.get(as_of)
        if cached is not None:
            return cached
        if not self.pack.covers(as_of):
            meta = self.pack.meta
            raise AsOfError(
                f"{as_of.isoformat()} is outside the period pack {meta.id!r} covers "
                f"({meta.valid_from.isoformat()} to "
                f"{meta.valid_to.isoformat() if meta.valid_to else 'open'})"
            )
        values: dict[str, Any] = {}
        unconfirmed: set[str] = set()
        for name, param in self.pack.parameters.items():
            version = param.version_at(as_of)
            if version is None:
                values[name] = NoValue(name)
                continue
            values[name] = version.value
            if param.unconfirmed or version.unconfirmed:
                unconfirmed.add(name)
        snapshot = (values, frozenset(unconfirmed))
        with self._lock:
            if len(self._snapshots) > 256:
                self._snapshots.clear()
            self._snapshots[as_of] = snapshot
        return snapshot

    def stale_at(self, as_of: date) -> Mapping[str, str]:
        """Each parameter whose version on ``as_of`` is used after the last date its source
        confirms (``confirmed_until``), with its Decision entry
        ``stale:NAME = VALUE (confirmed until DATE)`` (memoised)."""
        cached = self._stale.get(as_of)
        if cached is not None:
            return cached
        stale: dict[str, str] = {}
        for name, param in self.pack.parameters.items():
            version = param.version_at(as_of)
            if version is not None and version.stale_on(as_of):
                stale[name] = (f"stale:{name} = {_param_text(version.value)} "
                               f"(confirmed until {version.confirmed_until})")
        with self._lock:
            if len(self._stale) > 256:
                self._stale.clear()
            self._stale[as_of] = stale
        return stale

    def in_force_at(self, as_of: date) -> InForce:
        """The measures, requirements and criteria in force on ``as_of`` (memoised)."""
        cached = self._in_force.get(as_of)
        if cached is not None:
            return cached
        requirements = tuple(
            tuple(r for r in cm.requirements if r.req.in_force(as_of)) for cm in self.measures)
        result = InForce(
            tuple((index, cm, requirements[index])
                  for index, cm in enumerate(self.measures) if cm.measure.in_force(as_of)),
            tuple(c for c in self.pack.criteria if criterion_in_force(c, as_of)),
            requirements,
        )
        with self._lock:
            if len(self._in_force) > 256:
                self._in_force.clear()
            self._in_force[as_of] = result
        return result


def compile_pack(pack: RulePack) -> CompiledPack:
    """Compile ``pack`` once; the result is shared by every backend and thread."""
    return CompiledPack(pack)


def source_dicts(sources: tuple[Source, ...]) -> tuple[dict[str, Any], ...]:
    """Sources as the plain dicts a Decision carries."""
    return tuple({"ref": s.ref, "url": s.url} for s in sources)


def observables(expr: Expr) -> list[ast.Node]:
    """Sub-expressions whose values explain a rule: names, aggregates and look-ups."""
    found: list[ast.Node] = []

    def visit(node: ast.Node) -> None:
        if isinstance(node, ast.Name) and node.dotted != "members":
            found.append(node)
            return
        if isinstance(node, ast.Call) and node.func in _AGGREGATES:
            found.append(node)
            return
        for child in ast.children(node):
            visit(child)

    visit(expr.node)
    return found


def _observed_keys(m: Measure) -> dict[int, str]:
    """Where the closures of ``m``'s requirements (and their exceptions) keep the value
    of each aggregate over members a Reason shows (see :func:`observables`; the first
    node of each label, as the observed closures are made): node identity → a key of
    ``ctx.lets`` no rule can name (see :func:`~eligibility.compile.closures.keeping`)."""
    keys: dict[int, str] = {}
    for req in m.requirements:
        labels: set[str] = set()
        exprs = ([req.expr] if req.expr else []) + [e.expr for e in req.exceptions]
        for expr in exprs:
            for node in observables(expr):
                label = expr.slice(node)
                if label in labels:
                    continue
                labels.add(label)
                if isinstance(node, ast.Call) and node.func in _OVER_MEMBERS:
                    keys[id(node)] = f"@{m.id}?{req.id}:{len(keys)}"
    return keys


def refs(exprs: list[Expr]) -> tuple[set[str], set[str]]:
    """The parameters and criteria ``exprs`` name directly."""
    params: set[str] = set()
    criteria: set[str] = set()
    for expr in exprs:
        for node in ast.walk(expr.node):
            if isinstance(node, ast.Call) and node.func == "param":
                first = node.args[0]
                if isinstance(first, ast.Name):
                    params.add(first.dotted)
            elif isinstance(node, ast.Name) and node.parts[0] == "criteria":
                criteria.add(node.parts[1])
    return params, criteria


def criterion_in_force(c: Criterion, when: date) -> bool:
    return (c.valid_from is None or c.valid_from <= when) and (
        c.valid_to is None or when <= c.valid_to)


def criteria_order(criteria: tuple[Criterion, ...]) -> list[str]:
    """Criterion ids in dependency order (a criterion after those it reads)."""
    deps = {c.id: refs([c.expr])[1] for c in criteria}
    order: list[str] = []
    done: set[str] = set()

    def visit(cid: str) -> None:
        if cid in done:
            return
        done.add(cid)
        for dep in sorted(deps.get(cid, ())):
            if dep in deps:
                visit(dep)
        order.append(cid)

    for c in criteria:
        visit(c.id)
    return order


def _param_text(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_param_text(v)}" for k, v in value.items()) + "}"
    return str(value)
