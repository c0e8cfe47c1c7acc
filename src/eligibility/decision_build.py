"""The decision builder: outcomes from any backend → one :class:`~eligibility.decision.Decision`.

:class:`DecisionBuilder` owns everything textual about a decision: requirement and
measure titles in the chosen language, the messages rendered from the catalogs in
:mod:`eligibility.explain.messages`, measure summaries, the questions for missing
facts, the ordering of measures (goal, status, priority, pack order) and the
provenance block. It reads only the compiled pack and the
:class:`~eligibility.compile.outcomes.HouseholdOutcomes`; it never evaluates rules,
so every backend gets the same Decision for the same outcomes.
"""

from __future__ import annotations

from typing import Any

from eligibility.compile.outcomes import HouseholdOutcomes, Outcomes
from eligibility.compile.pack import CompiledMeasure, CompiledPack
from eligibility.compile.runtime import UNKNOWN
from eligibility.decision import STATUSES, Decision
from eligibility.explain.calculation import decision_steps
from eligibility.explain.messages import render
from eligibility.version import __version__


class DecisionBuilder:
    """Builds Decisions for one compiled pack (see module docstring)."""

    def __init__(self, compiled: CompiledPack) -> None:
        self.compiled = compiled
        self.pack = compiled.pack
        self._goal_order = {g: i for i, g in enumerate(self.pack.meta.goals)}

    def build(self, outcomes: HouseholdOutcomes, lang: str = "nb") -> Decision:
        """The Decision for ``outcomes`` in ``lang`` (``nb`` or ``en``)."""
        results: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []
        affects: dict[str, list[str]] = {}
        for index, cm, out in outcomes.measures:
            result = self.measure_result(cm, out, lang, outcomes.unconfirmed_params)
            for path in out.missing:
                affects.setdefault(path, []).append(cm.measure.id)
            key = (
                self._goal_order.get(cm.measure.goal, 99),
                STATUSES.index(out.status),
                result["priority"] or 99,
                index,
            )
            results.append((key, result))
        results.sort(key=lambda item: item[0])
        when = outcomes.as_of
        # one validation of plain data is much faster than constructing every model
        return Decision.model_validate({
            "lang": "en" if lang == "en" else "nb",
            "as_of": when,
            "measures": [r for _, r in results],
            "criteria": self.criteria_results(outcomes, lang),
            "missing_facts": self.missing(affects, lang),
            "provenance": {
                "pack_id": self.pack.meta.id,
                "pack_version": self.pack.meta.version,
                "content_hash": self.pack.content_hash,
                "as_of": when,
                "engine_version": __version__,
                "facts_sha256": outcomes.facts_sha256,
            },
        })

    def measure_result(self, cm: CompiledMeasure, out: Outcomes, lang: str,
                       unconfirmed_params: frozenset[str]) -> dict[str, Any]:
        m = cm.measure
        reasons = []
        failed_titles = []
        for creq, outcome, exc, seen, value, values in out.reasons:
            req = creq.req
            title = req.title.get(lang)
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
                values=values or {},
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
            calculation=decision_steps(out.calculation, lang)
            if out.calculation is not None else None,
        )

    def criteria_results(self, outcomes: HouseholdOutcomes, lang: str) -> list[dict[str, Any]]:
        return [dict(
            id=c.id,
            title=c.title.get(lang),
            value=None if value is UNKNOWN else value,
            known=value is not UNKNOWN,
            missing_facts=list(missing),
            unconfirmed=c.unconfirmed,
        ) for c, value, missing in outcomes.criteria]

    def missing(self, affects: dict[str, list[str]], lang: str) -> list[dict[str, Any]]:
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
