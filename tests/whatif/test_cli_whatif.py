"""The what-if commands end to end through the CLI, including a scripted ``ask`` session."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eligibility import Engine
from eligibility.cli import app
from eligibility.cli.common import console
from tests.conftest import MINI, household
from tests.whatif.conftest import AS_OF, measure_at

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", AS_OF.isoformat()]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)


def write(tmp_path: Path, data: Any, name: str = "facts.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def run(*args: str, input: str | None = None) -> Any:
    result = runner.invoke(app, [*args, *ARGS], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result


def test_what_if_table_and_json(tmp_path: Path) -> None:
    facts = write(tmp_path, household())
    result = run("what-if", facts, "--set", "members[0].income_month=30000", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Housing allowance" in result.output and "-983 NOK/month" in result.output
    assert "Not eligible" in result.output
    result = run("what-if", facts, "--set", "members[+]=age=3", "--json")
    data = json.loads(result.stdout)
    diff = next(m for m in data["measures"] if m["id"] == "bostotte")
    assert Decimal(diff["amount_delta"]) > 0
    assert data["changes"][0]["path"] == "members[+]"


def test_what_if_scenario_file(tmp_path: Path) -> None:
    write(tmp_path, household(), "base.yaml")
    scenario = write(tmp_path, {"baseline": "base.yaml", "variants": {
        "rik": {"set": {"members[0].income_month": 30000}},
        "baby": {"set": {"members[+]": {"age": 0}}},
        "uten_bolig": {"set": {"situation.homeless": True}}}}, "scenario.yaml")
    result = run("what-if", scenario)
    assert result.exit_code == 0, result.output
    for name in ("rik", "baby", "uten_bolig", "Utgangspunkt"):
        assert name in result.output


@pytest.mark.parametrize("args, message", [
    (["--set", "members[0].age=abc"], "whole number"),
    (["--set", "housing.tenur=leie"], "did you mean 'tenure'"),
    (["--set", "members[4].age=3"], "no member 4"),
    (["--set", "nothing"], "PATH=VALUE"),
    ([], "at least one --set"),
])
def test_what_if_user_errors_are_one_paragraph(tmp_path: Path, args: list[str],
                                               message: str) -> None:
    result = run("what-if", write(tmp_path, household()), *args)
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_why_not_json_and_text(tmp_path: Path, engine: Engine) -> None:
    facts = household(members=[{"age": 40, "income_month": 30000}])
    path = write(tmp_path, facts)
    result = run("why-not", path, "--measure", "bostotte", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    flip = next(f for f in data["measures"][0]["thresholds"]
                if f["path"] == "members[0].income_month")
    t = Decimal(flip["value"])
    assert measure_at(engine, facts, {"members[0].income_month": t}, "bostotte").status \
        == "eligible"
    assert measure_at(engine, facts, {"members[0].income_month": t + 1},
                      "bostotte").status == "not_eligible"
    text = run("why-not", path, "--lang", "en")
    assert "or less" in text.output and "Temporary accommodation" in text.output
    bad = run("why-not", path, "--measure", "nope")
    assert bad.exit_code == 2 and "bostotte" in bad.output


def test_counterfactual_command(tmp_path: Path) -> None:
    path = write(tmp_path, household(members=[{"age": 40, "income_month": 30000}]))
    result = run("counterfactual", path, "--measure", "bostotte", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "members[0].income_month" in result.output and "Eligible" in result.output
    data = json.loads(run("counterfactual", path, "-m", "bostotte", "--json").stdout)
    assert data["solutions"][0]["verified"] is True


def test_sweep_command_writes_chart(tmp_path: Path) -> None:
    path = write(tmp_path, household())
    chart = tmp_path / "sweep.svg"
    result = run("sweep", path, "--vary", "members[0].income_month=0..20000", "--step", "2500",
                 "--chart", str(chart), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert chart.is_file() and "<svg" in chart.read_text()
    assert "Eligible → Not eligible" in result.output
    data = json.loads(run("sweep", path, "--vary", "members[0].income_month=0..20000",
                          "--step", "2500", "--json", "-m", "bostotte").stdout)
    assert [m["id"] for m in data["measures"]] == ["bostotte"]
    assert len(data["points"]) == 9
    bad = run("sweep", path, "--vary", "members[0].income_month=0..10", "--chart", "x.gif")
    assert bad.exit_code == 2 and ".png or .svg" in bad.output


def test_ask_scripted_session(tmp_path: Path, engine: Engine) -> None:
    start = {"members": [{"age": 40, "income_month": 10000}],
             "household": {"kommunegruppe": 4}}
    path = write(tmp_path, start)
    saved = tmp_path / "done.yaml"
    # the first question is the engine's first missing fact
    assert engine.evaluate(start, as_of=AS_OF).missing_facts[0].path \
        == "economy.bank_loan_refused"
    script = [
        "kanskje",  # economy.bank_loan_refused: not yes/no → asked again
        "",         # … skipped
        "nei",      # economy.savings_used (years_problem then no longer matters)
        "ja",       # household.registered
        "6 000",    # housing.cost_month
        "-5",       # situation.forced_sale: invalid → asked again
        "nei",      # situation.forced_sale
        "nei",      # situation.homeless
    ]
    result = run("ask", path, "--save", str(saved), input="\n".join(script) + "\n")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.count("[economy.bank_loan_refused; ja/nei]") == 2
    assert "Ugyldig svar «kanskje»: svar ja eller nei" in out
    assert "Ugyldig svar «-5»" in out
    assert "[economy.years_problem" not in out
    prompts = ["[economy.savings_used", "[household.registered", "[housing.cost_month",
               "[situation.forced_sale", "[situation.homeless"]
    positions = [out.index(p) for p in prompts]
    assert positions == sorted(positions)
    assert "Avklart av svaret: Bostøtte" in out
    # once start-up loan fails on another requirement, the skipped bank question no
    # longer matters: nothing is left to ask
    assert "Alle spørsmål som betyr noe for utfallet er besvart." in out
    data = yaml.safe_load(saved.read_text())
    assert "bank_loan_refused" not in data["economy"]
    final = engine.evaluate(data, as_of=AS_OF)
    assert final.measure("bostotte").status == "eligible"
    assert final.measure("bostotte").amount == Decimal(983)
    assert final.measure("midlertidig_botilbud").status == "not_eligible"
    assert final.measure("startlan").status == "not_eligible"
    assert not final.missing_facts


def test_ask_stops_cleanly_at_end_of_input(tmp_path: Path) -> None:
    result = run("ask", write(tmp_path, {"members": [{"age": 40}]}), "--lang", "en",
                 input="")
    assert result.exit_code == 0 and "Unanswered" in result.output
