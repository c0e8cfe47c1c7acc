"""``eligibility evaluate FILE``: one household's decision, compact, in detail or as JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from eligibility.cli.common import (
    AsOfOption,
    BackendOption,
    FileArgument,
    JsonOption,
    LangOption,
    PackOption,
    app,
    console,
    guarded,
    open_household,
)
from eligibility.cli.whatif import print_why_not
from eligibility.decision_build import Detail
from eligibility.explain.calculation import calculation_renderables
from eligibility.explain.terminal import labels_for, print_decision
from eligibility.explain.whynot import why_not as explain_why_not


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
    backend: BackendOption = "reference",
) -> None:
    """Evaluate one household against the pack: one line per measure, then the
    questions to ask (--details: every reason; --json: the Decision).

    \b
    Example:
      eligibility evaluate fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01
    """
    engine, facts, when = open_household(file, pack, as_of, lang, backend)
    detail: Detail = "summary" if summary else "full"
    decision = guarded(lambda: engine.evaluate(facts, as_of=when, lang=lang, detail=detail))
    analysis = guarded(lambda: explain_why_not(engine, facts, when, lang)) if why_not else None
    if analysis is not None:
        decision = decision.model_copy(update={
            "why_not": [m.model_dump(mode="json") for m in analysis.measures]})
    if as_json:
        typer.echo(decision.to_json())
        return
    print_decision(decision, console, details=details, labels=labels_for(engine, lang))
    if details:
        for table in calculation_renderables(decision):
            console.print()
            console.print(table)
    if analysis is not None:
        console.print()
        print_why_not(analysis, lang)
