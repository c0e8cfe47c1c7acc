"""The expression AST: small immutable nodes, each with its source offsets.

Compilers (closures, and later polars or rete backends) walk these nodes; the
type checker annotates nothing in place — it returns types keyed by node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """Base of every node; ``start``/``end`` are offsets in the expression text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True, eq=False)
class Number(Node):
    value: int | Decimal


@dataclass(frozen=True, slots=True, eq=False)
class String(Node):
    value: str


@dataclass(frozen=True, slots=True, eq=False)
class Boolean(Node):
    value: bool


@dataclass(frozen=True, slots=True, eq=False)
class DateLit(Node):
    value: date


@dataclass(frozen=True, slots=True, eq=False)
class Name(Node):
    """A dotted name: ``housing.cost_month``, ``criteria.barnefamilie``, ``amount``."""

    parts: tuple[str, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True, slots=True, eq=False)
class Unary(Node):
    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True, slots=True, eq=False)
class Binary(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True, slots=True, eq=False)
class Compare(Node):
    """A comparison chain: ``a < b <= c`` is ``ops=("<", "<=")``, three operands."""

    ops: tuple[str, ...]  # == != < <= > >= in notin
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class BoolOp(Node):
    op: str  # "and" | "or"
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class If(Node):
    cond: Node
    then: Node
    orelse: Node


@dataclass(frozen=True, slots=True, eq=False)
class Call(Node):
    func: str
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ListLit(Node):
    items: tuple[Node, ...]


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node``, in source order."""
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Compare):
        return node.operands
    if isinstance(node, BoolOp):
        return node.operands
    if isinstance(node, If):
        return (node.cond, node.then, node.orelse)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, ListLit):
        return node.items
    return ()


def walk(node: Node) -> list[Node]:
    """All nodes of the tree, pre-order."""
    out = [node]
    for child in children(node):
        out.extend(walk(child))
    return out
