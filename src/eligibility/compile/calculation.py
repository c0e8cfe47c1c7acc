"""The recorder of an amount's calculation: which steps, compiled once, recorded per household.

:func:`plan_calculation` turns a measure with an ``amount`` into a
:class:`CalculationPlan` once, when the pack is compiled: the named values the amount
depends on (its ``let`` values, the numeric criteria they read, and the amount itself)
in the order the rule file writes them — which is the order of the regulation they
encode — each with its title, unit and sources, and the look-ups (``param(...)``),
facts and named values inside its expression. :func:`record` reads one evaluation
context *after* the reference evaluation has computed the amount and returns the
:class:`RecordedStep` tuple: every step's exact value (or the facts it waits for), the
parameters it used with the dated version that applied, and the values to put into its
expression. Recording reads what the evaluation already computed — the unrounded
amount, the ``let`` and criterion values in its caches, the facts, and the aggregates
and `if` conditions of the steps, which the reference's closures keep in those caches
where :func:`kept_keys` says — and evaluates only what it did not keep (a parameter
look-up is read once from its keys; a value the evaluation skipped, e.g. past a decided
``and``, is computed then). It never changes
the outcome. The dated version of every parameter a plan looks up is resolved once per
date and each :class:`ParamUse` is made once per date and keys, then shared (those of
the look-ups without keys are found together, once per date). A backend with its own
environment and closures (the fast path) gets the same steps from :func:`env_steps` and
:func:`record_env`, reading the values it kept there instead of a context; a step
without `if` conditions is recorded there in one pass by a recorder bound once per date
(its plain look-ups in place, its keyed look-ups memoised per date by keys of exact
kinds), and one with `if` conditions by the same recorder on the layout of its
conditions' outcomes (asked as the term-by-term recorder asks them; the layouts made
when the backend's steps are, one for each way the conditions can go). The Decision, the terminal
table and the README examples are read-only views over this record
(:mod:`eligibility.explain.calculation`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal, NamedTuple

from eligibility.compile.closures import (
    NoValue,
    Resolver,
    _norm_key,
    compile_expr,
    read_kept,
)
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import EligibilityError
from eligibility.expr import ast
from eligibility.pack.model import Criterion, Expr, Measure, Parameter, Source, Text

Fn = Callable[[Ctx], Any]
StepKind = Literal["criterion", "let", "amount"]

#: calls whose value is shown whole (their arguments run per member or are keys)
_WHOLE = frozenset({"count", "sum", "any", "all", "param", "known"})


class ParamUse(NamedTuple):
    """A parameter a step looked up: its value and the dated version that applied."""

    name: str
    keys: tuple[Any, ...]  # the table keys looked up, () for a plain value
    value: Any  # the value looked up (UNKNOWN when a key is unknown)
    valid_from: date | None  # the version in force on the evaluation date
    source: Source | None  # the version's own source, else the parameter's first
    unit: str | None
    title: Text | None
    unconfirmed: bool


class RecordedStep(NamedTuple):
    """One step of a calculation as evaluated for one household."""

    name: str  # a let name, ``criteria.<id>`` or ``amount``
    kind: StepKind
    title: Text | None
    unit: str | None
    sources: tuple[Source, ...]
    text: str  # the expression as written, on one line
    value: Any  # exact (Decimal/int/bool/str), or UNKNOWN
    waiting_for: tuple[str, ...]  # missing facts the value waits for (when UNKNOWN)
    parameters: tuple[ParamUse, ...]
    terms: tuple[tuple[int, int, Any], ...]  # (start, end, value) of names/look-ups in text;
    #                                          the value ELIDED marks an `if` branch not taken
    rounding: str | None = None  # amount only: the declared rounding
    exact: Any = None  # amount only: the value before rounding
    #: the planned step it was recorded from (its :class:`StepId`; None where made by
    #: hand): the views keep what is static per planned step under it
    planned: StepId | None = None


class StepId:
    """The identity of a planned step: equal to itself only (hashed by identity); its
    repr names the step, so that equal records of two compiled packs read alike."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<step {self.name}>"


@dataclass(frozen=True, slots=True)
class _Term:
    start: int
    end: int
    fn: Fn | None  # None: a branch of an `if`, elided when its condition says not taken
    guards: tuple[tuple[Fn, bool], ...]  # the `if` conditions on the path to the term
    param: tuple[Parameter, tuple[Fn, ...]] | None = None
    #: where the evaluation keeps the term's value: ("lets" | "crit" | "fact", key)
    cached: tuple[str, str] | None = None
    #: the AST the term's value, its guards' conditions and its table keys come from
    #: (for backends that compile their own closures of the same terms)
    node: ast.Node | None = None
    guard_nodes: tuple[ast.Node, ...] = ()


#: the value recorded for the span of an `if` branch that was not taken
ELIDED: Any = Ellipsis


@dataclass(frozen=True, slots=True)
class _PlannedStep:
    name: str
    kind: StepKind
    title: Text | None
    unit: str | None
    sources: tuple[Source, ...]
    text: str  # the expression on one line; the terms' offsets point into it
    value: Fn
    terms: tuple[_Term, ...]
    #: where the evaluation caches the step's value ("lets" | "crit", key); None: amount
    cached: tuple[str, str] | None = None
    #: the terms as flat tuples for :func:`record`: (start, end, how, key, fn, guards, param)
    flat: tuple[tuple[Any, ...], ...] = ()
    #: the step's expression (for backends that compile their own closures of it)
    node: ast.Node | None = None
    #: every name the step's expression reads, as (how, key) with how _FACT, _LET or
    #: _CRIT, when those decide the whole step (no member list, no ``amount``, no call
    #: but ``param`` and ``known``); else None (see :func:`_ref_key`)
    inputs: tuple[tuple[int, str], ...] | None = None
    #: the step's identity, which each :class:`RecordedStep` of it carries
    ident: StepId | None = None
    #: the step's `if` conditions and their index (see :func:`_conditions`)
    conds: tuple[tuple[Fn, tuple[tuple[int, Any], ...]], ...] = ()
    cond_index: Mapping[Any, int] = field(default_factory=dict, compare=False)
    #: per tuple of the conditions' outcomes (True, False, UNKNOWN; None: not asked),
    #: the step laid out for :func:`record` (see :func:`_ref_layout`; made on first
    #: use, under the plan's lock)
    layouts: dict[tuple[Any, ...], tuple[_Direct, tuple[tuple[Any, ...], ...]]] = field(
        default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CalculationPlan:
    """The steps of one measure's amount, compiled once (see module docstring)."""

    steps: tuple[_PlannedStep, ...]
    rounding: str
    #: per date: the version info of each parameter looked up, and the ParamUse made
    #: per (name, keys); guarded by ``_lock`` (a plan is otherwise immutable)
    _versions: dict[date, dict[str, tuple[Any, ...]]] = field(
        default_factory=dict, compare=False, repr=False)
    _uses: dict[tuple[Any, ...], ParamUse] = field(default_factory=dict, compare=False,
                                                   repr=False)
    #: per date: the parameters in force (identity) and the ParamUse of every look-up
    #: without keys (its value follows from the date alone)
    _keyless: dict[date, tuple[Any, dict[str, ParamUse]]] = field(
        default_factory=dict, compare=False, repr=False)
    #: per date: the parameters in force (identity) and, per (name, keys) of a look-up
    #: with keys of exact kinds (int, str), its value and ParamUse
    _keyed: dict[date, tuple[Any, dict[tuple[Any, ...], tuple[Any, ParamUse]]]] = field(
        default_factory=dict, compare=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def keyed_at(self, as_of: date, params: Mapping[str, Any],
                 ) -> dict[tuple[Any, ...], tuple[Any, ParamUse]]:
        """The memo of keyed look-ups on ``as_of`` with ``params`` (see ``_keyed``;
        written under ``_lock`` through :meth:`keep_keyed`)."""
        found = self._keyed.get(as_of)
        if found is not None and found[0] is params:
            return found[1]
        memo: dict[tuple[Any, ...], tuple[Any, ParamUse]] = {}
        with self._lock:
            if len(self._keyed) > 256:
                self._keyed.clear()
            self._keyed[as_of] = (params, memo)
        return memo

    def keep_keyed(self, memo: dict[tuple[Any, ...], tuple[Any, ParamUse]],
                   key: tuple[Any, ...], found: tuple[Any, ParamUse]) -> None:
        """Keep ``found`` in a memo of :meth:`keyed_at` (bounded, under the lock)."""
        with self._lock:
            if len(memo) >= 4096:
                memo.clear()
            memo[key] = found

    def keyless_uses(self, as_of: date, params: Mapping[str, Any]) -> dict[str, ParamUse]:
        """The :class:`ParamUse` of every ``param(name)`` look-up without keys in the
        plan, on ``as_of`` with ``params`` (the parameters in force then; memoised)."""
        found = self._keyless.get(as_of)
        if found is not None and found[0] is params:
            return found[1]
        uses: dict[str, ParamUse] = {}
        for planned in self.steps:
            for term in planned.terms:
                if term.param is not None and not term.param[1]:
                    name = term.param[0].name
                    value = _param_value(params, name, ())
                    use = self.param_use(as_of, name, (), value)
                    # parameters other than those in force on the date (a what-if): their own
                    uses[name] = use if use.value is value else use._replace(value=value)
        with self._lock:
            if len(self._keyless) > 256:
                self._keyless.clear()
            self._keyless[as_of] = (params, uses)
        return uses

    def versions_at(self, as_of: date) -> dict[str, tuple[Any, ...]]:
        """Per parameter the plan looks up: (valid_from, source, unit, title,
        unconfirmed) of the version in force on ``as_of`` (memoised)."""
        found = self._versions.get(as_of)
        if found is not None:
            return found
        found = {}
        for planned in self.steps:
            for term in planned.terms:
                if term.param is None:
                    continue
                parameter = term.param[0]
                version = parameter.version_at(as_of)
                found[parameter.name] = (
                    version.valid_from if version else None,
                    (version.source if version and version.source else None)
                    or (parameter.sources[0] if parameter.sources else None),
                    parameter.unit, parameter.title,
                    parameter.unconfirmed or bool(version and version.unconfirmed))
        with self._lock:
            if len(self._versions) > 256:
                self._versions.clear()
            self._versions[as_of] = found
        return found

    def param_use(self, as_of: date, name: str, keys: tuple[Any, ...], value: Any,
                  ) -> ParamUse:
        """The :class:`ParamUse` of ``name`` looked up with ``keys`` on ``as_of``, made
        once and shared (``value`` follows from the three)."""
        try:
            key = (as_of, name, *[(k.__class__, str(k) if k.__class__ is Decimal else k)
                                  for k in keys]) if keys else (as_of, name)
            found = self._uses.get(key)
        except TypeError:  # pragma: no cover - keys are scalars
            key, found = None, None
        if found is not None:
            return found
        valid_from, source, unit, title, unconfirmed = self.versions_at(as_of)[name]
        use = ParamUse(name, keys, value, valid_from, source, unit, title, unconfirmed)
        if key is not None:
            with self._lock:
                if len(self._uses) > 4096:
                    self._uses.clear()
                self._uses[key] = use
        return use


def _references(node: ast.Node) -> list[str]:
    """Let names and ``criteria.<id>`` names an expression reads, in source order."""
    return [n.dotted for n in ast.walk(node) if isinstance(n, ast.Name)]


def _step_order(measure: Measure, criteria: Mapping[str, Criterion],
                ) -> list[tuple[str, Expr]]:
    """The named values ``measure``'s amount depends on (its ``let`` values and the
    numeric criteria they read) and the amount, each with its expression, in the order
    the steps are recorded (see :func:`plan_calculation`); [] without an amount."""
    amount = measure.amount
    if amount is None:
        return []
    lets = dict(measure.lets)
    # the named values the amount depends on, transitively
    needed: set[str] = set()
    stack = _references(amount.expr.node)
    while stack:
        name = stack.pop()
        if name in needed:
            continue
        if name in lets:
            needed.add(name)
            stack.extend(_references(lets[name].node))
        elif name.startswith("criteria.") and name[9:] in criteria:
            needed.add(name)
            stack.extend(_references(criteria[name[9:]].expr.node))
    order: list[tuple[str, Expr]] = []
    placed: set[str] = set()

    def place_criterion(name: str) -> None:
        # numeric criteria are steps (after the numeric criteria they read); a true/false
        # criterion shows as a value in the expression that reads it
        if name in placed or name not in needed:
            return
        placed.add(name)
        crit = criteria[name[9:]]
        if crit.expr.type.kind != "num":
            return
        for ref in _references(crit.expr.node):
            if ref.startswith("criteria."):
                place_criterion(ref)
        order.append((name, crit.expr))

    for name, expr in measure.lets:
        if name not in needed:
            continue
        for ref in _references(expr.node):
            if ref.startswith("criteria."):
                place_criterion(ref)
        order.append((name, expr))
    for ref in _references(amount.expr.node):
        if ref.startswith("criteria."):
            place_criterion(ref)
    order.append(("amount", amount.expr))
    return order


def _asked(node: ast.Node, found: list[ast.Node]) -> list[ast.Node]:
    """The sub-expressions of ``node`` whose value :func:`record` asks besides names and
    look-ups (as :func:`_terms` finds them): each aggregate or ``known`` call shown
    whole, and each `if` condition that is not a name; into ``found``."""
    if isinstance(node, ast.Name):
        return found
    if isinstance(node, ast.Call) and node.func in _WHOLE:
        if node.func != "param":
            found.append(node)
        return found
    if isinstance(node, ast.If) and not isinstance(node.cond, ast.Name):
        found.append(node.cond)
    for child in ast.children(node):
        _asked(child, found)
    return found


def kept_keys(name: str, node: ast.Node) -> dict[int, str]:
    """Where the reference's closures of step ``name``'s expression ``node`` keep the
    values :func:`record` asks (see :func:`_asked`): node identity → a key of the
    evaluation's cache (``ctx.lets`` for a ``let`` or the amount, ``ctx.crit`` for a
    criterion; never a name a rule can give), for
    :class:`~eligibility.compile.closures.Resolver`'s ``keep``."""
    keys: dict[int, str] = {}
    for found in _asked(node, []):
        keys.setdefault(id(found), f"@{name}:{len(keys)}")
    return keys


def measure_kept_keys(measure: Measure, criteria: Mapping[str, Criterion]) -> dict[int, str]:
    """:func:`kept_keys` of every ``let`` step of ``measure`` and of its amount (named
    by the measure too: the keys of two measures never meet)."""
    keys: dict[int, str] = {}
    for name, expr in _step_order(measure, criteria):
        if not name.startswith("criteria."):
            keys.update(kept_keys(_kept_name(measure, name), expr.node))
    return keys


def _kept_name(measure: Measure, step: str) -> str:
    """The name :func:`kept_keys` gives step ``step`` of ``measure``."""
    return step if step.startswith("criteria.") else f"{measure.id}/{step}"


def criteria_kept_keys(measures: Iterable[Measure], criteria: Mapping[str, Criterion],
                       ) -> dict[str, dict[int, str]]:
    """:func:`kept_keys` of each criterion that is a step of one of ``measures``, by id."""
    keys: dict[str, dict[int, str]] = {}
    for measure in measures:
        for name, expr in _step_order(measure, criteria):
            if name.startswith("criteria.") and name[9:] not in keys:
                keys[name[9:]] = kept_keys(name, expr.node)
    return keys


def plan_calculation(measure: Measure, criteria: Mapping[str, Criterion],
                     parameters: Mapping[str, Parameter], res: Resolver) -> CalculationPlan | None:
    """The calculation plan of ``measure``'s amount (``None`` without an amount).

    ``res`` resolves names as the measure's own expressions do (its facts, member
    fields, criteria and ``let`` functions; its ``keep`` is not used: the plan's own
    closures read what the evaluation's kept, see :func:`kept_keys`).
    """
    amount = measure.amount
    if amount is None:
        return None
    res = Resolver(res.facts, res.member_fields, res.criteria, res.lets, res.where)
    order = _step_order(measure, criteria)
    steps: list[_PlannedStep] = []
    for name, expr in order:
        kind: StepKind
        unit: str | None
        cached: tuple[str, str] | None = None
        if name == "amount":
            kind = "amount"
            title, unit, sources = amount.title, amount.unit, amount.sources or measure.sources
            value = compile_expr(expr.node, res)
        elif name.startswith("criteria."):
            kind = "criterion"
            crit = criteria[name[9:]]
            title, unit, sources = crit.title, crit.unit or expr.type.unit, crit.sources
            value = compile_expr(ast.Name(0, 0, ("criteria", crit.id)), res)
            cached = ("crit", crit.id)
        else:
            kind = "let"
            step = measure.step(name)
            title = step.title if step else None
            unit = step.unit if step else expr.type.unit
            sources = step.sources if step else ()
            value = compile_expr(ast.Name(0, 0, (name,)), res)
            cached = ("lets", name)
        text, at = _one_line(expr.text)
        kept = (kept_keys(_kept_name(measure, name), expr.node),
                "crit" if kind == "criterion" else "lets")
        terms = tuple(replace(t, start=at[t.start], end=at[t.end])
                      for t in _terms(expr.node, res, parameters, (), (), kept))
        flat = tuple(_flat(t) for t in terms)
        conds, index = _conditions(flat)
        steps.append(_PlannedStep(name, kind, title, unit, sources, text, value, terms,
                                  cached, flat, expr.node, _inputs(expr.node, res),
                                  StepId(name), conds, index))
    return CalculationPlan(tuple(steps), amount.rounding)


def _inputs(node: ast.Node, res: Resolver) -> tuple[tuple[int, str], ...] | None:
    """:attr:`_PlannedStep.inputs` of an expression."""
    found: list[tuple[int, str]] = []
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Call):
            if n.func == "param":  # the parameter's name is no value; its keys are
                stack.extend(n.args[1:])
                continue
            if n.func in _WHOLE and n.func != "known":  # an aggregate over members
                return None
        elif isinstance(n, ast.Name):
            if n.dotted == "as_of":  # fixed by the date
                continue
            if n.dotted == "members":
                return None
            cached = _cache_of(n, res)
            if cached is None:
                return None
            found.append((_HOW[cached[0]], cached[1]))
            continue
        stack.extend(ast.children(n))
    return tuple(dict.fromkeys(found))


def _one_line(text: str) -> tuple[str, list[int]]:
    """``text`` with each run of white space made one space and the ends stripped, and
    for each offset of ``text`` (and its end) the offset it moved to."""
    out: list[str] = []
    at: list[int] = []
    space = False
    for ch in text:
        at.append(len(out))
        if ch.isspace():
            space = True
            continue
        if space and out:
            out.append(" ")
            at[-1] = len(out)
        space = False
        out.append(ch)
    at.append(len(out))
    return "".join(out), at


def _terms(node: ast.Node, res: Resolver, parameters: Mapping[str, Parameter],
           guards: tuple[tuple[Fn, bool], ...],
           guard_nodes: tuple[ast.Node, ...] = (),
           kept: tuple[Mapping[int, str], str] = ({}, "lets")) -> list[_Term]:
    """The terms of ``node``; an aggregate's closure and an `if` condition's read the
    value the evaluation kept where ``kept`` (:func:`kept_keys`, and the cache they are
    in) says it keeps one."""
    if isinstance(node, ast.Name):
        if node.dotted == "members":
            return []
        return [_Term(node.start, node.end, compile_expr(node, res), guards,
                      cached=_cache_of(node, res), node=node, guard_nodes=guard_nodes)]
    if isinstance(node, ast.Call) and node.func in _WHOLE:
        param = None
        if node.func == "param" and isinstance(node.args[0], ast.Name):
            found = parameters.get(node.args[0].dotted)
            if found is not None:
                param = (found, tuple(compile_expr(a, res) for a in node.args[1:]))
        return [_Term(node.start, node.end, _kept_fn(node, res, kept), guards, param,
                      node=node, guard_nodes=guard_nodes)]
    if isinstance(node, ast.If):
        cond = _kept_fn(node.cond, res, kept)
        terms = _terms(node.cond, res, parameters, guards, guard_nodes, kept)
        for branch, want in ((node.then, True), (node.orelse, False)):
            inner = (*guards, (cond, want))
            inner_nodes = (*guard_nodes, node.cond)
            terms.append(_Term(branch.start, branch.end, None, inner, node=branch,
                               guard_nodes=inner_nodes))
            terms.extend(_terms(branch, res, parameters, inner, inner_nodes, kept))
        return terms
    out: list[_Term] = []
    for child in ast.children(node):
        out.extend(_terms(child, res, parameters, guards, guard_nodes, kept))
    return out


def _kept_fn(node: ast.Node, res: Resolver, kept: tuple[Mapping[int, str], str]) -> Fn:
    """``node``'s closure; one reading the value the evaluation kept first (see
    :func:`~eligibility.compile.closures.read_kept`) where ``kept`` names a key for it."""
    fn = compile_expr(node, res)
    key = kept[0].get(id(node))
    return fn if key is None else read_kept(fn, key, kept[1])


# how record() reads a term's value
_BRANCH, _FACT, _LET, _CRIT, _PARAM, _EVAL = range(6)
_HOW = {"fact": _FACT, "lets": _LET, "crit": _CRIT}


def _flat(term: _Term) -> tuple[Any, ...]:
    if term.fn is None:
        how, key = _BRANCH, ""
    elif term.cached is not None:
        how, key = _HOW[term.cached[0]], term.cached[1]
    elif term.param is not None:
        how, key = _PARAM, term.param[0].name
    else:
        how, key = _EVAL, ""
    return (term.start, term.end, how, key, term.fn, term.guards,
            term.param[1] if term.param is not None else ())


def _cache_of(node: ast.Name, res: Resolver) -> tuple[str, str] | None:
    """Where an evaluation keeps the value of name ``node`` (resolved as
    :mod:`eligibility.compile.closures` resolves it), if anywhere."""
    dotted = node.dotted
    if dotted in ("as_of", "amount"):
        return None
    if dotted in res.lets:
        return ("lets", dotted)
    if node.parts[0] == "criteria" and dotted[9:] in res.criteria:
        return ("crit", dotted[9:])
    if dotted in res.facts:
        return ("fact", dotted)
    return None


def _param_value(params: Mapping[str, Any], name: str, keys: tuple[Any, ...]) -> Any:
    """``param(name, *keys)`` as the reference evaluates it, from keys already evaluated;
    UNKNOWN where the reference raises or is unknown (as :func:`_evaluate` records it)."""
    value = params[name]
    if value.__class__ is NoValue:
        return UNKNOWN
    for key in keys:
        if key is UNKNOWN:
            return UNKNOWN
        try:
            value = value[_norm_key(key)]
        except KeyError:
            return UNKNOWN
    return value


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
    keyless: dict[str, ParamUse] | None = None
    new = _new_step
    for at, planned in enumerate(plan.steps):
        if env_at:
            step = env_at[at]
            if step is not None:
                if keyless is None:
                    keyless = plan.keyless_uses(as_of, params)
                try:
                    getter = getters[at] if memo is not None else None
                    key: Any = None
                    if getter is not None:
                        key = (at, getter(env))
                        found = memo.get(key)  # type: ignore[union-attr]
                        if found is not None:
                            steps.append(found)
                            continue
                    direct = step[3]
                    found = _direct_step(
                        plan, direct, env, as_of, params,  # type: ignore[arg-type]
                        amount, exact) if direct.__class__ is _Direct else _guarded_step(
                        plan, direct, env, env_conds, as_of,  # type: ignore[arg-type]
                        params, amount, exact)
                    if found is None:
                        found = _env_step(plan, step, env,  # type: ignore[arg-type]
                                          env_conds, keyless, as_of, params, amount, exact)
                    if getter is not None:
                        remember(key, found)  # type: ignore[misc]
                    steps.append(found)
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
    key: list[Any] = [_REF, at, waiting]
    for v in (value, exact):
        cls = v.__class__
        if cls is bool:
            v = _TRUE if v else _FALSE
        elif cls not in _KEY_KINDS:
            return None
        key.append(v)
    for how, name in inputs:
        if how == _FACT:
            v = facts_get(name, UNKNOWN)
        else:
            hit = (lets_get if how == _LET else crit_get)(name)
            if hit is None:
                return None
            v = hit[0]
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


@dataclass(frozen=True, slots=True, eq=False)
class _Direct:
    """A step without `if` conditions over an environment, laid out for
    :func:`_direct_step`: every term is recorded, in order, so its terms are the date's
    plain look-ups (bound once per date in ``dated``) with the household's values put
    in: those read from the environment by key (one look-up), the aggregates the
    evaluation kept or computes, and the keyed look-ups."""

    head: tuple[Any, ...]  # (name, kind, title, unit, sources, text, planned) of the step
    vkey: str | None  # where the environment keeps the step's value; None: the amount
    n: int  # the number of terms
    #: the terms read from the environment: (position, start, end), and an itemgetter
    #: of their keys (which gives one value when there is one key)
    env_terms: tuple[tuple[int, int, int], ...]
    getter: Callable[[Any], Any] | None
    evals: tuple[tuple[int, int, int, str, Any], ...]  # (position, start, end, key, closure)
    #: (position, start, end, name, key closures, use index) of the keyed look-ups
    keyed: tuple[tuple[int, int, int, str, tuple[Any, ...], int], ...]
    plain: tuple[tuple[int, int, int, str], ...]  # (position, start, end, name)
    uses: tuple[str | None, ...]  # per parameter term in order: its name, None if keyed
    #: (position, start, end) of the `if` branches not taken (a layout of :class:`_Guarded`)
    elided: tuple[tuple[int, int, int], ...] = ()
    #: per date: what the date fixes (see :func:`_bind`)
    dated: dict[date, tuple[Any, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, eq=False)
class _Guarded:
    """A step with `if` conditions over an environment, for :func:`_guarded_step`: its
    conditions in the order the term-by-term recorder asks them, each with the outcomes
    of earlier ones it is asked under, and per tuple of outcomes the step laid out as
    :class:`_Direct` (its terms then fixed; made on first use, under the plan's lock)."""

    planned: _PlannedStep
    vkey: str | None
    flat: tuple[tuple[Any, ...], ...]  # as EnvStep's, with the conditions' closures
    #: (condition closure, ((index of an earlier condition, the outcome it needs), …))
    conds: tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...]
    index: Mapping[Any, int]  # a condition closure → its index in ``conds``
    #: per outcomes: the layout (made at start for each way two-valued conditions can
    #: go), or how many times other outcomes came before one is made for them
    layouts: dict[tuple[Any, ...], _Direct | int] = field(default_factory=dict)


#: one step for :func:`record_env`: (the planned step, the environment key of its value
#: — a ``let`` or criterion — or None for the amount, its terms as
#: (start, end, how, environment key, closure, guards, key closures), and the step laid
#: out for :func:`_direct_step` when it has no `if` conditions, else for
#: :func:`_guarded_step`)
EnvStep = tuple[_PlannedStep, str | None, tuple[tuple[Any, ...], ...], "_Direct | _Guarded"]


def env_steps(plan: CalculationPlan, compile_node: Callable[[ast.Node], Any],
              let_key: Callable[[str], str], crit_key: Callable[[str], str],
              term_key: Callable[[ast.Node], str] = lambda node: "",
              ) -> tuple[EnvStep, ...]:
    """``plan``'s steps for :func:`record_env`, with closures from ``compile_node`` (a
    backend's own, over its environment) for each `if` condition, table key and term
    the evaluation does not keep; ``let_key`` / ``crit_key`` name where the environment
    keeps a ``let`` / criterion value, ``term_key`` where it may keep a term's value
    (an aggregate the evaluation computed; "" where none)."""
    conds: dict[int, Any] = {}  # one closure per condition, so the record asks it once

    def cond_fn(node: ast.Node) -> Any:
        found = conds.get(id(node))
        if found is None:
            found = conds[id(node)] = compile_node(node)
        return found

    out: list[EnvStep] = []
    for planned in plan.steps:
        cached = planned.cached
        vkey = None if cached is None else (
            let_key(cached[1]) if cached[0] == "lets" else crit_key(cached[1]))
        flat: list[tuple[Any, ...]] = []
        for term, (start, end, how, key, _, guards, key_fns) in zip(
                planned.terms, planned.flat, strict=True):
            eguards = tuple((cond_fn(node), want) for (_, want), node in zip(
                guards, term.guard_nodes, strict=True))
            efn: Any = None
            ekeys: tuple[Any, ...] = ()
            if how == _LET:
                key = let_key(key)
            elif how == _CRIT:  # read as a let is: one environment key
                how, key = _LET, crit_key(key)
            elif how == _PARAM and key_fns:
                assert isinstance(term.node, ast.Call)
                ekeys = tuple(compile_node(a) for a in term.node.args[1:])
            elif how == _EVAL:
                assert term.node is not None
                efn = compile_node(term.node)
                key = term_key(term.node)
            flat.append((start, end, how, key, efn, eguards, ekeys))
        out.append((planned, vkey, tuple(flat),
                    _direct(planned, vkey, flat) or _guarded(planned, vkey, flat)))
    return tuple(out)


def _guarded(planned: _PlannedStep, vkey: str | None,
             flat: list[tuple[Any, ...]]) -> _Guarded:
    """``planned`` (with `if` conditions) laid out for :func:`_guarded_step`."""
    conds, index = _conditions(flat)
    g = _Guarded(planned, vkey, tuple(flat), conds, index)
    for outcomes in _outcomes(g.conds):  # laid out at start for every way they can go
        g.layouts[outcomes] = _guarded_layout(g, outcomes)
    return g


def _conditions(flat: Iterable[tuple[Any, ...]],
                ) -> tuple[tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...], dict[Any, int]]:
    """The `if` conditions of terms ``flat`` in the order the term-by-term recorders
    ask them, each with the outcomes of earlier ones it is asked under ((index, the
    outcome it needs), …), and each condition's index."""
    index: dict[Any, int] = {}
    conds: list[tuple[Any, tuple[tuple[int, Any], ...]]] = []
    for *_, guards, _ in flat:
        for at, (cond, _want) in enumerate(guards):
            if cond not in index:  # asked where the guards before it hold
                index[cond] = len(conds)
                conds.append((cond, tuple((index[c], w) for c, w in guards[:at])))
    return tuple(conds), index


def _outcomes(conds: tuple[tuple[Any, tuple[tuple[int, Any], ...]], ...],
              ) -> list[tuple[Any, ...]]:
    """Every tuple of outcomes (True, False; None: not asked) two-valued conditions
    ``conds`` can give, as :func:`_guarded_step` collects them; none when more than
    :data:`_LAYOUTS_AT_START` (laid out as they come then)."""
    found: list[tuple[Any, ...]] = [()]
    for _, outer in conds:
        grown: list[tuple[Any, ...]] = []
        for done in found:
            if all(done[at] is want for at, want in outer):
                grown += [(*done, True), (*done, False)]
            else:
                grown.append((*done, None))
        if len(grown) > _LAYOUTS_AT_START:
            return []
        found = grown
    return found


def _guarded_layout(g: _Guarded, outcomes: tuple[Any, ...]) -> _Direct | int:
    """``g``'s step as :class:`_Direct` where its conditions came out as ``outcomes``:
    the terms the term-by-term recorder (:func:`_env_step`) records then."""
    return _direct(g.planned, g.vkey, _laid_out(g.flat, g.index, outcomes)) or 0
    # (never 0: no guards are left)


def _laid_out(flat: tuple[tuple[Any, ...], ...], index: Mapping[Any, int],
              outcomes: tuple[Any, ...], unknown_taken: bool = False,
              ) -> list[tuple[Any, ...]]:
    """The terms of ``flat`` a term-by-term recorder records where the conditions
    (``index``: see :func:`_conditions`) came out as ``outcomes``, without guards; a
    branch not taken as one ``_BRANCH`` term (shown as "…"). ``unknown_taken``: a
    condition that came out UNKNOWN takes both branches (as :func:`record` does)."""
    kept: list[tuple[Any, ...]] = []
    elided_to = -1
    for start, end, how, key, efn, guards, key_fns in flat:
        if end <= elided_to:
            continue
        if guards:
            taken = True
            for cond, want in guards:
                got = outcomes[index[cond]]
                if got is not want and not (unknown_taken and got is UNKNOWN):
                    taken = False
                    break
            if not taken:
                if how == _BRANCH:  # a branch not taken: shown as "…"
                    elided_to = end
                    kept.append((start, end, _BRANCH, "", None, (), ()))
                continue
        if how != _BRANCH:  # (a branch taken: its terms follow)
            kept.append((start, end, how, key, efn, (), key_fns))
    return kept


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


#: how many times a step's conditions come out alike before :func:`_guarded_step` lays
#: the step out for them, where it was not laid out at start (outcomes other than
#: True/False, or more ways than :data:`_LAYOUTS_AT_START`)
_LAYOUT_AFTER = 8
#: the most layouts of one step made at start (one per way its conditions can go)
_LAYOUTS_AT_START = 32


def _direct(planned: _PlannedStep, vkey: str | None,
            flat: list[tuple[Any, ...]]) -> _Direct | None:
    """``planned`` laid out for :func:`_direct_step`, or None when a term is guarded."""
    if any(guards for *_, guards, _ in flat):
        return None
    env_terms: list[tuple[int, int, int]] = []
    env_keys: list[str] = []
    evals: list[tuple[int, int, int, str, Any]] = []
    keyed: list[tuple[int, int, int, str, tuple[Any, ...], int]] = []
    plain: list[tuple[int, int, int, str]] = []
    uses: list[str | None] = []
    elided: list[tuple[int, int, int]] = []
    for pos, (start, end, how, key, efn, _, key_fns) in enumerate(flat):
        if how == _BRANCH:  # (a layout of _Guarded: a branch not taken)
            elided.append((pos, start, end))
        elif how in (_FACT, _LET):
            env_terms.append((pos, start, end))
            env_keys.append(key)
        elif how == _PARAM:
            if key_fns:
                keyed.append((pos, start, end, key, key_fns, len(uses)))
                uses.append(None)
            else:
                plain.append((pos, start, end, key))
                uses.append(key)
        else:  # _EVAL (a branch has guards)
            evals.append((pos, start, end, key, efn))
    return _Direct(
        (planned.name, planned.kind, planned.title, planned.unit, planned.sources,
         planned.text, planned.ident), vkey, len(flat), tuple(env_terms),
        itemgetter(*env_keys) if env_keys else None, tuple(evals), tuple(keyed),
        tuple(plain), tuple(uses), tuple(elided))


def _bind(plan: CalculationPlan, d: _Direct, as_of: date, params: Mapping[str, Any],
          ) -> tuple[Any, ...]:
    """``d.dated`` on ``as_of`` with ``params``: (the parameters, the step's terms with
    the plain look-ups in place, its uses with None where a keyed one goes, the memo of
    keyed look-ups on the date) — data only, so a step bound takes little memory."""
    keyless = plan.keyless_uses(as_of, params)
    base: list[Any] = [None] * d.n
    for pos, start, end, name in d.plain:
        base[pos] = (start, end, keyless[name].value)
    for pos, start, end in d.elided:
        base[pos] = (start, end, ELIDED)
    template = tuple([None if u is None else keyless[u] for u in d.uses])
    bound = (params, base, template, plan.keyed_at(as_of, params) if d.keyed else None)
    with plan._lock:
        if len(d.dated) > 256:
            d.dated.clear()
        d.dated[as_of] = bound
    return bound


def _direct_step(plan: CalculationPlan, d: _Direct, env: Mapping[str, Any], as_of: date,
                 params: Mapping[str, Any], amount: Any, exact: Any) -> RecordedStep | None:
    """The step :func:`_env_step` records, from ``d`` (bound once per date, ``d.dated``);
    None where a fact it shows is not in ``env`` (the caller records it term by term
    then)."""
    bound = d.dated.get(as_of)
    if bound is None or bound[0] is not params:
        bound = _bind(plan, d, as_of, params)
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
    keyed = d.keyed
    if keyed:
        memo = bound[3]
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
        uses = tuple(found)
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
    looked up there by the step's position and those values, and ``remember`` keeps what is not."""
    conds: dict[Any, Any] = {}
    keyless: Mapping[str, ParamUse] | None = None
    out: list[RecordedStep] = []
    at = -1
    for step in steps:
        at += 1
        getter = getters[at] if memo is not None else None
        if getter is not None:
            key = (at, getter(env))
            found = memo.get(key)  # type: ignore[union-attr]
            if found is not None:
                out.append(found)
                continue
        d = step[3]
        made = _direct_step(plan, d, env, as_of, params, amount, exact) if (
            d.__class__ is _Direct) else _guarded_step(
            plan, d, env, conds, as_of, params, amount, exact)  # type: ignore[arg-type]
        if made is None:
            if keyless is None:
                keyless = plan.keyless_uses(as_of, params)
            made = _env_step(plan, step, env, conds, keyless, as_of, params, amount, exact)
        if getter is not None:
            remember(key, made)  # type: ignore[misc]
        out.append(made)
    return tuple(out)


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
