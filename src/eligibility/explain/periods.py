"""Terminal views of periods and breakpoints (rich tables; print nothing themselves).

:func:`periods_table` is ``eligibility evaluate FILE --from --to``: one row per
sub-period with its dates, what took effect at its start and how each measure's
status or amount changed; :func:`breakpoints_table` is ``eligibility periods PACK``;
:func:`confirm_table` the "confirm before deciding" facts of a Decision and
:func:`confirm_compare_table` those of a what-if's baseline and variant. Texts in
bokmål, nynorsk and English.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

from eligibility.decision import Decision
from eligibility.periods import Breakpoint, Change, PeriodResult

_TEXTS: dict[str, dict[str, str]] = {
    "period": {"nb": "Periode", "nn": "Periode", "en": "Period"},
    "changes": {"nb": "Endret ved start", "nn": "Endra ved start", "en": "Changed at start"},
    "outcome": {"nb": "Utfall", "nn": "Utfall", "en": "Outcome"},
    "date": {"nb": "Dato", "nn": "Dato", "en": "Date"},
    "start": {"nb": "(start)", "nn": "(start)", "en": "(start)"},
    "same": {"nb": "uendret", "nn": "uendra", "en": "unchanged"},
    "granted": {"nb": "innvilget", "nn": "innvilga", "en": "granted"},
    "parameter": {"nb": "sats", "nn": "sats", "en": "parameter"},
    "stale": {"nb": "ikke bekreftet etter", "nn": "ikkje stadfesta etter",
              "en": "no longer confirmed"},
    "measure": {"nb": "tiltak", "nn": "tiltak", "en": "measure"},
    "requirement": {"nb": "vilkår", "nn": "vilkår", "en": "requirement"},
    "criterion": {"nb": "kriterium", "nn": "kriterium", "en": "criterion"},
    "month": {"nb": "ny måned", "nn": "ny månad", "en": "new month"},
    "fact": {"nb": "opplysning", "nn": "opplysning", "en": "fact"},
    "date_rule": {"nb": "regel leser datoen", "nn": "regel les datoen",
                  "en": "a rule reads the date"},
    "starts": {"nb": "trer i kraft", "nn": "tek til å gjelde", "en": "starts"},
    "ends": {"nb": "opphører", "nn": "fell bort", "en": "ends"},
    "confirm": {"nb": "Bekreft før vedtak", "nn": "Stadfest før vedtak",
                "en": "Confirm before deciding"},
    "fact_col": {"nb": "Opplysning", "nn": "Opplysning", "en": "Fact"},
    "source": {"nb": "Kilde", "nn": "Kjelde", "en": "Source"},
    "affects": {"nb": "Gjelder", "nn": "Gjeld", "en": "Affects"},
    "unknown": {"nb": "ukjent", "nn": "ukjend", "en": "unknown"},
}


def t(key: str, lang: str) -> str:
    texts = _TEXTS[key]
    return texts.get(lang) or texts["nb"]


def _amount(value: Any) -> str:
    return "–" if value is None else f"{value:,}".replace(",", "\u00a0")


def change_text(change: Change, lang: str) -> str:
    """One change in a line: ``sats bostotte.t1 = 123``, ``vilkår x.y opphører``."""
    if change.kind == "parameter":
        if change.effect == "ends":
            return f"{t('parameter', lang)} {change.name} {t('ends', lang)}"
        value = change.value
        shown = value if not isinstance(value, dict) else "{…}"
        return f"{t('parameter', lang)} {change.name} = {shown}"
    if change.kind == "stale":
        return f"{t('parameter', lang)} {change.name}: {t('stale', lang)}"
    if change.kind in ("measure", "requirement", "criterion"):
        return f"{t(change.kind, lang)} {change.name} {t(change.effect, lang)}"
    if change.kind == "month":
        return f"{t('month', lang)} ({change.name})"
    if change.kind == "fact":
        return f"{t('fact', lang)} {change.name} = {change.value}"
    return t("date_rule", lang)


def _changes_cell(changes: list[Change], lang: str, limit: int = 3) -> str:
    """The compact view: what changed, by name (``--json`` has the values)."""
    params = [c.name for c in changes if c.kind == "parameter"]
    lines = [change_text(c, lang) for c in changes if c.kind != "parameter"][:limit]
    if params:
        shown = ", ".join(params[:limit])
        more = f" (+{len(params) - limit})" if len(params) > limit else ""
        lines.insert(0, f"{t('parameter', lang)}: {shown}{more}")
    rest = len([c for c in changes if c.kind != "parameter"]) - limit
    if rest > 0:
        lines.append(f"+{rest}")
    return "\n".join(lines)


def changes_line(changes: list[Change], lang: str) -> str:
    """What took effect, in one line (parameters by name, at most three of each kind)."""
    return "; ".join(_changes_cell(changes, lang).splitlines())


def _full_cell(changes: list[Change], lang: str) -> str:
    return "\n".join(change_text(c, lang) for c in changes)


def periods_table(result: PeriodResult, lang: str) -> Table:
    table = Table(show_lines=False)
    table.add_column(t("period", lang), no_wrap=True)
    table.add_column(t("changes", lang))
    table.add_column(t("outcome", lang), min_width=24)
    for i, period in enumerate(result.periods):
        dates = f"{period.start.isoformat()} – {period.end.isoformat()}"
        if i == 0:
            granted = [f"{m.id} {_amount(m.amount)}" if m.amount is not None else m.id
                       for m in period.decision.measures if m.status == "eligible"]
            outcome = f"{t('granted', lang)}:\n" + ("\n".join(granted) or "–")
            table.add_row(dates, t("start", lang), outcome)
            continue
        lines = []
        for m in period.measure_changes:
            if m.status_before != m.status:
                lines.append(f"{m.id}: {m.status_before or '–'} → {m.status or '–'}")
            else:
                lines.append(f"{m.id}: {_amount(m.amount_before)} → {_amount(m.amount)}")
        table.add_row(dates, _changes_cell(period.changes, lang),
                      "\n".join(lines) or t("same", lang))
    return table


def breakpoints_table(points: list[Breakpoint], lang: str) -> Table:
    table = Table()
    table.add_column(t("date", lang), no_wrap=True)
    table.add_column(t("changes", lang))
    for point in points:
        table.add_row(point.date.isoformat(),
                      _full_cell(point.changes, lang))
    return table


def confirm_table(decision: Decision, lang: str) -> Table | None:
    """The facts to confirm before deciding, or ``None`` when there are none."""
    items = decision.confirm_before_deciding
    if not items:
        return None
    table = Table(title=t("confirm", lang), title_justify="left")
    table.add_column(t("fact_col", lang))
    table.add_column(t("source", lang))
    table.add_column(t("affects", lang))
    for item in items:
        table.add_row(Text(f"{item.path} = {item.value}"), item.source or t("unknown", lang),
                      ", ".join(item.affects))
    return table


def confirm_compare_table(baseline: Decision, variant: Decision, lang: str,
                          base_label: str, variant_label: str) -> Table | None:
    """What-if: the facts to confirm before deciding in the baseline and in the variant
    (the measures each affects on that side), or ``None`` when neither has any."""
    before = {c.path: c for c in baseline.confirm_before_deciding or []}
    after = {c.path: c for c in variant.confirm_before_deciding or []}
    if not before and not after:
        return None
    table = Table(title=t("confirm", lang), title_justify="left")
    table.add_column(t("fact_col", lang))
    table.add_column(t("source", lang))
    table.add_column(f"{t('affects', lang)}: {base_label}")
    table.add_column(f"{t('affects', lang)}: {variant_label}")
    for path in [*before, *(p for p in after if p not in before)]:
        b, a = before.get(path), after.get(path)
        item = b or a
        assert item is not None
        table.add_row(Text(f"{path} = {item.value}"), item.source or t("unknown", lang),
                      ", ".join(b.affects) if b else "–", ", ".join(a.affects) if a else "–")
    return table
