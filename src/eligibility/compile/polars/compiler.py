"""Compile the expression AST into polars expressions over a frame of households.

One handler per node kind, each returning a :class:`Col`: the value as a polars
expression (null = unknown, so ``&``/``|`` give Kleene logic), its kind
(``bool``, ``int``, ``dec``, ``str``, ``date``), the missing facts it read as a
string expression (each path followed by :data:`SEP`, mirroring exactly what the
reference closures keep in ``ctx.missing``), and row checks — boolean
expressions that are true where the reference would raise (division by zero, a
key missing from a parameter table), so those rows are handed to the reference.
Numbers are ``Decimal(38, 10)``; parameters are literals for one ``as_of``. A
construct this backend cannot express raises :class:`Unsupported` with its
position, once, at compile time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from eligibility.compile.closures import NoValue
from eligibility.expr import ast

#: Numbers (money and ratios) are fixed-point decimals with ten places.
SCALE = 10
DEC = pl.Decimal(38, SCALE)
#: Separator after every path in a missing-facts string.
SEP = "\x1f"
EMPTY = pl.lit("", pl.String)


class Unsupported(Exception):
    """A construct the polars backend cannot express (``where`` names it)."""

    def __init__(self, message: str, where: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.offset = offset

    def __str__(self) -> str:
        at = f" at offset {self.offset}" if self.offset is not None else ""
        return f"{self.where}{at}: {self.message}" if self.where else self.message


@dataclass(frozen=True)
class Col:
    """One compiled expression (see module docstring)."""

    value: pl.Expr
    kind: str
    miss: pl.Expr | None = None  # None: never reads a missing fact
    checks: tuple[pl.Expr, ...] = ()


def cat(*parts: pl.Expr | None) -> pl.Expr | None:
    """Concatenate missing-facts strings, skipping the ones that can never be non-empty."""
    real = [p for p in parts if p is not None]
    if not real:
        return None
    out = real[0]
    for p in real[1:]:
        out = out + p
    return out


def _checks(*cols: Col) -> tuple[pl.Expr, ...]:
    return tuple(c for col in cols for c in col.checks)


def lit_value(value: Any) -> Col:
    """A Python value (literal or parameter) as a polars literal."""
    if isinstance(value, bool):
        return Col(pl.lit(value, pl.Boolean), "bool")
    if isinstance(value, int):
        return Col(pl.lit(value, pl.Int64), "int")
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**62:
            return Col(pl.lit(int(value), pl.Int64), "int")
        return Col(pl.lit(value, DEC), "dec")
    if isinstance(value, str):
        return Col(pl.lit(value, pl.String), "str")
    if isinstance(value, date):
        return Col(pl.lit(value, pl.Date), "date")
    raise Unsupported(f"a value of type {type(value).__name__} has no polars form")


def _plain(value: Any, kind: str) -> Any:
    """A table value as the Python value of its column kind."""
    if kind == "dec":
        return Decimal(value)
    if kind == "int" and isinstance(value, Decimal):
        return int(value)
    return value


def as_dec(col: Col) -> pl.Expr:
    return col.value if col.kind == "dec" else col.value.cast(DEC)


def _numeric_pair(a: Col, b: Col) -> tuple[pl.Expr, pl.Expr, str]:
    if a.kind == "int" and b.kind == "int":
        return a.value, b.value, "int"
    if a.kind in ("int", "dec") and b.kind in ("int", "dec"):
        return as_dec(a), as_dec(b), "dec"
    return a.value, b.value, a.kind


def _null(kind: str) -> pl.Expr:
    dtype: pl.DataType = {"bool": pl.Boolean(), "int": pl.Int64(), "dec": DEC,
                          "str": pl.String(), "date": pl.Date()}[kind]
    return pl.lit(None, dtype)


def round_half_up(value: pl.Expr, places: int) -> pl.Expr:
    """Round a Decimal expression half away from zero (Decimal's ROUND_HALF_UP)."""
    factor = pl.lit(Decimal(10) ** places, DEC)
    half = pl.lit(Decimal("0.5"), DEC)
    mag = (value.abs() * factor + half).floor() / factor
    return pl.when(value < 0).then(-mag).otherwise(mag).cast(pl.Decimal(38, places))


@dataclass
class Scope:
    """How names resolve for one expression context."""

    facts: Mapping[str, str]  # dotted path -> kind
    member_fields: Mapping[str, str]  # field -> kind
    columns: Mapping[str, Col]  # criteria.x / let names / amount -> column Col
    params: Mapping[str, Any]
    as_of: date
    where: str = ""


class Compiler:
    """Compiles AST nodes under one :class:`Scope` (see module docstring)."""

    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def compile(self, node: ast.Node, in_member: bool = False) -> Col:
        handler: Callable[[Any, bool], Col] = getattr(self, "_" + type(node).__name__)
        return handler(node, in_member)

    def refuse(self, node: ast.Node, message: str) -> Unsupported:
        return Unsupported(message, self.scope.where, node.start)

    # literals -------------------------------------------------------------
    def _literal(self, node: ast.Number | ast.String | ast.Boolean | ast.DateLit,
                 in_member: bool) -> Col:
        return lit_value(node.value)

    _Number = _String = _Boolean = _DateLit = _literal

    def _ListLit(self, node: ast.ListLit, in_member: bool) -> Col:
        raise self.refuse(node, "a list outside `in`")

    # names ----------------------------------------------------------------
    def _Name(self, node: ast.Name, in_member: bool) -> Col:
        scope = self.scope
        dotted = node.dotted
        if in_member and len(node.parts) == 1 and dotted in scope.member_fields:
            value = pl.element().struct.field(dotted)
            # ``__i``, the member's position, is added by PolarsPlan.missing
            path = (pl.lit("members[") + pl.element().struct.field("__i").cast(pl.String)
                    + pl.lit(f"].{dotted}{SEP}"))
            return Col(value, scope.member_fields[dotted],
                       pl.when(value.is_null()).then(path).otherwise(EMPTY))
        if dotted == "as_of":
            return lit_value(scope.as_of)
        if in_member:
            raise self.refuse(node, f"{dotted!r} read inside a member aggregate (polars "
                                    "cannot read a household column inside list.eval)")
        if dotted in scope.columns:
            col = scope.columns[dotted]
            miss = None if col.miss is None else (
                pl.when(col.value.is_null()).then(col.miss).otherwise(EMPTY))
            return Col(col.value, col.kind, miss)
        if dotted in scope.facts:
            value = pl.col(dotted)
            return Col(value, scope.facts[dotted],
                       pl.when(value.is_null()).then(pl.lit(dotted + SEP)).otherwise(EMPTY))
        raise self.refuse(node, f"name {dotted!r} has no column")

    # operators ------------------------------------------------------------
    def _Unary(self, node: ast.Unary, in_member: bool) -> Col:
        inner = self.compile(node.operand, in_member)
        value = inner.value.not_() if node.op == "not" else -inner.value
        return Col(value, inner.kind, inner.miss, inner.checks)

    def _Binary(self, node: ast.Binary, in_member: bool) -> Col:
        a = self.compile(node.left, in_member)
        b = self.compile(node.right, in_member)
        miss, checks = cat(a.miss, b.miss), _checks(a, b)
        if node.op == "/":
            if in_member:
                raise self.refuse(node, "division inside a member aggregate")
            den = as_dec(b)
            zero = den == 0
            safe = pl.when(zero).then(pl.lit(None, DEC)).otherwise(den)
            return Col(as_dec(a) / safe, "dec", miss, (*checks, zero.fill_null(False)))
        x, y, kind = _numeric_pair(a, b)
        value = {"+": x + y, "-": x - y, "*": x * y}[node.op]
        return Col(value, kind, miss, checks)

    def _Compare(self, node: ast.Compare, in_member: bool) -> Col:
        pairs = [self._compare_pair(op, node.operands[i], node.operands[i + 1], in_member)
                 for i, op in enumerate(node.ops)]
        return pairs[0] if len(pairs) == 1 else _kleene(pairs, "and")

    def _compare_pair(self, op: str, left_node: ast.Node, right_node: ast.Node,
                      in_member: bool) -> Col:
        left = self.compile(left_node, in_member)
        if op in ("in", "notin"):
            assert isinstance(right_node, ast.ListLit)
            items = [self.compile(i, in_member) for i in right_node.items]
            negate = op == "notin"
            if all(isinstance(i, ast.String | ast.Number | ast.Boolean)
                   for i in right_node.items):
                choices = [i.value for i in right_node.items]  # type: ignore[attr-defined]
                hit = left.value.is_in(pl.lit(pl.Series(choices)).implode())
                value = pl.when(left.value.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(
                    hit.not_() if negate else hit)
                return Col(value, "bool", left.miss, left.checks)
            found = pl.any_horizontal([(left.value == i.value).fill_null(False)
                                       for i in items])
            unknown = pl.any_horizontal([i.value.is_null() for i in items])
            value = (pl.when(left.value.is_null()).then(pl.lit(None, pl.Boolean))
                     .when(found).then(pl.lit(not negate))
                     .when(unknown).then(pl.lit(None, pl.Boolean))
                     .otherwise(pl.lit(negate)))
            return Col(value, "bool", cat(left.miss, *(i.miss for i in items)),
                       _checks(left, *items))
        right = self.compile(right_node, in_member)
        x, y, _ = _numeric_pair(left, right)
        value = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y,
                 ">=": x >= y}[op]
        return Col(value, "bool", cat(left.miss, right.miss), _checks(left, right))

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> Col:
        return _kleene([self.compile(o, in_member) for o in node.operands], node.op)

    def _If(self, node: ast.If, in_member: bool) -> Col:
        c = self.compile(node.cond, in_member)
        t = self.compile(node.then, in_member)
        e = self.compile(node.orelse, in_member)
        tv, ev, kind = _numeric_pair(t, e)
        same = (tv == ev).fill_null(False)
        value = (pl.when(c.value).then(tv).when(c.value.not_()).then(ev)
                 .when(same).then(tv).otherwise(_null(kind)))
        miss = None
        if c.miss is not None or t.miss is not None or e.miss is not None:
            miss = (pl.when(c.value).then(cat(c.miss, t.miss, EMPTY))
                    .when(c.value.not_()).then(cat(c.miss, e.miss, EMPTY))
                    .when(same).then(EMPTY)
                    .otherwise(cat(c.miss, t.miss, e.miss, EMPTY)))
        return Col(value, kind, miss, _checks(c, t, e))

    # calls ----------------------------------------------------------------
    def _Call(self, node: ast.Call, in_member: bool) -> Col:
        handler = getattr(self, "_call_" + node.func, None)
        if handler is None:
            raise self.refuse(node, f"function {node.func!r} has no polars form")
        result: Col = handler(node, in_member)
        return result

    def _args(self, node: ast.Call, in_member: bool) -> list[Col]:
        return [self.compile(a, in_member) for a in node.args]

    def _strict(self, args: list[Col], value: pl.Expr, kind: str) -> Col:
        """A function of its arguments, unknown as soon as one argument is."""
        if len(args) > 1:
            any_null = pl.any_horizontal([a.value.is_null() for a in args])
            value = pl.when(any_null).then(_null(kind)).otherwise(value)
        return Col(value, kind, cat(*(a.miss for a in args)), _checks(*args))

    def _extreme(self, node: ast.Call, in_member: bool, pick: Callable[..., pl.Expr]) -> Col:
        args = self._args(node, in_member)
        kind = "int" if all(a.kind == "int" for a in args) else "dec"
        values = [a.value if kind == "int" else as_dec(a) for a in args]
        return self._strict(args, pick(values), kind)

    def _call_min(self, node: ast.Call, in_member: bool) -> Col:
        return self._extreme(node, in_member, pl.min_horizontal)

    def _call_max(self, node: ast.Call, in_member: bool) -> Col:
        return self._extreme(node, in_member, pl.max_horizontal)

    def _call_abs(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        return self._strict([a], a.value.abs(), a.kind)

    def _to_int(self, a: Col, how: str) -> Col:
        if a.kind == "int":
            return a
        value = as_dec(a).floor() if how == "floor" else as_dec(a).ceil()
        return self._strict([a], value.cast(pl.Int64), "int")

    def _call_floor(self, node: ast.Call, in_member: bool) -> Col:
        return self._to_int(self._args(node, in_member)[0], "floor")

    def _call_ceil(self, node: ast.Call, in_member: bool) -> Col:
        return self._to_int(self._args(node, in_member)[0], "ceil")

    def _call_round(self, node: ast.Call, in_member: bool) -> Col:
        a = self.compile(node.args[0], in_member)
        digits = int(node.args[1].value) if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        if a.kind == "int":
            return a
        rounded = round_half_up(as_dec(a), digits)
        if digits == 0:
            return Col(rounded.cast(pl.Int64), "int", a.miss, a.checks)
        return Col(rounded.cast(DEC), "dec", a.miss, a.checks)

    def _call_yearly(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        return Col(a.value * 12, a.kind, a.miss, a.checks)

    def _call_monthly(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        return Col(as_dec(a) / pl.lit(12, DEC), "dec", a.miss, a.checks)

    def _months(self, start: pl.Expr | date, end: pl.Expr | date) -> pl.Expr:
        def parts(d: pl.Expr | date) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
            if isinstance(d, date):
                return pl.lit(d.year), pl.lit(d.month), pl.lit(d.day)
            return (d.dt.year().cast(pl.Int64), d.dt.month().cast(pl.Int64),
                    d.dt.day().cast(pl.Int64))

        sy, sm, sd = parts(start)
        ey, em, ed = parts(end)
        return (ey - sy) * 12 + (em - sm) - (ed < sd).cast(pl.Int64)

    def _date_call(self, node: ast.Call, in_member: bool, unit: str, until: bool) -> Col:
        (a,) = self._args(node, in_member)
        as_of = self.scope.as_of
        months = self._months(as_of, a.value) if until else self._months(a.value, as_of)
        value = months.floordiv(12) if unit == "years" else months
        return Col(value, "int", a.miss, a.checks)

    def _call_years_since(self, node: ast.Call, in_member: bool) -> Col:
        return self._date_call(node, in_member, "years", until=False)

    def _call_months_since(self, node: ast.Call, in_member: bool) -> Col:
        return self._date_call(node, in_member, "months", until=False)

    def _call_months_until(self, node: ast.Call, in_member: bool) -> Col:
        return self._date_call(node, in_member, "months", until=True)

    def _call_known(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        return Col(a.value.is_not_null(), "bool", None, a.checks)

    def _call_param(self, node: ast.Call, in_member: bool) -> Col:
        first = node.args[0]
        assert isinstance(first, ast.Name)
        name = first.dotted
        value = self.scope.params.get(name)
        if value is None or isinstance(value, NoValue):
            raise self.refuse(node, f"parameter {name!r} has no value on "
                                    f"{self.scope.as_of.isoformat()}")
        keys = [self.compile(k, in_member) for k in node.args[1:]]
        if not keys:
            return lit_value(value)
        # flatten the table to (key tuple, value) pairs
        entries: list[tuple[tuple[Any, ...], Any]] = [((), value)]
        for _ in keys:
            nxt: list[tuple[tuple[Any, ...], Any]] = []
            for prefix, table in entries:
                if not isinstance(table, Mapping):
                    raise self.refuse(node, f"parameter {name!r} has fewer keys than given")
                nxt.extend(((*prefix, k), v) for k, v in table.items())
            entries = nxt
        leaves = [lit_value(v) for _, v in entries]
        kinds = {c.kind for c in leaves}
        kind = "dec" if kinds <= {"int", "dec"} and "dec" in kinds else leaves[0].kind
        if len(kinds - {"int", "dec"}) and len(kinds) > 1:
            raise self.refuse(node, f"parameter {name!r} mixes value types")
        if any(k.kind == "dec" for k in keys):
            raise self.refuse(node, f"parameter {name!r} looked up by a decimal key")
        known = pl.all_horizontal([k.value.is_not_null() for k in keys])
        ints = all(k.kind == "int" for k in keys) and all(
            isinstance(part, int) and not isinstance(part, bool) and abs(part) < 10**6
            for key_tuple, _ in entries for part in key_tuple)
        if ints:  # one hash look-up on the keys combined into one integer
            combined = sum((k.value.cast(pl.Int64) * 10**(6 * (len(keys) - 1 - i))
                            for i, k in enumerate(keys)), pl.lit(0, pl.Int64))
            old: list[Any] = [sum(part * 10**(6 * (len(keys) - 1 - i))
                                  for i, part in enumerate(key_tuple))
                              for key_tuple, _ in entries]
        else:
            combined = pl.concat_str([k.value.cast(pl.String) for k in keys], separator=SEP)
            old = [SEP.join(str(part) for part in key_tuple) for key_tuple, _ in entries]
        dtype = {"dec": DEC, "int": pl.Int64(), "bool": pl.Boolean(), "str": pl.String(),
                 "date": pl.Date()}[kind]
        new = [_plain(v, kind) for _, v in entries]
        result = combined.replace_strict(old, pl.Series(new, dtype=dtype), default=None,
                                         return_dtype=dtype)
        not_found = (known & result.is_null()).fill_null(False)
        if in_member:
            raise self.refuse(node, "a parameter table looked up inside a member aggregate")
        # keys are read one by one; a later key is not read once an earlier one is unknown
        miss: pl.Expr | None = None
        for i, k in enumerate(keys):
            if k.miss is None:
                continue
            earlier = [kk.value.is_not_null() for kk in keys[:i]]
            part = k.miss if not earlier else (
                pl.when(pl.all_horizontal(earlier)).then(k.miss).otherwise(EMPTY))
            miss = cat(miss, part)
        return Col(result, kind, miss, (*_checks(*keys), not_found))

    # aggregates over members -------------------------------------------------
    def _members(self, node: ast.Call, in_member: bool) -> pl.Expr:
        if in_member:
            raise self.refuse(node, "an aggregate inside an aggregate")
        arg = node.args[0]
        if not (isinstance(arg, ast.Name) and arg.dotted == "members"):
            raise self.refuse(node, "an aggregate over something other than members")
        return pl.col("members")

    def _agg(self, members: pl.Expr, value: pl.Expr, miss: pl.Expr | None) -> Col:
        """Wrap a row-level aggregate: unknown (and 'members' missing) without a list."""
        no_list = members.is_null()
        out = pl.when(no_list).then(None).otherwise(value)
        full = pl.when(no_list).then(pl.lit("members" + SEP)).otherwise(
            miss if miss is not None else EMPTY)
        return Col(out, "", full)

    def _member_miss(self, members: pl.Expr, miss: pl.Expr | None) -> pl.Expr | None:
        if miss is None:
            return None
        return members.list.eval(miss).list.join("")

    def _member_checks(self, members: pl.Expr, col: Col) -> tuple[pl.Expr, ...]:
        return tuple(members.list.eval(c).list.any().fill_null(False) for c in col.checks)

    def _call_count(self, node: ast.Call, in_member: bool) -> Col:
        members = self._members(node, in_member)
        if len(node.args) == 1:
            out = self._agg(members, members.list.len().cast(pl.Int64), None)
            return Col(out.value, "int", out.miss)
        cond = self.compile(node.args[1], True)
        n = members.list.eval(cond.value.fill_null(False).cast(pl.Int64)).list.sum()
        unknown = members.list.eval(cond.value.is_null()).list.any()
        value = pl.when(unknown).then(pl.lit(None, pl.Int64)).otherwise(n)
        out = self._agg(members, value, self._member_miss(members, cond.miss))
        return Col(out.value, "int", out.miss, self._member_checks(members, cond))

    def _call_sum(self, node: ast.Call, in_member: bool) -> Col:
        members = self._members(node, in_member)
        term = self.compile(node.args[1], True)
        tv = as_dec(term) if term.kind == "dec" else term.value
        kind = term.kind
        zero = pl.lit(0, DEC if kind == "dec" else pl.Int64)
        if len(node.args) == 3:
            cond = self.compile(node.args[2], True)
            part = pl.when(cond.value.not_()).then(zero).otherwise(tv)
            bad = cond.value.is_null() | (cond.value & tv.is_null())
            elem_miss = cat(cond.miss, term.miss)
            if elem_miss is not None:
                elem_miss = pl.when(cond.value.not_()).then(EMPTY).otherwise(elem_miss)
            checks = self._member_checks(members, cond) + self._member_checks(members, term)
        else:
            part, bad, elem_miss = tv, tv.is_null(), term.miss
            checks = self._member_checks(members, term)
        # an aggregation inside list.eval: much faster than list.sum() on decimals
        total = members.list.eval(part.fill_null(zero).sum()).list.first().fill_null(zero)
        unknown = members.list.eval(bad.fill_null(True)).list.any()
        value = pl.when(unknown).then(_null(kind)).otherwise(total.cast(
            DEC if kind == "dec" else pl.Int64))
        out = self._agg(members, value, self._member_miss(members, elem_miss))
        return Col(out.value, kind, out.miss, checks)

    def _quantifier(self, node: ast.Call, in_member: bool, stop: bool) -> Col:
        members = self._members(node, in_member)
        cond = self.compile(node.args[1], True)
        hit = members.list.eval((cond.value == stop).fill_null(False)).list.any()
        unknown = members.list.eval(cond.value.is_null()).list.any()
        value = (pl.when(hit).then(pl.lit(stop)).when(unknown).then(pl.lit(None, pl.Boolean))
                 .otherwise(pl.lit(not stop)))
        inner = self._member_miss(members, cond.miss)
        miss = None if inner is None else pl.when(hit).then(EMPTY).otherwise(inner)
        out = self._agg(members, value, miss)
        return Col(out.value, "bool", out.miss, self._member_checks(members, cond))

    def _call_any(self, node: ast.Call, in_member: bool) -> Col:
        return self._quantifier(node, in_member, stop=True)

    def _call_all(self, node: ast.Call, in_member: bool) -> Col:
        return self._quantifier(node, in_member, stop=False)


def _kleene(cols: list[Col], op: str) -> Col:
    """Kleene and/or; a decisive result drops the missing facts read on the way."""
    values = [c.value for c in cols]
    value = values[0]
    for v in values[1:]:
        value = (value & v) if op == "and" else (value | v)
    miss = cat(*(c.miss for c in cols))
    if miss is not None:
        decisive = value.not_() if op == "and" else value
        miss = pl.when(decisive).then(EMPTY).otherwise(miss)
    return Col(value, "bool", miss, _checks(*cols))
