"""``eligibility check PACK_DIR``: static checks and the pack's cases."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from eligibility.cli.common import app, console, err_console
from eligibility.engine import Engine
from eligibility.errors import PackError
from eligibility.pack.loader import load_pack
from eligibility.testing.cases import run_cases


@app.command()
def check(
    pack_dir: Annotated[str, typer.Argument(help="The rule pack folder, e.g. rules/no.")],
) -> None:
    """Load a pack with every static check, run its cases; exit 1 on any error."""
    try:
        pack = load_pack(pack_dir)
    except PackError as exc:
        for diag in exc.diagnostics:
            err_console.print(str(diag), highlight=False, markup=False, soft_wrap=True)
        err_console.print(f"[bold red]{len(exc.diagnostics)} error(s)[/bold red] in {pack_dir}")
        raise typer.Exit(1) from None
    engine = Engine(pack)
    results = run_cases(engine)
    failed = [r for r in results if not r.passed]
    table = Table(title=f"{pack.meta.id} {pack.meta.version}: cases")
    table.add_column("case")
    table.add_column("file", style="dim")
    table.add_column("result")
    for r in results:
        table.add_row(r.case.name, r.case.file,
                      "[green]pass[/green]" if r.passed else "[red]FAIL[/red]\n"
                      + "\n".join(r.problems))
    if results:
        console.print(table)
    console.print(
        f"static checks: ok ({len(pack.measures)} measures, {len(pack.criteria)} criteria, "
        f"{len(pack.parameters)} parameters) · cases: {len(results) - len(failed)} passed, "
        f"{len(failed)} failed · sha256:{pack.content_hash[:12]}",
        highlight=False,
    )
    if failed:
        raise typer.Exit(1)
