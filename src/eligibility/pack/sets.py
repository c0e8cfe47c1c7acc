"""Parameter sets and staleness: static checks over a loaded pack's dated parameters.

A parameter version may name the *set* it belongs to (``set:``, the values that
really applied together, e.g. one amendment of a regulation) and the last date its
source confirms it (``confirmed_until:``). This module owns the two checks built on
those keys: :func:`set_conflicts` flags every formula (a measure or a criterion,
with the criteria it uses) that on some date would combine versions of different
sets — a splice of years — and :func:`stale_versions` lists every parameter
version used after the last date its source confirms, up to a given date.
Parameters whose versions carry no ``set:`` are standing values (e.g. a rate
unchanged for years) and take part in no set.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from eligibility.errors import Diagnostic
from eligibility.expr import ast
from eligibility.pack.model import Expr, Measure, Parameter, ParamVersion, RulePack


def _refs(exprs: Iterable[Expr]) -> tuple[set[str], set[str]]:
    params: set[str] = set()
    criteria: set[str] = set()
    for expr in exprs:
        for node in ast.walk(expr.node):
            if isinstance(node, ast.Call) and node.func == "param" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name):
                    params.add(first.dotted)
            elif isinstance(node, ast.Name) and node.parts[0] == "criteria" \
                    and len(node.parts) > 1:
                criteria.add(node.parts[1])
    return params, criteria


def measure_exprs(m: Measure) -> list[Expr]:
    """Every expression of a measure: its lets, requirements, exceptions, amount and
    priority groups."""
    exprs = [e for _, e in m.lets]
    for req in m.requirements:
        if req.expr is not None:
            exprs.append(req.expr)
        exprs.extend(exc.expr for exc in req.exceptions)
    if m.amount is not None:
        exprs.append(m.amount.expr)
    exprs.extend(p.expr for p in m.priority)
    return exprs


def formula_parameters(pack: RulePack) -> dict[str, tuple[Expr, set[str]]]:
    """For each formula (``measure:ID``, ``criterion:ID``): where it is written and
    every parameter it uses, directly or through the criteria it uses."""
    direct: dict[str, tuple[set[str], set[str]]] = {
        c.id: _refs([c.expr]) for c in pack.criteria
    }

    def close(params: set[str], crits: set[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(crits)
        out = set(params)
        while todo:
            cid = todo.pop()
            if cid in seen or cid not in direct:
                continue
            seen.add(cid)
            more_params, more_crits = direct[cid]
            out |= more_params
            todo.extend(more_crits)
        return out

    formulas: dict[str, tuple[Expr, set[str]]] = {}
    for c in pack.criteria:
        formulas[f"criterion:{c.id}"] = (c.expr, close(*direct[c.id]))
    for m in pack.measures:
        exprs = measure_exprs(m)
        if exprs:
            formulas[f"measure:{m.id}"] = (exprs[0], close(*_refs(exprs)))
    return formulas


@dataclass(frozen=True)
class SetConflict:
    """A formula that combines parameter sets from ``start`` to ``end`` (inclusive)."""

    formula: str
    start: date
    end: date | None
    sets: Mapping[str, tuple[str, ...]]  # set -> parameters in force from that set


def set_conflicts(pack: RulePack) -> list[SetConflict]:
    """Every period in which a formula uses versions of more than one parameter set."""
    out: list[SetConflict] = []
    start, end = pack.meta.valid_from, pack.meta.valid_to
    for formula, (_, names) in sorted(formula_parameters(pack).items()):
        tagged = [pack.parameters[n] for n in sorted(names)
                  if n in pack.parameters and _has_sets(pack.parameters[n])]
        if len(tagged) < 2:
            continue
        cuts = sorted({v.valid_from for p in tagged for v in p.versions
                       if v.valid_from > start and (end is None or v.valid_from <= end)}
                      | {start})
        previous: SetConflict | None = None
        for i, cut in enumerate(cuts):
            upto = cuts[i + 1] - timedelta(days=1) if i + 1 < len(cuts) else end
            by_set: dict[str, list[str]] = {}
            for p in tagged:
                version = p.version_at(cut)
                if version is not None and version.set is not None:
                    by_set.setdefault(version.set, []).append(p.name)
            if len(by_set) < 2:
                previous = None
                continue
            sets = {k: tuple(v) for k, v in sorted(by_set.items())}
            if previous is not None and previous.sets == sets:
                previous = SetConflict(formula, previous.start, upto, sets)
                out[-1] = previous
            else:
                previous = SetConflict(formula, cut, upto, sets)
                out.append(previous)
    return out


def set_diagnostics(pack: RulePack) -> list[Diagnostic]:
    """:func:`set_conflicts` as pack diagnostics, at the formula's position."""
    formulas = formula_parameters(pack)
    diags = []
    for c in set_conflicts(pack):
        mark = formulas[c.formula][0].mark
        parts = "; ".join(f"set {name!r}: {', '.join(params)}" for name, params in c.sets.items())
        until = c.end.isoformat() if c.end else "open"
        diags.append(Diagnostic(
            mark.file, mark.line, mark.column,
            f"{c.formula.replace(':', ' ')} combines parameter versions of different sets "
            f"from {c.start.isoformat()} to {until} ({parts})",
            "give every parameter of the formula a version of one set for that period; "
            "carry a value over explicitly, marked unconfirmed with a note, if it was not found",
        ))
    return diags


@dataclass(frozen=True)
class StaleVersion:
    """A parameter version used from ``start`` to ``end`` past its ``confirmed_until``."""

    parameter: str
    version: ParamVersion
    start: date
    end: date | None


def stale_versions(pack: RulePack, upto: date) -> tuple[list[StaleVersion], list[str]]:
    """The versions not confirmed over the days they hold up to ``upto``, and the
    parameters whose versions in force up to ``upto`` state no ``confirmed_until``."""
    stale: list[StaleVersion] = []
    undated: set[str] = set()
    for name, p in sorted(pack.parameters.items()):
        for version, last in p.periods():
            if version.value is None or version.valid_from > upto:
                continue
            held_until = upto if last is None or last > upto else last
            if version.confirmed_until is None:
                undated.add(name)
            elif version.confirmed_until < held_until:
                stale_from = max(version.valid_from,
                                 version.confirmed_until + timedelta(days=1))
                stale.append(StaleVersion(name, version, stale_from, last))
    return stale, sorted(undated)


def _has_sets(p: Parameter) -> bool:
    return any(v.set is not None for v in p.versions)
