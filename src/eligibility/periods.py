"""Decisions over time: split a period at every breakpoint and decide each sub-period.

:func:`pack_breakpoints` lists, for a compiled pack and a date range, every date
something dated takes effect: a parameter version (``valid_from``), a parameter
used past its ``confirmed_until`` (stale from the day after), a measure,
requirement or criterion coming into or out of force (``valid_from``, the day
after ``valid_to``) and, with ``monthly``, every month start for the measures the
pack marks ``monthly: true`` (bostøtte is decided one month at a time). A
household adds the dates its dated facts change (:mod:`eligibility.provenance`).
Where rules read the date itself (``as_of`` compared with a date, ``years_since``
and the like), the days such a comparison can turn are tried as well and kept
only when the decision changes there. :func:`evaluate_period` decides each
sub-period on its first day (the decision is the same on any day inside it: a
property test holds that) and states what changed from the previous one. The
JSON of :class:`PeriodResult` is a stable contract (docs/periods.md).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eligibility.compile.pack import CompiledPack, refs
from eligibility.decision import Decision, Status
from eligibility.errors import AsOfError, PeriodError
from eligibility.expr import ast
from eligibility.limits import MAX_PERIOD_DAYS, MAX_PERIODS

if TYPE_CHECKING:
    from eligibility.decision_build import Detail
    from eligibility.engine import Engine


ChangeKind = Literal["parameter", "stale", "measure", "requirement", "criterion", "month",
                     "fact", "date"]
_DATE_FUNCS = frozenset({"years_since", "months_since", "months_until"})


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)


class Change(_Out):
    """One thing that takes effect on a breakpoint.

    ``kind``: ``parameter`` (a new version: ``value``), ``stale`` (a parameter used
    past the last date its source confirms), ``measure``/``requirement``/``criterion``
    (``effect`` ``starts`` or ``ends``), ``month`` (a new month of a monthly measure),
    ``fact`` (a dated fact's new ``value``), ``date`` (a rule that reads the date turns).
    """

    kind: ChangeKind
    name: str
    effect: Literal["starts", "ends", "changes"] = "changes"
    value: Any = None


class Breakpoint(_Out):
    """A date and everything that takes effect on it."""

    date: date
    changes: list[Change]


class MeasureChange(_Out):
    """A measure whose status or amount differs from the previous period's."""

    id: str
    status_before: Status | None
    status: Status | None
    amount_before: Decimal | None = None
    amount: Decimal | None = None


class Period(_Out):
    """One sub-period: its first and last day, its decision, what changed at its start."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    decision: Decision
    changes: list[Change] = []
    measure_changes: list[MeasureChange] = []


class PeriodResult(_Out):
    """The periods of ``start``..``end`` for one household (see module docstring)."""

    start: date = Field(serialization_alias="from")
    end: date = Field(serialization_alias="to")
    monthly: bool
    pack_id: str
    pack_version: str
    content_hash: str
    periods: list[Period]

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent, by_alias=True)


def check_range(compiled: CompiledPack, start: date, end: date) -> None:
    """Raise :class:`~eligibility.errors.PeriodError` naming ``from`` or ``to`` unless
    ``start``..``end`` is a period the pack can decide (at most
    :data:`~eligibility.limits.MAX_PERIOD_DAYS` days, inside the pack's period)."""
    if end < start:
        raise PeriodError(f"the period ends ({end.isoformat()}) before it starts "
                          f"({start.isoformat()})", "to", end.isoformat())
    for field, when in (("from", start), ("to", end)):
        try:
            compiled.parameters_at(when)  # raises AsOfError outside the pack's period
        except PeriodError:
            raise
        except AsOfError as exc:
            raise PeriodError(str(exc), field, when.isoformat(), outside=True) from None
    days = (end - start).days + 1
    if days > MAX_PERIOD_DAYS:
        raise PeriodError(f"a period may be at most {MAX_PERIOD_DAYS} days long; "
                          f"{start.isoformat()} to {end.isoformat()} is {days} days",
                          "to", end.isoformat())


def _month_starts(start: date, end: date) -> list[date]:
    out: list[date] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        d = date(year, month, 1)
        if d > end:
            return out
        out.append(d)


def _exprs(compiled: CompiledPack) -> list[tuple[str, Any]]:
    pack = compiled.pack
    out: list[tuple[str, Any]] = [(f"criterion:{c.id}", c.expr) for c in pack.criteria]
    for m in pack.measures:
        out.extend((f"measure:{m.id}", e) for _, e in m.lets)
        for r in m.requirements:
            if r.expr:
                out.append((f"measure:{m.id}", r.expr))
            out.extend((f"measure:{m.id}", e.expr) for e in r.exceptions)
        if m.amount:
            out.append((f"measure:{m.id}", m.amount.expr))
        out.extend((f"measure:{m.id}", p.expr) for p in m.priority)
    return out


def _reads_date(compiled: CompiledPack) -> tuple[list[date], bool]:
    """The date literals in rules that read ``as_of``, and whether any rule uses a
    date function (``years_since`` and the like)."""
    literals: set[date] = set()
    functions = False
    for _, expr in _exprs(compiled):
        nodes = list(ast.walk(expr.node))
        uses_as_of = any(isinstance(n, ast.Name) and n.dotted == "as_of" for n in nodes)
        uses_funcs = any(isinstance(n, ast.Call) and n.func in _DATE_FUNCS for n in nodes)
        functions = functions or uses_funcs
        if uses_as_of or uses_funcs:
            literals.update(n.value for n in nodes if isinstance(n, ast.DateLit))
    return sorted(literals), functions


def pack_breakpoints(compiled: CompiledPack, start: date, end: date,
                     monthly: bool = False) -> list[Breakpoint]:
    """Every date in ``start`` (exclusive) .. ``end`` where something dated in the pack
    takes effect, with what (see module docstring)."""
    check_range(compiled, start, end)
    found: dict[date, list[Change]] = {}

    def add(when: date | None, change: Change) -> None:
        if when is not None and start < when <= end:
            found.setdefault(when, []).append(change)

    def after(when: date | None) -> date | None:
        return when + timedelta(days=1) if when is not None else None

    pack = compiled.pack
    used = used_parameters(compiled)
    for name, param in pack.parameters.items():
        if name not in used:
            continue
        for version in param.versions:
            add(version.valid_from, Change(kind="parameter", name=name,
                                           effect="ends" if version.value is None
                                           else "changes",
                                           value=_plain(version.value)))
            add(after(version.confirmed_until), Change(kind="stale", name=name))
    for m in pack.measures:
        add(m.valid_from, Change(kind="measure", name=m.id, effect="starts"))
        add(after(m.valid_to), Change(kind="measure", name=m.id, effect="ends"))
        for r in m.requirements:
            rid = f"{m.id}.{r.id}"
            add(r.valid_from, Change(kind="requirement", name=rid, effect="starts"))
            add(after(r.valid_to), Change(kind="requirement", name=rid, effect="ends"))
    for c in pack.criteria:
        add(c.valid_from, Change(kind="criterion", name=c.id, effect="starts"))
        add(after(c.valid_to), Change(kind="criterion", name=c.id, effect="ends"))
    literals, _ = _reads_date(compiled)
    for lit in literals:
        add(lit, Change(kind="date", name=lit.isoformat()))
    if monthly:
        for first in _month_starts(start, end):
            for m in pack.measures:
                if m.monthly and m.in_force(first):
                    add(first, Change(kind="month", name=m.id))
    return [Breakpoint(date=d, changes=found[d]) for d in sorted(found)]


def used_parameters(compiled: CompiledPack) -> frozenset[str]:
    """The parameters some measure or criterion reads."""
    used: set[str] = set()
    for cm in compiled.measures:
        used |= cm.params_used
    used |= refs([c.expr for c in compiled.pack.criteria])[0]
    return frozenset(used)


def _plain(value: Any) -> Any:
    if isinstance(value, dict) or hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _date_candidates(doc: Any, literals: list[date], functions: bool, start: date,
                     end: date) -> set[date]:
    """Days a rule reading the date may turn on (tried, kept only on a change)."""
    out: set[date] = set()
    for lit in literals:
        out.update((lit, lit + timedelta(days=1)))
    if not functions:
        return out
    values: set[date] = set(literals)

    def collect(value: Any) -> None:
        if isinstance(value, date):
            values.add(value)
        elif isinstance(value, dict):
            for v in value.values():
                collect(v)
        elif isinstance(value, list):
            for v in value:
                collect(v)

    collect(doc)
    firsts = [start, *_month_starts(start, end)]
    for first in firsts:
        out.add(first)
        last = calendar.monthrange(first.year, first.month)[1]
        for v in values:
            out.add(first.replace(day=min(v.day, last)))
    return out


def _signature(decision: Decision) -> Any:
    return decision.model_dump(mode="json", exclude={"as_of": True, "provenance": True})


def _measure_changes(before: Decision, after: Decision) -> list[MeasureChange]:
    old = {m.id: m for m in before.measures}
    new = {m.id: m for m in after.measures}
    out = []
    for mid in list(old) + [i for i in new if i not in old]:
        a, b = old.get(mid), new.get(mid)
        pair = ((a.status if a else None, a.amount if a else None),
                (b.status if b else None, b.amount if b else None))
        if pair[0] != pair[1]:
            out.append(MeasureChange(id=mid, status_before=pair[0][0], status=pair[1][0],
                                     amount_before=pair[0][1], amount=pair[1][1]))
    return out


def evaluate_period(engine: Engine, facts: Any, start: date, end: date,
                    monthly: bool = False, lang: str = "nb",
                    detail: Detail = "full") -> PeriodResult:
    """Decide ``start``..``end`` sub-period by sub-period (see module docstring)."""
    compiled = engine.compiled
    firm: dict[date, list[Change]] = {
        b.date: list(b.changes) for b in pack_breakpoints(compiled, start, end, monthly)}
    firm = {d: [c for c in cs if c.kind != "date"] for d, cs in firm.items()}
    given = engine.given(facts)
    for when, path, value in given.dates():
        if start < when <= end:
            firm.setdefault(when, []).append(Change(kind="fact", name=path, value=value))
    firm = {d: cs for d, cs in firm.items() if cs}
    literals, functions = _reads_date(compiled)
    tried = {d for d in _date_candidates(given.at(start), literals, functions, start, end)
             if start < d <= end and d not in firm}
    boundaries = sorted({start, *firm, *tried})
    if len(firm) + 1 > MAX_PERIODS:
        raise PeriodError(f"the period splits into more than {MAX_PERIODS} sub-periods; "
                          "ask for a shorter one", "to", end.isoformat())
    kept: list[tuple[date, Decision, list[Change]]] = []
    for when in boundaries:
        decision = engine.evaluate(facts, as_of=when, lang=lang, detail=detail)
        if when in tried and kept and _signature(kept[-1][1]) == _signature(decision):
            continue
        changes = firm.get(when, [Change(kind="date", name=when.isoformat())]
                           if when != start else [])
        kept.append((when, decision, changes))
    periods = []
    for i, (when, decision, changes) in enumerate(kept):
        last = kept[i + 1][0] - timedelta(days=1) if i + 1 < len(kept) else end
        before = kept[i - 1][1] if i else None
        periods.append(Period(start=when, end=last, decision=decision, changes=changes,
                              measure_changes=_measure_changes(before, decision)
                              if before else []))
    pack = compiled.pack
    return PeriodResult(start=start, end=end, monthly=monthly, pack_id=pack.id,
                        pack_version=pack.version, content_hash=pack.content_hash,
                        periods=periods)

