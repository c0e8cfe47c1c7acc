"""``eligibility doc PACK OUT_DIR``: publish a pack's legal content as a static site.

Writes what the service shows at ``/rules`` (per measure the requirements, exceptions,
discretionary points, amount formula, parameters with every dated value and source, what
is unconfirmed, the worked cases) as HTML files in bokmål, nynorsk and English with the
vendored CSS beside them, for publishing under forvaltningsloven § 13 without a server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from eligibility.cli.common import app, console, fail, user_errors


@app.command()
def doc(
    pack: Annotated[str, typer.Argument(metavar="PACK",
                                        help="Rule pack folder or bundled pack name.")],
    out_dir: Annotated[Path, typer.Argument(metavar="DIR", help="Folder to write the site to.")],
) -> None:
    """Write the pack's published legal content (the /rules pages) as a static site."""
    try:
        from eligibility.web.site import write_site
    except ImportError:
        fail("the site needs Jinja2 (the 'api' extra): pip install 'eligibility[api]'")
    from eligibility.pack.loader import load_pack

    if out_dir.exists() and not out_dir.is_dir():
        fail(f"{out_dir}: exists and is not a folder")
    with user_errors():
        loaded = load_pack(pack)
    pages = write_site(loaded, out_dir)
    console.print(f"{len(pages)} pages written to {out_dir} (open {out_dir / 'index.html'})")
