"""Every command's ``--help`` names its values by plain metavars: ``FILE``, ``DIR``,
``DATE``, never typer's ``{FILE}`` or ``FILE <str>``/``--n <int range>`` labels."""

from __future__ import annotations

import re

import pytest
import typer
from typer.testing import CliRunner

from eligibility.cli import app

runner = CliRunner()
GROUP = typer.main.get_command(app)
ALL_COMMANDS = sorted(GROUP.commands)  # type: ignore[attr-defined]
USAGE = {
    "ask": "FILE", "batch": "IN OUT", "check": "PACK", "counterfactual": "FILE",
    "diff": "OLD NEW", "doc": "PACK DIR", "evaluate": "FILE", "generate": "OUT",
    "packs": "", "periods": "PACK", "serve": "", "sweep": "FILE", "what-if": "FILE",
    "why-not": "FILE",
}
# a typer type label: <str>, <path>, <int range>, <%Y-%m-%d>, ... (not "Python < 3.13")
TYPE_LABEL = re.compile(r"<[a-z%][^<>\n]*>")


def _help(command: str) -> str:
    result = runner.invoke(app, [command, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_listed_here() -> None:
    assert set(ALL_COMMANDS) == set(USAGE)


@pytest.mark.parametrize("command", ALL_COMMANDS)
def test_help_shows_plain_metavars(command: str) -> None:
    out = _help(command)
    usage = out.splitlines()[0]
    assert usage == f"Usage: eligibility {command} [OPTIONS] {USAGE[command]}".rstrip()
    assert "{" not in usage
    assert TYPE_LABEL.findall(out) == []
    for name in USAGE[command].split():
        # the argument's row: its metavar, then its help, nothing in between
        assert re.search(rf"^  {name}  +\S", out, re.MULTILINE), (name, out)
    # every option that takes a value names it by an upper-case metavar
    for param in GROUP.commands[command].params:  # type: ignore[attr-defined]
        if isinstance(param, typer.core.TyperOption) and not param.is_flag \
                and param.name != "help":
            assert param.metavar and param.metavar.upper() == param.metavar, param.name
            assert f"{param.opts[-1]} {param.metavar}" in out or \
                   f"{param.opts[0]} {param.metavar}" in out, (param.opts, out)


def test_dates_are_named_date() -> None:
    assert "--as-of DATE" in _help("evaluate")
    assert "--from DATE" in _help("evaluate") and "--to DATE" in _help("periods")
    assert "--stale-after DATE" in _help("check")


def test_a_missing_argument_is_named_by_its_metavar() -> None:
    result = runner.invoke(app, ["doc", "rules/no"])
    assert result.exit_code == 2
    assert "Missing argument 'DIR'" in result.output
    result = runner.invoke(app, ["evaluate"])
    assert result.exit_code == 2 and "Missing argument 'FILE'" in result.output
