"""Compile expression ASTs into Python closures: the reference semantics.

Each node becomes a function ``f(ctx) -> value``. Values are Python ``bool``,
``int``, :class:`~decimal.Decimal`, ``str``, ``date`` or :data:`UNKNOWN`.
Three-valued logic follows Kleene: ``false and unknown`` is false, ``true or
unknown`` is true. Whenever a sub-expression's unknown turns out not to matter,
the missing facts it recorded are dropped again, so a decision lists only the
questions that would change it. Closures are built once per pack and are pure
functions of the context, hence safe to share between threads; those a resolver's
``keep`` names also keep their value in the context's caches (:func:`keeping`), for
the calculation recorder to read (:func:`read_kept`) instead of computing it again.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.errors import AsOfError, EvaluationError
from eligibility.expr import ast

Fn = Callable[[Ctx], Any]
#: a closure of either compiler (see :class:`CompilerBase`)
AnyFn = Callable[[Any], Any]


class NoValue:
    """A parameter without a value at the evaluation date (before its first date, or closed)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class Resolver:
    """How names compile: the pack supplies one per expression context."""

    def __init__(
        self,
        facts: frozenset[str],
        member_fields: frozenset[str],
        criteria: Mapping[str, Fn],
        lets: Mapping[str, Fn] | None = None,
        where: str = "",
        keep: Mapping[int, str] | None = None,
        keep_in: str = "lets",
    ) -> None:
        self.facts = facts
        self.member_fields = member_fields
        self.criteria = criteria
        self.lets = lets or {}
        self.where = where
        #: node identity → the key under which the node's closure keeps its value in
        #: the evaluation's ``keep_in`` cache ("lets" or "crit"; see :func:`keeping`)
        self.keep = keep or {}
        self.keep_in = keep_in


def compile_expr(node: ast.Node, res: Resolver) -> Fn:
    """Compile ``node`` (already type-checked) into a closure."""
    return _Compiler(res).compile(node, in_member=False)


def _years_between(start: date, end: date) -> int:
    years = end.year - start.year
    if (end.month, end.day) < (start.month, start.day):
        years -= 1
    return years


def _months_between(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return months


def _no_value(name: str, ctx: Ctx, where: str) -> AsOfError:
    """The error for a parameter read on a date it has no value for."""
    return AsOfError(f"parameter {name!r} has no value on {ctx.as_of.isoformat()} "
                     f"(used in {where})")


def _norm_key(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


class CompilerBase:
    """What the three-valued compiler here and the two-valued one of
    :mod:`eligibility.compile.fast` share: dispatch by node type, literals, and the
    calls whose closure differs only in how a function is applied to its arguments
    (:meth:`_apply`: unknown-strict here, plain there). Compile time only: the closures
    each compiler returns are its own, over the compiler's own argument (a
    :class:`Ctx` here, one household's environment there)."""

    def compile(self, node: ast.Node, in_member: bool) -> AnyFn:
        method = getattr(self, "_" + type(node).__name__)
        fn: AnyFn = method(node, in_member)
        return fn

    def _apply(self, args: list[AnyFn], fn: Callable[..., Any]) -> AnyFn:
        raise NotImplementedError

    def _literal(self, node: Any, in_member: bool) -> AnyFn:
        value = node.value
        return lambda ctx: value

    _Number = _String = _Boolean = _DateLit = _literal

    def _Compare(self, node: ast.Compare, in_member: bool) -> AnyFn:
        operands = node.operands
        pairs = tuple(self._compare_pair(op, operands[i], operands[i + 1], in_member)
                      for i, op in enumerate(node.ops))
        return pairs[0] if len(pairs) == 1 else self._all_of(pairs)

    def _compare_pair(self, op: str, left_node: ast.Node, right_node: ast.Node,
                      in_member: bool) -> AnyFn:
        """One link of a comparison chain; the closures come from the compiler's
        :meth:`_in_literal`, :meth:`_in_dynamic` and :meth:`_compare`."""
        left = self.compile(left_node, in_member)
        if op in ("in", "notin"):
            assert isinstance(right_node, ast.ListLit)
            items = [self.compile(i, in_member) for i in right_node.items]
            negate = op == "notin"
            if all(isinstance(i, ast.String | ast.Number | ast.Boolean)
                   for i in right_node.items):
                choices = frozenset(f(None) for f in items)
                return self._in_literal(left, choices, negate)
            return self._in_dynamic(left, items, negate)
        return self._compare(op, left, self.compile(right_node, in_member))

    def _all_of(self, fns: tuple[AnyFn, ...]) -> AnyFn:
        raise NotImplementedError

    def _in_literal(self, left: AnyFn, choices: frozenset[Any], negate: bool) -> AnyFn:
        raise NotImplementedError

    def _in_dynamic(self, left: AnyFn, items: list[AnyFn], negate: bool) -> AnyFn:
        raise NotImplementedError

    def _compare(self, op: str, left: AnyFn, right: AnyFn) -> AnyFn:
        raise NotImplementedError

    def _ListLit(self, node: ast.ListLit, in_member: bool) -> AnyFn:  # pragma: no cover
        raise AssertionError("list literal outside `in` passed the type checker")

    def _Call(self, node: ast.Call, in_member: bool) -> AnyFn:
        handler = getattr(self, "_call_" + node.func)
        result: Fn = handler(node, in_member)
        return result

    def _args(self, node: ast.Call, in_member: bool) -> list[AnyFn]:
        return [self.compile(a, in_member) for a in node.args]

    def _call_min(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._apply(self._args(node, in_member), min)

    def _call_max(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._apply(self._args(node, in_member), max)

    def _call_floor(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._apply(self._args(node, in_member), math.floor)

    def _call_ceil(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._apply(self._args(node, in_member), math.ceil)

    def _call_abs(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._apply(self._args(node, in_member), abs)

    def _date_fn(self, node: ast.Call, in_member: bool,
                 compute: Callable[[date, date], int]) -> AnyFn:
        raise NotImplementedError

    def _call_years_since(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._date_fn(node, in_member, _years_between)

    def _call_months_since(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._date_fn(node, in_member, _months_between)

    def _call_months_until(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._date_fn(node, in_member, lambda d, as_of: _months_between(as_of, d))

    def _quantifier(self, node: ast.Call, stop: bool) -> AnyFn:
        raise NotImplementedError

    def _call_any(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._quantifier(node, stop=True)

    def _call_all(self, node: ast.Call, in_member: bool) -> AnyFn:
        return self._quantifier(node, stop=False)


class _Compiler(CompilerBase):
    def __init__(self, res: Resolver) -> None:
        self.res = res

    def compile(self, node: ast.Node, in_member: bool) -> Fn:
        fn: Fn = super().compile(node, in_member)
        keep = self.res.keep
        if keep and not in_member:
            key = keep.get(id(node))
            if key is not None:
                return keeping(fn, key, self.res.keep_in)
        return fn

    def _apply(self, args: list[Fn], fn: Callable[..., Any]) -> Fn:
        return _strict_call(args, fn)

    # names ----------------------------------------------------------------
    def _Name(self, node: ast.Name, in_member: bool) -> Fn:
        dotted = node.dotted
        res = self.res
        if in_member and len(node.parts) == 1 and dotted in res.member_fields:
            field = dotted

            def member_field(ctx: Ctx) -> Any:
                value = ctx.member.get(field, UNKNOWN)
                if value is UNKNOWN:
                    ctx.missing.append(f"members[{ctx.member_index}].{field}")
                return value

            return member_field
        if dotted == "as_of":
            return lambda ctx: ctx.as_of
        if dotted == "amount":

            def amount(ctx: Ctx) -> Any:
                value, missing = ctx.amount
                if value is UNKNOWN:
                    ctx.missing.extend(missing)
                return value

            return amount
        if dotted in res.lets:
            return self._cached(dotted, res.lets[dotted], "lets")
        if node.parts[0] == "criteria" and dotted[9:] in res.criteria:
            return self._cached(dotted[9:], res.criteria[dotted[9:]], "crit")
        if dotted == "members":
            return lambda ctx: ctx.members
        if dotted in res.facts:
            key = dotted

            def fact(ctx: Ctx) -> Any:
                value = ctx.facts.get(key, UNKNOWN)
                if value is UNKNOWN:
                    ctx.missing.append(key)
                return value

            return fact
        raise AssertionError(f"unresolved name {dotted!r} passed the type checker")

    @staticmethod
    def _cached(key: str, fn: Fn, cache: str) -> Fn:
        """Evaluate ``fn`` once per evaluation; replay its missing facts on later reads."""
        if cache == "crit":

            def cached_criterion(ctx: Ctx) -> Any:
                store = ctx.crit
                hit = store.get(key)
                if hit is None:
                    missing = ctx.missing
                    mark = len(missing)
                    value = fn(ctx)
                    store[key] = (value, () if len(missing) == mark else tuple(missing[mark:]))
                    return value
                value = hit[0]
                if value is UNKNOWN:
                    ctx.missing.extend(hit[1])
                return value

            return cached_criterion
        assert cache == "lets"

        def cached(ctx: Ctx) -> Any:
            store = ctx.lets
            hit = store.get(key)
            if hit is None:
                missing = ctx.missing
                mark = len(missing)
                value = fn(ctx)
                store[key] = (value, () if len(missing) == mark else tuple(missing[mark:]))
                return value
            value = hit[0]
            if value is UNKNOWN:
                ctx.missing.extend(hit[1])
            return value

        return cached

    # operators ------------------------------------------------------------
    def _Unary(self, node: ast.Unary, in_member: bool) -> Fn:
        inner = self.compile(node.operand, in_member)
        if node.op == "not":

            def not_(ctx: Ctx) -> Any:
                value = inner(ctx)
                return value if value is UNKNOWN else not value

            return not_

        def neg(ctx: Ctx) -> Any:
            value = inner(ctx)
            return value if value is UNKNOWN else -value

        return neg

    def _Binary(self, node: ast.Binary, in_member: bool) -> Fn:
        left = self.compile(node.left, in_member)
        right = self.compile(node.right, in_member)
        op = node.op
        where = self.res.where
        if op == "+":

            def add(ctx: Ctx) -> Any:
                a, b = left(ctx), right(ctx)
                return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a + b

            return add
        if op == "-":

            def sub(ctx: Ctx) -> Any:
                a, b = left(ctx), right(ctx)
                return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a - b

            return sub
        if op == "*":

            def mul(ctx: Ctx) -> Any:
                a, b = left(ctx), right(ctx)
                return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a * b

            return mul

        def div(ctx: Ctx) -> Any:
            a, b = left(ctx), right(ctx)
            if a is UNKNOWN or b is UNKNOWN:
                return UNKNOWN
            if b == 0:
                raise EvaluationError("division by zero", where)
            return Decimal(a) / b

        return div

    def _all_of(self, fns: tuple[Fn, ...]) -> Fn:
        return _kleene_and(fns)

    def _in_literal(self, left: Fn, choices: frozenset[Any], negate: bool) -> Fn:
        def in_literal(ctx: Ctx) -> Any:
            value = left(ctx)
            if value is UNKNOWN:
                return UNKNOWN
            return (value in choices) != negate

        return in_literal

    def _in_dynamic(self, left: Fn, items: list[Fn], negate: bool) -> Fn:
        def in_dynamic(ctx: Ctx) -> Any:
            value = left(ctx)
            seen = [f(ctx) for f in items]
            if value is UNKNOWN:
                return UNKNOWN
            if value in [s for s in seen if s is not UNKNOWN]:
                return not negate
            if any(s is UNKNOWN for s in seen):
                return UNKNOWN
            return negate

        return in_dynamic

    def _compare(self, op: str, left: Fn, right: Fn) -> Fn:
        return _COMPARE[op](left, right)

    def _read_in_place(self, node: ast.Node, in_member: bool) -> tuple[str, str] | None:
        """("member", field) or ("fact", key) where name ``node`` reads the current
        member's field or a fact (as :meth:`_Name` resolves it), for a comparison that
        reads it itself; else None."""
        if not isinstance(node, ast.Name):
            return None
        dotted = node.dotted
        res = self.res
        if in_member and len(node.parts) == 1 and dotted in res.member_fields:
            return ("member", dotted)
        if (dotted in ("as_of", "amount", "members") or dotted in res.lets
                or (node.parts[0] == "criteria" and dotted[9:] in res.criteria)):
            return None
        return ("fact", dotted) if dotted in res.facts else None

    def _compare_pair(self, op: str, left_node: ast.Node, right_node: ast.Node,
                      in_member: bool) -> Fn:
        if op in _COMPARE_CONST and isinstance(
                right_node, ast.Number | ast.String | ast.Boolean | ast.DateLit):
            # against a literal: one closure fewer per call; a member field or a fact
            # read in the comparison itself, one fewer again
            read = self._read_in_place(left_node, in_member)
            if read is not None:
                return _read_compare(read, _OPERATORS[op], right_node.value)
            return _COMPARE_CONST[op](self.compile(left_node, in_member), right_node.value)
        if op in ("in", "notin") and isinstance(right_node, ast.ListLit) and all(
                isinstance(i, ast.String | ast.Number | ast.Boolean) for i in right_node.items):
            read = self._read_in_place(left_node, in_member)
            if read is not None:  # a member field or fact in a list of literals
                choices = frozenset(i.value for i in right_node.items)  # type: ignore[attr-defined]
                return _read_compare(read, operator.contains if op == "in" else _not_in,
                                     choices, flip=True)
        return super()._compare_pair(op, left_node, right_node, in_member)

    def _BoolOp(self, node: ast.BoolOp, in_member: bool) -> Fn:
        fns = tuple(self.compile(o, in_member) for o in node.operands)
        return _kleene_and(fns) if node.op == "and" else _kleene_or(fns)

    def _If(self, node: ast.If, in_member: bool) -> Fn:
        cond = self.compile(node.cond, in_member)
        then = self.compile(node.then, in_member)
        orelse = self.compile(node.orelse, in_member)

        def if_(ctx: Ctx) -> Any:
            mark = len(ctx.missing)
            c = cond(ctx)
            if c is True:
                return then(ctx)
            if c is False:
                return orelse(ctx)
            a, b = then(ctx), orelse(ctx)
            if a is not UNKNOWN and b is not UNKNOWN and a == b:
                del ctx.missing[mark:]
                return a
            return UNKNOWN

        return if_

    def _call_round(self, node: ast.Call, in_member: bool) -> Fn:
        args = self._args(node, in_member)
        digits = node.args[1].value if len(node.args) == 2 else 0  # type: ignore[attr-defined]
        quantum = Decimal(1).scaleb(-int(digits))

        def round_(values: list[Any]) -> Any:
            value = values[0]
            if isinstance(value, int):
                return value
            rounded = Decimal(value).quantize(quantum, rounding=ROUND_HALF_UP)
            return int(rounded) if digits == 0 else rounded

        return _strict_call(args[:1], lambda *v: round_(list(v)))

    def _call_yearly(self, node: ast.Call, in_member: bool) -> Fn:
        return _strict_call(self._args(node, in_member), lambda v: v * 12)

    def _call_monthly(self, node: ast.Call, in_member: bool) -> Fn:
        return _strict_call(self._args(node, in_member), lambda v: Decimal(v) / 12)

    def _date_fn(self, node: ast.Call, in_member: bool,
                 compute: Callable[[date, date], int]) -> Fn:
        (arg,) = self._args(node, in_member)

        def date_fn(ctx: Ctx) -> Any:
            value = arg(ctx)
            return UNKNOWN if value is UNKNOWN else compute(value, ctx.as_of)

        return date_fn

    def _call_known(self, node: ast.Call, in_member: bool) -> Fn:
        (arg,) = self._args(node, in_member)

        def known(ctx: Ctx) -> Any:
            mark = len(ctx.missing)
            value = arg(ctx)
            del ctx.missing[mark:]
            return value is not UNKNOWN

        return known

    def _call_param(self, node: ast.Call, in_member: bool) -> Fn:
        name = node.args[0].dotted  # type: ignore[attr-defined]
        keys = [self.compile(a, in_member) for a in node.args[1:]]
        where = self.res.where
        if not keys:

            def value_of(ctx: Ctx) -> Any:
                value = ctx.params[name]
                if value.__class__ is NoValue:
                    raise _no_value(name, ctx, where)
                return value

            return value_of

        def lookup(ctx: Ctx) -> Any:
            value = ctx.params[name]
            if value.__class__ is NoValue:
                raise _no_value(name, ctx, where)
            for key_fn in keys:
                key = key_fn(ctx)
                if key is UNKNOWN:
                    return UNKNOWN
                try:
                    value = value[_norm_key(key)]
                except KeyError:
                    raise EvaluationError(
                        f"parameter {name!r} has no entry for key {key!r} "
                        f"(keys: {', '.join(map(str, value))})",
                        where,
                    ) from None
            return value

        return lookup

    def _members_loop(self, ctx: Ctx) -> list[dict[str, Any]] | None:
        members = ctx.members
        if members is None:
            ctx.missing.append("members")
        return members

    def _call_count(self, node: ast.Call, in_member: bool) -> Fn:
        cond = self.compile(node.args[1], True) if len(node.args) == 2 else None
        loop = self._members_loop

        def count(ctx: Ctx) -> Any:
            members = loop(ctx)
            if members is None:
                return UNKNOWN
            if cond is None:
                return len(members)
            n, unknown = 0, False
            for i, member in enumerate(members):
                ctx.member, ctx.member_index = member, i
                value = cond(ctx)
                if value is True:
                    n += 1
                elif value is UNKNOWN:
                    unknown = True
            return UNKNOWN if unknown else n

        return count

    def _call_sum(self, node: ast.Call, in_member: bool) -> Fn:
        value_fn = self.compile(node.args[1], True)
        cond = self.compile(node.args[2], True) if len(node.args) == 3 else None
        loop = self._members_loop

        def sum_(ctx: Ctx) -> Any:
            members = loop(ctx)
            if members is None:
                return UNKNOWN
            total: Any = 0
            unknown = False
            for i, member in enumerate(members):
                ctx.member, ctx.member_index = member, i
                if cond is not None:
                    mark = len(ctx.missing)
                    c = cond(ctx)
                    if c is False:
                        if len(ctx.missing) != mark:
                            del ctx.missing[mark:]
                        continue
                    if c is UNKNOWN:
                        unknown = True
                        value_fn(ctx)
                        continue
                value = value_fn(ctx)
                if value is UNKNOWN:
                    unknown = True
                else:
                    total += value
            return UNKNOWN if unknown else total

        return sum_

    def _quantifier(self, node: ast.Call, stop: bool) -> Fn:
        cond = self.compile(node.args[1], True)
        loop = self._members_loop

        def quantifier(ctx: Ctx) -> Any:
            mark = len(ctx.missing)
            members = loop(ctx)
            if members is None:
                return UNKNOWN
            unknown = False
            for i, member in enumerate(members):
                ctx.member, ctx.member_index = member, i
                value = cond(ctx)
                if value is stop:
                    if len(ctx.missing) != mark:
                        del ctx.missing[mark:]
                    return stop
                if value is UNKNOWN:
                    unknown = True
            return UNKNOWN if unknown else not stop

        return quantifier


def keeping(fn: Fn, key: str, cache: str) -> Fn:
    """``fn``, keeping each value it gives in the evaluation's ``cache`` (``ctx.lets``,
    made anew per measure, or ``ctx.crit``, per evaluation) under ``key``, for a reader
    of the same value (:func:`read_kept`) to take instead of computing it again."""
    if cache == "crit":

        def kept_criterion_term(ctx: Ctx) -> Any:
            value = fn(ctx)
            ctx.crit[key] = (value, ())
            return value

        return kept_criterion_term
    assert cache == "lets"

    def kept_term(ctx: Ctx) -> Any:
        value = fn(ctx)
        ctx.lets[key] = (value, ())
        return value

    return kept_term


def read_kept(fn: Fn, key: str, cache: str) -> Fn:
    """The value :func:`keeping` kept under ``key`` in ``cache``, else ``fn``'s."""
    if cache == "crit":

        def read_criterion_term(ctx: Ctx) -> Any:
            hit = ctx.crit.get(key)
            return fn(ctx) if hit is None else hit[0]

        return read_criterion_term
    assert cache == "lets"

    def read_term(ctx: Ctx) -> Any:
        hit = ctx.lets.get(key)
        return fn(ctx) if hit is None else hit[0]

    return read_term


def _eq(left: Fn, right: Fn) -> Fn:
    def eq(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a == b
    return eq


def _ne(left: Fn, right: Fn) -> Fn:
    def ne(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a != b
    return ne


def _lt(left: Fn, right: Fn) -> Fn:
    def lt(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a < b
    return lt


def _le(left: Fn, right: Fn) -> Fn:
    def le(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a <= b
    return le


def _gt(left: Fn, right: Fn) -> Fn:
    def gt(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a > b
    return gt


def _ge(left: Fn, right: Fn) -> Fn:
    def ge(ctx: Ctx) -> Any:
        a, b = left(ctx), right(ctx)
        return UNKNOWN if a is UNKNOWN or b is UNKNOWN else a >= b
    return ge


def _eq_const(left: Fn, v: Any) -> Fn:
    def eq(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a == v
    return eq


def _ne_const(left: Fn, v: Any) -> Fn:
    def ne(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a != v
    return ne


def _lt_const(left: Fn, v: Any) -> Fn:
    def lt(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a < v
    return lt


def _le_const(left: Fn, v: Any) -> Fn:
    def le(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a <= v
    return le


def _gt_const(left: Fn, v: Any) -> Fn:
    def gt(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a > v
    return gt


def _ge_const(left: Fn, v: Any) -> Fn:
    def ge(ctx: Ctx) -> Any:
        a = left(ctx)
        return UNKNOWN if a is UNKNOWN else a >= v
    return ge


def _read_compare(read: tuple[str, str], compare: Callable[[Any, Any], Any], v: Any,
                  flip: bool = False) -> Fn:
    """The current member's field or the fact ``read`` names (see
    :meth:`_Compiler._read_in_place`) compared with the literal ``v`` by
    ``compare(value, v)`` (``compare(v, value)`` with ``flip``): unknown, and recorded
    as missing, where it is not there."""
    where, name = read
    if where == "member":
        if flip:

            def member_in(ctx: Ctx) -> Any:
                value = ctx.member.get(name, UNKNOWN)
                if value is UNKNOWN:
                    ctx.missing.append(f"members[{ctx.member_index}].{name}")
                    return UNKNOWN
                return compare(v, value)

            return member_in

        def member_compare(ctx: Ctx) -> Any:
            value = ctx.member.get(name, UNKNOWN)
            if value is UNKNOWN:
                ctx.missing.append(f"members[{ctx.member_index}].{name}")
                return UNKNOWN
            return compare(value, v)

        return member_compare
    if flip:

        def fact_in(ctx: Ctx) -> Any:
            value = ctx.facts.get(name, UNKNOWN)
            if value is UNKNOWN:
                ctx.missing.append(name)
                return UNKNOWN
            return compare(v, value)

        return fact_in

    def fact_compare(ctx: Ctx) -> Any:
        value = ctx.facts.get(name, UNKNOWN)
        if value is UNKNOWN:
            ctx.missing.append(name)
            return UNKNOWN
        return compare(value, v)

    return fact_compare


def _not_in(choices: frozenset[Any], value: Any) -> bool:
    return value not in choices


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
    ">": operator.gt, ">=": operator.ge}

#: a comparison of two closures, unknown as soon as one side is; and against a literal
_COMPARE: dict[str, Callable[[Fn, Fn], Fn]] = {
    "==": _eq, "!=": _ne, "<": _lt, "<=": _le, ">": _gt, ">=": _ge}
_COMPARE_CONST: dict[str, Callable[[Fn, Any], Fn]] = {
    "==": _eq_const, "!=": _ne_const, "<": _lt_const, "<=": _le_const, ">": _gt_const,
    ">=": _ge_const}


def _strict_call(args: list[Fn], fn: Callable[..., Any]) -> Fn:
    """A function of its arguments that is unknown as soon as one argument is."""
    if len(args) == 1:
        (only,) = args

        def call1(ctx: Ctx) -> Any:
            value = only(ctx)
            return UNKNOWN if value is UNKNOWN else fn(value)

        return call1
    if len(args) == 2:
        first, second = args

        def call2(ctx: Ctx) -> Any:
            a, b = first(ctx), second(ctx)
            return UNKNOWN if a is UNKNOWN or b is UNKNOWN else fn(a, b)

        return call2

    def call(ctx: Ctx) -> Any:
        values = [a(ctx) for a in args]
        for value in values:
            if value is UNKNOWN:
                return UNKNOWN
        return fn(*values)

    return call


def _kleene(fns: tuple[Fn, ...], decisive: bool) -> Fn:
    """Kleene ``and`` (decisive value False) or ``or`` (decisive value True).

    The first operand equal to ``decisive`` settles the result, and the missing facts
    read on the way are dropped: they could not change it. (Two operands, the common
    case, without the loop.)
    """
    if len(fns) == 2:
        first, second = fns

        def kleene2(ctx: Ctx) -> Any:
            missing = ctx.missing
            mark = len(missing)
            a = first(ctx)
            if a is decisive:
                if len(missing) != mark:
                    del missing[mark:]
                return decisive
            b = second(ctx)
            if b is decisive:
                if len(missing) != mark:
                    del missing[mark:]
                return decisive
            return UNKNOWN if a is UNKNOWN or b is UNKNOWN else not decisive

        return kleene2

    def kleene(ctx: Ctx) -> Any:
        missing = ctx.missing
        mark = len(missing)
        unknown = False
        for f in fns:
            value = f(ctx)
            if value is decisive:
                if len(missing) != mark:
                    del missing[mark:]
                return decisive
            if value is UNKNOWN:
                unknown = True
        return UNKNOWN if unknown else not decisive

    return kleene


def _kleene_and(fns: tuple[Fn, ...]) -> Fn:
    return _kleene(fns, False)


def _kleene_or(fns: tuple[Fn, ...]) -> Fn:
    return _kleene(fns, True)
