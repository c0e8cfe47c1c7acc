"""Render a Decision for a person at a terminal (rich, nb, nn or en, 80 columns and up).

Two views of the same Decision. The compact view (the default of
``eligibility evaluate``) has one row per measure — a status mark, the title,
the amount and the decisive reason or the facts still missing — then a count
line, the priority groups that apply, the questions to ask (with the titles of
the measures they settle) and the provenance line. The details view
(``--details``) has the full table: every requirement's reason with its legal
basis, advice and the unconfirmed items, followed by the same footer.
:func:`detail_lines` builds the reasons cell of one measure, so another part
(e.g. an amount's calculation) is added in one place.

All text is built as rich :class:`~rich.text.Text` (never markup), amounts use
no-break spaces and sit in no-wrap cells, so a value such as ``[/bold]`` prints
as written and an amount is never cut or split, at any width.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from eligibility.decision import Decision, MeasureResult
from eligibility.explain.messages import render

if TYPE_CHECKING:
    from eligibility.engine import Engine

STATUS_STYLE = {"eligible": "bold green", "not_eligible": "red", "undetermined": "yellow"}
STATUS_MARK = {"eligible": "✓", "not_eligible": "✗", "undetermined": "?"}
_OUTCOME_MARK = {"met": ("✓", "green"), "not_met": ("✗", "red"), "waived": ("↷", "cyan"),
                 "unknown": ("?", "yellow"), "discretionary": ("⚖", "magenta")}
NBSP = "\u00a0"
#: Questions listed in the compact view (the most decisive first); --details lists all.
COMPACT_QUESTIONS = 5
#: Missing facts named in a compact row; the rest are counted.
COMPACT_MISSING = 2


def format_amount(amount: Decimal | None, unit: str | None, lang: str,
                  nbsp: bool = False) -> str:
    """An amount with spaced thousands, e.g. ``1 234 NOK/month``; with ``nbsp`` the
    spaces are no-break spaces (for terminal cells)."""
    if amount is None:
        return ""
    space = NBSP if nbsp else " "
    sign = "-" if amount < 0 else ""
    whole, _, frac = f"{abs(amount):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = sign + space.join(groups)
    if frac and set(frac) != {"0"}:
        text += ("." if lang == "en" else ",") + frac
    return f"{text}{space}{unit}" if unit else text


@dataclass(frozen=True)
class Labels:
    """Titles the Decision does not carry: of unconfirmed items (``param:x``,
    ``criterion:x``, ``requirement:x``, ``measure:x``) and of facts (by path)."""

    items: Mapping[str, str] = field(default_factory=dict)
    fact_title: Callable[[str], str] | None = None

    def item(self, key: str) -> str:
        return self.items.get(key) or key.partition(":")[2] or key

    def fact(self, path: str) -> str:
        return self.fact_title(path) if self.fact_title else path


def labels_for(engine: Engine, lang: str) -> Labels:
    """The titles of every unconfirmable item of ``engine``'s pack, in ``lang``."""
    pack = engine.pack
    items: dict[str, str] = {}
    for pid, param in pack.parameters.items():
        items[f"param:{pid}"] = param.title.get(lang) if param.title else pid
    for crit in pack.criteria:
        items[f"criterion:{crit.id}"] = crit.title.get(lang)
    for measure in pack.measures:
        items[f"measure:{measure.id}"] = measure.title.get(lang)
        for req in measure.requirements:
            items.setdefault(f"requirement:{req.id}", req.title.get(lang))

    def fact_title(path: str) -> str:
        try:
            return engine.title_of(path, lang)
        except Exception:  # an unknown path is shown as the path itself
            return path

    return Labels(items, fact_title)


def amount_text(m: MeasureResult, lang: str) -> Text:
    """The amount of a measure as one unbreakable piece of text."""
    return Text(format_amount(m.amount, m.unit, lang, nbsp=True), no_wrap=True,
                overflow="ignore")


def amount_width(amounts: Iterable[str]) -> int:
    """The width a table column needs so that none of ``amounts`` is cut (rich measures
    a cell by its longest word, so a no-wrap amount needs the column to be wide enough)."""
    return max((len(a) for a in amounts), default=0)


def _status_text(status: str, lang: str) -> Text:
    return Text(render(f"status.{status}", lang), style=STATUS_STYLE[status])


# -- the compact view ----------------------------------------------------------------
def _decisive(m: MeasureResult, labels: Labels, lang: str) -> Text:
    """The decisive reason of a measure, or the facts it still misses."""
    if m.status == "undetermined" and m.missing_facts:
        names = [labels.fact(p) for p in m.missing_facts[:COMPACT_MISSING]]
        if len(m.missing_facts) > COMPACT_MISSING:
            names.append("…")
        key = "view.missing" if len(m.missing_facts) > 1 else "view.missing_one"
        return Text(render(key, lang, count=len(m.missing_facts), facts=", ".join(names)),
                    style="yellow")
    if m.status == "eligible":
        text = _status_text("eligible", lang)
        if m.priority is not None:
            text.append(f" · {render('label.priority', lang)} {m.priority}", style="cyan")
        return text
    return Text(m.summary, style="red" if m.status == "not_eligible" else "yellow")


def compact_table(decision: Decision, labels: Labels) -> Table:
    """One row per measure: mark, title, amount, decisive reason or missing facts."""
    lang = decision.lang
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False,
                  expand=True, padding=(0, 1))
    table.add_column("", no_wrap=True, width=1)
    table.add_column(render("label.measure", lang), ratio=2, min_width=14, max_width=32)
    table.add_column(render("label.amount", lang), justify="right", no_wrap=True)
    table.add_column(render("label.reasons", lang), ratio=3, min_width=20)
    for m in decision.measures:
        title = Text(m.title, style="bold" if m.status == "eligible" else "")
        if m.unconfirmed:
            title.append(f"{NBSP}*", style="dim")
        table.add_row(Text(STATUS_MARK[m.status], style=STATUS_STYLE[m.status]), title,
                      amount_text(m, lang), _decisive(m, labels, lang))
    return table


def counts_line(decision: Decision) -> Text:
    counts = {s: sum(1 for m in decision.measures if m.status == s)
              for s in ("eligible", "undetermined", "not_eligible")}
    return Text(render("view.counts", decision.lang, **counts), style="bold")


def compact_renderables(decision: Decision, labels: Labels | None = None) -> list[RenderableType]:
    """The parts of the compact view of ``decision``."""
    labels = labels or Labels()
    lang = decision.lang
    parts: list[RenderableType] = [counts_line(decision), compact_table(decision, labels)]
    if any(m.unconfirmed for m in decision.measures):
        parts.append(Text(render("view.unconfirmed_note", lang), style="dim"))
    parts += _footer(decision, limit=COMPACT_QUESTIONS)
    return parts


# -- the details view ----------------------------------------------------------------
def _measure_cell(m: MeasureResult, lang: str) -> Group:
    """Title, goal, status, amount (one unbreakable line), summary and priority."""
    head = Text(m.title, style="bold")
    head.append(f"\n{m.goal_title}", style="dim")
    head.append("\n")
    head.append(render(f"status.{m.status}", lang), style=STATUS_STYLE[m.status])
    parts: list[RenderableType] = [head]
    if m.amount is not None:
        parts.append(amount_text(m, lang))
    tail = Text()
    if m.status != "eligible":
        tail.append(m.summary, style="dim")
    if m.priority is not None:
        tail.append(("\n" if tail.plain else "") + f"{render('label.priority', lang)} "
                    f"{m.priority}", style="cyan")
        if m.priority_reason:
            tail.append(f": {m.priority_reason}", style="cyan")
    if tail.plain:
        parts.append(tail)
    return Group(*parts)


def detail_lines(m: MeasureResult, labels: Labels, lang: str) -> list[Text]:
    """The reasons cell of one measure in the details view: each requirement's
    outcome and legal basis, the advice, the unconfirmed items (by title)."""
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
        lines.append(Text(f"{render('label.unconfirmed', lang)}: "
                          + ", ".join(labels.item(u) for u in m.unconfirmed), style="dim"))
    return lines


def details_table(decision: Decision, labels: Labels) -> Table:
    """Today's full table: every measure with every requirement's reason."""
    lang = decision.lang
    table = Table(show_lines=True, expand=True)
    widest = amount_width(format_amount(m.amount, m.unit, lang) for m in decision.measures)
    table.add_column(render("label.measure", lang), ratio=2, min_width=max(18, widest))
    table.add_column(render("label.reasons", lang), ratio=5, min_width=30)
    for m in decision.measures:
        table.add_row(_measure_cell(m, lang), Group(*detail_lines(m, labels, lang)))
    return table


def details_renderables(decision: Decision, labels: Labels | None = None) -> list[RenderableType]:
    """The parts of the details view of ``decision``."""
    labels = labels or Labels()
    return [details_table(decision, labels), counts_line(decision), *_footer(decision)]


# -- shared footer ---------------------------------------------------------------------
def _footer(decision: Decision, limit: int | None = None) -> list[RenderableType]:
    lang = decision.lang
    parts: list[RenderableType] = []
    applies = [c for c in decision.criteria if c.value is True]
    if applies:
        crit = Text(render("label.criteria", lang) + ": ", style="bold")
        crit.append(", ".join(c.title for c in applies))
        parts.append(crit)
    if decision.missing_facts:
        titles = {m.id: m.title for m in decision.measures}
        shown = decision.missing_facts if limit is None else decision.missing_facts[:limit]
        parts.append(Text(render("label.missing", lang), style="bold"))
        questions = Table.grid(padding=(0, 1))
        questions.add_column(no_wrap=True)
        questions.add_column()
        for fact in shown:
            line = Text(fact.question)
            line.append(f" ({fact.path})", style="dim")
            line.append(f"\n{render('label.affects', lang)}: "
                        + ", ".join(titles.get(a, a) for a in fact.affects), style="cyan")
            questions.add_row("•", line)
        parts.append(questions)
        if len(decision.missing_facts) > len(shown):
            parts.append(Text(render("view.more_questions", lang,
                                     count=len(decision.missing_facts) - len(shown)),
                              style="dim"))
    p = decision.provenance
    parts.append(Text(
        f"{render('label.provenance', lang)}: {p.pack_id} {p.pack_version} "
        f"sha256:{p.content_hash[:12]} · as_of {p.as_of.isoformat()} · "
        f"engine {p.engine_version}",
        style="dim",
    ))
    return parts


def decision_renderables(decision: Decision, details: bool = False,
                         labels: Labels | None = None) -> list[RenderableType]:
    """The parts of the terminal view of ``decision`` (compact, or with ``details``)."""
    if details:
        return details_renderables(decision, labels)
    return compact_renderables(decision, labels)


def print_decision(decision: Decision, console: Console, details: bool = False,
                   labels: Labels | None = None) -> None:
    for part in decision_renderables(decision, details, labels):
        console.print(part)
