"""Show a sweep: a rich table, a compact terminal chart, and a PNG or SVG chart.

The file chart (matplotlib, drawn on a standalone ``Figure`` with the Agg
canvas, so no global pyplot state is touched) has the amounts of every measure
with an amount on top and a status strip per measure below, so cliffs — a
measure lost at an income, an amount that drops to nothing at the minimum
payout — are visible at a glance. The terminal chart uses one character per
column: a status strip (█ eligible, ? undetermined, · not eligible) and an
amount sparkline per measure.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from rich.table import Table
from rich.text import Text

from eligibility.errors import EligibilityError
from eligibility.explain.messages import render
from eligibility.explain.terminal import NBSP, format_amount
from eligibility.sweep import SweepCell, SweepMeasure, SweepResult

_STATUS_CHAR = {"eligible": "█", "undetermined": "?", "not_eligible": "·"}
_SPARK = "▁▂▃▄▅▆▇█"
_STATUS_STYLE = {"eligible": "green", "undetermined": "yellow", "not_eligible": "dim"}
_STATUS_COLOUR = {"eligible": "#2e7d32", "undetermined": "#f9a825", "not_eligible": "#e0e0e0"}


def varying(result: SweepResult) -> list[SweepMeasure]:
    """The measures whose status or amount changes somewhere in the sweep."""
    out = []
    for m in result.measures:
        cells = {(c.status, c.amount) for _, c in result.series(m.id)}
        if len(cells) > 1:
            out.append(m)
    return out


def _shown(result: SweepResult, all_measures: bool) -> list[SweepMeasure]:
    return result.measures if all_measures else varying(result) or result.measures


def unchanged_note(result: SweepResult, all_measures: bool = False) -> str | None:
    """The line naming the measures the table leaves out (they do not change)."""
    shown = _shown(result, all_measures)
    hidden = [m.title for m in result.measures if m not in shown]
    if not hidden:
        return None
    return render("sweep.unchanged", result.lang, measures=", ".join(hidden))


def sweep_table(result: SweepResult, all_measures: bool = False) -> Table:
    """One row per point: the varied value, then a status mark and the amount of each
    measure — by default only the measures that vary (the others are named below the
    title). Amounts are no-break and never wrapped; the header carries the unit."""
    lang = result.lang
    shown = _shown(result, all_measures)
    table = Table(title=Text(f"{result.title} ({result.path})"), show_lines=False)
    table.add_column(Text(render("sweep.label.value", lang)), justify="right", no_wrap=True)
    for m in shown:
        header = Text(m.title)
        if m.unit:
            header.append(f" ({m.unit})", style="dim")
        table.add_column(header, justify="right", max_width=18)
    for point in result.points:
        row: list[Text] = [Text(format_amount(Decimal(point.value), result.unit, lang,
                                              nbsp=True), no_wrap=True)]
        for m in shown:
            cell = point.measures.get(m.id)
            row.append(_cell_text(cell, lang) if cell else Text(""))
        table.add_row(*row)
    return table


def _cell_text(cell: SweepCell, lang: str) -> Text:
    text = Text(_STATUS_CHAR[cell.status], style=_STATUS_STYLE[cell.status], no_wrap=True)
    if cell.amount is not None:
        text.append(NBSP + format_amount(cell.amount, None, lang, nbsp=True))
    return text


def _resample(items: list[SweepCell | None], width: int) -> list[SweepCell | None]:
    if len(items) <= width:
        return items
    return [items[int(i * (len(items) - 1) / (width - 1))] for i in range(width)]


def terminal_chart(result: SweepResult, width: int = 60) -> list[str]:
    """A compact chart as plain text lines (status strip and amount sparkline per measure)."""
    lang = result.lang
    lines: list[str] = []
    label_width = min(28, max((len(m.title) for m in result.measures), default=10))
    for m in result.measures:
        cells = _resample([p.measures.get(m.id) for p in result.points], width)
        strip = "".join(_STATUS_CHAR[c.status] if c else " " for c in cells)
        lines.append(f"{m.title[:label_width]:<{label_width}} {strip}")
        amounts = [c.amount for c in cells if c is not None and c.amount is not None]
        if amounts:
            top = max(amounts)
            spark = "".join(
                " " if c is None or c.amount is None
                else _SPARK[0] if top <= 0
                else _SPARK[min(len(_SPARK) - 1, int(c.amount / top * (len(_SPARK) - 1)))]
                for c in cells)
            lines.append(f"{'':<{label_width}} {spark} ≤ {format_amount(top, m.unit, lang)}")
    first, last = result.points[0].value, result.points[-1].value
    left = format_amount(Decimal(first), None, lang)
    right = format_amount(Decimal(last), result.unit, lang)
    span = min(width, len(result.points))
    gap = max(1, span - len(left) - len(right))
    lines.append(f"{'':<{label_width}} {left}{' ' * gap}{right}")
    lines.append(f"{'':<{label_width}} {result.title}")
    lines.append(render("sweep.legend", lang))
    return lines


def write_chart(result: SweepResult, path: Path) -> None:
    """Draw the sweep to ``path``; the format follows the suffix (.png or .svg)."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise EligibilityError(f"--chart {path}: the file must end in .png or .svg")
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import FuncFormatter
    except ImportError:  # pragma: no cover - depends on the installation
        raise EligibilityError("charts need matplotlib: pip install 'eligibility[charts]'") \
            from None
    lang = result.lang
    xs = [float(p.value) for p in result.points]  # drawing only; decisions stay Decimal
    with_amount = [m for m in result.measures
                   if any(c.amount is not None for _, c in result.series(m.id))]
    n = len(result.measures)
    fig = Figure(figsize=(9, 3.6 + 0.28 * n), dpi=110)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, 1, height_ratios=[3.0, max(0.6, 0.28 * n)], hspace=0.08)
    ax = fig.add_subplot(grid[0])
    strip = fig.add_subplot(grid[1], sharex=ax)
    units = list(dict.fromkeys(m.unit for m in with_amount))[:2]
    axes = {units[0]: ax} if units else {}
    if len(units) == 2:
        axes[units[1]] = ax.twinx()  # e.g. NOK/month and a loan in NOK: two scales
    lines = []
    for i, m in enumerate(with_amount):
        target = axes.get(m.unit)
        if target is None:
            continue  # a third unit would need a third scale: shown in the table only
        ys = [float(c.amount) if c.amount is not None else 0.0 for _, c in result.series(m.id)]
        lines += target.plot(xs[:len(ys)], ys, label=f"{m.title} ({m.unit or ''})",
                             linewidth=1.8, marker="o" if len(ys) <= 60 else None,
                             markersize=2.5, color=f"C{i}")
        target.set_ylabel(m.unit or render("label.amount", lang))
        target.set_ylim(bottom=0)
    for cliff in result.cliffs:
        ax.axvline(float(cliff.value), color="#999999", linewidth=0.6, linestyle=":")
    ax.set_title(f"{result.title} ({result.path})")
    if lines:
        ax.legend(handles=lines, loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    ax.tick_params(labelbottom=False)
    half = (xs[1] - xs[0]) / 2 if len(xs) > 1 else 0.5
    for row, m in enumerate(reversed(result.measures)):
        for x, cell in result.series(m.id):
            strip.barh(row, 2 * half, left=float(x) - half, height=0.8,
                       color=_STATUS_COLOUR[cell.status], linewidth=0)
    strip.set_yticks(range(n), [m.title for m in reversed(result.measures)], fontsize=8)
    strip.set_xlabel(f"{result.title} ({result.unit})" if result.unit else result.title)
    handles = [_patch(colour, render(f"status.{status}", lang))
               for status, colour in _STATUS_COLOUR.items()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    thousands = FuncFormatter(lambda value, _pos: _tick(value, lang))
    strip.xaxis.set_major_formatter(thousands)
    for target in axes.values():
        target.yaxis.set_major_formatter(thousands)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.22, right=0.98, top=1 - 0.45 / height, bottom=0.85 / height)
    metadata = {"Date": None} if suffix == ".svg" else {"Software": None}
    fig.savefig(str(path), format=suffix[1:], metadata=metadata, bbox_inches="tight")


def _tick(value: float, lang: str) -> str:
    """An axis label with spaced thousands (``40 000``), never offset notation."""
    return format_amount(Decimal(str(round(value, 2))).normalize(), None, lang)


def _patch(colour: str, label: str) -> object:
    from matplotlib.patches import Patch

    return Patch(color=colour, label=label)
