"""Compile the expression AST into polars expressions over a frame of households.

One handler per node kind, each returning a :class:`Col`: the value as a polars
expression (null = unknown, so ``&``/``|`` give Kleene logic), its kind
(``bool``, ``int``, ``dec``, ``str``, ``date``), the missing facts it read as a
string expression (each path followed by :data:`SEP`, mirroring exactly what the
reference closures keep in ``ctx.missing``), and row checks — boolean
expressions that are true where the reference would raise (division by zero, a
key missing from a parameter table) or where an integer quotient is not proven
to round like the reference's (huge operands), so those rows are handed to the
reference. A quotient that is rounded at once (``round``/``floor``/``ceil`` of
``a / b``, an amount ``monthly(a)`` with a rounding rule) is divided in exact
integers (:func:`quotient_is_exact`).
Numbers are exact. Where an expression only adds, subtracts, multiplies,
compares, takes min/max/abs or rounds, a number is a ``fix`` column: an
integer holding the value times ``10**scale`` (the scale and a bound on the
magnitude are known at compile time, so the compiler proves there is no
overflow; an ``Int64`` where the bound is below :data:`I64_BOUND`, else an
``Int128``; a money fact is the physical integer of its ``Decimal(38, 10)``
column, a rate like 0.737 is 737 at scale 3). Integer arithmetic is several
times faster than polars' Decimal. Any other division (and ``monthly``)
uses ``Decimal(38, 10)`` (kind ``dec``); an expression whose exact value would not fit
either way is compiled in Decimal throughout (:class:`NeedDecimal`).
Parameters are literals for one ``as_of``. A construct this backend cannot
express raises :class:`Unsupported` with its position, once, at compile time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from eligibility.compile.closures import NoValue
from eligibility.expr import ast
from eligibility.limits import MAX_NUMBER_EXPONENT

#: Numbers that need Decimal (quotients) are fixed-point decimals with ten places.
SCALE = 10
DEC = pl.Decimal(38, SCALE)
#: Exact fixed-point numbers: the value times 10**scale as a 128-bit integer.
FIX = pl.Int128()
#: Largest magnitude a ``fix`` value may reach (Int128 holds 1.7e38; Decimal(38) 1e38).
FIX_LIMIT = 10**37
#: A ``fix`` value whose bound is below this is an Int64 (twice it still fits, so a sum,
#: a difference or a rounding offset of two such values cannot overflow); the operation
#: whose result may exceed it widens an operand to Int128 first (:func:`widen`).
I64_BOUND = 2**62
#: Magnitude of an Int64 column whose range is unknown.
INT_BOUND = 2**63
#: Default bound of a number fact without a schema maximum (the validator's limit).
NUMBER_BOUND = 10**MAX_NUMBER_EXPONENT
#: Bound on the number of members an aggregate sums over (generous; validator: ≤ 100).
MEMBERS_BOUND = 1000
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


class NeedDecimal(Unsupported):
    """An exact ``fix`` value that would not fit: compile the expression in Decimal."""


@dataclass(frozen=True)
class Col:
    """One compiled expression (see module docstring)."""

    value: pl.Expr
    kind: str
    miss: pl.Expr | None = None  # None: never reads a missing fact
    checks: tuple[pl.Expr, ...] = ()
    scale: int = 0  # kind fix: value = physical / 10**scale
    bound: int = INT_BOUND  # kinds int and fix: |physical| <= bound
    #: kind int: (lowest, highest) value where known (schema limits, literals, an if's
    #: branches); None: unknown
    span: tuple[int, int] | None = None

    def but(self, value: pl.Expr, **changes: Any) -> Col:
        """This column with another value (and optionally kind, scale, bound, span;
        the span is dropped unless given: another value may have another range)."""
        changes.setdefault("span", None)
        return replace(self, value=value, **changes)


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


def coarse_column(path: str) -> str:
    """The plan's column of a number fact read at a smaller scale (see Scope.scales)."""
    return f"__o.{path}"


def coarse_value(path: str, scale: int, bound: int | None = None) -> pl.Expr:
    """That column: the fact's ``Decimal(38, 10)`` physical value at ``scale``; an
    Int64 where ``bound`` (the largest magnitude of the fact's values) proves that
    the physical value fits one."""
    unit = 10 ** (SCALE - scale)
    if bound is not None and bound * 10**SCALE < I64_BOUND:
        return pl.col(path).to_physical().cast(pl.Int64).floordiv(unit)
    return pl.col(path).to_physical().floordiv(pl.lit(unit, FIX))


def fix_dtype(bound: int) -> pl.DataType:
    """The integer type of a ``fix`` value of magnitude at most ``bound``."""
    return pl.Int64() if bound < I64_BOUND else FIX


def widen(value: pl.Expr, bound: int) -> pl.Expr:
    """``value`` as an operand of an operation whose result may reach ``bound``:
    cast to Int128 unless Int64 holds that result (an Int128 operand makes polars
    compute in Int128)."""
    return value if bound < I64_BOUND else value.cast(FIX)


def fix_lit(value: int, bound: int | None = None) -> pl.Expr:
    """An integer literal for ``fix`` arithmetic whose result may reach ``bound``."""
    big = max(abs(value), bound if bound is not None else 0)
    return pl.lit(value, fix_dtype(big))


def fix_parts(value: Decimal) -> tuple[int, int]:
    """A finite Decimal as (physical integer, scale): 0.737 -> (737, 3)."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    scale = max(0, -exponent)
    return int(value.scaleb(scale)), scale


def lit_value(value: Any, exact: bool = False) -> Col:
    """A Python value (literal or parameter) as a polars literal (``exact``: a
    fractional Decimal as ``fix``)."""
    if isinstance(value, bool):
        return Col(pl.lit(value, pl.Boolean), "bool")
    if isinstance(value, int):
        return Col(pl.lit(value, pl.Int64), "int", bound=abs(value), span=(value, value))
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and abs(value) < 2**62:
            whole = int(value)
            return Col(pl.lit(whole, pl.Int64), "int", bound=abs(whole), span=(whole, whole))
        if exact:
            physical, scale = fix_parts(value)
            if abs(physical) <= FIX_LIMIT:
                return Col(fix_lit(physical), "fix", scale=scale, bound=abs(physical))
        return Col(pl.lit(value, DEC), "dec")
    if isinstance(value, str):
        return Col(pl.lit(value, pl.String), "str")
    if isinstance(value, date):
        return Col(pl.lit(value, pl.Date), "date")
    raise Unsupported(f"a value of type {type(value).__name__} has no polars form")


def _plain(value: Any, kind: str, scale: int = 0) -> Any:
    """A table value as the Python value of its column kind (``fix``: the physical
    integer at ``scale``)."""
    if kind == "dec":
        return Decimal(value)
    if kind == "fix":
        return int(Decimal(value).scaleb(scale))
    if kind == "int" and isinstance(value, Decimal):
        return int(value)
    return value


NUMERIC = ("int", "fix", "dec")


def as_dec(col: Col) -> pl.Expr:
    """The value as ``Decimal(38, 10)`` (exact: a ``fix`` of more places cannot be)."""
    if col.kind == "dec":
        return col.value
    if col.kind == "fix":
        if col.scale > SCALE:
            raise NeedDecimal(f"a value with {col.scale} decimal places used with a quotient")
        return fix_decimal(col.value, col.scale).cast(DEC)
    return col.value.cast(DEC)


def check_bound(bound: int) -> int:
    if bound > FIX_LIMIT:
        raise NeedDecimal("an exact value could exceed 128 bits")
    return bound


def as_fix(col: Col, scale: int | None = None) -> Col:
    """An ``int`` or ``fix`` column as ``fix`` at ``scale`` (default: its own)."""
    if col.kind == "int":
        col = col.but(widen(col.value, col.bound), kind="fix", scale=0)
    assert col.kind == "fix"
    if scale is None or scale == col.scale:
        return col
    factor = 10 ** (scale - col.scale)
    bound = check_bound(col.bound * factor)
    return col.but(widen(col.value, bound) * fix_lit(factor, bound), scale=scale, bound=bound)


def numeric_kind(*cols: Col) -> str | None:
    """The common numeric kind of ``cols`` (None if one is not a number)."""
    kinds = {c.kind for c in cols}
    if not kinds <= set(NUMERIC):
        return None
    return "dec" if "dec" in kinds else "fix" if "fix" in kinds else "int"


def aligned(*cols: Col) -> tuple[list[pl.Expr], str, int, int]:
    """Values of the same kind (and scale): (values, kind, scale, bound)."""
    kind = numeric_kind(*cols)
    if kind == "int":
        return [c.value for c in cols], "int", 0, max(c.bound for c in cols)
    if kind == "dec":
        return [as_dec(c) for c in cols], "dec", 0, 0
    if kind == "fix":
        scale = max(c.scale for c in cols if c.kind == "fix")
        fixed = [as_fix(c, scale) for c in cols]
        return [f.value for f in fixed], "fix", scale, max(f.bound for f in fixed)
    return [c.value for c in cols], cols[0].kind, 0, 0


def _numeric_pair(a: Col, b: Col) -> tuple[pl.Expr, pl.Expr, str]:
    (x, y), kind, _, _ = aligned(a, b)
    return x, y, kind


def dtype_of(kind: str) -> pl.DataType:
    return {"bool": pl.Boolean(), "int": pl.Int64(), "dec": DEC, "fix": FIX,
            "str": pl.String(), "date": pl.Date()}[kind]


def _null(kind: str, bound: int | None = None) -> pl.Expr:
    """A null of the kind (a ``fix`` of magnitude ``bound``: Int64 where that holds it)."""
    if kind == "fix" and bound is not None:
        return pl.lit(None, fix_dtype(bound))
    return pl.lit(None, dtype_of(kind))


def negate(value: pl.Expr, kind: str) -> pl.Expr:
    """``-value`` (polars has no negation of Int128: subtract from zero; an Int64
    ``fix`` stays Int64)."""
    return pl.lit(0, pl.Int64) - value if kind == "fix" else -value


def fix_round(col: Col, places: int, how: str = "half_up") -> Col:
    """A ``fix`` rounded to ``places`` (``half_up``: half away from zero, like Decimal's
    ROUND_HALF_UP; ``floor``: towards minus infinity, ROUND_FLOOR)."""
    if col.scale <= places:
        return col
    q = 10 ** (col.scale - places)
    if how == "floor":
        value = col.value.floordiv(fix_lit(q, col.bound))
    else:  # |value| + q // 2 < 2 * I64_BOUND when both are Int64
        mag = (col.value.abs() + fix_lit(q // 2, col.bound)).floordiv(fix_lit(q, col.bound))
        value = pl.when(col.value < 0).then(negate(mag, "fix")).otherwise(mag)
    return col.but(value, scale=places, bound=col.bound // q + 1)


def fix_decimal(value: pl.Expr, scale: int) -> pl.Expr:
    """A ``fix`` value as ``Decimal(38, scale)`` (exact: its physical value is the same)."""
    unit = pl.lit(Decimal(1).scaleb(-scale), pl.Decimal(38, scale))
    return value.cast(pl.Decimal(38, 0)) * unit


def round_half_up(value: pl.Expr, places: int) -> pl.Expr:
    """Round a Decimal expression half away from zero (Decimal's ROUND_HALF_UP)."""
    factor = pl.lit(Decimal(10) ** places, DEC)
    half = pl.lit(Decimal("0.5"), DEC)
    mag = (value.abs() * factor + half).floor() / factor
    return pl.when(value < 0).then(-mag).otherwise(mag).cast(pl.Decimal(38, places))


@dataclass
class Hoisted:
    """Sub-expressions that several plan columns read (a parameter table's position
    from its keys, a hashed look-up's value), each computed once as a plan column
    ``__t<i>``. Filled while one plan compiles; owned by that plan."""

    columns: list[tuple[str, pl.Expr]] = field(default_factory=list)

    def column(self, expr: pl.Expr) -> pl.Expr:
        """A reference to the plan column computing ``expr`` (added on first use)."""
        for name, known in self.columns:
            if known.meta.eq(expr):
                return pl.col(name)
        name = f"__t{len(self.columns)}"
        self.columns.append((name, expr))
        return pl.col(name)

    def __len__(self) -> int:
        return len(self.columns)

    def truncate(self, mark: int) -> None:
        """Forget the columns added since ``len(self) == mark`` (their reader failed)."""
        del self.columns[mark:]


@dataclass
class Scope:
    """How names resolve for one expression context."""

    facts: Mapping[str, str]  # dotted path -> kind
    member_fields: Mapping[str, str]  # field -> kind
    columns: Mapping[str, Col]  # criteria.x / let names / amount -> column Col
    params: Mapping[str, Any]
    as_of: date
    where: str = ""
    #: fact path / member field -> largest magnitude its schema allows
    bounds: Mapping[str, int] = field(default_factory=dict)
    #: number fact path -> places its values have in this frame (default: all ten)
    scales: Mapping[str, int] = field(default_factory=dict)
    #: int fact path -> (minimum, maximum) the schema allows
    spans: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    #: where shared sub-expressions go (None: each reader computes its own)
    hoisted: Hoisted | None = None

    def hoist(self, expr: pl.Expr) -> pl.Expr:
        return expr if self.hoisted is None else self.hoisted.column(expr)

    def hoist_costly(self, expr: pl.Expr) -> pl.Expr:
        """``expr`` hoisted unless it is a column or a literal (as cheap to read again)."""
        if expr.meta.is_column() or expr.meta.is_literal():
            return expr
        return self.hoist(expr)


class Compiler:
    """Compiles AST nodes under one :class:`Scope` (see module docstring); ``exact``:
    numbers as ``fix`` where they can be."""

    def __init__(self, scope: Scope, exact: bool = False) -> None:
        self.scope = scope
        self.exact = exact

    def _fact(self, name: str, value: pl.Expr, kind: str) -> tuple[pl.Expr, str, int, int]:
        """A fact column's value, kind, scale and bound in this compiler's mode."""
        bound = self.scope.bounds.get(name, NUMBER_BOUND if kind == "dec" else INT_BOUND)
        if kind == "dec" and self.exact:
            scale = self.scope.scales.get(name, SCALE)
            physical = value.to_physical()
            if scale < SCALE and not name.startswith("members."):
                physical = pl.col(coarse_column(name))  # computed once by the plan
            elif scale < SCALE:  # the frame's values have no more places than this
                physical = physical.floordiv(pl.lit(10 ** (SCALE - scale), FIX))
            return physical, "fix", scale, check_bound(bound * 10**scale)
        return value, kind, 0, bound

    def compile(self, node: ast.Node, in_member: bool = False) -> Col:
        handler: Callable[[Any, bool], Col] = getattr(self, "_" + type(node).__name__)
        return handler(node, in_member)

    def refuse(self, node: ast.Node, message: str) -> Unsupported:
        return Unsupported(message, self.scope.where, node.start)

    # literals -------------------------------------------------------------
    def _literal(self, node: ast.Number | ast.String | ast.Boolean | ast.DateLit,
                 in_member: bool) -> Col:
        return lit_value(node.value, self.exact)

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
            read, kind, scale, bound = self._fact(f"members.{dotted}", value,
                                                  scope.member_fields[dotted])
            return Col(read, kind, pl.when(value.is_null()).then(path).otherwise(EMPTY),
                       scale=scale, bound=bound)
        if dotted == "as_of":
            return lit_value(scope.as_of)
        if in_member:
            raise self.refuse(node, f"{dotted!r} read inside a member aggregate (polars "
                                    "cannot read a household column inside list.eval)")
        if dotted in scope.columns:
            col = scope.columns[dotted]
            miss = None if col.miss is None else (
                pl.when(col.value.is_null()).then(col.miss).otherwise(EMPTY))
            out = Col(col.value, col.kind, miss, scale=col.scale, bound=col.bound,
                      span=col.span)
            if out.kind == "fix" and not self.exact:
                return out.but(as_dec(out), kind="dec", scale=0)
            return out
        if dotted in scope.facts:
            value = pl.col(dotted)
            read, kind, scale, bound = self._fact(dotted, value, scope.facts[dotted])
            return Col(read, kind,
                       pl.when(value.is_null()).then(pl.lit(dotted + SEP)).otherwise(EMPTY),
                       scale=scale, bound=bound,
                       span=scope.spans.get(dotted) if kind == "int" else None)
        raise self.refuse(node, f"name {dotted!r} has no column")

    # operators ------------------------------------------------------------
    def _Unary(self, node: ast.Unary, in_member: bool) -> Col:
        inner = self.compile(node.operand, in_member)
        value = inner.value.not_() if node.op == "not" else negate(inner.value, inner.kind)
        return inner.but(value)

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
        if node.op == "*" and numeric_kind(a, b) == "fix":
            fa, fb = as_fix(a), as_fix(b)
            bound = check_bound(fa.bound * fb.bound)
            return Col(widen(fa.value, bound) * fb.value, "fix", miss, checks,
                       scale=fa.scale + fb.scale, bound=bound)
        (x, y), kind, scale, bound = aligned(a, b)
        if kind == "fix":
            bound = check_bound(2 * bound)
            x = widen(x, bound)
        value = {"+": x + y, "-": x - y, "*": x * y}[node.op]
        if kind == "int":  # Int64 as before; the bound only matters once it is a fix
            bound = a.bound * b.bound if node.op == "*" else a.bound + b.bound
        return Col(value, kind, miss, checks, scale=scale, bound=bound)

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
                numbers = any(isinstance(c, Decimal) for c in choices) or left.kind in (
                    "fix", "dec")
                probe = as_dec(left) if left.kind == "fix" else left.value
                series = pl.Series([Decimal(c) for c in choices], dtype=DEC) if numbers and all(
                    isinstance(c, int | Decimal) and not isinstance(c, bool)
                    for c in choices) else pl.Series(choices)
                if len(choices) <= 16:  # a few equalities beat is_in (a hash set)
                    hit = pl.any_horizontal([(probe == pl.lit(c, series.dtype)).fill_null(False)
                                             for c in series])
                else:
                    hit = probe.is_in(pl.lit(series).implode())
                value = pl.when(left.value.is_null()).then(pl.lit(None, pl.Boolean)).otherwise(
                    hit.not_() if negate else hit)
                return Col(value, "bool", left.miss, left.checks)
            pairs = [_numeric_pair(left, i)[:2] for i in items]
            found = pl.any_horizontal([(x == y).fill_null(False) for x, y in pairs])
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
        (tv, ev), kind, scale, bound = aligned(t, e)
        if not in_member:  # the chain reads each branch two or three times
            tv, ev = self.scope.hoist_costly(tv), self.scope.hoist_costly(ev)
        same = (tv == ev).fill_null(False)
        # true: then; false: else; unknown: then if both branches agree, else unknown
        value = pl.when(c.value.fill_null(same)).then(tv).when(c.value.is_not_null()).then(ev)
        miss = None
        if c.miss is not None or t.miss is not None or e.miss is not None:
            miss = (pl.when(c.value).then(cat(c.miss, t.miss, EMPTY))
                    .when(c.value.not_()).then(cat(c.miss, e.miss, EMPTY))
                    .when(same).then(EMPTY)
                    .otherwise(cat(c.miss, t.miss, e.miss, EMPTY)))
        span = None
        if kind == "int" and t.span is not None and e.span is not None:
            span = (min(t.span[0], e.span[0]), max(t.span[1], e.span[1]))
        return Col(value, kind, miss, _checks(c, t, e), scale=scale, bound=bound, span=span)

    # calls ----------------------------------------------------------------
    def _Call(self, node: ast.Call, in_member: bool) -> Col:
        handler = getattr(self, "_call_" + node.func, None)
        if handler is None:
            raise self.refuse(node, f"function {node.func!r} has no polars form")
        result: Col = handler(node, in_member)
        return result

    def _args(self, node: ast.Call, in_member: bool) -> list[Col]:
        return [self.compile(a, in_member) for a in node.args]

    def _strict(self, args: list[Col], value: pl.Expr, kind: str, scale: int = 0,
                bound: int = INT_BOUND) -> Col:
        """A function of its arguments, unknown as soon as one argument is."""
        if len(args) > 1:
            any_null = pl.any_horizontal([a.value.is_null() for a in args])
            value = pl.when(any_null).then(_null(kind, bound)).otherwise(value)
        return Col(value, kind, cat(*(a.miss for a in args)), _checks(*args), scale=scale,
                   bound=bound)

    def _extreme(self, node: ast.Call, in_member: bool, pick: Callable[..., pl.Expr]) -> Col:
        args = self._args(node, in_member)
        if numeric_kind(*args) is None:
            raise self.refuse(node, "min/max of something that is not a number")
        values, kind, scale, bound = aligned(*args)
        smaller = pick is pl.min_horizontal
        out = values[0]
        for v in values[1:]:
            out = _least(out, v, kind, bound) if smaller else _greatest(out, v, kind, bound)
        return Col(out, kind, cat(*(a.miss for a in args)), _checks(*args), scale=scale,
                   bound=bound)

    def _call_min(self, node: ast.Call, in_member: bool) -> Col:
        return self._extreme(node, in_member, pl.min_horizontal)

    def _call_max(self, node: ast.Call, in_member: bool) -> Col:
        return self._extreme(node, in_member, pl.max_horizontal)

    def _call_abs(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        return a.but(a.value.abs())

    def _to_int(self, a: Col, how: str) -> Col:
        if a.kind == "int":
            return a
        if a.kind == "fix":
            if how == "floor":
                value = fix_round(a, 0, "floor").value
            else:
                value = negate(fix_round(a.but(negate(a.value, "fix")), 0, "floor").value,
                               "fix")
            return self._strict([a], value.cast(pl.Int64), "int",
                                bound=a.bound // 10**a.scale + 1)
        value = as_dec(a).floor() if how == "floor" else as_dec(a).ceil()
        return self._strict([a], value.cast(pl.Int64), "int")

    def rounded_quotient(self, node: ast.Node, places: int, how: str,
                         in_member: bool = False) -> Col | None:
        """``node`` (``a / b`` or ``monthly(a)``) rounded to ``places`` (``how``:
        ``half_up``, ``floor``, ``ceil``) in exact integers, as ``fix`` at ``places``;
        None where the operands are not exact integers or the result could differ
        from the reference's (see :func:`quotient_is_exact`)."""
        if not self.exact or in_member or places >= REFERENCE_DIGITS - 1:
            return None
        if isinstance(node, ast.Binary) and node.op == "/":
            a, b = self.compile(node.left), self.compile(node.right)
        elif isinstance(node, ast.Call) and node.func == "monthly" and len(node.args) == 1:
            a, b = self.compile(node.args[0]), lit_value(12)
        else:
            return None
        if numeric_kind(a, b) not in ("int", "fix"):
            return None
        try:
            (n, d), _, _, _ = aligned(as_fix(a), as_fix(b))  # the same scale: q = n / d
            scale = max(as_fix(a).scale, as_fix(b).scale)
            num_bound = as_fix(a, scale).bound
            den_bound = as_fix(b, scale).bound
            factor = 10**places
            check_bound(2 * num_bound * factor + den_bound)
        except NeedDecimal:
            return None
        n, d = n.cast(FIX), d.cast(FIX)  # the bounds below are checked against Int128
        zero = d == 0
        checks = [*_checks(a, b), zero.fill_null(False)]
        if not quotient_is_exact(num_bound, den_bound, places):
            # the rows where the proof's condition |n| * |d| < 10**(27 - places) does
            # not hold (only huge values) go to the reference
            limit = pl.lit(10 ** (REFERENCE_DIGITS - 1 - places) - 1, FIX)
            big = n.abs() > limit.floordiv(pl.when(zero).then(pl.lit(1, FIX))
                                           .otherwise(d.abs()))
            checks.append(big.fill_null(False))
        den = pl.when(zero).then(pl.lit(None, FIX)).otherwise(d)
        num = n * pl.lit(factor, FIX) if places else n
        mag_n, mag_d = num.abs(), den.abs()
        negative = (num < 0) != (den < 0)
        if how == "half_up":  # half away from zero, like ROUND_HALF_UP
            mag = (mag_n * pl.lit(2, FIX) + mag_d).floordiv(mag_d * pl.lit(2, FIX))
            value = pl.when(negative).then(negate(mag, "fix")).otherwise(mag)
        else:
            down = mag_n.floordiv(mag_d)
            up = (mag_n + mag_d - pl.lit(1, FIX)).floordiv(mag_d)
            away = up if how == "ceil" else down  # for positive quotients
            toward = down if how == "ceil" else up  # magnitude when negative
            value = pl.when(negative).then(negate(toward, "fix")).otherwise(away)
        miss = cat(a.miss, b.miss)
        return Col(value, "fix", miss, tuple(checks), scale=places,
                   bound=num_bound * factor + 1)

    def _quotient_to_int(self, node: ast.Call, in_member: bool, how: str,
                         places: int = 0) -> Col | None:
        q = self.rounded_quotient(node.args[0], places, how, in_member)
        if q is None or places or q.bound >= 2**62:
            return q
        return q.but(q.value.cast(pl.Int64), kind="int", scale=0)

    def _call_floor(self, node: ast.Call, in_member: bool) -> Col:
        exact = self._quotient_to_int(node, in_member, "floor")
        if exact is not None:
            return exact
        return self._to_int(self._args(node, in_member)[0], "floor")

    def _call_ceil(self, node: ast.Call, in_member: bool) -> Col:
        exact = self._quotient_to_int(node, in_member, "ceil")
        if exact is not None:
            return exact
        return self._to_int(self._args(node, in_member)[0], "ceil")

    def _call_round(self, node: ast.Call, in_member: bool) -> Col:
        digits = int(node.args[1].value) if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        if digits >= 0:
            exact = self._quotient_to_int(node, in_member, "half_up", digits)
            if exact is not None:
                return exact
        a = self.compile(node.args[0], in_member)
        if a.kind == "int":
            return a
        if a.kind == "fix":
            out = fix_round(a, digits)
            if digits == 0:
                return out.but(out.value.cast(pl.Int64), kind="int", scale=0)
            return out
        rounded = round_half_up(as_dec(a), digits)
        if digits == 0:
            return Col(rounded.cast(pl.Int64), "int", a.miss, a.checks)
        return Col(rounded.cast(DEC), "dec", a.miss, a.checks)

    def _call_yearly(self, node: ast.Call, in_member: bool) -> Col:
        (a,) = self._args(node, in_member)
        if a.kind == "fix":
            bound = check_bound(a.bound * 12)
            return a.but(widen(a.value, bound) * fix_lit(12, bound), bound=bound)
        return a.but(a.value * 12, bound=a.bound * 12)

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
            return lit_value(value, self.exact)
        # flatten the table to (key tuple, value) pairs
        entries: list[tuple[tuple[Any, ...], Any]] = [((), value)]
        for _ in keys:
            nxt: list[tuple[tuple[Any, ...], Any]] = []
            for prefix, table in entries:
                if not isinstance(table, Mapping):
                    raise self.refuse(node, f"parameter {name!r} has fewer keys than given")
                nxt.extend(((*prefix, k), v) for k, v in table.items())
            entries = nxt
        leaves = [lit_value(v, self.exact) for _, v in entries]
        kinds = {c.kind for c in leaves}
        kind = numeric_kind(*leaves) or leaves[0].kind
        if len(kinds - set(NUMERIC)) and len(kinds) > 1:
            raise self.refuse(node, f"parameter {name!r} mixes value types")
        scale = max((c.scale for c in leaves), default=0) if kind == "fix" else 0
        bound = max((c.bound for c in leaves), default=0) * 10**scale
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
        if in_member:
            raise self.refuse(node, "a parameter table looked up inside a member aggregate")
        dtype = fix_dtype(bound) if kind == "fix" else dtype_of(kind)
        new = [_plain(v, kind, scale) for _, v in entries]
        dense = _dense_table(keys, entries, new, dtype, self.scope) if ints else None
        if dense is not None:
            result, total = dense
        else:
            result, total = self.scope.hoist(combined.replace_strict(
                old, pl.Series(new, dtype=dtype), default=None, return_dtype=dtype)), False
        # a known key finds no entry: the reference raises (none can where it is total)
        not_found = () if total else ((known & result.is_null()).fill_null(False),)
        # keys are read one by one; a later key is not read once an earlier one is unknown
        miss: pl.Expr | None = None
        for i, k in enumerate(keys):
            if k.miss is None:
                continue
            earlier = [kk.value.is_not_null() for kk in keys[:i]]
            part = k.miss if not earlier else (
                pl.when(pl.all_horizontal(earlier)).then(k.miss).otherwise(EMPTY))
            miss = cat(miss, part)
        return Col(result, kind, miss, (*_checks(*keys), *not_found), scale=scale,
                   bound=check_bound(bound) if kind == "fix" else bound)

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
            return Col(out.value, "int", out.miss, bound=MEMBERS_BOUND)
        cond = self.compile(node.args[1], True)
        n = members.list.eval(cond.value.fill_null(False).cast(pl.Int64)).list.sum()
        unknown = members.list.eval(cond.value.is_null()).list.any()
        value = pl.when(unknown).then(pl.lit(None, pl.Int64)).otherwise(n)
        out = self._agg(members, value, self._member_miss(members, cond.miss))
        return Col(out.value, "int", out.miss, self._member_checks(members, cond),
                   bound=MEMBERS_BOUND)

    def _call_sum(self, node: ast.Call, in_member: bool) -> Col:
        members = self._members(node, in_member)
        term = self.compile(node.args[1], True)
        tv = as_dec(term) if term.kind == "dec" else term.value
        kind = term.kind
        zero = pl.lit(0, dtype_of(kind) if kind in NUMERIC else pl.Int64)
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
            dtype_of(kind) if kind in NUMERIC else pl.Int64))
        out = self._agg(members, value, self._member_miss(members, elem_miss))
        bound = term.bound * MEMBERS_BOUND
        return Col(out.value, kind, out.miss, checks, scale=term.scale,
                   bound=check_bound(bound) if kind == "fix" else bound)

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


#: Significant digits of the reference's quotients (Python's default Decimal context).
REFERENCE_DIGITS = 28


def quotient_is_exact(num_bound: int, den_bound: int, places: int) -> bool:
    """Whether rounding ``n / d`` to ``places`` in exact integers gives what the
    reference gives, for every ``|n| <= num_bound`` and ``0 < |d| <= den_bound``.

    The reference divides in Decimal (the quotient rounded to 28 significant digits)
    and then rounds (half up, floor or ceiling). If the exact quotient q is not a
    rounding boundary (a multiple of 10**-places, or a half of one), it lies at least
    1 / (2 * |d| * 10**places) from the nearest boundary, while the 28-digit quotient
    is within half a unit of its 28th digit: 0.5 * 10**(M - 28) for |q| < 10**M. If
    that is smaller, both sides of the boundary agree. A q exactly on a boundary has
    at most places + 1 decimals and M + places + 1 <= 28 digits, so the reference
    keeps it exactly. Both hold when den_bound * 10**(places + M) < 10**28, with
    10**M > num_bound (|q| <= |n| since |d| >= 1). Where the bounds do not give
    that, the same holds row by row when |n| * |d| < 10**(27 - places) (take the
    smallest M with 10**M > |n|: 10**M <= 10 * |n|); :meth:`Compiler.rounded_quotient`
    hands the other rows to the reference.
    """
    digits = len(str(num_bound))  # 10**digits > num_bound
    return den_bound * 10 ** (places + digits) < 10**REFERENCE_DIGITS and \
        digits + places + 1 <= REFERENCE_DIGITS


def _pair_by_size(x: pl.Expr, y: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(larger, smaller) expression tree: the smaller one is the one read twice."""
    return (x, y) if len(str(x)) >= len(str(y)) else (y, x)


def _least(x: pl.Expr, y: pl.Expr, kind: str, bound: int) -> pl.Expr:
    """min(x, y), unknown when either is. Integers: ``y + min(x - y, 0)``, which reads
    the larger tree once (polars does not always share the sub-expressions of a
    when/then chain); else a when/then without ``otherwise``."""
    if kind == "fix" or (kind == "int" and 2 * bound < INT_BOUND):
        if kind == "fix":
            check_bound(2 * bound)
        x, y = _pair_by_size(x, y)
        return y + (x - y).clip(upper_bound=0)
    first = x <= y
    return pl.when(first).then(x).when(first.not_()).then(y)


def _greatest(x: pl.Expr, y: pl.Expr, kind: str, bound: int) -> pl.Expr:
    """max(x, y), unknown when either is (see :func:`_least`)."""
    if kind == "fix" or (kind == "int" and 2 * bound < INT_BOUND):
        if kind == "fix":
            check_bound(2 * bound)
        x, y = _pair_by_size(x, y)
        return y + (x - y).clip(lower_bound=0)
    first = x >= y
    return pl.when(first).then(x).when(first.not_()).then(y)


#: Largest dense table (product of the key ranges) looked up by position.
DENSE_TABLE = 65536


def _dense_table(keys: list[Col], entries: list[tuple[tuple[Any, ...], Any]],
                 values: list[Any], dtype: pl.DataType,
                 scope: Scope) -> tuple[pl.Expr, bool] | None:
    """An integer-keyed table as one array indexed by the keys' position (a gather:
    cheaper than a hash look-up); None where the key ranges are too wide. A key
    outside the table or an absent entry gives null, like the hash look-up. The
    position (null outside the table) is hoisted: tables with the same keys and
    ranges, and the row check, share it. Also says whether the look-up is total: every
    key's span lies inside the table and every entry is there, so a known key always
    finds a value (no row check, no range test; a fact's span is the schema's limits,
    which the facts frame holds to: it nulls a value outside them)."""
    lows = [min(t[i] for t, _ in entries) for i in range(len(keys))]
    highs = [max(t[i] for t, _ in entries) for i in range(len(keys))]
    sizes = [h - lo + 1 for lo, h in zip(lows, highs, strict=True)]
    total = 1
    for size in sizes:
        total *= size
    if total > DENSE_TABLE:
        return None
    strides = [1] * len(keys)
    for i in range(len(keys) - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    table: list[Any] = [None] * total
    for (key_tuple, _), value in zip(entries, values, strict=True):
        table[sum((part - lo) * st for part, lo, st in zip(key_tuple, lows, strides,
                                                            strict=True))] = value
    index = sum(((k.value.cast(pl.Int64) - lo) * st
                 for k, lo, st in zip(keys, lows, strides, strict=True)), pl.lit(0, pl.Int64))
    inside = pl.all_horizontal([(k.value >= lo) & (k.value <= hi)
                                for k, lo, hi in zip(keys, lows, highs, strict=True)])
    total = None not in table and all(
        k.span is not None and lo <= k.span[0] and k.span[1] <= hi
        for k, lo, hi in zip(keys, lows, highs, strict=True))
    position = scope.hoist(index if total else pl.when(inside).then(index))
    return pl.lit(pl.Series(table, dtype=dtype)).gather(position), total


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
