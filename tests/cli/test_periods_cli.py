"""``eligibility evaluate FILE --from --to``, ``eligibility periods PACK``, ``what-if --from --to``
and the confirm-before-deciding table of a what-if."""

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


@pytest.mark.parametrize(("start", "end", "option", "text"), [
    ("2024-05-01", "2024-01-01", "--to 2024-01-01", "before it starts"),
    ("2019-01-01", "2024-01-01", "--from 2019-01-01", "outside the period"),
    ("2023-01-01", "2033-01-08", "--to 2033-01-08", "3660 days"),
])
def test_period_errors_name_the_option(tmp_path: Path, start: str, end: str, option: str,
                                       text: str) -> None:
    path = facts_file(tmp_path)
    range_ = ["--from", start, "--to", end]
    commands = [["evaluate", path, "--pack", str(MINI), *range_],
                ["periods", str(MINI), *range_],
                ["what-if", path, "--pack", str(MINI), "--set", "housing.cost_month=5000",
                 *range_]]
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
        assert f"error: {option}:" in result.output and text in result.output, result.output


def test_what_if_over_a_period(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import date
    from decimal import Decimal

    from eligibility import Engine, load_pack
    from eligibility.whatif import what_if_period

    path = facts_file(tmp_path)
    args = ["what-if", path, *RANGE, "--set", "members[0].income_month=14000"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    expected = what_if_period(Engine(load_pack(MINI)), household(),
                              {"members[0].income_month": Decimal(14000)}, date(2023, 6, 1),
                              date(2024, 12, 31))
    assert data == json.loads(expected.to_json())
    assert [p["from"] for p in data["periods"]] == ["2023-06-01", "2024-01-01"]
    monkeypatch.setattr(console, "width", 160)
    table = runner.invoke(app, [*args, "--lang", "en"])
    assert table.exit_code == 0, table.output
    assert "2023-06-01 – 2023-12-31" in table.output
    assert "2024-01-01 – 2024-12-31  parameter: bostotte.tak, bostotte.egenandel" in table.output
    only = runner.invoke(app, ["what-if", path, "--pack", str(MINI), "--from", "2024-01-01",
                               "--set", "housing.cost_month=5000"])
    assert only.exit_code == 2 and "--to" in only.output


def test_what_if_a_scenario_over_a_period(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"baseline": household(), "variants": {
        "more": {"set": {"members[0].income_month": 14000}},
        "cheaper": {"set": {"housing.cost_month": 4000}}}}))
    result = runner.invoke(app, ["what-if", str(scenario), *RANGE, "--json"])
    assert result.exit_code == 0, result.output
    variants = json.loads(result.output)["variants"]
    assert [v["name"] for v in variants] == ["more", "cheaper"]
    assert all([p["from"] for p in v["periods"]] == ["2023-06-01", "2024-01-01"]
               for v in variants)
    monkeypatch.setattr(console, "width", 160)
    table = runner.invoke(app, ["what-if", str(scenario), *RANGE, "--lang", "en",
                                "--details"])
    assert table.exit_code == 0, table.output
    assert "more" in table.output and "cheaper" in table.output
    assert table.output.count("2024-01-01 – 2024-12-31") == 2
    assert "Calculation steps that changed" in table.output  # --details, per sub-period


def test_what_if_shows_what_to_confirm_on_both_sides(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)
    facts = household(housing={"tenure": "leie", "cost_month": {"value": 6000}},
                      members=[{"age": 40, "disability": False,
                                "income_month": {"value": 10000}}])
    path = facts_file(tmp_path, facts)
    result = runner.invoke(app, ["what-if", path, "--pack", str(MINI), "--as-of",
                                 "2024-06-01", "--lang", "en",
                                 "--set", "members[0].income_month=9000"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Confirm before deciding" in out
    assert "Affects: Baseline" in out and "Affects: Variant" in out
    row = next(line for line in out.splitlines() if "members[0].income_month = 10000" in line)
    assert "bostotte" in row and "–" in row  # listed for the baseline only
    row = next(line for line in out.splitlines() if "housing.cost_month = 6000" in line)
    assert row.count("bostotte") == 2
    assert "10 000 NOK/month → 9 000 NOK/month" in out  # the value, not the wrapper
    over = runner.invoke(app, ["what-if", path, *RANGE, "--lang", "en",
                               "--set", "members[0].income_month=9000"])
    assert over.exit_code == 0, over.output
    assert over.output.count("Confirm before deciding") == 2  # one per sub-period
