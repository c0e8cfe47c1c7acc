"""The ``eligibility`` command line (typer + rich).

Each command lives in its own module of this package and registers itself on
:data:`app`; :func:`main` is the console-script entry point. User errors (bad
facts, bad rule files, bad dates) end with a one-paragraph message and exit code
2, never a traceback.
"""

from __future__ import annotations

# Each module registers its commands on `app`; add a new command module to this list.
from eligibility.cli import (  # noqa: F401
    batch,
    check,
    evaluate,
    packs,
    serve,
    whatif,
)
from eligibility.cli.common import app


def main() -> None:
    """Entry point of the ``eligibility`` console script."""
    app()


__all__ = ["app", "main"]
