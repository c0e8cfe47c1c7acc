"""The engine: compile a RulePack once, evaluate households into Decisions.

``Engine(pack)`` compiles every criterion, ``let``, amount, requirement,
exception and priority of the pack into closures (the reference semantics in
:mod:`eligibility.compile.closures`). ``evaluate(facts, as_of)`` validates the
facts, evaluates them with three-valued logic and builds the
:class:`~eligibility.decision.Decision`. An Engine holds no per-call state: each
evaluation gets its own context, so one Engine can serve many threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from eligibility.compile.closures import NoValue, Resolver, compile_expr
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.decision import (
    STATUSES,
    Decision,
    Outcome,
    Status,
)
from eligibility.errors import AsOfError, EvaluationError
from eligibility.explain.messages import render
from eligibility.expr import ast
from eligibility.facts import FactValidator, ValidFacts
from eligibility.options import as_of_date, check_lang
from eligibility.pack.model import (
    Criterion,
    Expr,
    Measure,
    Requirement,
    RuleException,
    RulePack,
    Source,
)
from eligibility.version import __version__

Fn = Callable[[Ctx], Any]

_AGGREGATES = frozenset({"count", "sum", "any", "all", "param"})


@dataclass(frozen=True)
class CompiledRequirement:
    req: Requirement
    fn: Fn | None
    exceptions: tuple[tuple[RuleException, Fn], ...]
    observed: tuple[tuple[str, Fn], ...]
    sources: tuple[dict[str, Any], ...]  # built once, copied into each Decision
    exception_sources: Mapping[str, tuple[dict[str, Any], ...]]


@dataclass(frozen=True)
class CompiledMeasure:
    measure: Measure
    lets: tuple[tuple[str, Fn], ...]
    amount: Fn | None
    requirements: tuple[CompiledRequirement, ...]
    priority: tuple[tuple[int, str | None, Any, Fn], ...]
    params_used: frozenset[str]
    criteria_used: frozenset[str]
    sources: tuple[dict[str, Any], ...]
    unconfirmed: frozenset[str]  # the measure and the criteria it uses, if unconfirmed


@dataclass(frozen=True)
class Outcomes:
    """The raw result of evaluating one measure, before it becomes text."""

    status: Status
    amount: Any
    reasons: tuple[tuple[CompiledRequirement, Outcome, RuleException | None, tuple[str, ...],
                         Any], ...]
    missing: tuple[str, ...]
    discretionary: tuple[str, ...]
    priority: tuple[int, Any] | None


def _sources(sources: tuple[Source, ...]) -> tuple[dict[str, Any], ...]:
    return tuple({"ref": s.ref, "url": s.url} for s in sources)


def _observables(expr: Expr) -> list[ast.Node]:
    """Sub-expressions whose values explain a rule: names, aggregates and look-ups."""
    found: list[ast.Node] = []

    def visit(node: ast.Node) -> None:
        if isinstance(node, ast.Name) and node.dotted != "members":
            found.append(node)
            return
        if isinstance(node, ast.Call) and node.func in _AGGREGATES:
            found.append(node)
            return
        for child in ast.children(node):
            visit(child)

    visit(expr.node)
    return found


def _refs(exprs: list[Expr]) -> tuple[set[str], set[str]]:
    params: set[str] = set()
    criteria: set[str] = set()
    for expr in exprs:
        for node in ast.walk(expr.node):
            if isinstance(node, ast.Call) and node.func == "param":
                first = node.args[0]
                if isinstance(first, ast.Name):
                    params.add(first.dotted)
            elif isinstance(node, ast.Name) and node.parts[0] == "criteria":
                criteria.add(node.parts[1])
    return params, criteria


def round_amount(value: Any, rounding: str) -> Any:
    """Round a computed amount as the rule declares (exact Decimal arithmetic)."""
    if value is UNKNOWN:
        return value
    amount = Decimal(value)
    if rounding == "krone":
        return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if rounding == "krone_down":
        return amount.quantize(Decimal(1), rounding=ROUND_FLOOR)
    if rounding == "ore":
        return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return amount


def _json_value(value: Any) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


class Engine:
    """Compiles a pack once and evaluates households (see module docstring)."""

    def __init__(self, pack: RulePack) -> None:
        self.pack = pack
        self.validator = FactValidator(pack.schema)
        facts = frozenset(f.path for f in pack.schema.all_fields() if not f.in_list)
        members = frozenset(f.name for f in pack.schema.all_fields() if f.in_list)
        self._criteria_fns: dict[str, Fn] = {}
        by_id = {c.id: c for c in pack.criteria}
        for cid in _criteria_order(pack.criteria):
            criterion = by_id[cid]
            res = Resolver(facts, members, self._criteria_fns,
                           where=f"{criterion.file} criterion {cid}")
            self._criteria_fns[cid] = compile_expr(criterion.expr.node, res)
        self._criterion_cached = {
            cid: compile_expr(ast.Name(0, 0, ("criteria", cid)),
                              Resolver(facts, members, self._criteria_fns))
            for cid in self._criteria_fns
        }
        self._criteria_deps = {c.id: _refs([c.expr]) for c in pack.criteria}
        self._unconfirmed_criteria = {c.id: c.unconfirmed for c in pack.criteria}
        self.measures = tuple(self._compile_measure(m, facts, members) for m in pack.measures)
        self._snapshots: dict[date, tuple[dict[str, Any], frozenset[str]]] = {}
        self._lock = threading.Lock()

    # -- compilation -------------------------------------------------------
    def _compile_measure(self, m: Measure, facts: frozenset[str],
                         members: frozenset[str]) -> CompiledMeasure:
        lets: dict[str, Fn] = {}
        let_list: list[tuple[str, Fn]] = []
        for name, expr in m.lets:
            res = Resolver(facts, members, self._criteria_fns, lets,
                           where=f"{m.file} let {name}")
            fn = compile_expr(expr.node, res)
            lets[name] = fn
            let_list.append((name, fn))
        res = Resolver(facts, members, self._criteria_fns, lets, where=m.file)

        def compiled(expr: Expr) -> Fn:
            return compile_expr(expr.node, res)

        def observed(exprs: list[Expr]) -> tuple[tuple[str, Fn], ...]:
            seen: dict[str, Fn] = {}
            for expr in exprs:
                for node in _observables(expr):
                    label = expr.slice(node)
                    if label not in seen:
                        seen[label] = compile_expr(node, res)
            return tuple(seen.items())

        requirements = []
        all_exprs: list[Expr] = [e for _, e in m.lets]
        for req in m.requirements:
            exprs = ([req.expr] if req.expr else []) + [e.expr for e in req.exceptions]
            all_exprs.extend(exprs)
            requirements.append(CompiledRequirement(
                req,
                compiled(req.expr) if req.expr else None,
                tuple((e, compiled(e.expr)) for e in req.exceptions),
                observed(exprs),
                _sources(req.sources),
                {e.id: _sources(e.sources) for e in req.exceptions},
            ))
        if m.amount:
            all_exprs.append(m.amount.expr)
        priority = tuple((p.rank, None, p.title, compiled(p.expr)) for p in m.priority)
        all_exprs.extend(p.expr for p in m.priority)
        params, criteria = _refs(all_exprs)
        # follow criteria transitively for the parameters and criteria they use
        stack = list(criteria)
        while stack:
            cid = stack.pop()
            more_params, more_criteria = self._criteria_deps.get(cid, (set(), set()))
            params |= more_params
            for c in more_criteria - criteria:
                criteria.add(c)
                stack.append(c)
        return CompiledMeasure(
            m,
            tuple(let_list),
            compiled(m.amount.expr) if m.amount else None,
            tuple(requirements),
            priority,
            frozenset(params),
            frozenset(criteria),
            _sources(m.sources),
            frozenset({f"criterion:{c}" for c in criteria if self._unconfirmed_criteria.get(c)}
                      | ({f"measure:{m.id}"} if m.unconfirmed else set())),
        )

    # -- parameters at a date ----------------------------------------------
    def parameters_at(self, as_of: date) -> tuple[dict[str, Any], frozenset[str]]:
        """The value of every parameter on ``as_of``, and which of them are unconfirmed."""
        cached = self._snapshots.get(as_of)
        if cached is not None:
            return cached
        if not self.pack.covers(as_of):
            meta = self.pack.meta
            raise AsOfError(
                f"{as_of.isoformat()} is outside the period pack {meta.id!r} covers "
                f"({meta.valid_from.isoformat()} to "
                f"{meta.valid_to.isoformat() if meta.valid_to else 'open'})"
            )
        values: dict[str, Any] = {}
        unconfirmed: set[str] = set()
        for name, param in self.pack.parameters.items():
            version = param.version_at(as_of)
            if version is None:
                values[name] = NoValue(name)
                continue
            values[name] = version.value
            if param.unconfirmed or version.unconfirmed:
                unconfirmed.add(name)
        snapshot = (values, frozenset(unconfirmed))
        with self._lock:
            if len(self._snapshots) > 256:
                self._snapshots.clear()
            self._snapshots[as_of] = snapshot
        return snapshot

    # -- evaluation --------------------------------------------------------
    def validate(self, facts: Any) -> ValidFacts:
        """Validate raw facts against the pack's schema (raises FactsError)."""
        if isinstance(facts, ValidFacts):
            return facts
        return self.validator.validate(facts)

    def context(self, facts: ValidFacts, as_of: date) -> Ctx:
        params, _ = self.parameters_at(as_of)
        return Ctx(facts.flat, facts.members, as_of, params)

    def evaluate_measure(self, cm: CompiledMeasure, ctx: Ctx) -> Outcomes:
        """Evaluate one compiled measure in ``ctx`` (criteria cache is shared)."""
        ctx.lets = {}
        missing = ctx.missing
        amount: Any = None
        if cm.amount is not None:
            mark = len(missing)
            amount = round_amount(cm.amount(ctx), cm.measure.amount.rounding)  # type: ignore[union-attr]
            ctx.amount = (amount, tuple(missing[mark:]))
            del missing[mark:]
        reasons: list[tuple[CompiledRequirement, Outcome, RuleException | None,
                            tuple[str, ...], Any]] = []
        failed = unknown = discretionary = False
        need: list[str] = []
        assess: list[str] = []
        as_of = ctx.as_of
        for creq in cm.requirements:
            req = creq.req
            if not req.in_force(as_of):
                continue
            mark = len(missing)
            value = creq.fn(ctx) if creq.fn is not None else UNKNOWN
            waived_by: RuleException | None = None
            outcome: Outcome
            if value is not True and creq.exceptions:
                for exc, efn in creq.exceptions:
                    if efn(ctx) is True:
                        waived_by = exc
                        break
            if waived_by is not None:
                outcome = "waived"
                del missing[mark:]
            elif req.discretionary:
                outcome = "discretionary"
                discretionary = True
                assess.append(req.id)
            elif value is True:
                outcome = "met"
                del missing[mark:]
            elif value is False and not any(
                m for m in missing[mark:]
            ):
                outcome = "not_met"
                failed = True
            elif value is False:
                # the requirement failed but an exception could still apply
                outcome = "unknown"
                unknown = True
            else:
                outcome = "unknown"
                unknown = True
            seen = tuple(dict.fromkeys(missing[mark:]))
            if outcome in ("met", "not_met", "waived"):
                seen = ()
            if outcome == "not_met":
                del missing[mark:]
            need.extend(seen)
            reasons.append((creq, outcome, waived_by, seen, value))
        status: Status
        if failed:
            status = "not_eligible"
        elif unknown or discretionary:
            status = "undetermined"
        else:
            status = "eligible"
        priority = None
        for rank, _, title, pfn in cm.priority:
            if pfn(ctx) is True:
                priority = (rank, title)
                break
        return Outcomes(status, amount, tuple(reasons),
                        tuple(dict.fromkeys(need)) if status == "undetermined" else (),
                        tuple(assess) if status == "undetermined" else (), priority)

    def evaluate(self, facts: Any, as_of: date | str | None = None,
                 lang: str = "nb") -> Decision:
        """Evaluate one household's facts at ``as_of`` (a date or ``"YYYY-MM-DD"``;
        default: today) with texts in ``lang`` (``nb`` or ``en``)."""
        when = as_of_date(as_of)
        lang = check_lang(lang)
        valid = self.validate(facts)
        params, unconfirmed_params = self.parameters_at(when)
        ctx = Ctx(valid.flat, valid.members, when, params)
        results: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
        goal_order = list(self.pack.meta.goals)
        affects: dict[str, list[str]] = {}
        for index, cm in enumerate(self.measures):
            if not cm.measure.in_force(when):
                continue
            try:
                outcomes = self.evaluate_measure(cm, ctx)
            except ArithmeticError as exc:  # e.g. an amount beyond Decimal's precision
                raise EvaluationError(
                    f"arithmetic error ({type(exc).__name__}); check the size of the "
                    "amounts in the facts", f"measure {cm.measure.id}") from None
            result = self._measure_result(cm, outcomes, ctx, lang, unconfirmed_params)
            for path in outcomes.missing:
                affects.setdefault(path, []).append(cm.measure.id)
            key = (
                goal_order.index(cm.measure.goal) if cm.measure.goal in goal_order else 99,
                STATUSES.index(outcomes.status),
                result["priority"] or 99,
                index,
            )
            results.append((key, result))
        results.sort(key=lambda item: item[0])
        # one validation of plain data is much faster than constructing every model
        return Decision.model_validate({
            "lang": "en" if lang == "en" else "nb",
            "as_of": when,
            "measures": [r for _, r in results],
            "criteria": self._criteria_results(ctx, lang),
            "missing_facts": self._missing(affects, lang),
            "provenance": {
                "pack_id": self.pack.meta.id,
                "pack_version": self.pack.meta.version,
                "content_hash": self.pack.content_hash,
                "as_of": when,
                "engine_version": __version__,
                "facts_sha256": valid.sha256,
            },
        })

    # -- building the Decision ---------------------------------------------
    def _measure_result(self, cm: CompiledMeasure, out: Outcomes, ctx: Ctx, lang: str,
                        unconfirmed_params: frozenset[str]) -> dict[str, Any]:
        m = cm.measure
        reasons = []
        failed_titles = []
        for creq, outcome, exc, seen, value in out.reasons:
            req = creq.req
            title = req.title.get(lang)
            values = {label: _json_value(fn(ctx)) for label, fn in creq.observed}
            if outcome == "unknown":
                message = render("outcome.unknown", lang, title=title, missing=", ".join(seen))
            elif outcome == "waived":
                message = render("outcome.waived", lang, title=title,
                                 exception=exc.title.get(lang))  # type: ignore[union-attr]
            elif outcome == "discretionary" and value is not UNKNOWN and creq.fn is not None:
                message = render("outcome.discretionary_hint", lang, title=title,
                                 indicator=render(f"value.{str(value).lower()}", lang)
                                 if isinstance(value, bool) else value)
            else:
                message = render(f"outcome.{outcome}", lang, title=title)
            if outcome == "not_met":
                failed_titles.append(title)
            sources = list(creq.exception_sources[exc.id] if exc else creq.sources)
            reasons.append(dict(
                requirement=req.id,
                title=title,
                outcome=outcome,
                exception=exc.id if exc else None,
                exception_title=exc.title.get(lang) if exc else None,
                values=values,
                missing_facts=list(seen),
                sources=sources,
                message_key=f"outcome.{outcome}",
                message=message,
                discretionary=req.discretionary,
                unconfirmed=req.unconfirmed or bool(exc and exc.unconfirmed),
                note=req.note,
            ))
        if out.status == "eligible":
            summary = render("summary.eligible", lang)
        elif out.status == "not_eligible":
            summary = render("summary.not_eligible", lang, failed="; ".join(failed_titles))
        elif out.missing:
            summary = render("summary.missing", lang,
                             missing=", ".join(self.title_of(p, lang) for p in out.missing))
        else:
            titles = [str(r["title"]) for r in reasons if r["outcome"] == "discretionary"]
            summary = render("summary.discretion", lang, discretionary="; ".join(titles))
        unconfirmed = sorted(
            {f"param:{p}" for p in cm.params_used & unconfirmed_params}
            | cm.unconfirmed
            | {f"requirement:{r['requirement']}" for r in reasons if r["unconfirmed"]}
        )
        amount = out.amount
        if amount is UNKNOWN or out.status == "not_eligible":
            amount = None
        return dict(
            id=m.id,
            title=m.title.get(lang),
            goal=m.goal,
            goal_title=self.pack.meta.goals[m.goal].get(lang),
            kind="right" if m.kind == "right" else "recommendation",
            status=out.status,
            summary=summary,
            amount=amount,
            unit=m.amount.unit if m.amount else None,
            amount_discretionary=bool(m.amount and m.amount.discretionary),
            priority=out.priority[0] if out.priority else None,
            priority_reason=out.priority[1].get(lang) if out.priority and out.priority[1]
            else None,
            reasons=reasons,
            missing_facts=list(out.missing),
            discretionary=list(out.discretionary),
            sources=list(cm.sources),
            unconfirmed=unconfirmed,
            advice=m.advice.get(lang) if m.advice and out.status != "not_eligible" else None,
        )

    def _criteria_results(self, ctx: Ctx, lang: str) -> list[dict[str, Any]]:
        out = []
        for c in self.pack.criteria:
            if not _criterion_in_force(c, ctx.as_of):
                continue
            mark = len(ctx.missing)
            value = self._criterion_cached[c.id](ctx)
            missing = list(dict.fromkeys(ctx.missing[mark:])) if value is UNKNOWN else []
            out.append(dict(
                id=c.id,
                title=c.title.get(lang),
                value=None if value is UNKNOWN else value,
                known=value is not UNKNOWN,
                missing_facts=missing,
                unconfirmed=c.unconfirmed,
            ))
        return out

    def _missing(self, affects: dict[str, list[str]], lang: str) -> list[dict[str, Any]]:
        facts = [{"path": path, "question": self.question(path, lang), "affects": measures}
                 for path, measures in affects.items()]
        facts.sort(key=lambda f: (-len(f["affects"]), f["path"]))
        return facts

    def title_of(self, path: str, lang: str) -> str:
        """The short title of the fact at ``path``."""
        return self._describe(path, lang, question=False)

    def question(self, path: str, lang: str) -> str:
        """How to ask for the fact at ``path`` (``members[2].age`` → the members.age field)."""
        return self._describe(path, lang, question=True)

    def _describe(self, path: str, lang: str, question: bool) -> str:
        schema = self.pack.schema
        base = path
        prefix = ""
        if path.startswith("members["):
            index, _, name = path[len("members["):].partition("].")
            base = f"members.{name}"
            prefix = f"#{int(index) + 1}: " if index.isdigit() else ""
        spec = schema.field(base)
        if spec is None:
            group = schema.groups.get(base)
            return group.title.get(lang) if group else path
        text = spec.question.get(lang) if question and spec.question else spec.title.get(lang)
        return prefix + text


def _criterion_in_force(c: Criterion, when: date) -> bool:
    return (c.valid_from is None or c.valid_from <= when) and (
        c.valid_to is None or when <= c.valid_to)


def _criteria_order(criteria: tuple[Criterion, ...]) -> list[str]:
    deps = {c.id: _refs([c.expr])[1] for c in criteria}
    order: list[str] = []
    done: set[str] = set()

    def visit(cid: str) -> None:
        if cid in done:
            return
        done.add(cid)
        for dep in sorted(deps.get(cid, ())):
            if dep in deps:
                visit(dep)
        order.append(cid)

    for c in criteria:
        visit(c.id)
    return order
