"""``eligibility evaluate FILE``: one household's decision as a table or JSON."""

from __future__ import annotations

from typing import Annotated

import typer

from eligibility.cli.common import (
    AsOfOption,
    JsonOption,
    LangOption,
    PackOption,
    app,
    console,
    guarded,
    open_household,
)
from eligibility.cli.whatif import print_why_not
from eligibility.explain.calculation import calculation_renderables
from eligibility.explain.terminal import print_decision
from eligibility.explain.whynot import why_not as explain_why_not


@app.command()
def evaluate(
    file: Annotated[str, typer.Argument(help="Facts as YAML or JSON; - reads stdin.")],
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
    why_not: Annotated[bool, typer.Option(
        "--why-not", help="Add, for each measure not granted, the values that would flip it.",
    )] = False,
    details: Annotated[bool, typer.Option(
        "--details", help="Show each amount's calculation step by step, with its sources.",
    )] = False,
) -> None:
    """Evaluate one household against the pack and show every measure."""
    engine, facts, when = open_household(file, pack, as_of, lang)
    decision = guarded(lambda: engine.evaluate(facts, as_of=when, lang=lang))
    analysis = guarded(lambda: explain_why_not(engine, facts, when, lang)) if why_not else None
    if analysis is not None:
        decision = decision.model_copy(update={
            "why_not": [m.model_dump(mode="json") for m in analysis.measures]})
    if as_json:
        typer.echo(decision.to_json())
        return
    print_decision(decision, console)
    if details:
        for table in calculation_renderables(decision):
            console.print()
            console.print(table)
    if analysis is not None:
        console.print()
        print_why_not(analysis, lang)
