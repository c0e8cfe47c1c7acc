"""``eligibility packs`` and ``eligibility --version``: what is installed and findable.

``packs`` lists every pack that ``--pack NAME`` (and ``load_pack(NAME)``) can find:
those in the folder named by ``$ELIGIBILITY_RULES`` first, then the packs bundled
in the package, each with its id, version, content hash and folder. A pack that
does not load is listed with its first error instead of stopping the listing.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from eligibility.cli.common import app, console
from eligibility.errors import PackError
from eligibility.pack.bundled import RULES_ENV, available_packs
from eligibility.pack.loader import load_pack
from eligibility.version import __version__


def _version(value: bool) -> None:
    if value:
        typer.echo(f"eligibility {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False,
) -> None:
    """Rules-as-code for Norwegian social housing measures: evaluate households
    against a rule pack, check packs, explore what-if scenarios.

    \b
    Example:
      eligibility evaluate fixtures/enslig-oslo-lavinntekt.yaml --as-of 2026-07-01
    """


@app.command("packs")
def packs_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the list as JSON.")] = False,
) -> None:
    """List the rule packs findable by name: $ELIGIBILITY_RULES first, then the bundled.

    \b
    Example:
      ELIGIBILITY_RULES=/srv/rules eligibility packs
    """
    rows: list[dict[str, str]] = []
    for location in available_packs():
        row = {"name": location.name, "origin": location.origin, "path": str(location.path)}
        try:
            pack = load_pack(location.path)
        except PackError as exc:
            first = exc.diagnostics[0] if exc.diagnostics else None
            row["error"] = str(first) if first else "does not load"
        else:
            row.update(id=pack.meta.id, version=pack.meta.version,
                       content_hash=pack.content_hash)
        rows.append(row)
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        console.print(f"no packs found (none bundled, ${RULES_ENV} not set)")
        return
    table = Table(show_lines=False)
    for column in ("name", "origin", "version", "sha256", "folder"):
        table.add_column(column, no_wrap=column in ("name", "version", "sha256"),
                         overflow="fold")
    shadowed: set[str] = set()
    for row in rows:
        origin = Text(row["origin"])
        if row["name"] in shadowed:
            origin.append(" (shadowed)", style="dim")
        shadowed.add(row["name"])
        version = Text(row.get("version", ""))
        digest = Text(row.get("content_hash", "")[:12])
        if "error" in row:
            version = Text("error", style="red")
            digest = Text(row["error"], style="red")
        table.add_row(Text(row["name"]), origin, version, digest, Text(row["path"]))
    console.print(table)
