"""Render a Decision for a person at a terminal (rich tables, nb or en).

One table of measures in the order the Decision gives them (emergency help
first, then renting, then owning), each with status, amount, the reason for
every requirement and the legal basis; then the priority groups that apply, the
questions still to ask, and the provenance line.
"""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from eligibility.decision import Decision, MeasureResult
from eligibility.explain.messages import render

STATUS_STYLE = {"eligible": "bold green", "not_eligible": "red", "undetermined": "yellow"}
_OUTCOME_MARK = {"met": ("✓", "green"), "not_met": ("✗", "red"), "waived": ("↷", "cyan"),
                 "unknown": ("?", "yellow"), "discretionary": ("⚖", "magenta")}


def format_amount(amount: Decimal | None, unit: str | None, lang: str) -> str:
    """An amount with thin-space thousands, e.g. ``1 234 NOK/month``."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    whole, _, frac = f"{abs(amount):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sign + " ".join(groups)
    if frac and set(frac) != {"0"}:
        text += ("." if lang == "en" else ",") + frac
    return f"{text} {unit or ''}".strip()


def _measure_cell(m: MeasureResult, lang: str) -> Text:
    text = Text(m.title, style="bold")
    text.append(f"\n{m.goal_title}", style="dim")
    if m.priority is not None:
        text.append(f"\n{render('label.priority', lang)} {m.priority}", style="cyan")
        if m.priority_reason:
            text.append(f": {m.priority_reason}", style="cyan")
    return text


def _reasons_cell(m: MeasureResult, lang: str) -> Group:
    lines: list[Text] = []
    for r in m.reasons:
        mark, style = _OUTCOME_MARK[r.outcome]
        line = Text(f"{mark} ", style=style)
        line.append(r.message)
        if r.unconfirmed:
            line.append(f" ({render('label.unconfirmed', lang)})", style="dim")
        refs = "; ".join(s.ref for s in r.sources)
        if refs:
            line.append(f"\n   {refs}", style="dim")
        lines.append(line)
    if m.advice:
        lines.append(Text(f"→ {m.advice}", style="italic"))
    if m.unconfirmed:
        lines.append(Text(f"{render('label.unconfirmed', lang)}: " + ", ".join(m.unconfirmed),
                          style="dim"))
    return Group(*lines)


def decision_renderables(decision: Decision) -> list[object]:
    """The parts of the terminal view of ``decision``."""
    lang = decision.lang
    table = Table(show_lines=True, expand=True)
    table.add_column(render("label.measure", lang), ratio=2)
    table.add_column(render("label.status", lang), ratio=2)
    table.add_column(render("label.amount", lang), justify="right", ratio=1)
    table.add_column(render("label.reasons", lang), ratio=6)
    for m in decision.measures:
        status = Text(render(f"status.{m.status}", lang), style=STATUS_STYLE[m.status])
        if m.status != "eligible":
            status.append(f"\n{m.summary}", style="dim")
        table.add_row(_measure_cell(m, lang), status,
                      format_amount(m.amount, m.unit, lang), _reasons_cell(m, lang))
    parts: list[object] = [table]
    applies = [c for c in decision.criteria if c.value is True]
    if applies:
        crit = Text(render("label.criteria", lang) + ": ", style="bold")
        crit.append(", ".join(c.title for c in applies))
        parts.append(crit)
    if decision.missing_facts:
        questions = Table(title=render("label.missing", lang), expand=True)
        questions.add_column("?", ratio=3)
        questions.add_column(render("label.affects", lang), ratio=2)
        for fact in decision.missing_facts:
            questions.add_row(f"{fact.question} [dim]({fact.path})[/dim]", ", ".join(fact.affects))
        parts.append(questions)
    p = decision.provenance
    parts.append(Text(
        f"{render('label.provenance', lang)}: {p.pack_id} {p.pack_version} "
        f"sha256:{p.content_hash[:12]} · as_of {p.as_of.isoformat()} · "
        f"engine {p.engine_version}",
        style="dim",
    ))
    return parts


def print_decision(decision: Decision, console: Console) -> None:
    for part in decision_renderables(decision):
        console.print(part)
