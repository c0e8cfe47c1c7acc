"""The ``eligibility`` command line (typer + rich).

Each command lives in its own module of this package and registers itself on
:data:`app`; :func:`main` is the console-script entry point. User errors (bad
facts, bad rule files, bad dates) end with a one-paragraph message and exit code
2, never a traceback.
"""

from __future__ import annotations

import sys

# Each module registers its commands on `app`; add a new command module to this list.
from eligibility.cli import (  # noqa: F401
    batch,
    check,
    doc,
    evaluate,
    packs,
    serve,
    whatif,
)
from eligibility.cli.common import app, plain_arguments

plain_arguments(app)  # FILE, not {FILE} / FILE <str>, in every --help


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``eligibility`` console script.

    The last line of defence of the error contract: whatever escapes a command
    (which would be a bug, not a user error) ends as one plain line on stderr and
    exit code 2 — never a traceback.
    """
    try:
        app(args=argv, prog_name="eligibility")
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        raise SystemExit(130) from None
    except Exception as exc:  # the contract: no traceback, ever
        text = str(exc).replace("\n", " ")
        sys.stderr.write(f"error: the command failed unexpectedly ({type(exc).__name__}"
                         f"{': ' + text[:300] if text else ''})\n")
        raise SystemExit(2) from None


__all__ = ["app", "main"]
