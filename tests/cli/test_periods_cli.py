"""``eligibility evaluate FILE --from --to`` and ``eligibility periods PACK``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console
from tests.conftest import MINI, household

runner = CliRunner()
RANGE = ["--pack", str(MINI), "--from", "2023-06-01", "--to", "2024-12-31"]


def facts_file(tmp_path: Path, facts: object | None = None) -> str:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(facts if facts is not None else household()))
    return str(path)


def test_evaluate_a_period_as_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", facts_file(tmp_path), *RANGE, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [p["from"] for p in data["periods"]] == ["2023-06-01", "2024-01-01"]
    assert data["periods"][-1]["to"] == "2024-12-31"
    names = {c["name"] for c in data["periods"][1]["changes"]}
    assert {"bostotte.tak", "bostotte.egenandel"} <= names


def test_evaluate_a_period_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)
    result = runner.invoke(app, ["evaluate", facts_file(tmp_path), *RANGE, "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "2024-01-01 – 2024-12-31" in result.output
    assert "bostotte.tak" in result.output and "→" in result.output


def test_monthly_splits_monthly_measures(tmp_path: Path, pack_copy: object) -> None:
    pack = pack_copy({"measures/bostotte.yaml": [("kind: right\n",  # type: ignore[operator]
                                                  "kind: right\nmonthly: true\n")]})
    args = ["evaluate", facts_file(tmp_path), "--pack", str(pack), "--from", "2024-01-01",
            "--to", "2024-03-31", "--monthly", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["periods"]) == 3


def test_wrong_ranges_are_clean_errors(tmp_path: Path) -> None:
    path = facts_file(tmp_path)
    only = runner.invoke(app, ["evaluate", path, "--pack", str(MINI), "--from", "2024-01-01"])
    assert only.exit_code == 2 and "--to" in only.output
    backwards = runner.invoke(app, ["evaluate", path, "--pack", str(MINI), "--from",
                                    "2024-05-01", "--to", "2024-01-01"])
    assert backwards.exit_code != 0 and "Traceback" not in backwards.output
    assert "before it starts" in backwards.output


def test_periods_lists_breakpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)
    result = runner.invoke(app, ["periods", str(MINI), "--from", "2020-01-01",
                                 "--to", "2025-12-31", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data[0]["date"] == "2024-01-01"
    assert {c["name"] for c in data[0]["changes"]} == {"bostotte.tak", "bostotte.egenandel"}
    table = runner.invoke(app, ["periods", str(MINI), "--from", "2020-01-01",
                                "--to", "2025-12-31", "--lang", "en"])
    assert "parameter bostotte.egenandel = 24000" in table.output


def test_unconfirmed_facts_shown_in_the_terminal(tmp_path: Path, pack_copy: object,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)
    pack = pack_copy({"pack.yaml": [("sources: [{ref: \"Test source\"}]\n",  # type: ignore
                                     "sources: [{ref: \"Test source\"}]\n"
                                     "fact_sources: [applicant]\n")]})
    facts = household(housing={"tenure": "leie",
                               "cost_month": {"value": 6000, "source": "applicant"}})
    result = runner.invoke(app, ["evaluate", facts_file(tmp_path, facts), "--pack", str(pack),
                                 "--as-of", "2024-06-01", "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Confirm before deciding" in result.output
    assert "housing.cost_month = 6000" in result.output
