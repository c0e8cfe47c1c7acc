"""A whole pack compiled to polars for one ``as_of``: criteria, lets, amounts, outcomes.

:class:`PolarsPlan` walks the pack once per evaluation date. Criteria become
columns (in dependency order), each measure's ``let`` values and amount become
columns, each requirement and exception a boolean column, and from those the
outcome of every requirement (met, not_met, unknown, waived, discretionary)
and the measure's status, with the same rules as the reference evaluator. A
measure with a construct polars cannot express is listed in
:attr:`PolarsPlan.fallback` with the reason; the batch runner evaluates it with
the reference. Missing facts are a second, optional pass
(:meth:`PolarsPlan.missing`) that only the undetermined rows need.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl

from eligibility.compile.polars.compiler import (
    DEC,
    EMPTY,
    NUMBER_BOUND,
    SCALE,
    SEP,
    Col,
    Compiler,
    Hoisted,
    NeedDecimal,
    Scope,
    Unsupported,
    as_dec,
    as_fix,
    cat,
    coarse_column,
    coarse_value,
    fix_decimal,
    fix_round,
    round_half_up,
)
from eligibility.expr import ast
from eligibility.pack.model import Criterion, Measure, RulePack

KINDS = {"bool": "bool", "int": "int", "number": "dec", "money": "dec", "enum": "str",
         "string": "str", "date": "date"}
DTYPES: dict[str, pl.DataType] = {"bool": pl.Boolean(), "int": pl.Int64(), "dec": DEC,
                                  "str": pl.String(), "date": pl.Date()}
#: Requirement outcomes and statuses are enums inside the plan (cheap to compute);
#: the batch output casts them to text.
OUTCOME = pl.Enum(["met", "not_met", "unknown", "waived", "discretionary"])
STATUS = pl.Enum(["eligible", "not_eligible", "undetermined"])
#: Places kept by each rounding rule, and how.
ROUNDING = {"krone": 0, "krone_down": 0, "ore": 2}


def fact_spans(pack: RulePack) -> dict[str, tuple[int, int]]:
    """(minimum, maximum) of each int fact whose schema gives both (household facts)."""
    return {spec.path: (int(spec.minimum), int(spec.maximum))
            for spec in pack.schema.all_fields()
            if spec.kind == "int" and not spec.in_list and spec.minimum is not None
            and spec.maximum is not None}


def fact_bounds(pack: RulePack) -> dict[str, int]:
    """The largest magnitude each numeric fact may have (schema bounds, else the
    validator's number limit), by path (``members.age`` for member fields)."""
    out: dict[str, int] = {}
    for spec in pack.schema.all_fields():
        if spec.kind not in ("int", "number", "money"):
            continue
        limits = [abs(v) for v in (spec.minimum, spec.maximum) if v is not None]
        if len(limits) == 2:
            out[spec.path] = int(max(limits)) + 1
        elif spec.kind != "int":
            out[spec.path] = NUMBER_BOUND
    return out


#: Plans kept per description of a frame (emptied when full; each is rebuilt on demand).
PLAN_MEMO_LIMIT = 64

#: Places a money value usually has (øre); frames whose values all fit get a plan
#: that reads those facts at this scale (smaller integers, fewer places downstream).
ORE = 2


def number_facts(pack: RulePack) -> list[str]:
    """Paths of the number and money facts (``members.x`` for member fields)."""
    return [f.path for f in pack.schema.all_fields() if KINDS[f.kind] == "dec"]


def household_money(pack: RulePack) -> frozenset[str]:
    """Paths of the household (not member) money facts: amounts in kroner, whole øre
    in practice (a plan may assume that; see :attr:`PolarsPlan.assumed`)."""
    return frozenset(f.path for f in pack.schema.all_fields()
                     if f.kind == "money" and not f.in_list)


#: Magnitude a plan that assumes a household number fact assumes for it: its
#: ``Decimal(38, 10)`` physical value is an Int64 (|value| * 10**10 < 2**63).
ASSUMED_BOUND = 2**63 // 10**SCALE + 1

#: Magnitude classes a frame's number facts are bounded by (powers of ten up to
#: this): a plan for values below 10**8 keeps them (at øre: up to 10**10) in Int64.
MAGNITUDE_CLASSES = 8


@dataclass(frozen=True)
class FrameFacts:
    """What one frame's values of the number facts allow a plan to assume."""

    #: facts whose values all have at most :data:`ORE` places
    coarse: frozenset[str] = frozenset()
    #: (fact, 10**k): every value of the fact has magnitude below 10**k (k <= 8)
    bounds: tuple[tuple[str, int], ...] = ()


def frame_facts(pack: RulePack, frame: pl.DataFrame,
                skip: frozenset[str] = frozenset()) -> FrameFacts:
    """The number facts of ``frame`` whose values all have at most :data:`ORE` places,
    and the household (not member) number facts whose values all lie below a power of
    ten up to 10**:data:`MAGNITUDE_CLASSES` (one pass over the frame), leaving out
    ``skip`` (facts a plan assumes and checks as it evaluates; see
    :attr:`PolarsPlan.assumed`)."""
    unit = pl.lit(10 ** (SCALE - ORE), pl.Int128())
    checks = []
    sizes: list[str] = []
    for spec in pack.schema.all_fields():
        if KINDS[spec.kind] != "dec" or spec.path in skip:
            continue
        if spec.in_list:
            if "members" not in frame.columns:
                continue
            inner = pl.element().struct.field(spec.name).to_physical() % unit == 0
            ok = pl.col("members").list.eval(inner.fill_null(True)).list.all()
        elif spec.path in frame.columns:
            physical = pl.col(spec.path).to_physical()
            ok = (physical % unit == 0).fill_null(True)
            checks.append(physical.abs().max().alias(f"__max.{spec.path}"))
            sizes.append(spec.path)
        else:
            continue
        checks.append(ok.fill_null(True).all().alias(spec.path))
    if not checks or frame.height == 0:
        return FrameFacts()
    row = frame.lazy().select(checks).collect(engine="streaming").row(0, named=True)
    bounds = []
    for path in sizes:
        largest = row.pop(f"__max.{path}")
        if largest is None:
            continue
        for k in range(MAGNITUDE_CLASSES + 1):
            if largest < 10 ** (k + SCALE):
                bounds.append((path, 10**k))
                break
    return FrameFacts(frozenset(path for path, ok in row.items() if ok), tuple(bounds))


def compile_exact(scope: Scope, node: ast.Node, max_scale: int | None = SCALE) -> Col:
    """``node`` with exact integer (``fix``) numbers where possible, else in Decimal.

    A stored column (criterion, let) keeps at most ``max_scale`` places so that a
    Decimal expression reading it converts it exactly.
    """
    mark = len(scope.hoisted) if scope.hoisted is not None else 0
    try:
        col = Compiler(scope, exact=True).compile(node)
    except NeedDecimal:
        col = None
    if col is None or (col.kind == "fix" and max_scale is not None and col.scale > max_scale):
        if scope.hoisted is not None:  # the exact attempt's shared columns go unread
            scope.hoisted.truncate(mark)
        return Compiler(scope).compile(node)
    return col


def exact_quotient(scope: Scope, node: ast.Node, rounding: str | None) -> Col | None:
    """An amount ``a / b`` or ``monthly(a)`` with a rounding rule, divided and rounded
    in exact integers (``fix`` at the rule's places) where that provably gives the
    reference's amount (:func:`~eligibility.compile.polars.compiler.quotient_is_exact`)."""
    if rounding not in ROUNDING:
        return None
    how = "floor" if rounding == "krone_down" else "half_up"
    mark = len(scope.hoisted) if scope.hoisted is not None else 0
    try:
        quotient = Compiler(scope, exact=True).rounded_quotient(node, ROUNDING[rounding], how)
    except NeedDecimal:
        quotient = None
    if quotient is None and scope.hoisted is not None:
        scope.hoisted.truncate(mark)
    return quotient


def stored(col: Col, name: str, miss_name: str) -> Col:
    """How later expressions read a column computed earlier in the plan."""
    return Col(pl.col(name), col.kind, None if col.miss is None else pl.col(miss_name),
               scale=col.scale, bound=col.bound, span=col.span)


def fact_dtypes(pack: RulePack) -> dict[str, pl.DataType]:
    """The frame schema of a pack's facts: one column per fact, ``members`` as list."""
    out: dict[str, pl.DataType] = {}
    member: dict[str, pl.DataType] = {}
    for spec in pack.schema.all_fields():
        dtype = DTYPES[KINDS[spec.kind]]
        if spec.in_list:
            member[spec.name] = dtype
        else:
            out[spec.path] = dtype
    if member:
        out["members"] = pl.List(pl.Struct(member))
    return out


@dataclass
class RequirementPlan:
    id: str
    discretionary: bool
    value: Col | None
    exceptions: list[Col]


@dataclass
class MeasurePlan:
    id: str
    rounding: str | None
    amount: Col | None
    lets: list[tuple[str, Col]]
    requirements: list[RequirementPlan]
    checks: list[pl.Expr] = field(default_factory=list)


def _criteria_refs(node: ast.Node) -> set[str]:
    return {n.parts[1] for n in ast.walk(node)
            if isinstance(n, ast.Name) and n.parts[0] == "criteria" and len(n.parts) > 1}


class PolarsPlan:
    """The pack compiled to polars expressions for one date (see module docstring)."""

    def __init__(self, pack: RulePack, as_of: date, params: dict[str, Any],
                 scales: Mapping[str, int] | None = None,
                 bounds: Mapping[str, int] | None = None,
                 assume: frozenset[str] = frozenset()) -> None:
        self.pack = pack
        self.as_of = as_of
        self._params = params
        #: household number facts this plan assumes, unchecked before it runs, to have
        #: at most :data:`ORE` places and magnitudes below :data:`ASSUMED_BOUND`
        #: (their physical value an Int64): it reads them as Int64 øre and checks the
        #: assumption row by row as it evaluates; a frame that breaks it is evaluated
        #: by the plan for what :func:`frame_facts` finds in it instead
        assumed = frozenset(p for p in assume if not p.startswith("members."))
        #: places of the number facts in the frames this plan is for (see frame_facts)
        self.scales = {**dict(scales or {}), **dict.fromkeys(assumed, ORE)}
        #: the plans for frames that break the assumptions, by what they hold
        self._variants: dict[FrameFacts, PolarsPlan] = {}
        #: guards the memos above and below (a plan may serve several threads)
        self._lock = threading.Lock()
        self.fallback: dict[str, str] = {}
        #: the expression stages of :meth:`_chain` (with / without missing facts),
        #: built on first use (the same for every frame)
        self._built: dict[bool, tuple[tuple[list[pl.Expr], ...], tuple[str, ...]]] = {}
        facts = {f.path: KINDS[f.kind] for f in pack.schema.all_fields() if not f.in_list}
        members = {f.name: KINDS[f.kind] for f in pack.schema.all_fields() if f.in_list}
        self._spans = fact_spans(pack)
        #: the schema's bounds, or tighter ones that this plan's frames keep to
        self._bounds = fact_bounds(pack)
        for path, bound in {**dict.fromkeys(assumed, ASSUMED_BOUND),
                            **dict(bounds or {})}.items():
            self._bounds[path] = min(bound, self._bounds.get(path, bound))
        self._columns: dict[str, Col] = {}
        self._criteria: list[tuple[str, Col]] = []
        self._criterion_nodes: dict[str, ast.Node] = {}
        #: sub-expressions several columns read, computed once (see Hoisted)
        self._hoisted = Hoisted()
        broken: dict[str, str] = {}
        for criterion in _ordered(pack.criteria):
            scope = Scope(facts, members, self._columns, params, as_of,
                          where=f"{criterion.file} criterion {criterion.id}",
                          bounds=self._bounds, scales=self.scales, hoisted=self._hoisted,
                          spans=self._spans)
            bad = sorted(c for c in _criteria_refs(criterion.expr.node) if c in broken)
            if bad:
                broken[criterion.id] = broken[bad[0]]
                continue
            mark = len(self._hoisted)
            try:
                col = compile_exact(scope, criterion.expr.node)
            except Unsupported as exc:
                self._hoisted.truncate(mark)
                broken[criterion.id] = str(exc)
                continue
            self._criteria.append((criterion.id, col))
            self._criterion_nodes[criterion.id] = criterion.expr.node
            self._columns[f"criteria.{criterion.id}"] = stored(
                col, f"__c.{criterion.id}", f"__cm.{criterion.id}")
        self.measures: list[MeasurePlan] = []
        self.in_force: list[Measure] = [m for m in pack.measures if m.in_force(as_of)]
        for m in self.in_force:
            mark = len(self._hoisted)
            try:
                self.measures.append(self._measure(m, facts, members, params, broken))
            except Unsupported as exc:
                self._hoisted.truncate(mark)  # they may read the measure's lets
                self.fallback[m.id] = str(exc)
        #: household facts read at a coarse scale (their column ``__o.<path>``); only
        #: those are converted, and only the assumed ones among them checked
        self._coarse = frozenset(p for p in self.scales if coarse_column(p) in self._reads())
        self.assumed = assumed & self._coarse

    def _reads(self) -> set[str]:
        """The columns the plan's values and row checks read."""
        cols: list[Col] = [c for _, c in self._criteria]
        for mp in self.measures:
            cols.extend(c for _, c in mp.lets)
            cols.extend(c for rp in mp.requirements for c in (rp.value, *rp.exceptions)
                        if c is not None)
            if mp.amount is not None:
                cols.append(mp.amount)
        exprs = [e for c in cols for e in (c.value, *c.checks)]
        exprs.extend(e for _, e in self._hoisted.columns)
        return {name for e in exprs for name in e.meta.root_names()}

    # -- compilation -----------------------------------------------------------
    def _measure(self, m: Measure, facts: dict[str, str], members: dict[str, str],
                 params: dict[str, Any], broken: dict[str, str]) -> MeasurePlan:
        exprs = [e for _, e in m.lets] + [r.expr for r in m.requirements if r.expr]
        exprs += [e.expr for r in m.requirements for e in r.exceptions]
        if m.amount:
            exprs.append(m.amount.expr)
        for expr in exprs:
            for cid in sorted(_criteria_refs(expr.node)):
                if cid in broken:
                    raise Unsupported(f"uses criterion {cid!r}: {broken[cid]}")
        columns = dict(self._columns)
        checks: list[pl.Expr] = []
        lets: list[tuple[str, Col]] = []
        for name, expr in m.lets:
            scope = Scope(facts, members, columns, params, self.as_of,
                          where=f"{m.file} let {name}", bounds=self._bounds,
                          scales=self.scales, hoisted=self._hoisted,
                          spans=self._spans)
            col = compile_exact(scope, expr.node)
            checks.extend(col.checks)
            lets.append((name, col))
            columns[name] = stored(col, f"__l.{m.id}.{name}", f"__lm.{m.id}.{name}")
        scope = Scope(facts, members, columns, params, self.as_of, where=m.file,
                      bounds=self._bounds, scales=self.scales, hoisted=self._hoisted,
                      spans=self._spans)
        amount: Col | None = None
        rounding: str | None = None
        if m.amount is not None:
            rounding = m.amount.rounding
            if rounding not in ROUNDING and self._divides(m.amount.expr.node, m):
                raise Unsupported(f"amount rounding {rounding!r} after a division: the "
                                  "unrounded quotient needs more places than polars "
                                  "Decimal(38, 10) keeps", m.file)
            quotient = exact_quotient(scope, m.amount.expr.node, rounding)
            raw = quotient or compile_exact(scope, m.amount.expr.node, max_scale=None)
            checks.extend(raw.checks)
            if quotient is not None:  # a quotient rounded in integers: already the amount
                amount = quotient
            elif raw.kind in ("int", "fix"):  # exact integers: round in integers
                fixed = raw if raw.kind == "fix" else raw.but(raw.value.cast(pl.Int128()),
                                                             kind="fix", scale=0)
                if rounding in ROUNDING:  # exactly the rule's places (ore: "12.50")
                    places = ROUNDING[rounding]
                    fixed = as_fix(fix_round(fixed, places, "floor" if rounding ==
                                             "krone_down" else "half_up"), places)
                amount = fixed
            else:
                value = as_dec(raw)
                rounded = (value.floor() if rounding == "krone_down" else value
                           if rounding not in ROUNDING
                           else round_half_up(value, ROUNDING[rounding]).cast(DEC))
                amount = Col(rounded, "dec", raw.miss, raw.checks)
            columns["amount"] = stored(amount, f"__a.{m.id}", f"__am.{m.id}")
        requirements = []
        for req in m.requirements:
            if not req.in_force(self.as_of):
                continue
            req_value = compile_exact(scope, req.expr.node) if req.expr else None
            excs = [compile_exact(scope, e.expr.node) for e in req.exceptions]
            for part in [req_value, *excs]:
                if part is not None:
                    checks.extend(part.checks)
            requirements.append(RequirementPlan(req.id, req.discretionary, req_value, excs))
        return MeasurePlan(m.id, rounding, amount, lets, requirements, checks)

    def _divides(self, node: ast.Node, m: Measure, seen: set[str] | None = None) -> bool:
        """Whether ``node`` (through the lets and criteria it reads) divides."""
        seen = set() if seen is None else seen
        lets = dict(m.lets)
        by_id = {c.id: c for c in self.pack.criteria}
        for n in ast.walk(node):
            if isinstance(n, ast.Binary) and n.op == "/":
                return True
            if isinstance(n, ast.Call) and n.func == "monthly":
                return True
            if isinstance(n, ast.Name) and n.dotted not in seen:
                seen.add(n.dotted)
                if n.dotted in lets and self._divides(lets[n.dotted].node, m, seen):
                    return True
                if n.parts[0] == "criteria" and len(n.parts) > 1 and n.parts[1] in by_id \
                        and self._divides(by_id[n.parts[1]].expr.node, m, seen):
                    return True
        return False

    # -- execution -------------------------------------------------------------
    def _chain(self, frame: pl.LazyFrame, misses: bool) -> tuple[pl.LazyFrame, list[str]]:
        """The frame with every plan column; the names of the row-check columns."""
        built = self._built.get(misses)
        if built is None:  # the same expressions serve every frame: build them once
            with self._lock:
                built = self._built.get(misses)
                if built is None:
                    built = self._built[misses] = self._stages(misses)
        stages, checks = built
        for stage in stages:
            frame = frame.with_columns(stage)
        return frame, list(checks)

    def _stages(self, misses: bool) -> tuple[tuple[list[pl.Expr], ...], tuple[str, ...]]:
        """The plan's columns in ``with_columns`` stages; the names of the row checks.

        A column's stage is one past the latest stage of the plan columns it reads
        (polars computes a stage's columns in parallel). Each check sits in the stage
        of the value it guards, so polars computes their common sub-expressions once.
        """
        checks: list[str] = []
        exprs: dict[str, pl.Expr] = {}
        #: a check's column -> the column it guards
        guards: dict[str, str] = {}

        def add(name: str, value: pl.Expr, *parts: Col | None) -> None:
            exprs[name] = value.alias(name)
            for part in parts:
                for check in part.checks if part is not None else ():
                    checks.append(f"__k{len(checks)}")
                    exprs[checks[-1]] = check.alias(checks[-1])
                    guards[checks[-1]] = name

        for path, scale in self.scales.items():
            if path not in self._coarse:
                continue
            if path in self.assumed:  # Int64 øre; __f.<path>: the row keeps to that
                unit = pl.lit(10 ** (SCALE - scale), pl.Int64)
                physical = f"__x.{path}"  # null where it is no Int64
                add(physical, pl.col(path).to_physical().cast(pl.Int64, strict=False))
                add(coarse_column(path), pl.col(physical).floordiv(unit))
                exact = pl.col(coarse_column(path)) * unit == pl.col(physical)
                add(f"__f.{path}", (exact | pl.col(path).is_null()).fill_null(False))
            elif scale < SCALE and not path.startswith("members."):
                add(coarse_column(path), coarse_value(path, scale, self._bounds.get(path)))
        for name, value in self._hoisted.columns:
            add(name, value)
        for cid, col in self._criteria:
            add(f"__c.{cid}", col.value, col)
            if misses and col.miss is not None:
                add(f"__cm.{cid}", col.miss)
        for mp in self.measures:
            for name, col in mp.lets:
                add(f"__l.{mp.id}.{name}", col.value, col)
                if misses and col.miss is not None:
                    add(f"__lm.{mp.id}.{name}", col.miss)
            if mp.amount is not None:
                add(f"__a.{mp.id}", mp.amount.value, mp.amount)
                if misses and mp.amount.miss is not None:
                    add(f"__am.{mp.id}", mp.amount.miss)
            oks: list[pl.Expr] = []
            for rp in mp.requirements:
                # the value and each exception read once, by the outcome and the status
                where = f"{mp.id}.{rp.id}"
                held = None if rp.value is None else self._once(
                    add, f"__v.{where}", rp.value)
                excs = [self._once(add, f"__e.{where}.{i}", e)
                        for i, e in enumerate(rp.exceptions)]
                add(f"{mp.id}.requirements.{rp.id}", _outcome(held, excs, rp.discretionary))
                oks.append(_holds(held, excs, rp.discretionary))
            add(f"{mp.id}.status", _status(oks))
        levels: dict[str, int] = {}

        def level(name: str) -> int:
            if name not in levels:
                reads = [r for r in exprs[name].meta.root_names() if r in exprs and r != name]
                levels[name] = 1 + max((level(r) for r in reads), default=-1)
                if name in guards:
                    levels[name] = max(levels[name], level(guards[name]))
            return levels[name]

        stages: list[list[pl.Expr]] = []
        for name, value in exprs.items():
            at = level(name)
            while len(stages) <= at:
                stages.append([])
            stages[at].append(value)
        return tuple(stage for stage in stages if stage), tuple(checks)

    @staticmethod
    def _once(add: Callable[..., None], name: str, part: Col) -> pl.Expr:
        """``part``'s value as a plan column of its own unless it is one already (its
        row checks go with it)."""
        if part.value.meta.is_column() and not part.checks:
            return part.value
        add(name, part.value, part)
        return pl.col(name)

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Statuses, amounts and requirement outcomes of every supported measure.

        ``<m>.amount`` is the exact amount as a Decimal column (null where the
        household is not eligible); :meth:`amount_text` turns it into the contract's
        text. Adds ``__unsure``: true where a row would make the reference raise (a
        division by zero, a key missing from a parameter table); those rows belong
        to the reference.
        """
        lf, checks = self._chain(frame.lazy(), misses=False)
        out: list[pl.Expr] = [pl.col("__row")]
        fixed: dict[str, int] = {}  # amount column -> scale of its fixed-point integers
        for mp in self.measures:
            out.append(pl.col(f"{mp.id}.status"))
            if mp.amount is not None:
                # null where not eligible, then as Decimal (the integers are cheaper)
                amount: pl.Expr = pl.when(pl.col(f"{mp.id}.status") != "not_eligible").then(
                    pl.col(f"__a.{mp.id}"))
                if mp.amount.kind == "fix":  # made a Decimal after the query
                    value = amount
                    fixed[f"{mp.id}.amount"] = mp.amount.scale
                elif mp.rounding in ROUNDING:
                    value = amount.cast(pl.Decimal(38, ROUNDING[mp.rounding]))
                else:
                    value = amount
                out.append(value.alias(f"{mp.id}.amount"))
            else:
                out.append(pl.lit(None, pl.String).alias(f"{mp.id}.amount"))
            out.extend(pl.col(f"{mp.id}.requirements.{rp.id}") for rp in mp.requirements)
        unsure = pl.any_horizontal([pl.col(c) for c in checks]) if checks else pl.lit(False)
        out.append(unsure.fill_null(False).alias("__unsure"))
        res = lf.select(*out, *self._fits()).collect(engine="streaming")
        if self.assumed:
            if not res["__fit"].all():
                return self._variant(frame).evaluate(frame)
            res = res.drop("__fit")
        if fixed:
            res = res.with_columns([fixed_to_decimal(res[name], scale).alias(name)
                                    for name, scale in fixed.items()])
        return res

    def _fit_check(self) -> pl.Expr:
        """Whether every row of a frame keeps to the assumptions (a scalar)."""
        return pl.all_horizontal([_assumption(p) for p in sorted(self.assumed)]).all()

    def _fits(self) -> list[pl.Expr]:
        """``__fit``: the row keeps to the plan's assumptions (none: no column)."""
        if not self.assumed:
            return []
        return [pl.all_horizontal([pl.col(f"__f.{p}") for p in sorted(self.assumed)])
                .alias("__fit")]

    def _variant(self, frame: pl.DataFrame) -> PolarsPlan:
        """The plan for a frame that breaks this plan's assumptions (built once per
        description of such a frame; see :func:`frame_facts`)."""
        facts = frame_facts(self.pack, frame)
        plan = self._variants.get(facts)
        if plan is None:
            plan = PolarsPlan(self.pack, self.as_of, self._params,
                              scales=dict.fromkeys(facts.coarse, ORE),
                              bounds=dict(facts.bounds))
            with self._lock:
                if len(self._variants) >= PLAN_MEMO_LIMIT:
                    self._variants.clear()
                plan = self._variants.setdefault(facts, plan)
        return plan

    def amount_text(self, res: pl.DataFrame) -> pl.DataFrame:
        """The amounts of :meth:`evaluate` as the contract writes them: the decimal
        rounded as the rule says, or (rounding ``none``) exact without trailing zeros."""
        cols = []
        for mp in self.measures:
            name = f"{mp.id}.amount"
            dtype = res.schema[name]
            if mp.amount is None or not isinstance(dtype, pl.Decimal):
                continue
            text = pl.col(name).cast(pl.String)
            if mp.rounding not in ROUNDING and (dtype.scale or 0) > 0:
                text = text.str.strip_chars_end("0").str.strip_chars_end(".")
            cols.append(text.alias(name))
        return res.lazy().with_columns(cols).collect(engine="streaming") if cols else res

    def missing(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``<measure>.missing_facts`` (list of paths, in reading order) for every row."""
        if self.assumed and not frame.lazy().select(self._fit_check()).collect().item():
            return self._variant(frame).missing(frame)
        lf, _ = self._chain(with_member_index(frame).lazy(), misses=True)
        out: list[pl.Expr] = [pl.col("__row")]
        for mp in self.measures:
            seen: list[pl.Expr] = []
            for rp in mp.requirements:
                need = _requirement_miss(rp)
                if need is None:
                    continue
                outcome = pl.col(f"{mp.id}.requirements.{rp.id}")
                seen.append(pl.when(outcome.is_in(["unknown", "discretionary"]))
                            .then(need).otherwise(EMPTY))
            text = cat(*seen)
            if text is None:
                paths = pl.lit([], pl.List(pl.String))
            else:
                undetermined = pl.col(f"{mp.id}.status") == "undetermined"
                joined = pl.when(undetermined).then(text).otherwise(EMPTY)
                paths = (joined.str.split(SEP).list.eval(pl.element().filter(
                    pl.element() != "")).list.unique(maintain_order=True))
            out.append(paths.alias(f"{mp.id}.missing_facts"))
        return lf.select(out).collect(engine="in-memory")


def fixed_to_decimal(values: pl.Series, scale: int) -> pl.Series:
    """Fixed-point integers (value × 10**scale) as ``Decimal(38, scale)``, exactly.

    The physical value of a Decimal is that integer, so an Int64 column becomes one
    by sign-extending each integer to the 128 bits of Arrow's ``decimal128`` (a few
    ms for a million rows, against ~12 ms for polars' cast, which checks each value's
    precision; an Int64 has at most 19 digits, so none can exceed 38). Int128 values
    (and a big-endian machine) take polars' cast."""
    if values.dtype != pl.Int64 or sys.byteorder != "little":
        return values.to_frame().select(fix_decimal(pl.col(values.name), scale)).to_series()
    import numpy as np
    import pyarrow as pa

    arr = values.to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.offset:  # a slice: rebase its buffers (rare)
        arr = pa.concat_arrays([arr])
    validity, data = arr.buffers()
    low = np.frombuffer(data, dtype=np.int64, count=len(arr))
    wide = np.empty((len(arr), 2), dtype=np.int64)
    wide[:, 0] = low
    wide[:, 1] = low >> 63  # the sign, extended
    dec = pa.Array.from_buffers(pa.decimal128(38, scale), len(arr),
                                [validity, pa.py_buffer(wide)], null_count=arr.null_count)
    out = pl.from_arrow(dec)
    assert isinstance(out, pl.Series)
    return out.alias(values.name)


def _assumption(path: str) -> pl.Expr:
    """True where the fact ``path`` is null or whole øre with an Int64 physical value."""
    physical = pl.col(path).to_physical().cast(pl.Int64, strict=False)
    exact: pl.Expr = physical % (10 ** (SCALE - ORE)) == 0
    return (exact | pl.col(path).is_null()).fill_null(False)


def with_member_index(frame: pl.DataFrame) -> pl.DataFrame:
    """``members`` with each member's position as the struct field ``__i``."""
    if "members" not in frame.columns:
        return frame
    import numpy as np
    import pyarrow as pa

    arr = frame["members"].to_arrow()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    offsets = np.asarray(arr.offsets)
    values = arr.values
    lengths = np.diff(offsets)
    index = np.zeros(len(values), dtype=np.int64)
    index[offsets[0]:offsets[-1]] = (np.arange(offsets[0], offsets[-1])
                                     - np.repeat(offsets[:-1], lengths))
    fields = [values.field(i) for i in range(values.type.num_fields)]
    names = [values.type.field(i).name for i in range(values.type.num_fields)]
    struct = pa.StructArray.from_arrays([*fields, pa.array(index)], names=[*names, "__i"])
    listed = type(arr).from_arrays(arr.offsets, struct, mask=arr.is_null())
    series = pl.from_arrow(listed)
    assert isinstance(series, pl.Series)
    return frame.with_columns(series.alias("members"))


def has_unknown(pack: RulePack) -> pl.Expr:
    """True for rows where some fact is missing (only those can have missing facts)."""
    cols = [pl.col(f.path).is_null() for f in pack.schema.all_fields() if not f.in_list]
    members = [f.name for f in pack.schema.all_fields() if f.in_list]
    if members:
        cols.append(pl.col("members").is_null())
        cols.append(pl.col("members").list.eval(pl.any_horizontal(
            [pl.element().struct.field(m).is_null() for m in members])).list.any())
    return pl.any_horizontal(cols).fill_null(True)


def _outcome(value: pl.Expr | None, exceptions: list[pl.Expr],
             discretionary: bool) -> pl.Expr:
    """A requirement's outcome from its value and its exceptions' values."""
    v = value if value is not None else pl.lit(None, pl.Boolean)
    not_true = v.fill_null(False).not_()
    chain: Any = pl
    if exceptions:
        waived = not_true & pl.any_horizontal([e.fill_null(False) for e in exceptions])
        exc_unknown = pl.any_horizontal([e.is_null() for e in exceptions])
        chain = chain.when(waived).then(pl.lit("waived", OUTCOME))
    else:
        exc_unknown = pl.lit(False)
    if discretionary:
        if not exceptions:
            return pl.lit("discretionary", OUTCOME)
        result: pl.Expr = chain.otherwise(pl.lit("discretionary", OUTCOME))
        return result
    if exceptions:
        result = (chain.when(v).then(pl.lit("met", OUTCOME))
                  .when(v.not_() & exc_unknown.not_()).then(pl.lit("not_met", OUTCOME))
                  .otherwise(pl.lit("unknown", OUTCOME)))
    else:
        result = (pl.when(v).then(pl.lit("met", OUTCOME))
                  .when(v.not_()).then(pl.lit("not_met", OUTCOME))
                  .otherwise(pl.lit("unknown", OUTCOME)))
    return result


def _holds(value: pl.Expr | None, exceptions: list[pl.Expr], discretionary: bool) -> pl.Expr:
    """A requirement's outcome as Kleene logic: true for met or waived, false for
    not_met, null for unknown or discretionary (see :func:`_outcome`)."""
    v = value if value is not None else pl.lit(None, pl.Boolean)
    if discretionary:
        if not exceptions:
            return pl.lit(None, pl.Boolean)
        waived = v.fill_null(False).not_() & pl.any_horizontal(
            [e.fill_null(False) for e in exceptions])
        return pl.when(waived).then(pl.lit(True)).otherwise(pl.lit(None, pl.Boolean))
    # met: v true; waived: an exception true; not_met: v and every exception false
    out = v
    for e in exceptions:
        out = out | e
    return out


def _status(holds: list[pl.Expr]) -> pl.Expr:
    """A measure's status: not_eligible if a requirement is not met, else undetermined
    if one is unknown or discretionary, else eligible (Kleene ``and`` of ``holds``)."""
    if not holds:
        return pl.lit("eligible", STATUS)
    every = pl.all_horizontal(holds)
    return (pl.when(every).then(pl.lit("eligible", STATUS))
            .when(every.not_()).then(pl.lit("not_eligible", STATUS))
            .otherwise(pl.lit("undetermined", STATUS)))


def _requirement_miss(rp: RequirementPlan) -> pl.Expr | None:
    """The missing facts one requirement records: its value, then each exception read."""
    v = rp.value.value if rp.value is not None else pl.lit(None, pl.Boolean)
    parts: list[pl.Expr | None] = [rp.value.miss if rp.value is not None else None]
    not_true = v.fill_null(False).not_()
    earlier: list[pl.Expr] = []
    for e in rp.exceptions:
        if e.miss is not None:
            read = not_true if not earlier else not_true & pl.any_horizontal(earlier).not_()
            parts.append(pl.when(read).then(e.miss).otherwise(EMPTY))
        earlier.append(e.value.fill_null(False))
    return cat(*parts)


def _ordered(criteria: tuple[Criterion, ...]) -> list[Criterion]:
    by_id = {c.id: c for c in criteria}
    done: set[str] = set()
    order: list[Criterion] = []

    def visit(cid: str) -> None:
        if cid in done or cid not in by_id:
            return
        done.add(cid)
        for dep in sorted(_criteria_refs(by_id[cid].expr.node)):
            visit(dep)
        order.append(by_id[cid])

    for c in criteria:
        visit(c.id)
    return order
