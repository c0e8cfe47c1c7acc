"""Compile a loaded pack into a rete network: atoms, truth nodes and durable_rules rules.

This module owns the *shape* of the rete backend and imports nothing from durable_rules,
so a pack can be checked for the backend (and its rules inspected) without the extra.

The boolean skeleton of every condition — criteria, requirements, exceptions and
priority rules — becomes a graph of truth nodes: ``and``/``or`` (Kleene, with the
"first decisive operand settles it" rule of the reference), ``not``, comparisons and
leaves. What durable_rules cannot express (arithmetic, aggregates over members, ``let``
values, amounts, parameter look-ups) is computed in Python and enters working memory as
facts: a comparison becomes an *atom* fact carrying both operands, encoded exactly as
integers or strings, and the rete network compares them; a boolean leaf (a fact such as
``housing.year_round``, ``any(members, …)``, ``known(x)``) is asserted as a truth-node fact
directly. Unknown values are explicit (``k: 0`` on an atom, ``v: 1`` on a node), and every
fact carries the missing facts the reference would record for it (``n``), so undetermined
outcomes and missing facts come out as the reference gives them. Requirement outcomes and
measure statuses are rules joining the nodes they depend on.

Truth values: ``0`` false, ``1`` unknown, ``2`` true.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from eligibility.compile.closures import Resolver, compile_expr
from eligibility.compile.runtime import Ctx
from eligibility.errors import Diagnostic, PackError
from eligibility.expr import ast
from eligibility.pack.model import Expr, Measure, RulePack

Fn = Callable[[Ctx], Any]

F, U, T = 0, 1, 2

#: The comparison a rule tests for each operator, and the one for its negation.
_CMP = {"<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte", "==": "$eq", "!=": "$neq"}
_NEG = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}

#: Measured with durable-rules 2.0.28: registering a ruleset much beyond ~500 rules of
#: this shape never returns (the C engine loops). Packs beyond this are refused at load.
MAX_RULES = 450


@dataclass(frozen=True)
class Atom:
    """A comparison whose operands Python computes; the rete network compares them."""

    id: str
    op: str  # == != < <= > >= in notin
    left: Fn
    right: Fn | None  # None for in/notin (the choices are in the rules)
    choices: tuple[Any, ...]
    scope: str | None  # measure id, or None for criteria (shared)
    deps: frozenset[str]


@dataclass(frozen=True)
class Leaf:
    """A boolean that Python computes fully and asserts as a truth node."""

    id: str
    fn: Fn | None  # None: always unknown (a requirement without a condition)
    scope: str | None
    deps: frozenset[str]


@dataclass(frozen=True)
class Action:
    """What a rule does when it fires (resolved by the host by rule name)."""

    kind: str  # cmp | decisive | rest | not | outcome | status
    target: str
    value: int = U
    aliases: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    alias_of: Mapping[str, str] = field(default_factory=dict)  # alias -> bound alias


@dataclass(frozen=True)
class RequirementNet:
    id: str
    node: str  # truth node of the condition
    exceptions: tuple[tuple[str, str], ...]  # (exception id, truth node)
    outcome: str  # fact type of the outcome
    on: str  # fact type asserted when a dated requirement is in force ("" if undated)


@dataclass(frozen=True)
class MeasureNet:
    id: str
    requirements: tuple[RequirementNet, ...]
    priority: tuple[str, ...]  # truth node of each priority rule, in order
    atoms: tuple[Atom, ...]
    leaves: tuple[Leaf, ...]
    amount_deps: frozenset[str]


@dataclass(frozen=True)
class Network:
    """The compiled network of one pack (immutable; shared by every evaluation)."""

    rules: Mapping[str, Any]  # rule name -> durable_rules JSON rule (without "run")
    actions: Mapping[str, Action]
    criteria_atoms: tuple[Atom, ...]
    criteria_leaves: tuple[Leaf, ...]
    measures: tuple[MeasureNet, ...]
    parents: Mapping[str, tuple[str, ...]]  # fact type -> fact types derived from it
    criteria_nodes: Mapping[str, str]  # boolean criterion id -> its truth node

    def describe(self) -> str:
        atoms = len(self.criteria_atoms) + sum(len(m.atoms) for m in self.measures)
        leaves = len(self.criteria_leaves) + sum(len(m.leaves) for m in self.measures)
        return f"{len(self.rules)} rules, {atoms} comparison atoms, {leaves} leaves"


def _pat(t: str, *conds: dict[str, Any]) -> dict[str, Any]:
    return {"$and": [{"t": t}, *conds]} if conds else {"t": t}


def _v(value: int) -> dict[str, Any]:
    return {"v": value}


def _not_v(value: int) -> dict[str, Any]:
    return {"$neq": {"v": value}}


class _Builder:
    def __init__(self, pack: RulePack, criteria_fns: Mapping[str, Fn],
                 lets: Mapping[str, Mapping[str, Fn]]) -> None:
        self.pack = pack
        self.criteria_fns = criteria_fns
        self.lets = lets
        self.facts = frozenset(f.path for f in pack.schema.all_fields() if not f.in_list)
        self.members = frozenset(f.name for f in pack.schema.all_fields() if f.in_list)
        self.criteria = {c.id: c for c in pack.criteria}
        self.rules: dict[str, Any] = {}
        self.actions: dict[str, Action] = {}
        self.parents: dict[str, list[str]] = {}
        self.errors: list[Diagnostic] = []
        self.crit_nodes: dict[str, str] = {}
        self.crit_atoms: list[Atom] = []
        self.crit_leaves: list[Leaf] = []
        self.atoms: list[Atom] = []
        self.leaves: list[Leaf] = []
        self.counter = 0
        self.measure: Measure | None = None
        self._crit_deps: dict[str, frozenset[str]] = {}
        self._let_deps: dict[str, frozenset[str]] = {}
        self.amount_deps: frozenset[str] = frozenset()

    # -- ids, rules ---------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def rule(self, conds: list[tuple[str, dict[str, Any]]], action: Action) -> None:
        """Add a rule; conditions on the same fact type share one alias (one fact)."""
        merged: dict[str, list[dict[str, Any]]] = {}
        alias_of: dict[str, str] = {}
        first: dict[str, str] = {}
        for alias, cond in conds:
            parts = cond.get("$and", [cond])
            t = parts[0]["t"]
            if t not in first:
                first[t] = alias
                merged[t] = []
            alias_of[alias] = first[t]
            merged[t].extend(parts[1:])
        name = f"r{len(self.rules)}"
        self.rules[name] = {"all": [{first[t]: _pat(t, *extra)} for t, extra in merged.items()]}
        self.actions[name] = Action(action.kind, action.target, action.value, action.aliases,
                                    action.extra, alias_of)
        for t in merged:
            targets = self.parents.setdefault(t, [])
            if action.target not in targets:
                targets.append(action.target)

    # -- dependencies (for incremental re-evaluation) -----------------------
    def deps(self, node: ast.Node) -> frozenset[str]:
        out: set[str] = set()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and sub.func in ("count", "sum", "any", "all"):
                out.add("members")
            if not isinstance(sub, ast.Name):
                continue
            dotted = sub.dotted
            if dotted == "members":
                out.add("members")
            elif sub.parts[0] == "criteria" and sub.parts[1] in self.criteria:
                out |= self.criterion_deps(sub.parts[1])
            elif self.measure is not None and dotted in self._let_deps:
                out |= self._let_deps[dotted]
            elif dotted == "amount":
                out |= self.amount_deps
            elif dotted in self.facts:
                out.add(dotted)
        return frozenset(out)

    def criterion_deps(self, cid: str) -> frozenset[str]:
        found = self._crit_deps.get(cid)
        if found is None:
            self._crit_deps[cid] = frozenset()  # cycles were refused by the loader
            saved, self.measure = self.measure, None
            found = self.deps(self.criteria[cid].expr.node)
            self.measure = saved
            self._crit_deps[cid] = found
        return found

    # -- the boolean skeleton -----------------------------------------------
    def resolver(self) -> Resolver:
        lets = self.lets.get(self.measure.id, {}) if self.measure else {}
        where = self.measure.file if self.measure else "criteria"
        return Resolver(self.facts, self.members, self.criteria_fns, lets, where=where)

    def unsupported(self, expr: Expr, node: ast.Node, what: str) -> str:
        line = expr.mark.line + expr.text[: node.start].count("\n")
        self.errors.append(Diagnostic(
            expr.mark.file, line, expr.mark.column,
            f"the rete backend cannot compile {what}: {expr.slice(node)!r}",
            hint="evaluate this pack with the reference backend, or rewrite the condition "
                 "with and/or/not and comparisons",
            code="rete-unsupported"))
        return self.leaf(None, node)  # placeholder keeps building for more diagnostics

    def scope(self) -> str | None:
        return self.measure.id if self.measure else None

    def leaf(self, fn: Fn | None, node: ast.Node | None) -> str:
        nid = self.fresh("l")
        leaf = Leaf(nid, fn, self.scope(), self.deps(node) if node is not None else frozenset())
        (self.leaves if self.measure else self.crit_leaves).append(leaf)
        return nid

    def boolean(self, expr: Expr, node: ast.Node) -> str:
        if isinstance(node, ast.BoolOp):
            kids = [self.boolean(expr, o) for o in node.operands]
            return self.kleene(kids, F if node.op == "and" else T)
        if isinstance(node, ast.Unary) and node.op == "not":
            kid = self.boolean(expr, node.operand)
            nid = self.fresh("n")
            self.rule([("a", _pat(kid))], Action("not", nid, aliases=("a",)))
            return nid
        if isinstance(node, ast.Compare):
            pairs = [self.compare(expr, op, node.operands[i], node.operands[i + 1])
                     for i, op in enumerate(node.ops)]
            return pairs[0] if len(pairs) == 1 else self.kleene(pairs, F)
        if isinstance(node, ast.Name) and node.parts[0] == "criteria" \
                and len(node.parts) == 2 and node.parts[1] in self.criteria \
                and self.criteria[node.parts[1]].expr.type.kind == "bool":
            return self.criterion(node.parts[1])
        if isinstance(node, ast.If):
            return self.unsupported(expr, node, "an if-then-else used as a condition")
        if isinstance(node, ast.Name | ast.Call | ast.Boolean):
            return self.leaf(compile_expr(node, self.resolver()), node)
        return self.unsupported(expr, node, f"a {type(node).__name__} used as a condition")

    def criterion(self, cid: str) -> str:
        found = self.crit_nodes.get(cid)
        if found is None:
            # a criterion's nodes are shared by every measure: compile it outside any
            saved_measure, self.measure = self.measure, None
            criterion = self.criteria[cid]
            found = self.boolean(criterion.expr, criterion.expr.node)
            self.measure = saved_measure
            self.crit_nodes[cid] = found
        return found

    def kleene(self, kids: list[str], decisive: int) -> str:
        nid = self.fresh("n")
        aliases = tuple(f"a{i}" for i in range(len(kids)))
        for i in range(len(kids)):
            conds = [(aliases[j], _pat(kids[j], _not_v(decisive))) for j in range(i)]
            conds.append((aliases[i], _pat(kids[i], _v(decisive))))
            self.rule(conds, Action("decisive", nid, decisive))
        self.rule([(a, _pat(k, _not_v(decisive))) for a, k in zip(aliases, kids, strict=True)],
                  Action("rest", nid, decisive, aliases))
        return nid

    def compare(self, expr: Expr, op: str, left: ast.Node, right: ast.Node) -> str:
        res = self.resolver()
        nid = self.fresh("c")
        aid = "a" + nid
        choices: tuple[Any, ...] = ()
        if op in ("in", "notin"):
            assert isinstance(right, ast.ListLit)
            items = right.items
            if not all(isinstance(i, ast.String) or (isinstance(i, ast.Number)
                                                     and isinstance(i.value, int))
                       for i in items):
                return self.unsupported(expr, right, "`in` over a list that is not text or "
                                                     "whole-number literals")
            choices = tuple(i.value for i in items)  # type: ignore[attr-defined]
            member: dict[str, Any] = {"$or": [{"l": c} for c in choices]} if choices \
                else {"k": 2}
            outside: dict[str, Any] = {"$and": [{"$neq": {"l": c}} for c in choices]} \
                if choices else {"k": 1}
            yes, no = (member, outside) if op == "in" else (outside, member)
            atom = Atom(nid, op, compile_expr(left, res), None, choices, self.scope(),
                        self.deps(left))
        else:
            yes, no = {_CMP[op]: {"l": {"$m": "r"}}}, {_CMP[_NEG[op]]: {"l": {"$m": "r"}}}
            atom = Atom(nid, op, compile_expr(left, res), compile_expr(right, res), (),
                        self.scope(), self.deps(left) | self.deps(right))
        (self.atoms if self.measure else self.crit_atoms).append(atom)
        self.rule([("a", _pat(aid, {"k": 1}, yes))], Action("cmp", nid, T, ("a",)))
        self.rule([("a", _pat(aid, {"k": 1}, no))], Action("cmp", nid, F, ("a",)))
        self.rule([("a", _pat(aid, {"k": 0}))], Action("cmp", nid, U, ("a",)))
        return nid

    # -- requirements and measures ------------------------------------------
    def measure_net(self, m: Measure) -> MeasureNet:
        self.measure = m
        self.atoms, self.leaves = [], []
        self._let_deps = {}
        for name, expr in m.lets:
            self._let_deps[name] = self.deps(expr.node)
        self.amount_deps = self.deps(m.amount.expr.node) if m.amount else frozenset()
        reqs: list[RequirementNet] = []
        for req in m.requirements:
            node = self.boolean(req.expr, req.expr.node) if req.expr else self.leaf(None, None)
            excs = tuple((e.id, self.boolean(e.expr, e.expr.node)) for e in req.exceptions)
            rid = f"{m.id}.{req.id}"
            dated = req.valid_from is not None or req.valid_to is not None
            rnet = RequirementNet(req.id, node, excs, "o." + rid, "on." + rid if dated else "")
            self.outcome_rules(rnet, req.discretionary)
            reqs.append(rnet)
        priority = tuple(self.boolean(p.expr, p.expr.node) for p in m.priority)
        if reqs:
            aliases = tuple(f"o{i}" for i in range(len(reqs)))
            self.rule([(a, _pat(r.outcome)) for a, r in zip(aliases, reqs, strict=True)],
                      Action("status", "s." + m.id, aliases=aliases))
        net = MeasureNet(m.id, tuple(reqs), priority, tuple(self.atoms), tuple(self.leaves),
                         self.amount_deps)
        self.measure = None
        return net

    def outcome_rules(self, r: RequirementNet, discretionary: bool) -> None:
        # a dated requirement's rules also need the fact that it is in force on the date
        on = [("on", _pat(r.on))] if r.on else []
        exc_aliases = tuple(f"e{i}" for i in range(len(r.exceptions)))
        for j in range(len(r.exceptions)):
            conds = [*on, ("q", _pat(r.node, _not_v(T)))]
            conds += [(exc_aliases[i], _pat(r.exceptions[i][1], _not_v(T))) for i in range(j)]
            conds.append((exc_aliases[j], _pat(r.exceptions[j][1], _v(T))))
            self.rule(conds, Action("outcome", r.outcome, extra={"waived": j}))
        met = "discretionary" if discretionary else "met"
        self.rule([*on, ("q", _pat(r.node, _v(T)))],
                  Action("outcome", r.outcome, extra={"fixed": met}))
        rest = [*on, ("q", _pat(r.node, _not_v(T)))]
        rest += [(a, _pat(e[1], _not_v(T))) for a, e in zip(exc_aliases, r.exceptions,
                                                              strict=True)]
        self.rule(rest, Action("outcome", r.outcome, aliases=exc_aliases,
                               extra={"fixed": "discretionary"} if discretionary else {}))


def compile_network(pack: RulePack, criteria_fns: Mapping[str, Fn],
                    lets: Mapping[str, Iterable[tuple[str, Fn]]]) -> Network:
    """Compile ``pack`` (with the reference closures of its criteria and lets) to a network.

    Raises :class:`PackError` naming each construct the rete backend cannot express, with
    its file and line, and when the network exceeds what durable_rules can register.
    """
    b = _Builder(pack, criteria_fns, {mid: dict(items) for mid, items in lets.items()})
    for c in pack.criteria:
        if c.expr.type.kind == "bool":
            b.criterion(c.id)
    measures = tuple(b.measure_net(m) for m in pack.measures)
    if not b.errors and len(b.rules) > MAX_RULES:
        b.errors.append(Diagnostic(
            str(pack.root / "pack.yaml"), 1, 1,
            f"the pack compiles to {len(b.rules)} durable_rules rules; durable-rules 2.0.28 "
            f"does not register rulesets much beyond {MAX_RULES} (it hangs)",
            code="rete-too-large"))
    if b.errors:
        raise PackError(b.errors)
    return Network(
        rules=b.rules,
        actions=b.actions,
        criteria_atoms=tuple(b.crit_atoms),
        criteria_leaves=tuple(b.crit_leaves),
        measures=measures,
        parents={k: tuple(v) for k, v in b.parents.items()},
        criteria_nodes=dict(b.crit_nodes),
    )
