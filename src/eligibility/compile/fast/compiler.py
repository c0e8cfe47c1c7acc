"""The fast path's closure compiler: an expression's AST → one two-valued closure over
a household's flat *environment* (:data:`Env`: facts under their ``group.field`` keys,
and under keys starting with ``@`` the parameters, the date, criteria, ``let`` and
shown values), with no UNKNOWN checks and no missing-fact bookkeeping. It owns the
compiler :class:`_Compiler` (names to environment keys, the kinds of exact, hashable
values memos may be keyed by), the operator shape tables (a closure per operator and
kind of operand: an environment read, a constant, a closure, a member's field against
a constant; the same for ``if``'s branches and two-argument ``min``/``max``) and
``and``/``or``, and
what an error in such a closure is (:data:`_FALLBACK`: the household goes to the
reference, which reports it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any, Protocol

from eligibility.compile.closures import CompilerBase, _norm_key
from eligibility.compile.pack import CompiledPack
from eligibility.errors import EligibilityError
from eligibility.expr import ast

#: One household's environment, and a closure over it.
Env = dict[str, Any]
EFn = Callable[[Env], Any]
#: kinds of value a memo may be keyed by: hashable, and equal only when shown alike
#: (a decimal is not: 1.0 == 1.00 == 1, but they are shown differently)
_MEMO_KINDS = frozenset({"bool", "int", "str", "date"})

#: what makes the fast path hand the household to the reference (which raises the
#: error as it documents it, or — past a branch the fast path evaluated eagerly — none)
_FALLBACK: tuple[type[BaseException], ...] = (ArithmeticError, LookupError, EligibilityError)


class _DivisionByZero(EligibilityError):
    """A division by zero in a fast closure: the reference reports it."""


#: a fact's kind → the kind of its value (None: a decimal)
_FACT_KINDS = {"bool": "bool", "int": "int", "enum": "str", "string": "str", "date": "date"}
_INT_CALLS = frozenset({"count", "years_since", "months_since", "months_until", "floor",
                        "ceil"})
_BOOL_CALLS = frozenset({"any", "all", "known"})


class _Names(Protocol):
    """What the compiler resolves names against (a :class:`FastPack` being built)."""

    compiled: CompiledPack
    _criteria_fns: dict[str, EFn]
    _criteria_kinds: dict[str, str | None]
    _fact_kinds: dict[str, str | None]


class _Compiler(CompilerBase):
    """AST → two-valued closures over one household's environment (facts present)."""

    def __init__(self, pack: _Names, measure: int, lets: dict[str, str], where: str,
                 let_kinds: dict[str, str | None] | None = None,
                 record_at: dict[int, str] | None = None) -> None:
        self.pack = pack
        self.measure = measure
        self.lets = lets  # let name → environment key
        self.let_kinds = let_kinds or {}
        self.where = where
        self.record_at = record_at or {}

    def compile(self, node: ast.Node, in_member: bool) -> EFn:
        fn = super().compile(node, in_member)
        key = self.record_at.get(id(node))
        if key is None:
            return fn

        def recorded(env: Env) -> Any:  # a shown value, kept as computed
            value = env[key] = fn(env)
            return value

        return recorded

    # -- names ---------------------------------------------------------------
    def read_key(self, node: ast.Node, in_member: bool) -> str | None:
        """The environment key holding ``node``'s value whenever a closure runs
        (a fact, criterion, let, parameter without keys, the date), if it has one."""
        if isinstance(node, ast.Call):
            if node.func == "param" and len(node.args) == 1:
                return f"@p:{node.args[0].dotted}"  # type: ignore[attr-defined]
            return None
        if not isinstance(node, ast.Name):
            return None
        dotted = node.dotted
        compiled = self.pack.compiled
        if in_member and len(node.parts) == 1 and dotted in compiled.member_fields:
            return None
        if dotted == "as_of":
            return "@as_of"
        if dotted == "amount":
            return "@amount"
        if dotted in self.lets:
            return self.lets[dotted]
        if node.parts[0] == "criteria" and dotted[9:] in self.pack._criteria_fns:
            return f"@c:{dotted[9:]}"
        if dotted == "members":
            return "@members"
        if dotted in compiled.facts:
            return dotted
        raise AssertionError(f"unresolved name {dotted!r} passed the type checker")

    def kind(self, node: ast.Node) -> str | None:
        """The kind of ``node``'s value where it is exact and hashable (``bool``,
        ``int``, ``str``, ``date``), else None (a decimal, a table value, unknown)."""
        if isinstance(node, ast.Number):
            return "int" if type(node.value) is int else None
        if isinstance(node, ast.String):
            return "str"
        if isinstance(node, ast.Boolean):
            return "bool"
        if isinstance(node, ast.DateLit):
            return "date"
        if isinstance(node, ast.Name):
            dotted = node.dotted
            if dotted == "as_of":
                return "date"
            if dotted in self.lets:
                return self.let_kinds.get(dotted)
            if node.parts[0] == "criteria" and dotted[9:] in self.pack._criteria_kinds:
                return self.pack._criteria_kinds[dotted[9:]]
            return self.pack._fact_kinds.get(dotted)
        if isinstance(node, ast.Unary):
            if node.op == "not":
                return "bool"
            return "int" if self.kind(node.operand) == "int" else None
        if isinstance(node, ast.Binary):
            return "int" if node.op != "/" and self.kind(node.left) == "int" == self.kind(
                node.right) else None
        if isinstance(node, ast.Compare | ast.BoolOp):
            return "bool"
        if isinstance(node, ast.If):
            then = self.kind(node.then)
            return then if then == self.kind(node.orelse) else None
        if isinstance(node, ast.Call):
            if node.func in _BOOL_CALLS:
                return "bool"
            if node.func in _INT_CALLS or (node.func == "round" and len(node.args) == 1):
                return "int"
            if node.func in ("min", "max", "abs", "yearly") and all(
                    self.kind(a) == "int" for a in node.args):
                return "int"
        return None

    def _Name(self, node: ast.Name, in_member: bool) -> EFn:
        dotted = node.dotted
        if in_member and len(node.parts) == 1 and dotted in self.pack.compiled.member_fields:
            field = dotted
            return lambda env: env["@m"][field]
        key = self.read_key(node, in_member)
        assert key is not None
        return itemgetter(key)

    def _Call(self, node: ast.Call, in_member: bool) -> EFn:
        if node.func == "param" and len(node.args) == 1:
            return itemgetter(f"@p:{node.args[0].dotted}")  # type: ignore[attr-defined]
        return super()._Call(node, in_member)

    def _literal(self, node: Any, in_member: bool) -> EFn:
        value = node.value
        return lambda env: value

    _Number = _String = _Boolean = _DateLit = _literal

    def _operand(self, node: ast.Node, in_member: bool) -> tuple[str, Any]:
        """("key", environment key), ("const", value) or ("fn", closure)."""
        if isinstance(node, ast.Number | ast.String | ast.Boolean | ast.DateLit):
            return "const", node.value
        if id(node) not in self.record_at and not (
                isinstance(node, ast.Name) and in_member and len(node.parts) == 1
                and node.dotted in self.pack.compiled.member_fields):
            key = self.read_key(node, in_member)
            if key is not None:
                return "key", key
        return "fn", self.compile(node, in_member)

    # -- operators -----------------------------------------------------------
    def _apply(self, args: list[EFn], fn: Callable[..., Any]) -> EFn:
        return _call(args, fn)

    def _Unary(self, node: ast.Unary, in_member: bool) -> EFn:
        field = self._member_field(node.operand, in_member)
        if node.op == "not" and field is not None:  # ``not student``: no call for it
            return lambda env: not env["@m"][field]
        inner = self.compile(node.operand, in_member)
        if node.op == "not":
            return lambda env: not inner(env)
        return lambda env: -inner(env)

    def _Binary(self, node: ast.Binary, in_member: bool) -> EFn:
        op = node.op
        if op in ("+", "-", "*"):
            return _binary(op, self._operand(node.left, in_member),
                           self._operand(node.right, in_member))
        left = self.compile(node.left, in_member)
        right = self.compile(node.right, in_member)

        def div(env: Env) -> Any:
            a, b = left(env), right(env)
            if b == 0:
                raise _DivisionByZero("division by zero")
            return Decimal(a) / b

        return div

    def _compare_pair(self, op: str, left_node: ast.Node, right_node: ast.Node,
                      in_member: bool) -> EFn:
        if op in ("in", "notin"):
            return super()._compare_pair(op, left_node, right_node, in_member)
        right = self._operand(right_node, in_member)
        field = self._member_field(left_node, in_member)
        if field is not None and right[0] == "const":
            # a member's field against a literal (``age >= 18``, ``role == "child"``)
            return _MEMBER_SHAPES[op](field, right[1])
        return _binary(op, self._operand(left_node, in_member), right)

    def _all_of(self, fns: tuple[EFn, ...]) -> EFn:
        return _and(fns)

    def _in_literal(self, left: EFn, choices: frozenset[Any], negate: bool) -> EFn:
        if negate:
            return lambda env: left(env) not in choices
        return lambda env: left(env) in choices

    def _in_dynamic(self, left: EFn, items: list[EFn], negate: bool) -> EFn:
        def in_dynamic(env: Env) -> Any:
            value = left(env)
            seen = [f(env) for f in items]
            return (value in seen) != negate

        return in_dynamic

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> EFn:
        fns = tuple(self.compile(o, in_member) for o in node.operands)
        return _and(fns) if node.op == "and" else _or(fns)

    def _member_field(self, node: ast.Node, in_member: bool) -> str | None:
        """The field when ``node`` is the current member's field (read as
        ``env["@m"][field]``) and not a shown value kept as computed, else None."""
        if (in_member and isinstance(node, ast.Name) and len(node.parts) == 1
                and id(node) not in self.record_at
                and node.dotted in self.pack.compiled.member_fields):
            return node.dotted
        return None

    def _If(self, node: ast.If, in_member: bool) -> EFn:
        cond = self.compile(node.cond, in_member)
        return _if(cond, self._operand(node.then, in_member),
                   self._operand(node.orelse, in_member))

    def _call_min(self, node: ast.Call, in_member: bool) -> EFn:
        return self._extreme(node, in_member, min)

    def _call_max(self, node: ast.Call, in_member: bool) -> EFn:
        return self._extreme(node, in_member, max)

    def _extreme(self, node: ast.Call, in_member: bool, fn: Callable[..., Any]) -> EFn:
        """``min``/``max`` of two, one of them a constant or an environment read (as
        in ``max(0, x - y)``) read in place; else the generic call."""
        if len(node.args) == 2:
            (lk, lv), (rk, rv) = (self._operand(a, in_member) for a in node.args)
            if lk == "const" and rk == "fn":
                return lambda env: fn(lv, rv(env))
            if lk == "fn" and rk == "const":
                return lambda env: fn(lv(env), rv)
            if lk == "key" and rk == "fn":
                return lambda env: fn(env[lv], rv(env))
            if lk == "fn" and rk == "key":
                return lambda env: fn(lv(env), env[rv])
        return self._apply(self._args(node, in_member), fn)

    def _call_round(self, node: ast.Call, in_member: bool) -> EFn:
        (arg, *_) = self._args(node, in_member)
        digits = node.args[1].value if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        quantum = Decimal(1).scaleb(-int(digits))

        def round_(env: Env) -> Any:
            value = arg(env)
            if isinstance(value, int):
                return value
            rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
            return int(rounded) if digits == 0 else rounded

        return round_

    def _call_yearly(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: arg(env) * 12

    def _call_monthly(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: Decimal(arg(env)) / 12

    def _date_fn(self, node: ast.Call, in_member: bool,
                 compute: Callable[[date, date], int]) -> EFn:
        (arg,) = self._args(node, in_member)
        return lambda env: compute(arg(env), env["@as_of"])

    def _call_known(self, node: ast.Call, in_member: bool) -> EFn:
        (arg,) = self._args(node, in_member)

        def known(env: Env) -> Any:
            arg(env)  # evaluated as the reference does (it may raise)
            return True

        return known

    def _call_param(self, node: ast.Call, in_member: bool) -> EFn:
        table = f"@p:{node.args[0].dotted}"  # type: ignore[attr-defined]
        keys = tuple(self.compile(a, in_member) for a in node.args[1:])
        # a parameter without a value on the date is not in the environment, nor is a
        # missing table key in its table: KeyError, and the reference says which
        if len(keys) == 1:
            (first,) = keys

            def lookup1(env: Env) -> Any:
                key = first(env)
                return env[table][_norm_key(key) if key.__class__ is Decimal else key]

            return lookup1
        if len(keys) == 2:
            first, second = keys

            def lookup2(env: Env) -> Any:
                a, b = first(env), second(env)
                return env[table][_norm_key(a) if a.__class__ is Decimal else a][
                    _norm_key(b) if b.__class__ is Decimal else b]

            return lookup2

        def lookup(env: Env) -> Any:
            value = env[table]
            for key_fn in keys:
                value = value[_norm_key(key_fn(env))]
            return value

        return lookup

    def _call_count(self, node: ast.Call, in_member: bool) -> EFn:
        if len(node.args) != 2:
            return lambda env: len(env["@members"])
        cond = self.compile(node.args[1], True)

        def count(env: Env) -> Any:
            n = 0
            for member in env["@members"]:
                env["@m"] = member
                if cond(env) is True:
                    n += 1
            return n

        return count

    def _call_sum(self, node: ast.Call, in_member: bool) -> EFn:
        value_fn = self.compile(node.args[1], True)
        cond = self.compile(node.args[2], True) if len(node.args) == 3 else None

        def sum_(env: Env) -> Any:
            total: Any = 0
            for member in env["@members"]:
                env["@m"] = member
                if cond is not None and cond(env) is False:
                    continue
                total += value_fn(env)
            return total

        return sum_

    def _quantifier(self, node: ast.Call, stop: bool) -> EFn:
        cond = self.compile(node.args[1], True)

        def quantifier(env: Env) -> Any:
            for member in env["@members"]:
                env["@m"] = member
                if cond(env) is stop:
                    return stop
            return not stop

        return quantifier


def _binary(symbol: str, left: tuple[str, Any], right: tuple[str, Any]) -> EFn:
    """``left op right`` as one closure where an operand is an environment read or a
    constant (the common shapes: a fact against a literal, a fact against a criterion,
    a parameter times an expression)."""
    lk, lv = left
    rk, rv = right
    shapes = _SHAPES[symbol]
    index = _SHAPE_INDEX.get((lk, rk))
    if index is not None:
        return shapes[index](lv, rv)
    lf = (lambda env: lv) if lk == "const" else lv  # (const∘const: folded by nobody)
    rf = (lambda env: rv) if rk == "const" else rv
    return shapes[3](lf, rf)


_SHAPE_INDEX = {("key", "const"): 0, ("key", "key"): 1, ("const", "key"): 2, ("fn", "fn"): 3,
                ("key", "fn"): 4, ("fn", "key"): 5, ("fn", "const"): 6}


def _shapes(symbol: str) -> tuple[Callable[[Any, Any], EFn], ...]:
    """The closures of one operator, by the kinds of its operands (see _SHAPE_INDEX)."""
    if symbol == "+":
        return (lambda a, v: lambda e: e[a] + v,
                lambda a, b: lambda e: e[a] + e[b],
                lambda v, b: lambda e: v + e[b],
                lambda f, g: lambda e: f(e) + g(e),
                lambda a, g: lambda e: e[a] + g(e),
                lambda f, b: lambda e: f(e) + e[b],
                lambda f, v: lambda e: f(e) + v)
    if symbol == "-":
        return (lambda a, v: lambda e: e[a] - v,
                lambda a, b: lambda e: e[a] - e[b],
                lambda v, b: lambda e: v - e[b],
                lambda f, g: lambda e: f(e) - g(e),
                lambda a, g: lambda e: e[a] - g(e),
                lambda f, b: lambda e: f(e) - e[b],
                lambda f, v: lambda e: f(e) - v)
    if symbol == "*":
        return (lambda a, v: lambda e: e[a] * v,
                lambda a, b: lambda e: e[a] * e[b],
                lambda v, b: lambda e: v * e[b],
                lambda f, g: lambda e: f(e) * g(e),
                lambda a, g: lambda e: e[a] * g(e),
                lambda f, b: lambda e: f(e) * e[b],
                lambda f, v: lambda e: f(e) * v)
    if symbol == "==":
        return (lambda a, v: lambda e: e[a] == v,
                lambda a, b: lambda e: e[a] == e[b],
                lambda v, b: lambda e: v == e[b],
                lambda f, g: lambda e: f(e) == g(e),
                lambda a, g: lambda e: e[a] == g(e),
                lambda f, b: lambda e: f(e) == e[b],
                lambda f, v: lambda e: f(e) == v)
    if symbol == "!=":
        return (lambda a, v: lambda e: e[a] != v,
                lambda a, b: lambda e: e[a] != e[b],
                lambda v, b: lambda e: v != e[b],
                lambda f, g: lambda e: f(e) != g(e),
                lambda a, g: lambda e: e[a] != g(e),
                lambda f, b: lambda e: f(e) != e[b],
                lambda f, v: lambda e: f(e) != v)
    if symbol == "<":
        return (lambda a, v: lambda e: e[a] < v,
                lambda a, b: lambda e: e[a] < e[b],
                lambda v, b: lambda e: v < e[b],
                lambda f, g: lambda e: f(e) < g(e),
                lambda a, g: lambda e: e[a] < g(e),
                lambda f, b: lambda e: f(e) < e[b],
                lambda f, v: lambda e: f(e) < v)
    if symbol == "<=":
        return (lambda a, v: lambda e: e[a] <= v,
                lambda a, b: lambda e: e[a] <= e[b],
                lambda v, b: lambda e: v <= e[b],
                lambda f, g: lambda e: f(e) <= g(e),
                lambda a, g: lambda e: e[a] <= g(e),
                lambda f, b: lambda e: f(e) <= e[b],
                lambda f, v: lambda e: f(e) <= v)
    if symbol == ">":
        return (lambda a, v: lambda e: e[a] > v,
                lambda a, b: lambda e: e[a] > e[b],
                lambda v, b: lambda e: v > e[b],
                lambda f, g: lambda e: f(e) > g(e),
                lambda a, g: lambda e: e[a] > g(e),
                lambda f, b: lambda e: f(e) > e[b],
                lambda f, v: lambda e: f(e) > v)
    return (lambda a, v: lambda e: e[a] >= v,
            lambda a, b: lambda e: e[a] >= e[b],
            lambda v, b: lambda e: v >= e[b],
            lambda f, g: lambda e: f(e) >= g(e),
            lambda a, g: lambda e: e[a] >= g(e),
            lambda f, b: lambda e: f(e) >= e[b],
            lambda f, v: lambda e: f(e) >= v)


_SHAPES = {s: _shapes(s) for s in ("+", "-", "*", "==", "!=", "<", "<=", ">", ">=")}

#: a comparison of the current member's field (``env["@m"]``) with a constant, per
#: operator: one closure, no call for the field
_MEMBER_SHAPES: dict[str, Callable[[str, Any], EFn]] = {
    "==": lambda f, v: lambda e: e["@m"][f] == v,
    "!=": lambda f, v: lambda e: e["@m"][f] != v,
    "<": lambda f, v: lambda e: e["@m"][f] < v,
    "<=": lambda f, v: lambda e: e["@m"][f] <= v,
    ">": lambda f, v: lambda e: e["@m"][f] > v,
    ">=": lambda f, v: lambda e: e["@m"][f] >= v,
}


def _if(cond: EFn, then: tuple[str, Any], orelse: tuple[str, Any]) -> EFn:
    """``if cond then a else b`` with each branch a constant, an environment read or a
    closure (see :meth:`_Compiler._operand`), read in place (``else 0``, ``then
    param(x)``: no call for the branch)."""
    tk, t = then
    ok, o = orelse
    if tk == "fn":
        if ok == "fn":
            return lambda env: t(env) if cond(env) is True else o(env)
        if ok == "const":
            return lambda env: t(env) if cond(env) is True else o
        return lambda env: t(env) if cond(env) is True else env[o]
    if tk == "const":
        if ok == "fn":
            return lambda env: t if cond(env) is True else o(env)
        if ok == "const":
            return lambda env: t if cond(env) is True else o
        return lambda env: t if cond(env) is True else env[o]
    if ok == "fn":
        return lambda env: env[t] if cond(env) is True else o(env)
    if ok == "const":
        return lambda env: env[t] if cond(env) is True else o
    return lambda env: env[t] if cond(env) is True else env[o]


def _call(args: list[EFn], fn: Callable[..., Any]) -> EFn:
    if len(args) == 1:
        (only,) = args
        return lambda env: fn(only(env))
    if len(args) == 2:
        a, b = args
        return lambda env: fn(a(env), b(env))
    return lambda env: fn(*[a(env) for a in args])


def _and(fns: tuple[EFn, ...]) -> EFn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) is True and b(env) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) is True and b(env) is True and c(env) is True

    def and_(env: Env) -> Any:
        for f in fns:  # noqa: SIM110 (a loop: no generator made per call)
            if f(env) is not True:
                return False
        return True

    return and_


def _or(fns: tuple[EFn, ...]) -> EFn:
    if len(fns) == 2:
        a, b = fns
        return lambda env: a(env) is True or b(env) is True
    if len(fns) == 3:
        a, b, c = fns
        return lambda env: a(env) is True or b(env) is True or c(env) is True

    def or_(env: Env) -> Any:
        for f in fns:  # noqa: SIM110 (as in and_)
            if f(env) is True:
                return True
        return False

    return or_
