"""Sweeps: evaluate one household across a range of one fact.

This module owns :func:`sweep`: the household is evaluated (a full, ordinary
engine evaluation per point, so each point equals what ``evaluate`` says for
those facts) at ``start, start+step, …, stop`` of one numeric fact, and every
measure's status and amount is recorded. :func:`find_cliffs` lists where a
status changes or an amount jumps by more than the sweep's smooth slope would
explain — the benefit cliffs and the interplay between measures a caseworker
wants to see. Rendering (table, terminal chart, PNG/SVG) lives in
:mod:`eligibility.explain.chart`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eligibility.budget import Deadline
from eligibility.decision import Status
from eligibility.engine import Engine
from eligibility.explain.messages import render
from eligibility.explain.terminal import format_amount
from eligibility.whatif import ChangeError, apply_changes, coerce_changes, field_spec, parse_field

MAX_POINTS = 2001


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class SweepCell(_Model):
    """One measure at one point of the sweep."""

    status: Status
    amount: Decimal | None = None


class SweepPoint(_Model):
    """The household with the varied fact at ``value``."""

    value: Any
    measures: dict[str, SweepCell]


class SweepMeasure(_Model):
    id: str
    title: str
    unit: str | None = None


class Cliff(_Model):
    """A status change or an amount jump between two neighbouring points."""

    measure: str
    value: Any
    previous_value: Any
    kind: str  # "status" | "amount"
    before: str
    after: str
    message: str


class SweepResult(_Model):
    """Every point of a sweep, with the measures in the decision's order."""

    path: str
    title: str
    unit: str | None = None
    lang: str
    as_of: date
    measures: list[SweepMeasure]
    points: list[SweepPoint]
    cliffs: list[Cliff] = []
    partial: bool = Field(False, description="The sweep reached its time budget: `points` "
                          "stops at the last value evaluated before it.")

    def series(self, measure_id: str) -> list[tuple[Any, SweepCell]]:
        return [(p.value, p.measures[measure_id]) for p in self.points
                if measure_id in p.measures]


def parse_range(engine: Engine, spec: str, step: str | None) -> tuple[str, Any, Any, Any]:
    """Parse ``PATH=FROM..TO`` and a step by the fact's type (raises ChangeError)."""
    path, eq, rng = spec.partition("=")
    lo_text, dots, hi_text = rng.partition("..")
    if not eq or not dots:
        raise ChangeError(f"--vary must be PATH=FROM..TO, e.g. "
                          f"members[0].income_month=0..40000, got {spec!r}")
    path = path.strip()
    coerce_changes(engine.pack.schema, {path: None})  # checks the path
    fspec = field_spec(engine.pack.schema, path)
    if fspec is None or fspec.kind not in ("int", "number", "money"):
        raise ChangeError(f"--vary {path}: only number, amount and whole-number facts can "
                          "be swept")
    lo = parse_field(fspec, lo_text, path)
    hi = parse_field(fspec, hi_text, path)
    if step is None:
        width = Decimal(hi) - Decimal(lo)
        raw = width / 50 if width else Decimal(1)
        step_value: Any = max(Decimal(1), raw.to_integral_value()) if fspec.kind != "number" \
            else raw
        if fspec.kind == "int":
            step_value = int(step_value)
    else:
        cleaned = step.replace(",", ".").replace(" ", "")
        try:
            step_value = Decimal(cleaned)
        except ArithmeticError:
            raise ChangeError(f"--step must be a number, got {step!r}") from None
        if not step_value.is_finite():
            raise ChangeError(f"--step must be a number, got {step!r}")
        if fspec.kind == "int":
            if step_value != step_value.to_integral_value():
                raise ChangeError(f"--step for {path} must be a whole number")
            step_value = int(step_value)
    return path, lo, hi, step_value


def sweep_values(start: Any, stop: Any, step: Any) -> list[Any]:
    """``start, start+step, …`` up to and including ``stop`` (exact arithmetic)."""
    if step <= 0:
        raise ChangeError("--step must be greater than 0")
    if stop < start:
        raise ChangeError(f"the range must go upwards: {start}..{stop}")
    count = int((Decimal(stop) - Decimal(start)) / Decimal(step)) + 1
    if count > MAX_POINTS:
        raise ChangeError(f"{count} points is too many (at most {MAX_POINTS}); "
                          "use a larger --step")
    values = [start + step * i for i in range(count)]
    if values[-1] != stop:
        values.append(stop)
    return values


def sweep(engine: Engine, facts: dict[str, Any], path: str, start: Any, stop: Any, step: Any,
          as_of: date, lang: str = "nb", changes: dict[str, Any] | None = None,
          budget: float | None = None) -> SweepResult:
    """Evaluate ``facts`` (with ``changes``) at every value of ``path`` in the range.

    ``budget`` (seconds) bounds the sweep; when it runs out the points so far are
    returned and the result says ``partial``.
    """
    deadline = Deadline.after(budget)
    partial = False
    spec = field_spec(engine.pack.schema, path)
    if spec is None:
        raise ChangeError(f"{path}: not a fact of this pack")
    base = apply_changes(facts, coerce_changes(engine.pack.schema, changes or {}))
    points: list[SweepPoint] = []
    measures: dict[str, SweepMeasure] = {}
    for value in sweep_values(start, stop, step):
        if deadline.passed:
            partial = True
            break
        decision = engine.evaluate(apply_changes(base, {path: value}), as_of=as_of, lang=lang,
                                   calculation=False)
        cells = {}
        for m in decision.measures:
            measures.setdefault(m.id, SweepMeasure(id=m.id, title=m.title, unit=m.unit))
            cells[m.id] = SweepCell(status=m.status, amount=m.amount)
        points.append(SweepPoint(value=value, measures=cells))
    order = list(measures.values())
    result = SweepResult(path=path, title=engine.title_of(path, lang), unit=spec.unit,
                         lang=lang, as_of=as_of, measures=order, points=points,
                         partial=partial)
    return result.model_copy(update={"cliffs": find_cliffs(result)})


def find_cliffs(result: SweepResult) -> list[Cliff]:
    """Status changes, and amount jumps: a step change more than twice both neighbouring ones.

    A steady slope (bostøtte falling with income) is not a cliff; a single step
    where the amount drops much more than just before and just after is.
    """
    lang = result.lang
    unit = result.unit
    cliffs: list[Cliff] = []
    for m in result.measures:
        series = result.series(m.id)
        deltas: list[Decimal | None] = [
            b.amount - a.amount if a.amount is not None and b.amount is not None else None
            for (_, a), (_, b) in pairwise(series)]
        for i, ((va, a), (vb, b)) in enumerate(pairwise(series)):
            where = format_amount(Decimal(vb), unit, lang)
            if a.status != b.status:
                before = render(f"status.{a.status}", lang)
                after = render(f"status.{b.status}", lang)
                cliffs.append(Cliff(measure=m.id, value=vb, previous_value=va, kind="status",
                                    before=a.status, after=b.status,
                                    message=render("sweep.cliff.status", lang, measure=m.title,
                                                   before=before, after=after, value=where)))
                continue
            delta = deltas[i]
            if delta is None or a.amount is None or b.amount is None or delta == 0:
                continue
            around = [abs(d) for d in (deltas[i - 1] if i else None,
                                       deltas[i + 1] if i + 1 < len(deltas) else None)
                      if d is not None]
            if around and all(abs(delta) > 2 * d for d in around):
                cliffs.append(Cliff(
                    measure=m.id, value=vb, previous_value=va, kind="amount",
                    before=str(a.amount), after=str(b.amount),
                    message=render("sweep.cliff.amount", lang, measure=m.title,
                                   before=format_amount(a.amount, m.unit, lang),
                                   after=format_amount(b.amount, m.unit, lang), value=where)))
    return cliffs
