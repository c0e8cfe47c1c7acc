"""What every CLI command shares: the typer app, options, reading facts, errors.

Every text that is not markup written here (messages, values, file names) goes
through :func:`rich.markup.escape` or ``markup=False``, and the consoles never
replace ``:name:`` codes by emoji, so a fact value ``"[/bold]"`` or a message
about line 100 (``:100:``) prints as written. :func:`need_extra` turns a missing
optional dependency into the exact ``pip install 'eligibility[extra]'`` line.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperArgument, TyperCommand

from eligibility.engine import BACKENDS, Engine
from eligibility.errors import EligibilityError, FactsError, PackError
from eligibility.limits import MAX_FILE_BYTES, MAX_REPORTED_ISSUES
from eligibility.pack.loader import load_pack
from eligibility.pack.yamlio import YamlError, load_facts_text, read_text_file


class _PlainArgument(TyperArgument):
    """A positional argument shown by its metavar alone: ``FILE`` in the usage line
    (``[FILE]`` when optional) and in the argument list, never ``{FILE}`` or
    ``FILE <str>``."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.metavar or (self.name or "").upper()
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")

    def _rich_display_name(self) -> str:
        return self.metavar or (self.name or "").upper()


class _PlainCommand(TyperCommand):
    """A command whose positional arguments show plain metavars (typer gives no option
    for it: its arguments are built as :class:`TyperArgument` inside ``typer.main``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if type(param) is TyperArgument:
                param.__class__ = _PlainArgument


def plain_arguments(typer_app: typer.Typer) -> None:
    """Build every command registered on ``typer_app`` so far as a :class:`_PlainCommand`
    (unless it names its own class); called once all command modules are imported."""
    for info in typer_app.registered_commands:
        if info.cls in (None, TyperCommand):
            info.cls = _PlainCommand


app = typer.Typer(
    name="eligibility",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# markup=False: a str is printed as written; styled output is built from rich Text.
console = Console(emoji=False, markup=False)
err_console = Console(stderr=True, emoji=False, markup=False)

T = TypeVar("T")

PackOption = Annotated[
    str, typer.Option("--pack", "-p", metavar="PACK",
                      help="Rule pack folder, or the name of a bundled pack or one in "
                      "$ELIGIBILITY_RULES (see: eligibility packs).")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", metavar="DATE",
                 help="Date the law is read at, YYYY-MM-DD (default: today)."),
]
LangOption = Annotated[str, typer.Option("--lang", metavar="LANG",
                                         help="Language of texts: nb, nn or en.")]
FileArgument = Annotated[str, typer.Argument(metavar="FILE",
                                             help="Facts as YAML or JSON; - reads stdin.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the Decision as JSON.")]
TimeBudgetOption = Annotated[float, typer.Option(
    "--time-budget", min=0.1, max=3600, metavar="SECONDS",
    help="Stop the search after this many seconds and show what it found so far "
         "(marked partial).")]


def budget_note(partial: bool, found: int, seconds: float, what: str,
                empty_is_error: bool = True) -> None:
    """After a search: nothing when it finished; a warning on stderr when it stopped at
    its time budget with ``found`` results; a user error (exit 2) when it found none
    (unless ``empty_is_error`` is false: the search was an addition to a decision)."""
    if not partial:
        return
    if found == 0 and empty_is_error:
        fail(f"the {what} stopped at its time budget of {seconds:g} s before it found "
             "anything; allow more with --time-budget SECONDS")
    err_console.print(f"warning: the {what} stopped at its time budget of {seconds:g} s; "
                      "what is shown is partial (allow more with --time-budget SECONDS)",
                      highlight=False, markup=False, soft_wrap=True)


BackendOption = Annotated[str, typer.Option(
    "--backend", metavar="BACKEND", help="How the pack is executed: reference (default) or rete "
                      "(durable_rules; needs the rete extra, Python < 3.13).")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print a user error as one paragraph (plain text, never markup) and exit."""
    err_console.print(f"[bold red]error:[/bold red] {escape(message)}", markup=True,
                      highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def need_extra(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or end with the exact install line for its extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        fail(f"{what} needs the '{extra}' extra: pip install 'eligibility[{extra}]'")


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


_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def parse_date(value: str | None, option: str = "--as-of") -> date:
    if value is None:
        return date.today()
    match = _ISO_DATE.match(value.strip())
    if match is None:
        fail(f"{option} must be a date written YYYY-MM-DD, got {value!r}")
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        fail(f"{option} {value}: there is no month {month} (months are 01 to 12)")
    try:
        return date(year, month, day)
    except ValueError:
        fail(f"{option} {value}: there is no day {day} in {year}-{month:02d}")


def check_lang(lang: str) -> str:
    if lang not in ("nb", "nn", "en"):
        fail(f"--lang must be nb, nn or en, got {lang!r}")
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


def read_facts(source: str) -> Any:
    """:func:`read_document` for a household's facts (or a scenario), with the messages
    for a folder given as the file and for an empty or comment-only file."""
    path = Path(source)
    if source != "-" and path.is_dir():
        fail(f"{source} is a folder; give the facts file inside it (YAML or JSON)")
    if source != "-" and path.is_file() and path.stat().st_size == 0:
        fail(f"{source}: the file is empty; expected the household's facts (YAML or JSON)")
    document = read_document(source)
    if document is None:
        fail(f"{'<stdin>' if source == '-' else source}: the file is empty (or holds only "
             "comments); expected the household's facts")
    return document


def open_household(file: str, pack: str, as_of: str | None,
                   lang: str, backend: str = "reference") -> tuple[Engine, Any, date]:
    """What most commands start with: check the options, read the facts document,
    load the pack. Any problem ends the command with a clean message."""
    check_lang(lang)
    when = parse_date(as_of)
    document = read_facts(file)
    return load_engine(pack, backend), document, when


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        fail(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return backend


def load_engine(pack: str, backend: str = "reference") -> Engine:
    check_backend(backend)
    with user_errors():
        return Engine(load_pack(pack), backend=backend)
    raise AssertionError("unreachable")  # pragma: no cover


def guarded(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover
