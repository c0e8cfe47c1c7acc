"""The caseworker's commands: ``what-if``, ``why-not``, ``counterfactual``, ``sweep``, ``ask``.

Each command reads one household (or a scenario file), calls the library
function of the same name (:mod:`eligibility.whatif`,
:mod:`eligibility.explain.whynot`, :mod:`eligibility.counterfactual`,
:mod:`eligibility.sweep`) and prints the result as rich tables in bokmål or
English, or as JSON with ``--json``. ``ask`` is interactive: it asks the
missing fact that settles the most measures, checks the answer against the
fact's type (asking again on a bad answer), re-evaluates and repeats.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import yaml
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from eligibility.cli.common import (
    AsOfOption,
    FileArgument,
    JsonOption,
    LangOption,
    PackOption,
    TimeBudgetOption,
    app,
    budget_note,
    check_lang,
    console,
    fail,
    guarded,
    load_engine,
    open_household,
    parse_date,
    read_facts,
)
from eligibility.counterfactual import counterfactuals
from eligibility.decision import Decision, MeasureResult
from eligibility.engine import Engine
from eligibility.errors import FactsError, PeriodError
from eligibility.explain.calculation import changes_table
from eligibility.explain.chart import sweep_table, terminal_chart, unchanged_note, write_chart
from eligibility.explain.messages import render
from eligibility.explain.periods import changes_line, confirm_compare_table
from eligibility.explain.terminal import (
    STATUS_STYLE,
    amount_width,
    format_amount,
    labels_for,
    print_decision,
)
from eligibility.explain.whynot import WhyNotResult, format_fact_value, why_not
from eligibility.limits import CLI_SEARCH_BUDGET_SECONDS
from eligibility.pack.model import FieldSpec
from eligibility.sweep import parse_range, sweep
from eligibility.whatif import (
    ChangeError,
    FactChange,
    MeasureDiff,
    WhatIfPeriod,
    WhatIfPeriodResult,
    WhatIfResult,
    apply_changes,
    compare_scenario,
    compare_scenario_period,
    field_spec,
    is_scenario,
    load_scenario,
    parse_value,
    what_if,
    what_if_period,
)

T = TypeVar("T")

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", metavar="PATH=VALUE", help="Change a fact: PATH=VALUE, e.g. "
                 "members[0].income_month=25000, 'members[+]=age=4,role=child', members=3."),
]
RemoveOption = Annotated[
    list[str] | None,
    typer.Option("--remove", metavar="PATH", help="Remove a fact or a member, e.g. members[1]."),
]
DetailsOption = Annotated[bool, typer.Option(
    "--details", help="Also show the steps of each amount's calculation that changed.")]


def print_step_changes(result: WhatIfResult | WhatIfPeriod, lang: str) -> None:
    """The calculation steps that changed, one small table per measure."""
    old = {m.id: m for m in result.baseline.measures}
    new = {m.id: m for m in result.variant.measures}
    for diff in result.measures:
        table = changes_table(old.get(diff.id), new.get(diff.id), lang)
        if table is not None:
            console.print(table)


def parse_sets(engine: Engine, sets: list[str] | None,
               removes: list[str] | None) -> dict[str, Any]:
    """``--set PATH=VALUE`` and ``--remove PATH`` options as typed changes, in order."""
    changes: dict[str, Any] = {}
    for item in sets or []:
        path, eq, text = item.partition("=")
        if not eq:
            fail(f"--set must be PATH=VALUE, got {item!r}")
        changes[path.strip()] = _parse(engine, path.strip(), text)
    for path in removes or []:
        _parse(engine, path.strip(), "null")
        changes[path.strip()] = None
    return changes


def _parse(engine: Engine, path: str, text: str) -> Any:
    try:
        return parse_value(engine.pack.schema, path, text)
    except ChangeError as exc:
        fail(str(exc))


def _facts(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        fail("the facts must be a mapping of groups (household:, members:, housing: …)")
    return document


def _status_cell(m: MeasureResult | None, lang: str) -> Text:
    if m is None:
        return Text("–")
    text = Text(render(f"status.{m.status}", lang), style=STATUS_STYLE[m.status])
    if m.amount is not None:
        text.append(f"\n{format_amount(m.amount, m.unit, lang, nbsp=True)}")
    return text


def _amount_column(decisions: list[Decision], lang: str) -> int:
    """The width that keeps every amount of ``decisions`` whole in a status column."""
    return amount_width(format_amount(m.amount, m.unit, lang)
                        for d in decisions for m in d.measures if m.amount is not None)


def _fmt(engine: Engine, path: str, value: Any, lang: str) -> str:
    if isinstance(value, list) and value and all(
            isinstance(v, dict) and "from" in v and "value" in v for v in value):
        # dated values: each with the day it takes effect
        return "; ".join(f"{_fmt(engine, path, v['value'], lang)} ({v['from']})"
                         for v in value)
    if isinstance(value, dict | list):
        return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip() \
            if not _has_decimal(value) else str(value)
    spec = _safe_spec(engine, path)
    return format_fact_value(value, spec, lang)


def _has_decimal(value: Any) -> bool:
    if isinstance(value, Decimal):
        return True
    if isinstance(value, dict):
        return any(_has_decimal(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_decimal(v) for v in value)
    return False


def _safe_spec(engine: Engine, path: str) -> FieldSpec | None:
    try:
        return field_spec(engine.pack.schema, path)
    except ChangeError:
        return None


def _print_fact_changes(engine: Engine, changes: list[FactChange], lang: str) -> None:
    table = Table(title=render("whatif.label.changes", lang), show_header=False)
    for c in changes:
        before = _fmt(engine, c.path, c.before, lang) if c.before is not None else "–"
        after = _fmt(engine, c.path, c.after, lang) if c.after is not None else \
            render("whatif.label.removed", lang)
        table.add_row(Text(c.path), Text(f"{before} → {after}"))
    console.print(table)


def _measures_table(name: str | None, baseline: Decision, variant: Decision,
                    measures: list[MeasureDiff], lang: str, show_all: bool) -> Table | None:
    """Baseline and variant per measure (only those that differ unless ``show_all``)."""
    table = Table(title=escape(name) if name else None, show_lines=True)
    width = _amount_column([baseline, variant], lang)
    table.add_column(render("label.measure", lang))
    table.add_column(render("whatif.label.baseline", lang), min_width=width)
    table.add_column(render("whatif.label.variant", lang), min_width=width)
    table.add_column(render("whatif.label.change", lang), min_width=width + 1,
                     overflow="fold")  # a long fact path is folded, never cut
    old = {m.id: m for m in baseline.measures}
    new = {m.id: m for m in variant.measures}
    shown = 0
    for diff in measures:
        if not show_all and not diff.changed:
            continue
        shown += 1
        change = Text()
        if diff.amount_delta:
            sign = "+" if diff.amount_delta > 0 else ""
            change.append(f"{sign}{format_amount(diff.amount_delta, diff.unit, lang)}",
                          style="green" if diff.amount_delta > 0 else "red")
        for r in diff.reasons_changed:
            change.append(("\n" if change.plain else "") + (r.message_after or r.title))
        table.add_row(Text(diff.title), _status_cell(old.get(diff.id), lang),
                      _status_cell(new.get(diff.id), lang), change)
    return table if shown else None


def _print_confirm(baseline: Decision, variant: Decision, lang: str) -> None:
    table = confirm_compare_table(baseline, variant, lang,
                                  render("whatif.label.baseline", lang),
                                  render("whatif.label.variant", lang))
    if table is not None:
        console.print(table)


def _print_what_if(engine: Engine, result: WhatIfResult, lang: str, show_all: bool) -> None:
    _print_fact_changes(engine, result.changes, lang)
    table = _measures_table(result.name, result.baseline, result.variant, result.measures,
                            lang, show_all)
    console.print(table if table is not None else render("whatif.no_change", lang))
    _print_confirm(result.baseline, result.variant, lang)


def _print_what_if_period(engine: Engine, result: WhatIfPeriodResult, lang: str,
                          show_all: bool, details: bool = False) -> None:
    """One block per sub-period: its dates, what took effect, the measures that differ
    (with ``details``, the calculation steps that changed) and the facts to confirm on
    either side."""
    if result.name:
        console.print(Text(result.name, style="bold"))
    _print_fact_changes(engine, result.changes, lang)
    for period in result.periods:
        console.print()
        head = Text(f"{period.start.isoformat()} – {period.end.isoformat()}", style="bold")
        if period.changes:
            head.append("  " + changes_line(period.changes, lang), style="dim")
        console.print(head)
        table = _measures_table(None, period.baseline, period.variant,
                                period.measures, lang, show_all)
        console.print(table if table is not None else render("whatif.no_change", lang))
        if details:
            print_step_changes(period, lang)
        _print_confirm(period.baseline, period.variant, lang)


def _print_scenario(engine: Engine, baseline: Decision, results: list[WhatIfResult],
                    lang: str) -> None:
    """Baseline and variants side by side; on a terminal too narrow for that (each
    column must hold an amount whole), one what-if table per variant instead."""
    width = _amount_column([baseline, *(r.variant for r in results)], lang)
    if 16 + (len(results) + 1) * (max(width, 12) + 6) > console.width:
        for r in results:
            _print_what_if(engine, r, lang, show_all=False)
        return
    table = Table(show_lines=True)
    table.add_column(render("label.measure", lang))
    table.add_column(render("whatif.label.baseline", lang), min_width=width)
    for r in results:
        table.add_column(Text(r.name or render("whatif.label.variant", lang)),
                         min_width=width + 3)
    for m in baseline.measures:
        row: list[Any] = [Text(m.title), _status_cell(m, lang)]
        for r in results:
            diff = r.diff(m.id)
            cell = _status_cell(next((x for x in r.variant.measures if x.id == m.id), None),
                                lang)
            if diff.amount_delta:
                sign = "+" if diff.amount_delta > 0 else ""
                cell.append(f"\n({sign}{format_amount(diff.amount_delta, diff.unit, lang)})",
                            style="dim")
            if diff.status_changed:
                cell.stylize("reverse")
            row.append(cell)
        table.add_row(*row)
    console.print(table)
    for r in results:
        lines = Text(r.name or "", style="bold")
        lines.append(": " + ", ".join(
            f"{c.path} → {_fmt(engine, c.path, c.after, lang) if c.after is not None else '–'}"
            for c in r.changes))
        for diff in r.changed():
            for reason in diff.reasons_changed:
                lines.append(f"\n  {diff.title}: {reason.message_after or reason.title}")
        console.print(lines, highlight=False)


@app.command("what-if")
def what_if_command(
    file: Annotated[str, typer.Argument(metavar="FILE",
                                        help="Facts (YAML/JSON) or a scenario file with "
                                        "baseline: and variants:.")],
    set_: SetOption = None,
    remove: RemoveOption = None,
    show_all: Annotated[bool, typer.Option("--all", help="Show unchanged measures too.")] = False,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    details: DetailsOption = False,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", help="Compare over a period from this date (with --to): "
        "one comparison per sub-period, split where either side's decision can change.",
    )] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", help="Last day of the period (with --from).")] = None,
    monthly: Annotated[bool, typer.Option(
        "--monthly", help="With --from/--to: also split at every month start for the "
        "measures decided month by month (bostøtte).")] = False,
) -> None:
    """Compare the decision with changed facts (or a scenario's variants) side by side;
    with --from/--to, one comparison per sub-period.

    \b
    Example:
      eligibility what-if fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01 \\
        --set members[0].income_month=25000
    """
    engine, document, when = open_household(file, pack, as_of, lang)
    period = start is not None or end is not None or monthly
    if is_scenario(document):
        base_dir = Path(file).parent if file != "-" else Path(".")
        scenario = guarded(lambda: load_scenario(document, engine.pack.schema, base_dir))
        extra = parse_sets(engine, set_, remove)
        if extra:
            scenario = scenario.model_copy(update={"baseline": guarded(
                lambda: apply_changes(scenario.baseline, extra))})
        if period:
            first, last = period_range(start, end)
            variants = period_guarded(lambda: compare_scenario_period(
                engine, scenario, first, last, monthly, lang))
            if as_json:
                typer.echo(variants.to_json())
                return
            for i, variant in enumerate(variants.variants):
                if i:
                    console.print()
                _print_what_if_period(engine, variant, lang, show_all, details)
            return
        res = guarded(lambda: compare_scenario(engine, scenario, when, lang))
        if as_json:
            typer.echo(res.model_dump_json(indent=2))
        else:
            _print_scenario(engine, res.baseline, res.variants, lang)
        return
    facts = _facts(document)
    changes = parse_sets(engine, set_, remove)
    if not changes:
        fail("give at least one --set PATH=VALUE or --remove PATH (or a scenario file)")
    if period:
        first, last = period_range(start, end)
        over = period_guarded(lambda: what_if_period(engine, facts, changes, first, last,
                                                     monthly, lang))
        if as_json:
            typer.echo(over.to_json())
        else:
            _print_what_if_period(engine, over, lang, show_all, details)
        return
    result = guarded(lambda: what_if(engine, facts, changes, when, lang))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        _print_what_if(engine, result, lang, show_all)
        if details:
            print_step_changes(result, lang)


def _measure_or_fail(engine: Engine, measure: str | None) -> None:
    ids = [m.measure.id for m in engine.measures]
    if measure is not None and measure not in ids:
        fail(f"no measure {measure!r} in the pack; measures: {', '.join(ids)}")


@app.command("why-not")
def why_not_command(
    file: FileArgument,
    measure: Annotated[str | None, typer.Option("--measure", "-m", metavar="MEASURE",
                                                help="Explain only this measure.")] = None,
    set_: SetOption = None,
    remove: RemoveOption = None,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    details: Annotated[bool, typer.Option(
        "--details", help="For each threshold and limit, the calculation steps that change "
                          "at that value.")] = False,
    time_budget: TimeBudgetOption = CLI_SEARCH_BUDGET_SECONDS,
) -> None:
    """For each measure not granted: what failed, and the fact values that would flip it.

    \b
    Example:
      eligibility why-not fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01 \\
        -m depositumsgaranti
    """
    engine, document, when = open_household(file, pack, as_of, lang)
    facts = _facts(document)
    _measure_or_fail(engine, measure)
    facts = guarded(lambda: apply_changes(facts, parse_sets(engine, set_, remove)))
    result = guarded(lambda: why_not(engine, facts, when, lang, measure, budget=time_budget))
    budget_note(result.partial, len(result.measures), time_budget, "why-not search")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    print_why_not(result, lang)
    if details:
        for m in result.measures:
            for flip in [*m.thresholds, *m.limits]:
                changes = {flip.path: flip.value}
                variant = guarded(lambda: what_if(engine, facts, changes, when, lang))  # noqa: B023
                table = changes_table(_find(variant.baseline, m.id),
                                      _find(variant.variant, m.id), lang)
                if table is not None:
                    console.print(Text(flip.message, style="bold"))
                    console.print(table)


def _find(decision: Decision, measure_id: str) -> MeasureResult | None:
    return next((x for x in decision.measures if x.id == measure_id), None)


def print_why_not(result: WhyNotResult, lang: str) -> None:
    """The terminal view of a why-not analysis."""
    if not result.measures:
        console.print(render("whynot.nothing", lang))
        return
    for m in result.measures:
        console.print(Text(f"{m.title} — {render(f'status.{m.status}', lang)}",
                           style=STATUS_STYLE[m.status]))
        console.print(f"  {m.summary}", highlight=False, markup=False)
        for r in m.requirements:
            console.print(f"  • {r.message}", highlight=False, markup=False)
            if r.expression:
                console.print(f"    {render('whynot.label.expression', lang)}: {r.expression}",
                              style="dim", highlight=False, markup=False)
            for f in r.flips:
                console.print(f"    → {f.message}", highlight=False, markup=False)
        if m.thresholds:
            console.print(f"  {render('whynot.label.thresholds', lang)}:", style="bold")
            for f in m.thresholds:
                console.print(f"    ⇒ {f.message}", highlight=False, markup=False)
        elif m.status != "eligible" and any(r.outcome == "not_met" for r in m.requirements):
            console.print(f"  {render('whynot.no_single_fact', lang)}", style="dim")
        if m.limits:
            console.print(f"  {render('whynot.label.limits', lang)}:", style="bold")
            for f in m.limits:
                console.print(f"    ⇔ {f.message}", highlight=False, markup=False)
        console.print()


@app.command("counterfactual")
def counterfactual_command(
    file: FileArgument,
    measure: Annotated[str, typer.Option("--measure", "-m", metavar="MEASURE",
                                         help="The measure to reach.")],
    also: Annotated[list[str] | None, typer.Option(
        "--also", metavar="PATH",
        help="Also vary this fact (not marked changeable), e.g. members.age.")] = None,
    max_facts: Annotated[int, typer.Option("--max-facts", min=1, max=3, metavar="N",
                                           help="Change at most this many facts.")] = 2,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    time_budget: TimeBudgetOption = CLI_SEARCH_BUDGET_SECONDS,
) -> None:
    """The smallest changes of changeable facts that make a measure eligible.

    \b
    Example:
      eligibility counterfactual fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01 \\
        -m depositumsgaranti
    """
    engine, document, when = open_household(file, pack, as_of, lang)
    facts = _facts(document)
    _measure_or_fail(engine, measure)
    for path in also or []:
        if engine.pack.schema.field(path) is None:
            _parse(engine, path, "null")
    result = guarded(lambda: counterfactuals(engine, facts, measure, when, lang, also, max_facts,
                                             budget=time_budget))
    budget_note(result.partial, len(result.solutions), time_budget, "counterfactual search")
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    console.print(result.message, highlight=False, markup=False)
    if not result.solutions:
        return
    table = Table(show_lines=True)
    table.add_column(render("cf.label.facts", lang), justify="right")
    table.add_column(render("cf.label.changes", lang))
    table.add_column(render("cf.label.result", lang), min_width=amount_width(
        format_amount(x.amount, result_unit(engine, measure), lang)
        for x in result.solutions if x.amount is not None))
    for s in result.solutions:
        changes = "\n".join(
            f"{c.title} ({c.path}): {_fmt(engine, c.path, c.before, lang)} → "
            f"{_fmt(engine, c.path, c.after, lang)}" for c in s.changes)
        outcome = render(f"status.{s.status}", lang)
        if s.amount is not None:
            outcome += f"\n{format_amount(s.amount, result_unit(engine, measure), lang)}"
        table.add_row(str(len(s.changes)), changes, outcome)
    console.print(table)


def result_unit(engine: Engine, measure: str) -> str | None:
    m = engine.pack.measure(measure)
    return m.amount.unit if m.amount else None


@app.command("sweep")
def sweep_command(
    file: FileArgument,
    vary: Annotated[str, typer.Option("--vary", metavar="PATH=FROM..TO", help="PATH=FROM..TO, e.g. "
                                      "members[0].income_month=0..40000")],
    step: Annotated[str | None, typer.Option("--step", metavar="STEP", help="Step between points "
                                             "(default: 1/50 of the range).")] = None,
    set_: SetOption = None,
    remove: RemoveOption = None,
    measure: Annotated[list[str] | None, typer.Option(
        "--measure", "-m", metavar="MEASURE", help="Show only these measures.")] = None,
    chart: Annotated[str | None, typer.Option(
        "--chart", metavar="FILE", help="Write a chart: out.png or out.svg.")] = None,
    table: Annotated[bool, typer.Option("--table/--no-table",
                                        help="Print the table of points.")] = True,
    all_measures: Annotated[bool, typer.Option(
        "--all-measures", help="Show every measure in the table, also those that do not "
        "change over the range.")] = False,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    time_budget: TimeBudgetOption = CLI_SEARCH_BUDGET_SECONDS,
) -> None:
    """Evaluate the household across a range of one fact; table, terminal chart, PNG/SVG.

    \b
    Example:
      eligibility sweep fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01 \\
        --vary members[0].income_month=0..40000 --step 2000
    """
    engine, document, when = open_household(file, pack, as_of, lang)
    facts = _facts(document)
    for m in measure or []:
        _measure_or_fail(engine, m)
    if chart is not None and Path(chart).suffix.lower() not in (".png", ".svg"):
        fail(f"--chart {chart}: the file must end in .png or .svg")
    path, lo, hi, step_value = guarded(lambda: parse_range(engine, vary, step))
    changes = parse_sets(engine, set_, remove)
    result = guarded(lambda: sweep(engine, facts, path, lo, hi, step_value, when, lang, changes,
                                   budget=time_budget))
    budget_note(result.partial, len(result.points), time_budget, "sweep")
    if measure:
        keep = set(measure)
        result = result.model_copy(update={
            "measures": [m for m in result.measures if m.id in keep],
            "cliffs": [c for c in result.cliffs if c.measure in keep]})
    if chart is not None:
        guarded(lambda: write_chart(result, Path(chart)))
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    if table:
        every = all_measures or bool(measure)
        console.print(sweep_table(result, all_measures=every))
        note = unchanged_note(result, all_measures=every)
        if note:
            console.print(note, style="dim")
    for line in terminal_chart(result):
        console.print(line, highlight=False, markup=False)
    if result.cliffs:
        console.print(render("sweep.label.cliffs", lang) + ":", style="bold")
        for cliff in result.cliffs:
            console.print(f"  {cliff.message}", highlight=False, markup=False)
    if chart is not None:
        console.print(render("sweep.chart_written", lang, file=chart), highlight=False)


def _hint(spec: FieldSpec | None, lang: str) -> str:
    if spec is None:
        return ""
    if spec.kind == "bool":
        return "yes/no" if lang == "en" else "ja/nei"
    if spec.kind == "enum":
        return "/".join(spec.values or ())
    if spec.kind == "date":
        return "YYYY-MM-DD" if lang == "en" else "ÅÅÅÅ-MM-DD"
    return spec.unit or ""


def _expected(spec: FieldSpec | None, lang: str) -> str:
    if spec is None:
        return render("ask.expected.int", lang)
    text = render(f"ask.expected.{spec.kind}", lang, values=", ".join(spec.values or ()))
    if spec.kind in ("int", "number", "money") and (
            spec.minimum is not None or spec.maximum is not None):
        text = render("ask.expected.range", lang, expected=text,
                      minimum=spec.minimum if spec.minimum is not None else "-∞",
                      maximum=spec.maximum if spec.maximum is not None else "∞")
    return text


class _Dumper(yaml.SafeDumper):
    pass


def _represent_decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.Node:
    if value == value.to_integral_value():
        return dumper.represent_int(int(value))
    return dumper.represent_scalar("tag:yaml.org,2002:float", str(value))


_Dumper.add_representer(Decimal, _represent_decimal)


@app.command("ask")
def ask_command(
    file: Annotated[str, typer.Argument(metavar="FILE",
                                        help="Facts known so far (YAML or JSON).")],
    save: Annotated[str | None, typer.Option(
        "--save", metavar="FILE", help="Write the completed facts to this YAML file.")] = None,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
) -> None:
    """Ask the missing facts one at a time (most decisive first), re-evaluating after each.

    \b
    Example:
      eligibility ask fixtures/enslig-oslo-lavinntekt.yaml --save answers.yaml
    """
    check_lang(lang)
    when = parse_date(as_of)
    if file == "-":
        fail("ask reads the answers from stdin; give the facts as a file")
    facts = _facts(read_facts(file))
    engine = load_engine(pack)
    schema = engine.pack.schema
    skipped: list[str] = []
    answered = 0
    console.print(render("ask.intro", lang), style="dim")
    decision = _evaluate(engine, facts, when, lang)
    _print_statuses(decision, lang)
    ended_early = False
    while True:
        questions = [q for q in decision.missing_facts if q.path not in skipped]
        if not questions:
            break
        q = questions[0]
        spec = _safe_spec(engine, q.path)
        question = render("ask.members", lang) if spec is None and "." not in q.path \
            else q.question
        hint = _hint(spec, lang)
        k = answered + len(skipped) + 1
        console.print(render("ask.progress", lang, k=k, n=k - 1 + len(questions)),
                      style="dim")
        prompt = f"{question} [{q.path}{'; ' + hint if hint else ''}]"
        try:
            answer = typer.prompt(prompt, default="", show_default=False)
        except (typer.Abort, EOFError):
            console.print()
            ended_early = True
            break
        if not answer.strip():
            skipped.append(q.path)
            continue
        try:
            value = parse_value(schema, q.path, answer)
            if value is None:
                raise ChangeError("empty")
            updated = apply_changes(facts, {q.path: value})
            engine.validate(updated)
        except (ChangeError, FactsError):
            console.print(render("ask.invalid", lang, answer=answer.strip(),
                                 expected=_expected(spec, lang)),
                          style="red", highlight=False)
            continue
        facts = updated
        answered += 1
        before = decision
        decision = _evaluate(engine, facts, when, lang)
        settled = [m.title for m in decision.measures
                   if _status_of(before, m.id) == "undetermined" and m.status != "undetermined"]
        if settled:
            console.print(render("ask.settled", lang, measures=", ".join(settled)),
                          style="cyan", highlight=False)
        _print_changes(before, decision, lang)
    remaining = [q.path for q in decision.missing_facts]
    if remaining:
        shown = ", ".join(remaining[:5]) + (f", … (+{len(remaining) - 5})"
                                              if len(remaining) > 5 else "")
        console.print(render("ask.skipped", lang, missing=shown), highlight=False)
    else:
        console.print(render("ask.done", lang), style="green")
    console.print()
    console.print(render("ask.result", lang), style="bold")
    print_decision(decision, console, labels=labels_for(engine, lang))
    if save is None and answered and ended_early:
        save = _ask_where_to_save(lang, facts)
    if save is not None:
        Path(save).write_text(_facts_yaml(facts), encoding="utf-8")
        console.print(render("ask.saved", lang, file=save), highlight=False)


def _facts_yaml(facts: dict[str, Any]) -> str:
    return yaml.dump(facts, Dumper=_Dumper, allow_unicode=True, sort_keys=False)


def _ask_where_to_save(lang: str, facts: dict[str, Any]) -> str | None:
    """Before answers given in an interrupted session are lost: ask for a file; if
    there is no input left to ask with, print the facts so nothing is dropped silently."""
    try:
        target = typer.prompt(render("ask.save_prompt", lang), default="",
                              show_default=False)
    except (typer.Abort, EOFError):
        console.print()
        console.print(render("ask.not_saved", lang), style="yellow")
        console.print(_facts_yaml(facts), highlight=False)
        return None
    return target.strip() or None


def _status_of(decision: Decision, measure_id: str) -> str | None:
    return next((m.status for m in decision.measures if m.id == measure_id), None)


def _print_changes(before: Decision, after: Decision, lang: str) -> None:
    """Only the measures whose status or amount the answer changed."""
    old = {m.id: m for m in before.measures}
    lines = []
    for m in after.measures:
        was = old.get(m.id)
        if was is not None and (was.status, was.amount) == (m.status, m.amount):
            continue
        line = Text(f"  {m.title}: ")
        if was is not None:
            line.append(render(f"status.{was.status}", lang), style=STATUS_STYLE[was.status])
            if was.amount is not None:
                line.append(f" {format_amount(was.amount, was.unit, lang)}")
            line.append(" → ")
        line.append(render(f"status.{m.status}", lang), style=STATUS_STYLE[m.status])
        if m.amount is not None:
            line.append(f" {format_amount(m.amount, m.unit, lang)}")
        lines.append(line)
    if not lines:
        console.print(render("ask.unchanged", lang), style="dim")
        return
    console.print(render("ask.changed", lang), style="cyan")
    for line in lines:
        console.print(line)


def _evaluate(engine: Engine, facts: dict[str, Any], when: date, lang: str) -> Decision:
    return guarded(lambda: engine.evaluate(facts, as_of=when, lang=lang))


def _print_statuses(decision: Decision, lang: str) -> None:
    line = Text()
    for i, m in enumerate(decision.measures):
        if i:
            line.append(" · ")
        line.append(f"{m.title}: ")
        line.append(render(f"status.{m.status}", lang), style=STATUS_STYLE[m.status])
        if m.amount is not None:
            line.append(f" {format_amount(m.amount, m.unit, lang)}")
    console.print(line)


def period_range(start: str | None, end: str | None) -> tuple[date, date]:
    """``--from``/``--to`` as dates (both required)."""
    if start is None or end is None:
        fail("give both --from and --to (YYYY-MM-DD)")
    return parse_date(start, "--from"), parse_date(end, "--to")


def period_guarded(fn: Callable[[], T]) -> T:
    """:func:`guarded`, with a period error naming its option (``--from``/``--to``)."""
    def work() -> T:
        try:
            return fn()
        except PeriodError as exc:
            fail(f"--{exc.field} {exc.value}: {exc}")
    return guarded(work)


__all__ = ["parse_sets", "period_guarded", "period_range"]
