"""``eligibility evaluate FILE``: one household's decision, compact, in detail or as JSON."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from eligibility.cli.common import (
    AsOfOption,
    BackendOption,
    FileArgument,
    JsonOption,
    LangOption,
    PackOption,
    TimeBudgetOption,
    app,
    budget_note,
    console,
    guarded,
    load_engine,
    open_household,
)
from eligibility.cli.whatif import period_guarded, period_range, print_why_not
from eligibility.decision_build import Detail
from eligibility.engine import Engine
from eligibility.explain.calculation import calculation_renderables
from eligibility.explain.periods import breakpoints_table, confirm_table, periods_table
from eligibility.explain.terminal import labels_for, print_decision
from eligibility.explain.whynot import why_not as explain_why_not
from eligibility.limits import CLI_SEARCH_BUDGET_SECONDS
from eligibility.periods import pack_breakpoints


@app.command()
def evaluate(
    file: FileArgument,
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    details: Annotated[bool, typer.Option(
        "--details", help="Show every requirement's reason, legal basis and the "
        "unconfirmed items (the full table), and each amount's calculation step by step.",
    )] = False,
    why_not: Annotated[bool, typer.Option(
        "--why-not", help="Add, for each measure not granted, the values that would flip it.",
    )] = False,
    summary: Annotated[bool, typer.Option(
        "--summary", help="Statuses, amounts, criteria, missing facts and provenance only: "
        "no per-requirement reasons and no calculation (faster).",
    )] = False,
    start: Annotated[str | None, typer.Option(
        "--from", metavar="DATE", help="Decide a period from this date (with --to): one "
        "result per sub-period, split where a rule, parameter or dated fact changes.",
    )] = None,
    end: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", help="Last day of the period (with --from).",
    )] = None,
    monthly: Annotated[bool, typer.Option(
        "--monthly", help="With --from/--to: also split at every month start for the "
        "measures decided month by month (bostøtte).",
    )] = False,
    backend: BackendOption = "reference",
    time_budget: TimeBudgetOption = CLI_SEARCH_BUDGET_SECONDS,
) -> None:
    """Evaluate one household against the pack: one line per measure, then the
    questions to ask (--details: every reason; --json: the Decision).

    \b
    Example:
      eligibility evaluate fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01
    """
    engine, facts, when = open_household(file, pack, as_of, lang, backend)
    detail: Detail = "summary" if summary else "full"
    if start is not None or end is not None or monthly:
        print_periods(engine, facts, start, end, monthly, lang, as_json, detail)
        return
    decision = guarded(lambda: engine.evaluate(facts, as_of=when, lang=lang, detail=detail))
    analysis = guarded(lambda: explain_why_not(engine, facts, when, lang,
                                                budget=time_budget)) if why_not else None
    if analysis is not None:
        budget_note(analysis.partial, len(analysis.measures), time_budget, "why-not search",
                    empty_is_error=False)
    if analysis is not None:
        decision = decision.model_copy(update={
            "why_not": [m.model_dump(mode="json") for m in analysis.measures]})
    if as_json:
        typer.echo(decision.to_json())
        return
    print_decision(decision, console, details=details, labels=labels_for(engine, lang))
    confirm = confirm_table(decision, lang)
    if confirm is not None:
        console.print()
        console.print(confirm)
    if details:
        for table in calculation_renderables(decision):
            console.print()
            console.print(table)
    if analysis is not None:
        console.print()
        print_why_not(analysis, lang)


def print_periods(engine: Engine, facts: Any, start: str | None, end: str | None,
                  monthly: bool, lang: str, as_json: bool, detail: Detail) -> None:
    """``evaluate FILE --from --to``: the periods table, or the JSON contract."""
    first, last = period_range(start, end)
    result = period_guarded(lambda: engine.evaluate_period(facts, first, last, monthly,
                                                           lang, detail))
    if as_json:
        typer.echo(result.to_json())
        return
    console.print(periods_table(result, lang))


@app.command("periods")
def periods_command(
    pack: Annotated[str, typer.Argument(metavar="PACK", help="Rule pack folder or name.")],
    start: Annotated[str | None, typer.Option("--from", metavar="DATE",
                                              help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--to", metavar="DATE",
                                            help="Last day, YYYY-MM-DD.")] = None,
    monthly: Annotated[bool, typer.Option(
        "--monthly", help="Also list the month starts of monthly measures.")] = False,
    lang: LangOption = "nb",
    as_json: Annotated[bool, typer.Option("--json", help="Print the breakpoints as JSON.")
                       ] = False,
) -> None:
    """List the dates in a period where the pack's rules or parameters change, and what
    changes at each.

    \b
    Example:
      eligibility periods no --from 2025-01-01 --to 2026-12-31
    """
    first, last = period_range(start, end)
    engine = load_engine(pack)
    points = period_guarded(lambda: pack_breakpoints(engine.compiled, first, last, monthly))
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in points], indent=2,
                              ensure_ascii=False))
        return
    console.print(breakpoints_table(points, lang))
