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
expression. Recording reads the evaluation's caches and evaluates only the look-ups
and names a step shows; it never changes the outcome. The Decision, the terminal
table and the README examples are read-only views over this record
(:mod:`eligibility.explain.calculation`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from eligibility.compile.closures import Resolver, compile_expr
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import EligibilityError
from eligibility.expr import ast
from eligibility.pack.model import Criterion, Expr, Measure, Parameter, Source, Text

Fn = Callable[[Ctx], Any]
StepKind = Literal["criterion", "let", "amount"]

#: calls whose value is shown whole (their arguments run per member or are keys)
_WHOLE = frozenset({"count", "sum", "any", "all", "param", "known"})


@dataclass(frozen=True, slots=True)
class ParamUse:
    """A parameter a step looked up: its value and the dated version that applied."""

    name: str
    keys: tuple[Any, ...]  # the table keys looked up, () for a plain value
    value: Any  # the value looked up (UNKNOWN when a key is unknown)
    valid_from: date | None  # the version in force on the evaluation date
    source: Source | None  # the version's own source, else the parameter's first
    unit: str | None
    title: Text | None
    unconfirmed: bool


@dataclass(frozen=True, slots=True)
class RecordedStep:
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


@dataclass(frozen=True, slots=True)
class _Term:
    start: int
    end: int
    fn: Fn | None  # None: a branch of an `if`, elided when its condition says not taken
    guards: tuple[tuple[Fn, bool], ...]  # the `if` conditions on the path to the term
    param: tuple[Parameter, tuple[Fn, ...]] | None = None


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


@dataclass(frozen=True, slots=True)
class CalculationPlan:
    """The steps of one measure's amount, compiled once (see module docstring)."""

    steps: tuple[_PlannedStep, ...]
    rounding: str


def _references(node: ast.Node) -> list[str]:
    """Let names and ``criteria.<id>`` names an expression reads, in source order."""
    return [n.dotted for n in ast.walk(node) if isinstance(n, ast.Name)]


def plan_calculation(measure: Measure, criteria: Mapping[str, Criterion],
                     parameters: Mapping[str, Parameter], res: Resolver) -> CalculationPlan | None:
    """The calculation plan of ``measure``'s amount (``None`` without an amount).

    ``res`` resolves names as the measure's own expressions do (its facts, member
    fields, criteria and ``let`` functions).
    """
    amount = measure.amount
    if amount is None:
        return None
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

    steps: list[_PlannedStep] = []
    for name, expr in order:
        kind: StepKind
        unit: str | None
        if name == "amount":
            kind = "amount"
            title, unit, sources = amount.title, amount.unit, amount.sources or measure.sources
            value = compile_expr(expr.node, res)
        elif name.startswith("criteria."):
            kind = "criterion"
            crit = criteria[name[9:]]
            title, unit, sources = crit.title, crit.unit or expr.type.unit, crit.sources
            value = compile_expr(ast.Name(0, 0, ("criteria", crit.id)), res)
        else:
            kind = "let"
            step = measure.step(name)
            title = step.title if step else None
            unit = step.unit if step else expr.type.unit
            sources = step.sources if step else ()
            value = compile_expr(ast.Name(0, 0, (name,)), res)
        text, at = _one_line(expr.text)
        terms = tuple(replace(t, start=at[t.start], end=at[t.end])
                      for t in _terms(expr.node, res, parameters, ()))
        steps.append(_PlannedStep(name, kind, title, unit, sources, text, value, terms))
    return CalculationPlan(tuple(steps), amount.rounding)


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
           guards: tuple[tuple[Fn, bool], ...]) -> list[_Term]:
    if isinstance(node, ast.Name):
        if node.dotted == "members":
            return []
        return [_Term(node.start, node.end, compile_expr(node, res), guards)]
    if isinstance(node, ast.Call) and node.func in _WHOLE:
        param = None
        if node.func == "param" and isinstance(node.args[0], ast.Name):
            found = parameters.get(node.args[0].dotted)
            if found is not None:
                param = (found, tuple(compile_expr(a, res) for a in node.args[1:]))
        return [_Term(node.start, node.end, compile_expr(node, res), guards, param)]
    if isinstance(node, ast.If):
        cond = compile_expr(node.cond, res)
        terms = _terms(node.cond, res, parameters, guards)
        for branch, want in ((node.then, True), (node.orelse, False)):
            inner = (*guards, (cond, want))
            terms.append(_Term(branch.start, branch.end, None, inner))
            terms.extend(_terms(branch, res, parameters, inner))
        return terms
    out: list[_Term] = []
    for child in ast.children(node):
        out.extend(_terms(child, res, parameters, guards))
    return out


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


def record(plan: CalculationPlan, ctx: Ctx, amount: Any) -> tuple[RecordedStep, ...]:
    """Record every step of ``plan`` in ``ctx`` after the measure was evaluated there.

    ``amount`` is the rounded amount the evaluation computed.
    """
    steps: list[RecordedStep] = []
    conds: dict[int, Any] = {}  # the value of each `if` condition, evaluated once

    def holds(guards: tuple[tuple[Fn, bool], ...]) -> bool:
        for cond, want in guards:
            key = id(cond)
            if key not in conds:
                conds[key] = _evaluate(cond, ctx)[0]
            got = conds[key]
            if got is not want and got is not UNKNOWN:
                return False
        return True

    as_of = ctx.as_of
    for planned in plan.steps:
        value, waiting = _evaluate(planned.value, ctx)
        exact = None
        if planned.kind == "amount":
            exact, value = value, amount
        terms: list[tuple[int, int, Any]] = []
        params: list[ParamUse] = []
        elided_to = -1  # terms inside an elided branch (up to this offset) are skipped
        for term in planned.terms:
            if term.end <= elided_to:
                continue
            if term.guards and not holds(term.guards):
                if term.fn is None:  # a branch not taken: show it as "…"
                    elided_to = term.end
                    terms.append((term.start, term.end, ELIDED))
                continue
            if term.fn is None:
                continue
            tvalue = _evaluate(term.fn, ctx)[0]
            terms.append((term.start, term.end, tvalue))
            if term.param is not None:
                parameter, key_fns = term.param
                version = parameter.version_at(as_of)
                keys = tuple(_evaluate(k, ctx)[0] for k in key_fns)
                params.append(ParamUse(
                    parameter.name, keys, tvalue,
                    version.valid_from if version else None,
                    (version.source if version and version.source else None)
                    or (parameter.sources[0] if parameter.sources else None),
                    parameter.unit, parameter.title,
                    parameter.unconfirmed or bool(version and version.unconfirmed),
                ))
        steps.append(RecordedStep(
            planned.name, planned.kind, planned.title, planned.unit, planned.sources,
            planned.text, value, waiting if value is UNKNOWN else (), tuple(params),
            tuple(terms),
            plan.rounding if planned.kind == "amount" else None, exact,
        ))
    return tuple(steps)
