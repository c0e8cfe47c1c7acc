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
    check_lang,
    console,
    guarded,
    load_engine,
    parse_date,
    read_document,
)
from eligibility.explain.terminal import print_decision


@app.command()
def evaluate(
    file: Annotated[str, typer.Argument(help="Facts as YAML or JSON; - reads stdin.")],
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    lang: LangOption = "nb",
    as_json: JsonOption = False,
) -> None:
    """Evaluate one household against the pack and show every measure."""
    check_lang(lang)
    when = parse_date(as_of)
    facts = read_document(file)
    engine = load_engine(pack)
    decision = guarded(lambda: engine.evaluate(facts, as_of=when, lang=lang))
    if as_json:
        typer.echo(decision.to_json())
    else:
        print_decision(decision, console)
