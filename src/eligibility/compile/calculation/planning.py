"""The plan of an amount's calculation, made once when the pack is compiled.

:func:`plan_calculation` turns a measure with an ``amount`` into a
:class:`CalculationPlan`: its steps (the ``let`` values, the numeric criteria they read
and the amount, in the order the rule file writes them), each with its title, unit,
sources, expression on one line and terms (the look-ups, facts and named values whose
values a recording shows), and the records a recording gives (:class:`RecordedStep`,
:class:`ParamUse`, :class:`StepId`). :func:`kept_keys` and its kin name where the
reference's closures keep the aggregates and `if` conditions of the steps, so that the
recorders (:mod:`.recording`) read them instead of evaluating them again. The plan
resolves the dated version of each parameter it looks up once per date
(:meth:`CalculationPlan.keyless_uses`, :meth:`CalculationPlan.param_use`)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from eligibility.compile.closures import (
    NoValue,
    Resolver,
    _norm_key,
    compile_expr,
    read_kept,
)
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.expr import ast
from eligibility.pack.model import Criterion, Expr, Measure, Parameter, Source, Text

if TYPE_CHECKING:
    from eligibility.compile.calculation.layout import _Direct

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
    #: per date: the parameters and a backend's steps (identity) and the steps'
    #: recorders on the date (see :func:`~.recording.record_env`); under ``_lock``
    _programs: dict[date, tuple[Any, ...]] = field(
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
