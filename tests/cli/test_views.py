"""What-if and scenario tables at 80 and 120 columns: every amount printed whole."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()
AMOUNT = re.compile(r"\d{1,3}(?:[ \u00a0]\d{3})+(?:[ \u00a0]NOK(?:/month)?)?")


@pytest.mark.parametrize("width", [80, 120])
@pytest.mark.parametrize("args", [
    ["what-if", "fixtures/familie-utkastelse.yaml", "--set", "members[0].income_month=40000"],
    ["what-if", "docs/examples/scenario.yaml"],
], ids=["what-if", "scenario"])
def test_amounts_are_never_cut_or_split(monkeypatch: pytest.MonkeyPatch, width: int,
                                        args: list[str]) -> None:
    monkeypatch.setattr(console, "width", width)
    monkeypatch.chdir(ROOT)
    result = runner.invoke(app, [*args, "--as-of", "2026-07-01", "--lang", "en"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert all(len(line) <= width for line in lines)
    monkeypatch.setattr(console, "width", 400)
    wide = runner.invoke(app, [*args, "--as-of", "2026-07-01", "--lang", "en"])
    amounts = {a.replace("\u00a0", " ") for a in AMOUNT.findall(wide.output)}
    assert amounts
    narrow = result.output.replace("\u00a0", " ")
    for amount in amounts:
        assert amount in narrow, f"{amount!r} is cut or split at {width} columns"
    assert "…" not in narrow
