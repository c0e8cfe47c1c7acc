"""``eligibility evaluate --summary``: the summary detail level from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console
from tests.conftest import MINI, household

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", "2023-06-01"]


def test_summary_json_has_statuses_and_no_reasons(tmp_path: Path) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(household()))
    full = runner.invoke(app, ["evaluate", str(path), *ARGS, "--json"])
    summary = runner.invoke(app, ["evaluate", str(path), *ARGS, "--json", "--summary"])
    assert summary.exit_code == 0, summary.output
    data, whole = json.loads(summary.output), json.loads(full.output)
    assert all(m["reasons"] == [] for m in data["measures"])
    assert any(m["reasons"] for m in whole["measures"])
    assert ({m["id"]: (m["status"], m["amount"]) for m in data["measures"]}
            == {m["id"]: (m["status"], m["amount"]) for m in whole["measures"]})
    assert data["provenance"] == whole["provenance"]


def test_summary_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)
    path = tmp_path / "f.json"
    path.write_text(json.dumps(household()))
    result = runner.invoke(app, ["evaluate", str(path), *ARGS, "--summary", "--lang", "en"])
    assert result.exit_code == 0, result.output
    text = result.output.replace("\u00a0", " ")  # amounts keep their spaces unbreakable
    assert "Housing allowance" in text and "983 NOK/month" in text
