"""The mutation operators: small, plausible mistakes in a loaded pack's rules.

:func:`generate` turns a :class:`~eligibility.pack.model.RulePack` into the list of
every :class:`Mutant` the operators in :data:`OPERATORS` make of its *rules* —
criteria, ``let`` values, requirements, exceptions, amounts, priorities and
parameters; never its cases or invariants. A mutant is a change to the loaded
model in memory (the AST of one expression, one requirement or exception
removed, one parameter version changed), not to YAML text, so it always parses
and type-checks, and it keeps the file:line of what it changed (positions are
read back from the rule files with the project's safe YAML loader). The list
is a pure function of the pack: every worker process regenerates the same list
and runs mutants by index. Mutants the loader's static checks would reject (a
parameter that would start after the pack) are not generated. A mutant is
*equivalent* — no household can tell it from the pack — when a cheap check
shows its compiled output is unchanged: the expression it changes is never
evaluated (a ``let`` nothing reads, a rule never in force in the pack's period),
the changed tree is structurally the same, or a parameter's values over the
pack's period are the same.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

from eligibility.expr import ast
from eligibility.pack.model import (
    Amount,
    Expr,
    Measure,
    Parameter,
    ParamVersion,
    Requirement,
    RulePack,
)
from eligibility.pack.sets import measure_exprs
from eligibility.pack.yamlio import LocStr, YamlError, load_yaml_file

#: Every operator, with what it does (the names appear in reports).
OPERATORS: Mapping[str, str] = MappingProxyType({
    "comparison": "a comparison flipped: < ↔ <=, > ↔ >=",
    "and_or": "`and` ↔ `or`",
    "not_removed": "a `not` removed",
    "exception_dropped": "an exception (`unless:`) dropped",
    "requirement_dropped": "a requirement dropped",
    "constant": "a condition replaced by a constant: a true/false criterion by true and by "
                "false, a requirement's `when` by false, an exception's `when` by true",
    "parameter_nudged": "a parameter value nudged: ±1 in its last written digit "
                        "(1 krone, 1 year, 0.001 of 0.737) and ±1 %",
    "valid_from_moved": "a parameter version's valid_from moved one day later and one "
                        "year earlier (staying between its neighbours)",
})

_FLIPS = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}

Apply = Callable[[RulePack], RulePack]


@dataclass(frozen=True)
class Mutant:
    """One mutation of the pack's rules (see module docstring)."""

    index: int
    operator: str
    group: str  # the measure id, or the criteria/parameters file it changes
    file: str
    line: int
    change: str  # the change in one line
    equivalent: bool
    #: what the change can affect: measure ids, criterion ids, the parameter changed
    measures: frozenset[str]
    criteria: frozenset[str]
    parameter: str | None
    uses_known: bool
    apply: Apply = field(repr=False, compare=False)
    #: evaluation dates where the mutant is most likely to differ (moved dates)
    dates: tuple[date, ...] = ()

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def describe(self) -> str:
        return f"{self.where} [{self.operator}] {self.change}"


# -- positions ------------------------------------------------------------------
class _Positions:
    """File:line of things in the rule files, read back once per file."""

    def __init__(self) -> None:
        self._raw: dict[str, Any] = {}
        self._strings: dict[str, dict[tuple[int, int], LocStr]] = {}

    def raw(self, file: str) -> Any:
        if file not in self._raw:
            try:
                self._raw[file] = load_yaml_file(Path(file), file)
            except (OSError, YamlError):
                self._raw[file] = None
            index: dict[tuple[int, int], LocStr] = {}
            _index_strings(self._raw[file], index)
            self._strings[file] = index
        return self._raw[file]

    def expr_line(self, expr: Expr, node: ast.Node) -> int:
        self.raw(expr.mark.file)
        text = self._strings[expr.mark.file].get((expr.mark.line, expr.mark.column))
        if text is not None and str(text) == expr.text:
            return text.position(node.start).line
        return expr.mark.line

    def key_line(self, file: str, path: tuple[Any, ...], default: int) -> int:
        """The line of the key at ``path`` (mapping keys, from the document's top)."""
        node = self.raw(file)
        line = default
        for key in path:
            marks = getattr(node, "key_marks", None)
            if not isinstance(node, dict) or key not in node:
                return line
            if marks and key in marks:
                line = marks[key].line
            node = node[key]
        return line


def _index_strings(value: Any, index: dict[tuple[int, int], LocStr]) -> None:
    if isinstance(value, LocStr):
        index[(value.mark.line, value.mark.column)] = value
    elif isinstance(value, dict):
        for v in value.values():
            _index_strings(v, index)
    elif isinstance(value, list):
        for v in value:
            _index_strings(v, index)


def display_path(path: Path) -> str:
    """A path as the loader names files: relative to the working folder when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# -- expression sites -------------------------------------------------------------
@dataclass(frozen=True)
class _Site:
    """One expression of the pack and how to put a changed copy of it back."""

    group: str
    label: str
    expr: Expr
    put: Callable[[RulePack, Expr], RulePack]
    condition: str | None  # "criterion" | "requirement" | "exception" | None
    reachable: bool
    measures: frozenset[str]
    criteria: frozenset[str]


def _replace_measure(pack: RulePack, index: int, fn: Callable[[Measure], Measure]) -> RulePack:
    measures = list(pack.measures)
    measures[index] = fn(measures[index])
    return dataclasses.replace(pack, measures=tuple(measures))


def _replace_requirement(pack: RulePack, mi: int, ri: int,
                         fn: Callable[[Requirement], Requirement]) -> RulePack:
    def change(m: Measure) -> Measure:
        reqs = list(m.requirements)
        reqs[ri] = fn(reqs[ri])
        return dataclasses.replace(m, requirements=tuple(reqs))

    return _replace_measure(pack, mi, change)


def _replace_criterion(pack: RulePack, ci: int, expr: Expr) -> RulePack:
    criteria = list(pack.criteria)
    criteria[ci] = dataclasses.replace(criteria[ci], expr=expr)
    return dataclasses.replace(pack, criteria=tuple(criteria))


def _overlaps(start: date | None, end: date | None, pack: RulePack) -> bool:
    lo, hi = pack.meta.valid_from, pack.meta.valid_to
    return (end is None or end >= lo) and (start is None or hi is None or start <= hi)


def _names_used(exprs: list[Expr]) -> set[str]:
    return {n.dotted for e in exprs for n in ast.walk(e.node) if isinstance(n, ast.Name)}


def _dependents(pack: RulePack) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """For each criterion: the criteria and the measures that read it, transitively."""
    reads = {c.id: {n[len("criteria."):] for n in _names_used([c.expr])
                    if n.startswith("criteria.")} for c in pack.criteria}
    measure_reads: dict[str, set[str]] = {}
    for m in pack.measures:
        names = _names_used(measure_exprs(m))
        measure_reads.setdefault(m.id, set()).update(
            n[len("criteria."):] for n in names if n.startswith("criteria."))
    crit_out: dict[str, set[str]] = {}
    meas_out: dict[str, set[str]] = {}
    for cid in reads:
        closure = {cid}
        changed = True
        while changed:
            changed = False
            for other, deps in reads.items():
                if other not in closure and deps & closure:
                    closure.add(other)
                    changed = True
        crit_out[cid] = closure
        meas_out[cid] = {mid for mid, deps in measure_reads.items() if deps & closure}
    return crit_out, meas_out


def _lets_read(m: Measure) -> set[str]:
    """The ``let`` names a measure's requirements, amount and priorities read, transitively."""
    lets = dict(m.lets)
    roots = [e for e in measure_exprs(m) if all(e is not le for le in lets.values())]
    seen: set[str] = set()
    stack = [n for n in _names_used(roots) if n in lets]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(n for n in _names_used([lets[name]]) if n in lets and n not in seen)
    return seen


def _sites(pack: RulePack) -> Iterator[_Site]:
    crit_out, meas_out = _dependents(pack)
    for ci, c in enumerate(pack.criteria):
        def put_c(p: RulePack, e: Expr, ci: int = ci) -> RulePack:
            return _replace_criterion(p, ci, e)

        yield _Site(_file_group(c.file), f"criterion {c.id}", c.expr, put_c,
                    "criterion" if c.expr.type.kind == "bool" else None,
                    _overlaps(c.valid_from, c.valid_to, pack),
                    frozenset(meas_out[c.id]), frozenset(crit_out[c.id]))
    for mi, m in enumerate(pack.measures):
        live = _overlaps(m.valid_from, m.valid_to, pack)
        only = frozenset({m.id})
        none: frozenset[str] = frozenset()
        read = _lets_read(m)
        for li, (name, expr) in enumerate(m.lets):
            def put_l(p: RulePack, e: Expr, mi: int = mi, li: int = li) -> RulePack:
                def change(meas: Measure) -> Measure:
                    lets = list(meas.lets)
                    lets[li] = (lets[li][0], e)
                    return dataclasses.replace(meas, lets=tuple(lets))
                return _replace_measure(p, mi, change)

            yield _Site(m.id, f"let {name}", expr, put_l, None, live and name in read,
                        only, none)
        for ri, r in enumerate(m.requirements):
            r_live = live and _overlaps(r.valid_from, r.valid_to, pack)
            if r.expr is not None:
                def put_r(p: RulePack, e: Expr, mi: int = mi, ri: int = ri) -> RulePack:
                    return _replace_requirement(p, mi, ri,
                                                lambda req: dataclasses.replace(req, expr=e))

                yield _Site(m.id, f"requirement {r.id}", r.expr, put_r, "requirement",
                            r_live, only, none)
            for ei, exc in enumerate(r.exceptions):
                def put_e(p: RulePack, e: Expr, mi: int = mi, ri: int = ri,
                          ei: int = ei) -> RulePack:
                    def change(req: Requirement) -> Requirement:
                        excs = list(req.exceptions)
                        excs[ei] = dataclasses.replace(excs[ei], expr=e)
                        return dataclasses.replace(req, exceptions=tuple(excs))
                    return _replace_requirement(p, mi, ri, change)

                yield _Site(m.id, f"exception {r.id}/{exc.id}", exc.expr, put_e, "exception",
                            r_live, only, none)
        if m.amount is not None:
            def put_a(p: RulePack, e: Expr, mi: int = mi,
                      amount: Amount = m.amount) -> RulePack:
                return _replace_measure(p, mi, lambda meas: dataclasses.replace(
                    meas, amount=dataclasses.replace(amount, expr=e)))

            yield _Site(m.id, "amount", m.amount.expr, put_a, None, live, only, none)
        for pi, prio in enumerate(m.priority):
            def put_p(p: RulePack, e: Expr, mi: int = mi, pi: int = pi) -> RulePack:
                def change(meas: Measure) -> Measure:
                    prios = list(meas.priority)
                    prios[pi] = dataclasses.replace(prios[pi], expr=e)
                    return dataclasses.replace(meas, priority=tuple(prios))
                return _replace_measure(p, mi, change)

            yield _Site(m.id, f"priority {prio.rank}", prio.expr, put_p, None, live, only, none)


def _file_group(file: str) -> str:
    parts = Path(file).parts
    return "/".join(parts[-2:]) if len(parts) >= 2 else file


# -- trees ------------------------------------------------------------------------
def _rebuild(root: ast.Node, target: ast.Node, new: ast.Node) -> ast.Node:
    """``root`` with the node ``target`` (by identity) replaced by ``new``."""
    if root is target:
        return new
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(root):
        value = getattr(root, f.name)
        if isinstance(value, ast.Node):
            rebuilt = _rebuild(value, target, new)
            if rebuilt is not value:
                changes[f.name] = rebuilt
        elif isinstance(value, tuple) and value and isinstance(value[0], ast.Node):
            items = tuple(_rebuild(v, target, new) for v in value)
            if any(a is not b for a, b in zip(items, value, strict=True)):
                changes[f.name] = items
    return dataclasses.replace(root, **changes) if changes else root


def _dump(node: ast.Node) -> Any:
    """A structural key of a tree (positions left out)."""
    out: list[Any] = [type(node).__name__]
    for f in dataclasses.fields(node):
        if f.name in ("start", "end"):
            continue
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            out.append(_dump(value))
        elif isinstance(value, tuple) and value and isinstance(value[0], ast.Node):
            out.append(tuple(_dump(v) for v in value))
        else:
            out.append(value)
    return tuple(out)


def _short(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _change(before: str, after: str, context: int = 28) -> tuple[str, str]:
    """The two texts cut to the part that differs, with a little context either side."""
    before, after = " ".join(before.split()), " ".join(after.split())
    if len(before) <= 70 and len(after) <= 70:
        return before, after
    head = 0
    while head < min(len(before), len(after)) and before[head] == after[head]:
        head += 1
    tail = 0
    while (tail < min(len(before), len(after)) - head
           and before[-1 - tail] == after[-1 - tail]):
        tail += 1
    start = max(0, head - context)
    cut = [(t[start:len(t) - max(0, tail - context)]) for t in (before, after)]
    lead = "…" if start > 0 else ""
    out = []
    for t, full in zip(cut, (before, after), strict=True):
        trail = "…" if len(lead) + len(t) < len(full) + len(lead) - start else ""
        out.append(_short(lead + t + trail, 90))
    return out[0], out[1]


def _expr_mutations(site: _Site) -> Iterator[tuple[str, ast.Node, str, str, ast.Node]]:
    """(operator, new root, text before, text after, node changed) for one expression."""
    expr = site.expr
    text = expr.text
    for node in ast.walk(expr.node):
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if op not in _FLIPS:
                    continue
                left, right = node.operands[i], node.operands[i + 1]
                between = text[left.end:right.start]
                flipped = ((*node.ops[:i], _FLIPS[op], *node.ops[i + 1:]))
                new: ast.Node = ast.Compare(node.start, node.end, flipped, node.operands)
                after = (text[node.start:left.end] + between.replace(op, _FLIPS[op], 1)
                         + text[right.start:node.end])
                yield "comparison", _rebuild(expr.node, node, new), expr.slice(node), after, node
        elif isinstance(node, ast.BoolOp):
            other = "or" if node.op == "and" else "and"
            new_op = ast.BoolOp(node.start, node.end, other, node.operands)
            pieces = [text[node.start:node.operands[0].end]]
            for a, b in zip(node.operands, node.operands[1:], strict=False):
                pieces.append(re.sub(rf"\b{node.op}\b", other, text[a.end:b.start], count=1))
                pieces.append(text[b.start:b.end])
            pieces.append(text[node.operands[-1].end:node.end])
            yield ("and_or", _rebuild(expr.node, node, new_op), expr.slice(node), "".join(pieces),
                   node)
        elif isinstance(node, ast.Unary) and node.op == "not":
            yield ("not_removed", _rebuild(expr.node, node, node.operand), expr.slice(node),
                   expr.slice(node.operand), node)
    constants = {"criterion": (True, False), "requirement": (False,),
                 "exception": (True,)}.get(site.condition or "", ())
    for value in constants:
        constant = ast.Boolean(expr.node.start, expr.node.end, value)
        yield "constant", constant, text, "true" if value else "false", expr.node


# -- parameters -------------------------------------------------------------------
def _profile(param: Parameter, pack: RulePack) -> tuple[tuple[date, Any], ...]:
    """The parameter's values over the pack's period: (first day, value) pieces."""
    start, end = pack.meta.valid_from, pack.meta.valid_to
    pieces: list[tuple[date, Any]] = []
    versions = param.versions
    for i, v in enumerate(versions):
        nxt = versions[i + 1].valid_from if i + 1 < len(versions) else None
        if nxt is not None and nxt <= start:
            continue
        if end is not None and v.valid_from > end:
            break
        first = max(v.valid_from, start)
        value = _plain_value(v.value)
        if pieces and pieces[-1][1] == value:
            continue
        pieces.append((first, value))
    return tuple(pieces)


def _plain_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), _plain_value(v)) for k, v in value.items()))
    return value


def _nudges(value: int | Decimal) -> list[tuple[Any, str]]:
    """±1 in the last written digit, ±1 % (exact); duplicates and no-ops left out."""
    dec = Decimal(value)
    exponent = dec.as_tuple().exponent
    step = Decimal(1).scaleb(min(int(exponent), 0)) if isinstance(exponent, int) else Decimal(1)
    out: list[tuple[Any, str]] = []
    seen = {dec}
    candidates = [(dec + step, f"+{step}"), (dec - step, f"-{step}"),
                  (dec * Decimal("1.01"), "+1 %"), (dec * Decimal("0.99"), "-1 %")]
    for new, how in candidates:
        if new in seen:
            continue
        seen.add(new)
        if isinstance(value, int) and new == new.to_integral_value():
            out.append((int(new), how))
        else:
            out.append((new.normalize() if new == new.to_integral_value() else new, how))
    return out


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, int | Decimal) and not isinstance(value, bool):
        yield path, value


def _set_leaf(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    table = dict(value)
    table[path[0]] = _set_leaf(table[path[0]], path[1:], new)
    return MappingProxyType(table)


def _with_version(pack: RulePack, name: str, vi: int, version: ParamVersion) -> RulePack:
    param = pack.parameters[name]
    versions = list(param.versions)
    versions[vi] = version
    params = dict(pack.parameters)
    params[name] = dataclasses.replace(param, versions=tuple(versions))
    return dataclasses.replace(pack, parameters=MappingProxyType(params))


def _year_earlier(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def _param_users(pack: RulePack, name: str, crit_out: Mapping[str, set[str]],
                 meas_out: Mapping[str, set[str]]) -> tuple[frozenset[str], frozenset[str]]:

    def uses(exprs: list[Expr]) -> bool:
        return any(isinstance(n, ast.Call) and n.func == "param" and n.args
                   and isinstance(n.args[0], ast.Name) and n.args[0].dotted == name
                   for e in exprs for n in ast.walk(e.node))

    criteria: set[str] = set()
    measures = {m.id for m in pack.measures if uses(measure_exprs(m))}
    for c in pack.criteria:
        if uses([c.expr]):
            criteria |= crit_out[c.id]
            measures |= meas_out[c.id]
    return frozenset(measures), frozenset(criteria)


# -- all mutants ------------------------------------------------------------------
def generate(pack: RulePack) -> list[Mutant]:
    """Every mutant of the pack's rules, in a fixed order (see module docstring)."""
    positions = _Positions()
    out: list[Mutant] = []

    def add(operator: str, group: str, file: str, line: int, change: str, equivalent: bool,
            measures: frozenset[str], criteria: frozenset[str], parameter: str | None,
            uses_known: bool, apply: Apply, dates: tuple[date, ...] = ()) -> None:
        out.append(Mutant(len(out), operator, group, file, line, change, equivalent,
                          measures, criteria, parameter, uses_known, apply, dates))

    sites = list(_sites(pack))
    for site in sites:
        original = _dump(site.expr.node)
        known = any(isinstance(n, ast.Call) and n.func == "known"
                    for n in ast.walk(site.expr.node))
        for operator, root, before, after, node in _expr_mutations(site):
            new_expr = dataclasses.replace(site.expr, node=root)
            same = _dump(root) == original
            add(operator, site.group, site.expr.mark.file,
                positions.expr_line(site.expr, node),
                "{}: `{}` → `{}`".format(site.label, *_change(before, after)),
                same or not site.reachable, site.measures, site.criteria, None, known,
                lambda p, put=site.put, e=new_expr: put(p, e))  # type: ignore[misc]
    # dropped requirements and exceptions
    for mi, m in enumerate(pack.measures):
        live = _overlaps(m.valid_from, m.valid_to, pack)
        reqs_key = "requires"
        for ri, r in enumerate(m.requirements):
            r_live = live and _overlaps(r.valid_from, r.valid_to, pack)
            line = positions.key_line(m.file, (reqs_key, r.id),
                                      r.expr.mark.line if r.expr else 1)

            def drop_r(p: RulePack, mi: int = mi, ri: int = ri) -> RulePack:
                return _replace_measure(p, mi, lambda meas: dataclasses.replace(
                    meas, requirements=meas.requirements[:ri] + meas.requirements[ri + 1:]))

            add("requirement_dropped", m.id, m.file, line, f"requirement {r.id} dropped",
                not r_live, frozenset({m.id}), frozenset(), None, False, drop_r)
            for ei, exc in enumerate(r.exceptions):
                eline = positions.key_line(m.file, (reqs_key, r.id, "unless", exc.id),
                                           exc.expr.mark.line)

                def drop_e(p: RulePack, mi: int = mi, ri: int = ri, ei: int = ei) -> RulePack:
                    return _replace_requirement(p, mi, ri, lambda req: dataclasses.replace(
                        req, exceptions=req.exceptions[:ei] + req.exceptions[ei + 1:]))

                add("exception_dropped", m.id, m.file, eline,
                    f"exception {r.id}/{exc.id} dropped", not r_live, frozenset({m.id}),
                    frozenset(), None, False, drop_e)
    # parameters
    crit_out, meas_out = _dependents(pack)
    for name, param in pack.parameters.items():
        namespace, _, key = name.partition(".")
        path = pack.root / "parameters" / f"{namespace}.yaml"
        file = display_path(path)
        group = f"parameters/{namespace}.yaml"
        measures, criteria = _param_users(pack, name, crit_out, meas_out)
        profile = _profile(param, pack)
        top = positions.key_line(file, (key,), 1)
        for vi, version in enumerate(param.versions):
            vline = positions.key_line(file, (key, "values", version.valid_from), top)
            for leaf, value in _leaves(version.value):
                lline = positions.key_line(
                    file, (key, "values", version.valid_from,
                           *(("value",) if _is_wrapped(positions, file, key, version) else ()),
                           *leaf), vline)
                label = "".join(f"[{k}]" for k in leaf)
                for new, how in _nudges(value):
                    changed = dataclasses.replace(version,
                                                  value=_set_leaf(version.value, leaf, new))
                    mutated = _with_version(pack, name, vi, changed)
                    add("parameter_nudged", group, file, lline,
                        f"parameter {name} from {version.valid_from}{label}: {value} → "
                        f"{new} ({how})",
                        _profile(mutated.parameters[name], pack) == profile, measures,
                        criteria, name, False,
                        lambda p, n=name, i=vi, v=changed: _with_version(p, n, i, v))  # type: ignore[misc]
            earlier = param.versions[vi - 1].valid_from if vi > 0 else None
            later = param.versions[vi + 1].valid_from if vi + 1 < len(param.versions) else None
            for moved, how in ((version.valid_from + timedelta(days=1), "one day later"),
                               (_year_earlier(version.valid_from), "one year earlier")):
                if (earlier is not None and moved <= earlier) or \
                        (later is not None and moved >= later):
                    continue
                if vi == 0 and moved > pack.meta.valid_from:
                    continue  # a gap at the pack's start: the loader would reject it
                changed = dataclasses.replace(version, valid_from=moved)
                mutated = _with_version(pack, name, vi, changed)
                add("valid_from_moved", group, file, vline,
                    f"parameter {name}: version {version.valid_from} starts {moved} ({how})",
                    _profile(mutated.parameters[name], pack) == profile, measures, criteria,
                    name, False,
                    lambda p, n=name, i=vi, v=changed: _with_version(p, n, i, v),  # type: ignore[misc]
                    _between(version.valid_from, moved))
    return out


def _between(a: date, b: date) -> tuple[date, ...]:
    """The first and last day on which a version starting on ``a`` or on ``b`` differ."""
    lo, hi = min(a, b), max(a, b)
    return (lo, hi - timedelta(days=1)) if hi - lo > timedelta(days=1) else (lo,)


def _is_wrapped(positions: _Positions, file: str, key: str, version: ParamVersion) -> bool:
    """Whether the dated value is written ``{value: ..., note: ...}``."""
    raw = positions.raw(file)
    try:
        entry = raw[key]["values"][version.valid_from]
    except (KeyError, TypeError):
        return False
    return isinstance(entry, dict) and "value" in entry


def equivalent_reason(mutant: Mutant) -> str:
    """Why a mutant counts as equivalent (for reports)."""
    if mutant.parameter is not None:
        return "the parameter's values over the pack's period are unchanged"
    return "the changed rule is never evaluated in the pack's period, or the tree is the same"


__all__ = ["OPERATORS", "Mutant", "display_path", "equivalent_reason", "generate"]
