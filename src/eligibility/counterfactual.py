"""Counterfactuals: the smallest changes to a household's facts that grant a measure.

This module owns the search for "what would it take?". Only facts the pack marks
``changeable`` (income, housing cost, savings…) are varied, plus any the caller
names (``also``: e.g. ``members.age``), and only those the measure's rules
actually read. One-fact changes are found exactly by threshold search
(:func:`~eligibility.explain.whynot.nearest_flips`); larger combinations fix one
fact at a value where one of the failed requirements turns (its own threshold,
or the other value of a yes/no fact) and search the next. Every solution is
verified by a full re-evaluation, and solutions are ranked by how many facts
change, then by the relative size of the change. The target is ``eligible`` —
or, for a measure with a discretionary requirement (startlån), every
requirement met except the caseworker's assessment.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from eligibility.budget import NO_DEADLINE, Deadline
from eligibility.decision import MeasureResult, Status
from eligibility.engine import CompiledMeasure, Engine, Outcomes
from eligibility.errors import BudgetExceeded
from eligibility.explain.messages import render
from eligibility.explain.terminal import format_amount
from eligibility.explain.whynot import (
    _NUMERIC,
    Prober,
    alternatives,
    concrete_paths,
    fact_dependencies,
    format_fact_value,
    measure_amount,
    nearest_flips,
    requirement_nodes,
    requirement_outcome,
)
from eligibility.whatif import apply_changes, field_spec, get_fact

_MAX_SOLUTIONS = 12


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Change(_Model):
    """One fact changed by a counterfactual."""

    path: str
    title: str
    before: Any = None
    after: Any
    unit: str | None = None
    changeable: bool


class Counterfactual(_Model):
    """A set of changes that grants the measure, verified by re-evaluation."""

    changes: list[Change]
    status: Status
    amount: Decimal | None = None
    size: Decimal
    verified: bool
    message: str


class CounterfactualResult(_Model):
    """The smallest changes found for one measure, best first."""

    measure: str
    title: str
    status: Status
    target: str
    already: bool
    searched: list[str]
    missing_facts: list[str] = []
    solutions: list[Counterfactual]
    message: str
    partial: bool = Field(False, description="The search reached its time budget: "
                          "`solutions` holds what it found before it stopped.")


def reached(out: Outcomes) -> bool:
    """Eligible, or undetermined only because a caseworker must assess something."""
    if out.status == "eligible":
        return True
    return (out.status == "undetermined" and not out.missing and bool(out.discretionary)
            and all(r[1] != "unknown" for r in out.reasons))


def _reached_result(m: MeasureResult) -> bool:
    if m.status == "eligible":
        return True
    return (m.status == "undetermined" and not m.missing_facts and bool(m.discretionary)
            and all(r.outcome in ("met", "waived", "discretionary") for r in m.reasons))


def _matches(path: str, wanted: set[str]) -> bool:
    if path in wanted:
        return True
    group, _, rest = path.partition("[")
    if rest:
        return f"{group}.{rest.partition('].')[2]}" in wanted
    return False


def _size(engine: Engine, facts: dict[str, Any], changes: dict[str, Any]) -> Decimal:
    total = Decimal(0)
    for path, after in changes.items():
        before = get_fact(facts, path)
        spec = field_spec(engine.pack.schema, path)
        if spec is not None and spec.kind in _NUMERIC and before is not None:
            total += abs(Decimal(after) - Decimal(before)) / max(abs(Decimal(before)),
                                                                 Decimal(1))
        else:
            total += 1
    return total.quantize(Decimal("0.0001"))


class _Search:
    def __init__(self, engine: Engine, facts: dict[str, Any], as_of: date, cm: CompiledMeasure,
                 candidates: list[str], deadline: Deadline = NO_DEADLINE) -> None:
        self.engine = engine
        self.facts = facts
        self.cm = cm
        self.candidates = candidates
        self.prober = Prober(engine, facts, as_of, cm.measure.id, deadline=deadline)
        base = self.prober.outcomes({})
        self.open_requirements = [r[0].req.id for r in base.reasons
                                  if r[1] in ("not_met", "unknown")] if base else []
        self.found: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def _ok(self, changes: dict[str, Any]) -> bool:
        out = self.prober.outcomes(changes)
        return out is not None and reached(out)

    def finals(self, fixed: dict[str, Any], path: str) -> list[Any]:
        """Values of ``path`` that reach the target with ``fixed`` already changed."""
        spec = field_spec(self.engine.pack.schema, path)
        assert spec is not None
        current = get_fact(self.facts, path)
        if spec.kind in _NUMERIC:
            if current is None:
                return []
            return [value for value, _, _ in nearest_flips(
                spec, current, lambda v: self._ok({**fixed, path: v}))]
        return [v for v in alternatives(spec, current) if self._ok({**fixed, path: v})]

    def pivots(self, path: str) -> list[Any]:
        """Values of ``path`` at which one of the open requirements turns."""
        spec = field_spec(self.engine.pack.schema, path)
        assert spec is not None
        current = get_fact(self.facts, path)
        if spec.kind not in _NUMERIC:
            return alternatives(spec, current)
        if current is None:
            return []
        values: dict[str, Any] = {}
        for req in self.open_requirements:

            def met(v: Any, req: str = req) -> bool:
                out = self.prober.outcomes({path: v})
                return out is not None and requirement_outcome(out, req) in ("met", "waived")

            for value, _, _ in nearest_flips(spec, current, met):
                values[repr(value)] = value
        return list(values.values())

    def run(self, max_facts: int) -> None:
        singles: set[str] = set()
        for path in self.candidates:
            for value in self.finals({}, path):
                self._add({path: value})
                singles.add(path)
        if max_facts < 2:
            return
        self._deeper({}, max_facts - 1, singles)

    def _deeper(self, fixed: dict[str, Any], depth: int, singles: set[str]) -> None:
        for path in self.candidates:
            if path in fixed or path in singles:
                continue
            for pivot in self.pivots(path):
                now = {**fixed, path: pivot}
                if self._ok(now):
                    continue  # a smaller set already works (found as a single)
                for other in self.candidates:
                    if other in now or other in singles:
                        continue
                    for value in self.finals(now, other):
                        self._add({**now, other: value})
                if depth > 1 and len(self.found) < _MAX_SOLUTIONS * 4:
                    self._deeper(now, depth - 1, singles)

    def _add(self, changes: dict[str, Any]) -> None:
        key = tuple(sorted((p, repr(v)) for p, v in changes.items()))
        paths = set(changes)
        for other in self.found.values():
            if set(other) < paths and all(repr(other[p]) == repr(changes[p]) for p in other):
                return
        self.found.setdefault(key, changes)


def counterfactuals(engine: Engine, facts: dict[str, Any], measure_id: str, as_of: date,
                    lang: str = "nb", also: list[str] | None = None,
                    max_facts: int = 2, budget: float | None = None) -> CounterfactualResult:
    """The smallest verified changes of changeable facts (and ``also``) that grant the measure.

    ``also`` names further facts that may change, as schema paths
    (``members.age``) or concrete ones (``members[1].age``). Raises ``KeyError``
    for an unknown measure. ``budget`` (seconds) bounds the search; when it runs out
    the result holds the solutions found so far and says ``partial``.
    """
    deadline = Deadline.after(budget)
    decision = engine.evaluate(facts, as_of=as_of, lang=lang)
    current = decision.measure(measure_id)
    cm = next(m for m in engine.measures if m.measure.id == measure_id)
    has_discretion = any(c.req.discretionary for c in cm.requirements)
    target = "eligible_pending_assessment" if has_discretion else "eligible"
    target_text = render("cf.pending" if has_discretion else "status.eligible", lang)
    list_group = next((g.name for g in engine.pack.schema.groups.values() if g.is_list),
                      "members")
    wanted = set(also or ())
    nodes = [n for c in cm.requirements for n in requirement_nodes(cm, c.req.id)]
    deps = concrete_paths(fact_dependencies(engine, cm, nodes), facts, list_group)
    candidates = []
    for path in deps:
        spec = field_spec(engine.pack.schema, path)
        if spec is None or not (spec.changeable or _matches(path, wanted)):
            continue
        if spec.kind in _NUMERIC and get_fact(facts, path) is None:
            continue
        if spec.kind not in _NUMERIC and spec.kind not in ("bool", "enum"):
            continue
        candidates.append(path)
    if _reached_result(current):
        return CounterfactualResult(
            measure=measure_id, title=current.title, status=current.status, target=target,
            already=True, searched=candidates, solutions=[],
            message=render("cf.already", lang, measure=current.title,
                           status=render(f"status.{current.status}", lang)))
    partial = False
    found: list[dict[str, Any]] = []
    try:
        search = _Search(engine, facts, as_of, cm, candidates, deadline)
        try:
            search.run(max(1, max_facts))
        finally:
            found = list(search.found.values())
    except BudgetExceeded:
        partial = True
    solutions = []
    for changes in found:
        verdict = engine.evaluate(apply_changes(facts, changes), as_of=as_of, lang=lang)
        m = verdict.measure(measure_id)
        ok = _reached_result(m)
        if not ok:
            continue
        items = []
        for path, after in changes.items():
            spec = field_spec(engine.pack.schema, path)
            assert spec is not None
            items.append(Change(path=path, title=engine.title_of(path, lang),
                                before=get_fact(facts, path), after=after, unit=spec.unit,
                                changeable=spec.changeable))
        text = "; ".join(
            f"{c.title} ({c.path}): "
            f"{format_fact_value(c.before, field_spec(engine.pack.schema, c.path), lang)} → "
            f"{format_fact_value(c.after, field_spec(engine.pack.schema, c.path), lang)}"
            for c in items)
        if m.amount is not None:
            text += render("whynot.amount_then", lang,
                           amount=format_amount(m.amount, m.unit, lang))
        solutions.append(Counterfactual(
            changes=items, status=m.status, amount=m.amount,
            size=_size(engine, facts, changes), verified=True, message=text))
    solutions.sort(key=lambda s: (len(s.changes), s.size, s.message))
    solutions = solutions[:_MAX_SOLUTIONS]
    if solutions:
        message = render("cf.title", lang, measure=current.title, status=target_text)
    else:
        message = render("cf.none", lang, n=max(1, max_facts),
                         fields=", ".join(candidates) or "–")
    if current.missing_facts:
        message += "\n" + render("cf.missing", lang, missing=", ".join(current.missing_facts))
    return CounterfactualResult(
        measure=measure_id, title=current.title, status=current.status, target=target,
        already=False, searched=candidates, missing_facts=current.missing_facts,
        solutions=solutions, message=message, partial=partial)


__all__ = ["Change", "Counterfactual", "CounterfactualResult", "counterfactuals",
           "measure_amount", "reached"]
