"""What the page's templates draw, computed from engine results (no HTTP, no templates).

The justification text for a decision letter (:func:`justification`), the sweep chart as
SVG markup built from a :class:`~eligibility.sweep.SweepResult` (:func:`sweep_svg`, drawn
on the server, no script), and the published legal content of a pack
(:func:`rules_content`: per measure its requirements, exceptions, discretionary points,
amount formula, parameters with every dated value and source, what is unconfirmed, and
the worked cases). Everything returned is plain data; escaping is the templates' job
(the SVG is built with :func:`html.escape` on every text it holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from eligibility.decision import Decision, MeasureResult
from eligibility.explain.calculation import format_number
from eligibility.explain.messages import render
from eligibility.pack.model import Measure, Parameter, RulePack, Source, Text
from eligibility.sweep import SweepResult
from eligibility.web.forms import text_lang
from eligibility.web.texts import ui

STATUS_CLASS = {"eligible": "eligible", "undetermined": "undetermined",
                "not_eligible": "not-eligible"}
#: the sweep chart's colours: the designsystemet's success / warning / neutral tones,
#: each with at least 3:1 contrast to white (WCAG 1.4.11)
STATUS_FILL = {"eligible": "#06893a", "undetermined": "#b25d00", "not_eligible": "#68707c"}


def amount_text(value: Decimal | None, unit: str | None, lang: str) -> str:
    """An amount with its unit as the page shows it ("" when there is none)."""
    return "" if value is None else format_number(value, lang, unit)


def justification(decision: Decision, lang: str) -> str:
    """A plain-text justification of every measure, to copy into a decision letter."""
    t = ui(lang)
    lines: list[str] = []
    for m in decision.measures:
        head = f"{m.title}: {_status(m, lang)}"
        if m.amount is not None:
            head += f" – {t('decision.amount').lower()} {amount_text(m.amount, m.unit, lang)}"
        lines.append(head)
        for r in m.reasons:
            refs = "; ".join(s.ref for s in r.sources)
            lines.append(f"  – {r.message}" + (f" ({refs})" if refs else ""))
        lines.append("")
    p = decision.provenance
    lines.append(f"{t('prov.pack')}: {p.pack_id} {p.pack_version} ({p.content_hash[:16]}), "
                 f"{t('prov.as_of').lower()} {p.as_of.isoformat()}, "
                 f"{t('prov.engine').lower()} {p.engine_version}.")
    lines.append(t("print.generated"))
    return "\n".join(lines)


def _status(m: MeasureResult, lang: str) -> str:
    return render(f"status.{m.status}", lang)


def sweep_svg(result: SweepResult, lang: str, start: Any, stop: Any) -> str:
    """The sweep as an SVG strip chart: one row per measure, one cell per point."""
    t = ui(lang)
    label_w, cell_h, gap, top = 300, 22, 6, 8
    n = max(len(result.points), 1)
    plot_w = 560
    cell_w = plot_w / n
    rows = result.measures
    height = top + len(rows) * (cell_h + gap) + 40
    width = label_w + plot_w + 10
    title = t("sweep.chart", fact=result.title,
              start=format_number(start, lang, result.unit),
              stop=format_number(stop, lang, result.unit))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sweep-chart" role="img" '
           f'aria-labelledby="sweep-svg-title" viewBox="0 0 {width} {height}" '
           f'width="100%" preserveAspectRatio="xMinYMin meet">',
           f'<title id="sweep-svg-title">{escape(title)}</title>']
    for row, m in enumerate(rows):
        y = top + row * (cell_h + gap)
        out.append(f'<text x="{label_w - 8}" y="{y + cell_h * 0.7:.1f}" text-anchor="end" '
                   f'font-size="13" fill="#1e2b3c">{escape(_short(m.title))}</text>')
        for i, point in enumerate(result.points):
            cell = point.measures.get(m.id)
            if cell is None:
                continue
            tip = f"{format_number(point.value, lang, result.unit)}: " + _status_word(
                cell.status, lang)
            if cell.amount is not None:
                tip += f", {amount_text(cell.amount, m.unit, lang)}"
            out.append(f'<rect x="{label_w + i * cell_w:.2f}" y="{y}" '
                       f'width="{max(cell_w - 0.5, 0.5):.2f}" height="{cell_h}" '
                       f'fill="{STATUS_FILL[cell.status]}" data-status="{cell.status}">'
                       f'<title>{escape(tip)}</title></rect>')
    axis_y = top + len(rows) * (cell_h + gap) + 14
    out.append(f'<text x="{label_w}" y="{axis_y}" font-size="12" fill="#1e2b3c">'
               f'{escape(format_number(start, lang, result.unit))}</text>')
    out.append(f'<text x="{label_w + plot_w}" y="{axis_y}" font-size="12" fill="#1e2b3c" '
               f'text-anchor="end">{escape(format_number(stop, lang, result.unit))}</text>')
    lx = label_w
    for status in ("eligible", "undetermined", "not_eligible"):
        out.append(f'<rect x="{lx}" y="{axis_y + 8}" width="12" height="12" '
                   f'fill="{STATUS_FILL[status]}"/>')
        word = _status_word(status, lang)
        out.append(f'<text x="{lx + 16}" y="{axis_y + 18}" font-size="12" fill="#1e2b3c">'
                   f'{escape(word)}</text>')
        lx += 24 + 8 * len(word)
    out.append("</svg>")
    return "".join(out)


def _status_word(status: str, lang: str) -> str:
    return ui(lang)(f"sweep.legend_{status}")


def _short(text: str, limit: int = 42) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the published legal content ---------------------------------------------


@dataclass
class Shown:
    """A pack text in the asked language, and the language it is really in."""

    text: str
    lang: str


def shown(text: Text | None, lang: str) -> Shown | None:
    if text is None:
        return None
    return Shown(text.get(lang), text_lang(text.nb, text.nn, lang))


@dataclass
class RuleItem:
    """A requirement, exception, let or amount as the published content shows it."""

    id: str
    title: Shown | None
    rule: str | None
    sources: tuple[Source, ...] = ()
    discretionary: bool = False
    unconfirmed: bool = False
    note: str | None = None
    description: Shown | None = None
    exceptions: list[RuleItem] = field(default_factory=list)
    unit: str | None = None
    valid: str | None = None


@dataclass
class MeasureContent:
    id: str
    title: Shown
    goal: Shown | None
    kind: str
    description: Shown | None
    advice: Shown | None
    sources: tuple[Source, ...]
    requirements: list[RuleItem]
    steps: list[RuleItem]
    amount: RuleItem | None
    rounding: str | None
    amount_discretionary: bool
    priority: list[RuleItem]
    unconfirmed: bool
    note: str | None
    cases: list[dict[str, Any]]
    parameters: list[str]


@dataclass
class ParameterContent:
    name: str
    title: Shown | None
    unit: str | None
    keys: tuple[str, ...]
    versions: list[dict[str, Any]]
    sources: tuple[Source, ...]
    unconfirmed: bool
    note: str | None


def _valid(start: date | None, end: date | None) -> str | None:
    if start is None and end is None:
        return None
    return f"{start.isoformat() if start else ''}–{end.isoformat() if end else ''}"


def measure_content(pack: RulePack, m: Measure, lang: str) -> MeasureContent:
    requirements = [
        RuleItem(
            id=r.id, title=shown(r.title, lang), rule=r.expr.text if r.expr else None,
            sources=r.sources, discretionary=r.discretionary, unconfirmed=r.unconfirmed,
            note=r.note, description=shown(r.description, lang),
            valid=_valid(r.valid_from, r.valid_to),
            exceptions=[RuleItem(id=e.id, title=shown(e.title, lang), rule=e.expr.text,
                                 sources=e.sources, unconfirmed=e.unconfirmed, note=e.note)
                        for e in r.exceptions],
        ) for r in m.requirements]
    lets = dict(m.lets)
    steps: list[RuleItem] = []
    for s in m.steps:
        if s.name == "amount":
            continue
        expr = lets.get(s.name)
        steps.append(RuleItem(id=s.name, title=shown(s.title, lang),
                              rule=expr.text if expr else None, sources=s.sources,
                              unit=s.unit, note=s.note))
    amount = None
    if m.amount is not None:
        amount = RuleItem(id="amount", title=shown(m.amount.title, lang), rule=m.amount.expr.text,
                          sources=m.amount.sources, unit=m.amount.unit, note=m.amount.note,
                          discretionary=m.amount.discretionary)
    texts = " ".join([*(r.rule or "" for r in requirements), *(s.rule or "" for s in steps),
                      amount.rule if amount and amount.rule else ""])
    used = [name for name in pack.parameters
            if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", texts)]
    cases = []
    for case in pack.cases:
        expected = case.expect_measures.get(m.id)
        if expected is None:
            continue
        cases.append({"name": case.name, "as_of": case.as_of, "notes": case.notes,
                      "expected": expected, "file": case.file})
    goal = pack.meta.goals.get(m.goal)
    return MeasureContent(
        id=m.id, title=shown(m.title, lang) or Shown(m.id, lang), goal=shown(goal, lang),
        kind=m.kind, description=shown(m.description, lang), advice=shown(m.advice, lang),
        sources=m.sources, requirements=requirements, steps=steps, amount=amount,
        rounding=m.amount.rounding if m.amount else None,
        amount_discretionary=bool(m.amount and m.amount.discretionary),
        priority=[RuleItem(id=str(p.rank), title=shown(p.title, lang), rule=p.expr.text)
                  for p in m.priority],
        unconfirmed=m.unconfirmed, note=m.note, cases=cases, parameters=used,
    )


def _plain_value(value: Any, unit: str | None, lang: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return render(f"value.{str(value).lower()}", lang)
    if isinstance(value, int | Decimal):
        return format_number(value, lang, unit)
    if hasattr(value, "items"):
        return "; ".join(f"{k}: {_plain_value(v, unit, lang)}" for k, v in value.items())
    return str(value)


def parameter_content(p: Parameter, lang: str) -> ParameterContent:
    versions = [{"valid_from": v.valid_from, "value": _plain_value(v.value, p.unit, lang),
                 "closed": v.value is None, "source": v.source, "unconfirmed": v.unconfirmed,
                 "note": v.note} for v in p.versions]
    return ParameterContent(name=p.name, title=shown(p.title, lang), unit=p.unit, keys=p.keys,
                            versions=versions, sources=p.sources,
                            unconfirmed=p.unconfirmed or any(v.unconfirmed for v in p.versions),
                            note=p.note)


def unconfirmed_items(pack: RulePack, lang: str) -> list[tuple[str, str, str | None]]:
    """Everything marked unconfirmed: (where, what, note)."""
    items: list[tuple[str, str, str | None]] = []
    for m in pack.measures:
        title = m.title.get(lang)
        if m.unconfirmed:
            items.append((title, m.id, m.note))
        for r in m.requirements:
            if r.unconfirmed:
                items.append((title, r.title.get(lang), r.note))
            for e in r.exceptions:
                if e.unconfirmed:
                    items.append((title, e.title.get(lang), e.note))
    for c in pack.criteria:
        if c.unconfirmed:
            items.append((c.id, c.title.get(lang), c.note))
    for p in pack.parameters.values():
        for v in p.versions:
            if v.unconfirmed or p.unconfirmed:
                items.append((p.name, f"{v.valid_from.isoformat()}", v.note or p.note))
    return items


def rules_content(pack: RulePack, lang: str) -> dict[str, Any]:
    """Everything the ``/rules`` pages and ``eligibility doc`` publish for ``pack``."""
    return {
        "pack": pack,
        "title": shown(pack.meta.title, lang),
        "description": shown(pack.meta.description, lang),
        "measures": [measure_content(pack, m, lang) for m in pack.measures],
        "parameters": [parameter_content(p, lang) for p in pack.parameters.values()],
        "unconfirmed": unconfirmed_items(pack, lang),
        "criteria": [{"id": c.id, "title": shown(c.title, lang), "rule": c.expr.text,
                      "sources": c.sources, "unconfirmed": c.unconfirmed}
                     for c in pack.criteria],
    }
