"""What every CLI command shares: the typer app, options, reading facts, errors."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from eligibility.engine import Engine
from eligibility.errors import EligibilityError, FactsError, PackError
from eligibility.limits import MAX_FILE_BYTES, MAX_REPORTED_ISSUES
from eligibility.pack.loader import load_pack
from eligibility.pack.yamlio import YamlError, load_facts_text, read_text_file

app = typer.Typer(
    name="eligibility",
    help="Rules-as-code for Norwegian social housing measures: evaluate households "
    "against a rule pack, check packs, explore what-if scenarios.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

console = Console()
err_console = Console(stderr=True)

T = TypeVar("T")

PackOption = Annotated[
    str, typer.Option("--pack", "-p", help="Rule pack folder, or the name of a bundled pack.")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Date the law is read at, YYYY-MM-DD (default: today)."),
]
LangOption = Annotated[str, typer.Option("--lang", help="Language of texts: nb or en.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the Decision as JSON.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a user error as one paragraph and exit."""
    err_console.print(f"[bold red]error:[/bold red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the engine's own errors into a clean message and exit code 2."""
    try:
        yield
    except PackError as exc:
        fail(str(exc))
    except FactsError as exc:
        lines = "\n".join(
            f"  {i.path}: {i.message}" + (f" (got {i.shown_value()})" if i.value is not None
                                          else "")
            + (f"; expected {i.expected}" if i.expected else "")
            for i in exc.issues[:MAX_REPORTED_ISSUES]
        )
        if len(exc.issues) > MAX_REPORTED_ISSUES:
            lines += f"\n  … and {len(exc.issues) - MAX_REPORTED_ISSUES} more"
        fail(f"the facts do not fit the pack's schema:\n{lines}")
    except EligibilityError as exc:
        fail(str(exc))


def parse_date(value: str | None, option: str = "--as-of") -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date written YYYY-MM-DD, got {value!r}")


def check_lang(lang: str) -> str:
    if lang not in ("nb", "en"):
        fail(f"--lang must be nb or en, got {lang!r}")
    return lang


def read_document(source: str) -> Any:
    """Read a YAML or JSON document from a file, or from stdin when ``source`` is ``-``."""
    if source == "-":
        text, name = sys.stdin.read(MAX_FILE_BYTES + 1), "<stdin>"
    else:
        path = Path(source)
        if not path.exists():
            fail(f"no such file: {source}")
        try:
            text = read_text_file(path, source)
        except YamlError as exc:
            fail(str(exc.diagnostic))
        name = source
    try:
        return load_facts_text(text, name)
    except YamlError as exc:
        fail(str(exc.diagnostic))


def open_household(file: str, pack: str, as_of: str | None,
                   lang: str) -> tuple[Engine, Any, date]:
    """What most commands start with: check the options, read the facts document,
    load the pack. Any problem ends the command with a clean message."""
    check_lang(lang)
    when = parse_date(as_of)
    document = read_document(file)
    return load_engine(pack), document, when


def load_engine(pack: str) -> Engine:
    with user_errors():
        return Engine(load_pack(pack))
    raise AssertionError("unreachable")  # pragma: no cover


def guarded(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover
