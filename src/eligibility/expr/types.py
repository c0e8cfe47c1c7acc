"""Types and units of expression values, and the static type checker.

Every expression in a pack is checked once at load time against a :class:`Names`
table (facts, criteria, parameters, ``let`` values). Errors are
:class:`ExprTypeError` with the offset of the offending node and, for unknown
names or enum values, a "did you mean" hint. Units are checked where declared:
adding NOK/month to NOK/year is an error; ``yearly()``/``monthly()`` convert.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field

from eligibility.expr import ast


@dataclass(frozen=True, slots=True)
class Type:
    """The static type of a value: kind, unit and (for enums) the allowed values."""

    kind: str  # bool | num | str | enum | date | members | list
    unit: str | None = None
    values: tuple[str, ...] | None = None
    integer: bool = False

    def describe(self) -> str:
        if self.kind == "num":
            base = "integer" if self.integer else "number"
            return f"{base} [{self.unit}]" if self.unit else base
        if self.kind == "enum" and self.values:
            return "one of " + ", ".join(self.values)
        return {"bool": "true/false", "str": "text", "date": "date",
                "members": "the list of members", "list": "a list"}.get(self.kind, self.kind)


BOOL = Type("bool")
NUM = Type("num")
INT = Type("num", integer=True)
STR = Type("str")
DATE = Type("date")
MEMBERS = Type("members")


class ExprTypeError(Exception):
    """A type, unit or name error at ``offset`` of an expression."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True)
class ParamInfo:
    """What the checker needs to know of a parameter."""

    type: Type
    keys: tuple[str, ...] = ()


@dataclass
class Names:
    """The names an expression may use, with their types."""

    names: Mapping[str, Type]
    member_fields: Mapping[str, Type] = field(default_factory=dict)
    params: Mapping[str, ParamInfo] = field(default_factory=dict)

    def suggest(self, word: str, pool: list[str]) -> str | None:
        close = difflib.get_close_matches(word, pool, n=1, cutoff=0.6)
        return f"did you mean {close[0]!r}?" if close else None


def _units_compatible(a: Type, b: Type) -> bool:
    return a.unit is None or b.unit is None or a.unit == b.unit


def _merge_unit(a: Type, b: Type) -> str | None:
    return a.unit if a.unit is not None else b.unit


def _swap_period(unit: str | None, src: str, dst: str, fn: str, offset: int) -> str | None:
    if unit is None:
        return None
    if not unit.endswith(src):
        raise ExprTypeError(f"{fn}() expects an amount in X{src}, got [{unit}]", offset)
    return unit[: -len(src)] + dst


class Checker:
    """Type-checks expressions against a :class:`Names` table."""

    def __init__(self, names: Names) -> None:
        self.env = names

    def check(self, node: ast.Node, *, in_member: bool = False) -> Type:
        method = getattr(self, "_" + type(node).__name__)
        result: Type = method(node, in_member)
        return result

    # literals -----------------------------------------------------------
    def _Number(self, node: ast.Number, in_member: bool) -> Type:
        return INT if isinstance(node.value, int) else NUM

    def _String(self, node: ast.String, in_member: bool) -> Type:
        return STR

    def _Boolean(self, node: ast.Boolean, in_member: bool) -> Type:
        return BOOL

    def _DateLit(self, node: ast.DateLit, in_member: bool) -> Type:
        return DATE

    def _ListLit(self, node: ast.ListLit, in_member: bool) -> Type:
        raise ExprTypeError("a list [...] may only follow `in` or `not in`", node.start)

    # names --------------------------------------------------------------
    def _Name(self, node: ast.Name, in_member: bool) -> Type:
        dotted = node.dotted
        if in_member and len(node.parts) == 1 and dotted in self.env.member_fields:
            return self.env.member_fields[dotted]
        found = self.env.names.get(dotted)
        if found is not None:
            return found
        if node.parts[0] == "members" and len(node.parts) > 1:
            raise ExprTypeError(
                f"{dotted!r}: members is a list; read a member's field inside "
                "count/sum/any/all",
                node.start,
                f"e.g. any(members, {node.parts[1]})",
            )
        pool = sorted(self.env.names)
        if in_member:
            pool += sorted(self.env.member_fields)
        raise ExprTypeError(f"unknown name {dotted!r}", node.start, self.env.suggest(dotted, pool))

    # operators ----------------------------------------------------------
    def _Unary(self, node: ast.Unary, in_member: bool) -> Type:
        inner = self.check(node.operand, in_member=in_member)
        if node.op == "not":
            self._expect(inner, "bool", node.operand, "`not` needs true/false")
            return BOOL
        self._expect(inner, "num", node.operand, "`-` needs a number")
        return inner

    def _Binary(self, node: ast.Binary, in_member: bool) -> Type:
        left = self.check(node.left, in_member=in_member)
        right = self.check(node.right, in_member=in_member)
        self._expect(left, "num", node.left, f"`{node.op}` needs numbers")
        self._expect(right, "num", node.right, f"`{node.op}` needs numbers")
        if node.op in "+-":
            if not _units_compatible(left, right):
                raise ExprTypeError(
                    f"unit mismatch: [{left.unit}] {node.op} [{right.unit}]",
                    node.start,
                    "convert with yearly() or monthly()" if _periods(left, right) else None,
                )
            return Type("num", _merge_unit(left, right), integer=left.integer and right.integer)
        if node.op == "*":
            if left.unit is None or left.unit == "ratio":
                unit = right.unit
            elif right.unit is None or right.unit == "ratio":
                unit = left.unit
            else:
                unit = None
            return Type("num", unit, integer=left.integer and right.integer)
        # division
        if left.unit is not None and left.unit == right.unit:
            unit = None
        elif right.unit is None:
            unit = left.unit
        else:
            unit = None
        return Type("num", unit)

    def _Compare(self, node: ast.Compare, in_member: bool) -> Type:
        types = [self.check(o, in_member=in_member) if not isinstance(o, ast.ListLit) else None
                 for o in node.operands]
        for i, op in enumerate(node.ops):
            left_node, right_node = node.operands[i], node.operands[i + 1]
            left = types[i]
            if left is None:
                raise ExprTypeError("a list [...] may only stand right of `in`", left_node.start)
            if op in ("in", "notin"):
                if not isinstance(right_node, ast.ListLit):
                    raise ExprTypeError("`in` needs a list: x in [a, b]", right_node.start)
                for item in right_node.items:
                    self._equal_types(left, left_node, self.check(item, in_member=in_member), item)
                continue
            right = types[i + 1]
            assert right is not None
            if op in ("==", "!="):
                self._equal_types(left, left_node, right, right_node)
            else:
                if left.kind == "date" and right.kind == "date":
                    continue
                self._expect(left, "num", left_node, f"`{op}` compares numbers or dates")
                self._expect(right, "num", right_node, f"`{op}` compares numbers or dates")
                if not _units_compatible(left, right):
                    raise ExprTypeError(
                        f"unit mismatch: [{left.unit}] {op} [{right.unit}]",
                        node.start,
                        "convert with yearly() or monthly()" if _periods(left, right) else None,
                    )
        return BOOL

    def _equal_types(self, a: Type, a_node: ast.Node, b: Type, b_node: ast.Node) -> None:
        for enum_t, other_t, other_node in ((a, b, b_node), (b, a, a_node)):
            if enum_t.kind == "enum" and other_t.kind == "str":
                if isinstance(other_node, ast.String) and enum_t.values is not None:
                    value = other_node.value
                    if value not in enum_t.values:
                        close = difflib.get_close_matches(value, list(enum_t.values), n=1)
                        raise ExprTypeError(
                            f"{value!r} is not a value of this field "
                            f"({', '.join(enum_t.values)})",
                            other_node.start,
                            f"did you mean {close[0]!r}?" if close else None,
                        )
                return
        kinds = {a.kind, b.kind}
        if kinds <= {"str", "enum"} or a.kind == b.kind:
            if a.kind == "num" and not _units_compatible(a, b):
                raise ExprTypeError(f"unit mismatch: [{a.unit}] vs [{b.unit}]", a_node.start)
            return
        raise ExprTypeError(
            f"cannot compare {a.describe()} with {b.describe()}", b_node.start
        )

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> Type:
        for operand in node.operands:
            t = self.check(operand, in_member=in_member)
            self._expect(t, "bool", operand, f"`{node.op}` needs true/false on both sides")
        return BOOL

    def _If(self, node: ast.If, in_member: bool) -> Type:
        cond = self.check(node.cond, in_member=in_member)
        self._expect(cond, "bool", node.cond, "the condition of `if` must be true/false")
        then = self.check(node.then, in_member=in_member)
        orelse = self.check(node.orelse, in_member=in_member)
        if then.kind != orelse.kind and {then.kind, orelse.kind} != {"str", "enum"}:
            raise ExprTypeError(
                f"`then` gives {then.describe()} but `else` gives {orelse.describe()}",
                node.orelse.start,
            )
        if then.kind == "num":
            if not _units_compatible(then, orelse):
                raise ExprTypeError(
                    f"unit mismatch between branches: [{then.unit}] vs [{orelse.unit}]",
                    node.orelse.start,
                )
            return Type("num", _merge_unit(then, orelse), integer=then.integer and orelse.integer)
        return then

    # calls --------------------------------------------------------------
    def _Call(self, node: ast.Call, in_member: bool) -> Type:
        fn = node.func
        args = node.args
        if fn in ("count", "sum", "any", "all"):
            return self._aggregate(node, in_member)
        if fn == "param":
            return self._param(node, in_member)
        if fn == "known":
            self._arity(node, 1, 1)
            t = self.check(args[0], in_member=in_member)
            if t.kind == "members":
                raise ExprTypeError("known() takes a fact, not the member list", args[0].start)
            return BOOL
        if fn in ("min", "max"):
            self._arity(node, 1, 99)
            types = [self.check(a, in_member=in_member) for a in args]
            result = types[0]
            for a, t in zip(args, types, strict=True):
                self._expect(t, "num", a, f"{fn}() needs numbers")
                if not _units_compatible(result, t):
                    raise ExprTypeError(
                        f"unit mismatch in {fn}(): [{result.unit}] vs [{t.unit}]", a.start
                    )
                result = Type("num", _merge_unit(result, t),
                              integer=result.integer and t.integer)
            return result
        if fn == "round":
            self._arity(node, 1, 2)
            t = self.check(args[0], in_member=in_member)
            self._expect(t, "num", args[0], "round() needs a number")
            if len(args) == 2 and not (isinstance(args[1], ast.Number)
                                       and isinstance(args[1].value, int)):
                raise ExprTypeError("round(x, n): n must be a whole number", args[1].start)
            return Type("num", t.unit, integer=len(args) == 1)
        if fn in ("floor", "ceil", "abs"):
            self._arity(node, 1, 1)
            t = self.check(args[0], in_member=in_member)
            self._expect(t, "num", args[0], f"{fn}() needs a number")
            return Type("num", t.unit, integer=fn != "abs" or t.integer)
        if fn in ("yearly", "monthly"):
            self._arity(node, 1, 1)
            t = self.check(args[0], in_member=in_member)
            self._expect(t, "num", args[0], f"{fn}() needs an amount")
            if fn == "yearly":
                return Type("num", _swap_period(t.unit, "/month", "/year", fn, args[0].start))
            return Type("num", _swap_period(t.unit, "/year", "/month", fn, args[0].start))
        if fn in ("years_since", "months_since", "months_until"):
            self._arity(node, 1, 1)
            t = self.check(args[0], in_member=in_member)
            self._expect(t, "date", args[0], f"{fn}() needs a date")
            return Type("num", "years" if fn == "years_since" else "months", integer=True)
        raise ExprTypeError(f"unknown function {fn!r}", node.start)  # pragma: no cover

    def _aggregate(self, node: ast.Call, in_member: bool) -> Type:
        fn, args = node.func, node.args
        if in_member:
            raise ExprTypeError(f"{fn}() cannot be nested inside another member aggregate",
                                node.start)
        bounds = {"count": (1, 2), "sum": (2, 3), "any": (2, 2), "all": (2, 2)}[fn]
        self._arity(node, *bounds)
        coll = args[0]
        if not (isinstance(coll, ast.Name) and self.env.names.get(coll.dotted) == MEMBERS):
            raise ExprTypeError(f"the first argument of {fn}() must be `members`", coll.start)
        if fn == "sum":
            value_t = self.check(args[1], in_member=True)
            self._expect(value_t, "num", args[1], "sum() adds numbers")
            if len(args) == 3:
                cond = self.check(args[2], in_member=True)
                self._expect(cond, "bool", args[2], "the condition must be true/false")
            return Type("num", value_t.unit, integer=value_t.integer)
        if len(args) == 2:
            cond = self.check(args[1], in_member=True)
            self._expect(cond, "bool", args[1], "the condition must be true/false")
        return INT if fn == "count" else BOOL

    def _param(self, node: ast.Call, in_member: bool) -> Type:
        args = node.args
        if not args or not isinstance(args[0], ast.Name):
            raise ExprTypeError("param() takes a parameter name: param(ns.name, ...)", node.start)
        name = args[0].dotted
        info = self.env.params.get(name)
        if info is None:
            raise ExprTypeError(
                f"unknown parameter {name!r}", args[0].start,
                self.env.suggest(name, sorted(self.env.params)),
            )
        if len(args) - 1 != len(info.keys):
            keys = ", ".join(info.keys)
            raise ExprTypeError(
                f"parameter {name!r} takes {len(info.keys)} key(s)"
                + (f" ({keys})" if keys else ""),
                node.start,
            )
        for key in args[1:]:
            t = self.check(key, in_member=in_member)
            if t.kind not in ("num", "str", "enum", "bool"):
                raise ExprTypeError("a table key must be a number or a text", key.start)
        return info.type

    # helpers ------------------------------------------------------------
    @staticmethod
    def _arity(node: ast.Call, low: int, high: int) -> None:
        n = len(node.args)
        if n < low or n > high:
            want = str(low) if low == high else f"{low} to {high}"
            raise ExprTypeError(f"{node.func}() takes {want} argument(s), got {n}", node.start)

    @staticmethod
    def _expect(t: Type, kind: str, node: ast.Node, message: str) -> None:
        if t.kind != kind:
            raise ExprTypeError(f"{message}; got {t.describe()}", node.start)


def _periods(a: Type, b: Type) -> bool:
    units = {a.unit or "", b.unit or ""}
    return any(u.endswith("/month") for u in units) and any(u.endswith("/year") for u in units)
