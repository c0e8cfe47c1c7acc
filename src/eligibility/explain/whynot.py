"""Why not: for each measure that is not granted, what failed and what would flip it.

This module owns the analysis of the rule structure behind a negative or open
decision: which facts a requirement depends on (through ``let``\\ s, criteria
and the amount formula — :func:`fact_dependencies`), and the exact value of one
fact at which a requirement, or the status of the whole measure, changes
(:class:`Prober` and :func:`nearest_flips`). Thresholds are found by search on
the compiled rules themselves — exponential probing from the current value, then
bisection to one unit of the fact (1 NOK for money) — so they hold through the
amount formula, rounding and the minimum payout; every reported value is
verified by evaluating at it and one unit on either side. :func:`why_not` puts
this together into a :class:`WhyNotResult` (pydantic, JSON-stable, nb/en texts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from eligibility.budget import NO_DEADLINE, Deadline
from eligibility.decision import Decision, Outcome, Provenance, Status
from eligibility.engine import CompiledMeasure, Engine, Outcomes
from eligibility.errors import BudgetExceeded, EligibilityError, FactsError
from eligibility.explain.messages import render
from eligibility.explain.terminal import format_amount
from eligibility.expr import ast
from eligibility.pack.model import FieldSpec
from eligibility.whatif import apply_changes, field_spec, get_fact

Direction = Literal["at_or_below", "at_or_above", "set_to"]
_AGGREGATES = frozenset({"count", "sum", "any", "all"})
_NUMERIC = frozenset({"int", "number", "money"})
#: how far the search looks when the schema gives no bound, per kind of fact
_SPAN = {"money": Decimal(100_000_000), "number": Decimal(1_000_000), "int": Decimal(1000)}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Flip(_Model):
    """A value of one fact at which a requirement (or the whole measure) changes.

    ``direction`` says on which side the better outcome lies: ``at_or_below``
    ``value``, ``at_or_above`` ``value``, or ``set_to`` ``value`` (yes/no and
    choice facts). ``verified`` is true when evaluating at ``value`` gives the
    better outcome and one unit on the other side does not.
    """

    path: str
    title: str
    unit: str | None = None
    current: Any = None
    value: Any
    direction: Direction
    changeable: bool = False
    outcome: Outcome | None = None
    status: Status | None = None
    amount: Decimal | None = None
    verified: bool
    message: str


class RequirementWhyNot(_Model):
    """A requirement that is not met (or cannot be decided) and what would flip it."""

    requirement: str
    title: str
    outcome: Outcome
    expression: str | None = None
    values: dict[str, Any] = {}
    missing_facts: list[str] = []
    flips: list[Flip] = []
    message: str


class MeasureWhyNot(_Model):
    """One measure that is not eligible or undetermined, explained."""

    id: str
    title: str
    status: Status
    summary: str
    requirements: list[RequirementWhyNot]
    thresholds: list[Flip]
    limits: list[Flip] = []
    missing_facts: list[str] = []


class WhyNotResult(_Model):
    """Why not, for every measure (or one) of a household's decision."""

    lang: Literal["nb", "nn", "en"]
    as_of: date
    measures: list[MeasureWhyNot]
    provenance: Provenance
    partial: bool = Field(False, description="The search reached its time budget: "
                          "`measures` holds the ones analysed before it stopped.")


# -- dependencies -----------------------------------------------------------


def fact_dependencies(engine: Engine, cm: CompiledMeasure,
                      nodes: Iterable[ast.Node]) -> list[str]:
    """Schema paths (``group.field``, ``members.field``) the expressions depend on.

    Follows ``let`` names of the measure, ``criteria.*`` and ``amount``
    transitively, so a requirement like ``amount >= param(...)`` depends on the
    incomes and housing costs the amount formula reads.
    """
    schema = engine.pack.schema
    member_fields = {f.name for f in schema.all_fields() if f.in_list}
    list_group = next((g.name for g in schema.groups.values() if g.is_list), "members")
    lets = dict(cm.measure.lets)
    criteria = {c.id: c.expr for c in engine.pack.criteria}
    found: dict[str, None] = {}
    seen: set[str] = set()

    def visit(node: ast.Node, in_member: bool) -> None:
        if isinstance(node, ast.Name):
            dotted = node.dotted
            if in_member and len(node.parts) == 1 and dotted in member_fields:
                found[f"{list_group}.{dotted}"] = None
            elif dotted == "amount" and cm.measure.amount is not None:
                if "amount" not in seen:
                    seen.add("amount")
                    visit(cm.measure.amount.expr.node, False)
            elif dotted in lets:
                if "let:" + dotted not in seen:
                    seen.add("let:" + dotted)
                    visit(lets[dotted].node, False)
            elif node.parts[0] == "criteria" and len(node.parts) == 2:
                cid = node.parts[1]
                if cid in criteria and "crit:" + cid not in seen:
                    seen.add("crit:" + cid)
                    visit(criteria[cid].node, False)
            elif schema.field(dotted) is not None:
                found[dotted] = None
            return
        if isinstance(node, ast.Call) and node.func in _AGGREGATES:
            for i, child in enumerate(node.args):
                visit(child, in_member or i > 0)
            return
        for child in ast.children(node):
            visit(child, in_member)

    for node in nodes:
        visit(node, False)
    return list(found)


def concrete_paths(paths: Iterable[str], facts: dict[str, Any], list_group: str) -> list[str]:
    """Schema paths made concrete: ``members.age`` → ``members[0].age``, ``members[1].age``…"""
    out: list[str] = []
    members = facts.get(list_group)
    count = len(members) if isinstance(members, list) else 0
    for path in paths:
        group, _, name = path.partition(".")
        if group == list_group:
            out.extend(f"{list_group}[{i}].{name}" for i in range(count))
        else:
            out.append(path)
    return out


def requirement_nodes(cm: CompiledMeasure, requirement: str) -> list[ast.Node]:
    """The expression nodes of a requirement and of its exceptions."""
    for creq in cm.requirements:
        if creq.req.id == requirement:
            nodes = [creq.req.expr.node] if creq.req.expr else []
            return nodes + [e.expr.node for e in creq.req.exceptions]
    return []


# -- probing ----------------------------------------------------------------


class Prober:
    """Evaluates one measure for the household with one or more facts changed (cached).

    Each probe is a full validation and evaluation of the measure by the engine;
    facts that would not validate (e.g. below a field's minimum) count as no change.
    """

    def __init__(self, engine: Engine, facts: dict[str, Any], as_of: date, measure_id: str,
                 fixed: dict[str, Any] | None = None,
                 deadline: Deadline = NO_DEADLINE) -> None:
        self.engine = engine
        self.deadline = deadline
        self.facts = apply_changes(facts, fixed) if fixed else facts
        self.as_of = as_of
        self.cm = next(m for m in engine.measures if m.measure.id == measure_id)
        self._cache: dict[tuple[tuple[str, str], ...], Outcomes | None] = {}
        self.calls = 0

    def outcomes(self, changes: dict[str, Any]) -> Outcomes | None:
        key = tuple(sorted((p, repr(v)) for p, v in changes.items()))
        if key in self._cache:
            return self._cache[key]
        self.deadline.check()
        self.calls += 1
        try:
            valid = self.engine.validate(apply_changes(self.facts, changes))
        except (FactsError, EligibilityError):
            self._cache[key] = None
            return None
        ctx = self.engine.context(valid, self.as_of)
        result = self.engine.evaluate_measure(self.cm, ctx)
        self._cache[key] = result
        return result


def rank(out: Outcomes) -> int:
    """How good an outcome is: eligible 2; open only for a caseworker's assessment 1; else 0.

    An outcome that is undetermined because facts are missing ranks with
    not eligible: a change that only raises new questions is no improvement.
    """
    if out.status == "eligible":
        return 2
    if out.status == "undetermined" and not out.missing:
        return 1
    return 0


def requirement_outcome(out: Outcomes, requirement: str) -> str | None:
    for creq, outcome, *_ in out.reasons:
        if creq.req.id == requirement:
            return outcome
    return None


def measure_amount(out: Outcomes) -> Decimal | None:
    if out.status == "not_eligible" or out.amount is None or not isinstance(
            out.amount, int | Decimal):
        return None
    return Decimal(out.amount)


def _step(spec: FieldSpec) -> Decimal:
    return Decimal("0.01") if spec.kind == "number" else Decimal(1)


def _to_value(spec: FieldSpec, k: int) -> Any:
    if spec.kind == "int":
        return k
    value = Decimal(k) * _step(spec)
    return value.quantize(_step(spec))


def _bounds(spec: FieldSpec, current: Decimal) -> tuple[Decimal, Decimal]:
    span = _SPAN.get(spec.kind, Decimal(1000))
    lo = Decimal(spec.minimum) if spec.minimum is not None else current - span
    hi = Decimal(spec.maximum) if spec.maximum is not None else max(current, Decimal(0)) + span
    return lo, hi


def nearest_flips(spec: FieldSpec, current: Any,
                  good: Callable[[Any], bool]) -> list[tuple[Any, Direction, bool]]:
    """Where ``good`` turns true when one numeric fact moves up or down from ``current``.

    Returns up to two ``(value, direction, verified)``: the smallest value above
    (``at_or_above``) and the largest below (``at_or_below``) at which ``good``
    holds, each exact to one unit of the fact (1 NOK, 1 year, 0.01 for plain
    numbers). Probing doubles the distance each step, then bisects; ``verified``
    re-checks the value, the unit before it (must be false) and the unit after
    it (must be true, i.e. locally monotone).
    """
    step = _step(spec)
    cur = Decimal(current)
    lo, hi = _bounds(spec, cur)
    cur_k = int((cur / step).to_integral_value())
    lo_k = int((lo / step).to_integral_value(rounding="ROUND_CEILING"))
    hi_k = int((hi / step).to_integral_value(rounding="ROUND_FLOOR"))

    def ok(k: int) -> bool:
        return good(_to_value(spec, k))

    found: list[tuple[Any, Direction, bool]] = []
    for sign in (-1, 1):
        prev, dist = cur_k, 1
        while True:
            k = cur_k + sign * dist
            k = max(lo_k, min(hi_k, k))
            if k == prev:
                break
            if ok(k):
                bad, hit = prev, k
                while abs(hit - bad) > 1:
                    mid = (hit + bad) // 2
                    if ok(mid):
                        hit = mid
                    else:
                        bad = mid
                beyond = hit + sign
                verified = ok(hit) and not ok(hit - sign) and (
                    not lo_k <= beyond <= hi_k or ok(beyond))
                found.append((_to_value(spec, hit),
                              "at_or_above" if sign > 0 else "at_or_below", verified))
                break
            prev, dist = k, dist * 2
    found.sort(key=lambda f: abs(Decimal(f[0]) - cur))
    return found


def alternatives(spec: FieldSpec, current: Any) -> list[Any]:
    """The other values a yes/no or choice fact could take."""
    if spec.kind == "bool":
        return [not current] if isinstance(current, bool) else [True, False]
    if spec.kind == "enum":
        return [v for v in (spec.values or ()) if v != current]
    return []


# -- texts ------------------------------------------------------------------


def format_fact_value(value: Any, spec: FieldSpec | None, lang: str) -> str:
    """A fact's value for people: ``23 456 NOK/month``, ``ja``/``yes``, ``leie_privat``."""
    if value is None:
        return render("value.unknown", lang)
    if isinstance(value, bool):
        return render(f"value.{str(value).lower()}", lang)
    if isinstance(value, int | Decimal):
        return format_amount(Decimal(value), spec.unit if spec else None, lang)
    return str(value)


def _flip_message(key: str, lang: str, subject: str, fact: str, value: str, current: str,
                  extra: str = "") -> str:
    return render(key, lang, subject=subject, fact=fact, value=value, current=current) + extra


def _fact_label(engine: Engine, path: str, lang: str) -> str:
    return f"{engine.title_of(path, lang)} ({path})"


# -- why not ----------------------------------------------------------------


def _fact_flips(engine: Engine, prober: Prober, facts: dict[str, Any], paths: list[str],
                accept: Callable[[Outcomes], bool], nearest_only: bool = False,
                ) -> Iterator[tuple[str, FieldSpec, Any, Any, Direction, bool, Outcomes | None]]:
    """For each given fact, one at a time: the values at which ``accept`` holds — the
    nearest thresholds of a numeric fact (only the first with ``nearest_only``), or the
    other values of a yes/no or choice fact — with the outcomes there."""
    for path in paths:
        spec = field_spec(engine.pack.schema, path)
        current = get_fact(facts, path)
        if spec is None or current is None:
            continue

        def ok(value: Any, path: str = path) -> bool:
            out = prober.outcomes({path: value})
            return out is not None and accept(out)

        found: list[tuple[Any, Direction, bool]]
        if spec.kind in _NUMERIC:
            found = nearest_flips(spec, current, ok)
            found = found[:1] if nearest_only else found
        else:
            found = [(v, "set_to", True) for v in alternatives(spec, current) if ok(v)]
        for value, direction, verified in found:
            yield path, spec, current, value, direction, verified, prober.outcomes({path: value})


def _requirement_flips(engine: Engine, prober: Prober, facts: dict[str, Any],
                       requirement: str, title: str, paths: list[str],
                       lang: str) -> list[Flip]:
    flips: list[Flip] = []

    def met(out: Outcomes) -> bool:
        return requirement_outcome(out, requirement) in ("met", "waived")

    for path, spec, current, value, direction, verified, out in _fact_flips(
            engine, prober, facts, paths, met, nearest_only=True):
        flips.append(Flip(
            path=path, title=engine.title_of(path, lang), unit=spec.unit,
            current=current, value=value, direction=direction,
            changeable=spec.changeable,
            outcome=requirement_outcome(out, requirement) if out else None,
            verified=verified,
            message=_flip_message(f"whynot.requirement.{direction}", lang, title,
                                  _fact_label(engine, path, lang),
                                  format_fact_value(value, spec, lang),
                                  format_fact_value(current, spec, lang)),
        ))
    return flips


def measure_flips(engine: Engine, prober: Prober, facts: dict[str, Any], paths: list[str],
                  title: str, lang: str, target: Callable[[Outcomes], bool]) -> list[Flip]:
    """Values of one fact each at which the measure reaches ``target`` (all else unchanged)."""
    flips: list[Flip] = []
    for path, spec, current, value, direction, verified, out in _fact_flips(
            engine, prober, facts, paths, target):
        assert out is not None
        amount = measure_amount(out)
        unit = prober.cm.measure.amount.unit if prober.cm.measure.amount else None
        extra = ""
        if amount is not None:
            extra = render("whynot.amount_then", lang,
                           amount=format_amount(amount, unit, lang))
        subject = f"{title}: {render(f'status.{out.status}', lang)}"
        flips.append(Flip(
            path=path, title=engine.title_of(path, lang), unit=spec.unit,
            current=current, value=value, direction=direction,
            changeable=spec.changeable, status=out.status,
            amount=amount, verified=verified,
            message=_flip_message(f"whynot.measure.{direction}", lang, subject,
                                  _fact_label(engine, path, lang),
                                  format_fact_value(value, spec, lang),
                                  format_fact_value(current, spec, lang), extra),
        ))
    return flips


def measure_limits(engine: Engine, prober: Prober, facts: dict[str, Any], paths: list[str],
                   title: str, lang: str, worse: Callable[[Outcomes], bool]) -> list[Flip]:
    """How far each numeric fact can move before the measure's status gets worse.

    E.g. for an eligible bostøtte household: the highest monthly income at which
    bostøtte is still paid. ``value`` is the last value on the good side.
    """
    flips: list[Flip] = []
    for path in paths:
        spec = field_spec(engine.pack.schema, path)
        current = get_fact(facts, path)
        if spec is None or current is None or spec.kind not in _NUMERIC:
            continue

        def bad(value: Any, path: str = path) -> bool:
            out = prober.outcomes({path: value})
            return out is not None and worse(out)

        for hit, direction, verified in nearest_flips(spec, current, bad):
            sign = 1 if direction == "at_or_above" else -1
            last = _to_value(spec, int((Decimal(hit) / _step(spec)).to_integral_value()) - sign)
            keep: Direction = "at_or_below" if sign > 0 else "at_or_above"
            out = prober.outcomes({path: last})
            if out is None:
                continue
            amount = measure_amount(out)
            unit = prober.cm.measure.amount.unit if prober.cm.measure.amount else None
            extra = render("whynot.amount_then", lang, amount=format_amount(amount, unit, lang)) \
                if amount is not None else ""
            flips.append(Flip(
                path=path, title=engine.title_of(path, lang), unit=spec.unit,
                current=current, value=last, direction=keep, changeable=spec.changeable,
                status=out.status, amount=amount, verified=verified,
                message=_flip_message(
                    f"whynot.measure.limit_{keep}", lang,
                    f"{title}: {render(f'status.{out.status}', lang)}",
                    _fact_label(engine, path, lang), format_fact_value(last, spec, lang),
                    format_fact_value(current, spec, lang), extra),
            ))
    return flips


def why_not(engine: Engine, facts: dict[str, Any], as_of: date, lang: str = "nb",
            measure_id: str | None = None, budget: float | None = None) -> WhyNotResult:
    """Explain every measure that is not eligible (or only ``measure_id``).

    For each failed or undecided requirement: its expression, the values seen,
    the missing facts, and for each fact it depends on the value that would make
    it met. For the measure as a whole: for each such fact, the exact value at
    which its status improves with everything else unchanged — e.g. the monthly
    income at or below which bostøtte is paid, found through the amount formula
    and the minimum payout. Raises ``KeyError`` for an unknown ``measure_id``.

    ``budget`` (seconds) bounds the search: when it runs out, the result holds the
    measures analysed in full before then and says ``partial``.
    """
    deadline = Deadline.after(budget)
    decision: Decision = engine.evaluate(facts, as_of=as_of, lang=lang)
    ids = [m.id for m in decision.measures]
    if measure_id is not None and measure_id not in ids:
        raise KeyError(measure_id)
    list_group = next((g.name for g in engine.pack.schema.groups.values() if g.is_list),
                      "members")
    out: list[MeasureWhyNot] = []
    partial = False
    for result in decision.measures:
        if measure_id is not None and result.id != measure_id:
            continue
        if result.status == "eligible" and measure_id is None:
            continue
        cm = next(m for m in engine.measures if m.measure.id == result.id)
        prober = Prober(engine, facts, as_of, result.id, deadline=deadline)
        try:
            out.append(_measure_why_not(engine, prober, cm, result, facts, lang, measure_id,
                                        list_group))
        except BudgetExceeded:
            partial = True
            break
    return WhyNotResult(lang=decision.lang, as_of=decision.as_of, measures=out,
                        provenance=decision.provenance, partial=partial)


def _measure_why_not(engine: Engine, prober: Prober, cm: CompiledMeasure, result: Any,
                     facts: dict[str, Any], lang: str, measure_id: str | None,
                     list_group: str) -> MeasureWhyNot:
    base = prober.outcomes({})
    current_rank = rank(base) if base is not None else 0
    requirements: list[RequirementWhyNot] = []
    all_paths: dict[str, None] = {}
    for reason in result.reasons:
        if reason.outcome in ("met", "waived"):
            continue
        creq = next(c for c in cm.requirements if c.req.id == reason.requirement)
        paths = concrete_paths(
            fact_dependencies(engine, cm, requirement_nodes(cm, reason.requirement)),
            facts, list_group)
        flips: list[Flip] = []
        if reason.outcome in ("not_met", "unknown"):
            all_paths.update(dict.fromkeys(paths))
            flips = _requirement_flips(engine, prober, facts, reason.requirement,
                                       reason.title, paths, lang)
        requirements.append(RequirementWhyNot(
            requirement=reason.requirement, title=reason.title, outcome=reason.outcome,
            expression=creq.req.expr.text if creq.req.expr else None,
            values=reason.values, missing_facts=reason.missing_facts, flips=flips,
            message=reason.message,
        ))
    thresholds = measure_flips(
        engine, prober, facts, list(all_paths), result.title, lang,
        lambda o, r=current_rank: rank(o) > r)  # type: ignore[misc]
    limits: list[Flip] = []
    if measure_id is not None:
        nodes = [n for c in cm.requirements for n in requirement_nodes(cm, c.req.id)]
        limits = measure_limits(
            engine, prober, facts,
            concrete_paths(fact_dependencies(engine, cm, nodes), facts, list_group),
            result.title, lang, lambda o, r=current_rank: rank(o) < r)  # type: ignore[misc]
    return MeasureWhyNot(
        id=result.id, title=result.title, status=result.status, summary=result.summary,
        requirements=requirements, thresholds=thresholds, limits=limits,
        missing_facts=result.missing_facts,
    )
