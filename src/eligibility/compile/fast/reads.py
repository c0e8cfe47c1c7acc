"""What the fast path's expressions read: :class:`Reads` (every fact, member field and
the member list an expression, a let, a requirement or a whole measure reads, through
its lets and criteria) and :data:`Strict` (what its fast closures read on every path
they take, so that one of those missing means they cannot finish). Both are found once,
from the AST, when a :class:`~eligibility.compile.fast.FastPack` is built; the plans
of :mod:`eligibility.compile.fast.plan` turn them into the bit masks a household's
facts are checked against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eligibility.compile.pack import CompiledPack
from eligibility.expr import ast

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

#: what an expression reads on every path its fast closures take: (facts, the member
#: list, member fields read on every member); one of them missing (for a member field:
#: on some member) and the closures cannot finish (:func:`strict_of`)
Strict = tuple[frozenset[str], bool, frozenset[str]]
_NONE_STRICT: Strict = (frozenset(), False, frozenset())
_EMPTY: frozenset[str] = frozenset()


def _common(members: list[dict[str, Any]]) -> set[str]:
    """The fields every member has."""
    common = set(members[0])
    for member in members[1:]:
        common &= member.keys()
    return common


def reads_of(compiled: CompiledPack, criteria: dict[str, Reads], node: ast.Node,
             lets: dict[str, Reads] | None = None) -> Reads:
    """What ``node`` reads: its facts, member fields and member list, with those of the
    ``lets`` and ``criteria`` (their Reads by name and id) it names."""
    facts: set[str] = set()
    member_fields: set[str] = set()
    members = amount = False
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
            elif n.parts[0] == "criteria" and n.parts[1] in criteria:
                other = criteria[n.parts[1]]
                facts |= other.facts
                member_fields |= other.member_fields
                members = members or other.members
        elif isinstance(n, ast.Call) and n.func in _MEMBER_CALLS:
            members = True
    return Reads(frozenset(facts), frozenset(member_fields), members or bool(member_fields),
                 amount)


def strict_of(compiled: CompiledPack, criteria: dict[str, Strict], node: ast.Node,
              lets: dict[str, Strict], in_member: bool = False) -> Strict:
    """The facts (whether the member list, and the member fields on every member)
    ``node``'s fast closures read on every path they take — through criteria and
    ``lets`` too (their Strict by id and name), which are not in the environment when
    such a fact is missing. A ``count`` or ``sum`` visits every member: the member
    fields its condition (``sum`` without one: its value) reads on every path are read
    on every member, and one member without such a field stops the closures.
    Under-approximate: the operands past the first of ``and``/``or``, a branch read by
    only one side of an ``if``, ``any``/``all`` (they may stop before the member that
    lacks a field) and the facts, criteria and lets read in a member loop count as not
    always read. ``in_member``: ``node`` is inside a member loop (a one-part name of a
    member field is the current member's)."""
    if isinstance(node, ast.Name):
        dotted = node.dotted
        if in_member and len(node.parts) == 1 and dotted in compiled.member_fields:
            return _EMPTY, False, frozenset({dotted})
        if dotted in lets:
            return lets[dotted]
        if node.parts[0] == "criteria" and dotted[9:] in criteria:
            return criteria[dotted[9:]]
        if dotted == "members":
            return _EMPTY, True, _EMPTY
        if dotted in compiled.facts:
            return frozenset({dotted}), False, _EMPTY
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
        cond = strict_of(compiled, criteria, node.cond, lets, in_member)
        then = strict_of(compiled, criteria, node.then, lets, in_member)
        orelse = strict_of(compiled, criteria, node.orelse, lets, in_member)
        return (cond[0] | (then[0] & orelse[0]), cond[1] or (then[1] and orelse[1]),
                cond[2] | (then[2] & orelse[2]))
    elif isinstance(node, ast.Call):
        if node.func in _MEMBER_CALLS:
            every = _EMPTY
            if node.func == "count" and len(node.args) == 2:
                every = strict_of(compiled, criteria, node.args[1], lets, True)[2]
            elif node.func == "sum":
                every = strict_of(compiled, criteria, node.args[-1], lets, True)[2]
            return _EMPTY, True, every
        parts = node.args[1:] if node.func == "param" else node.args
    elif isinstance(node, ast.Unary | ast.Binary):
        parts = ast.children(node)
    else:
        return _NONE_STRICT
    facts: frozenset[str] = _EMPTY
    members = False
    fields: frozenset[str] = _EMPTY
    for part in parts:
        f, m, mf = strict_of(compiled, criteria, part, lets, in_member)
        facts |= f
        members = members or m
        fields |= mf
    return facts, members, fields
