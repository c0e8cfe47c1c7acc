"""The calculation at the command line: `evaluate --details`, the JSON, `what-if --details`,
`why-not --details`, and `check`'s warning about untitled amount steps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console, err_console
from tests.conftest import MINI, ROOT, household

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", "2023-06-01", "--lang", "en"]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)
    monkeypatch.setattr(err_console, "width", 300)


def _facts(tmp_path: Path) -> str:
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(household()))
    return str(path)


def test_evaluate_details_shows_the_calculation(tmp_path: Path) -> None:
    plain = runner.invoke(app, ["evaluate", _facts(tmp_path), *ARGS])
    assert plain.exit_code == 0 and "Calculation:" not in plain.output
    result = runner.invoke(app, ["evaluate", _facts(tmp_path), *ARGS, "--details"])
    assert result.exit_code == 0, result.output
    assert "Calculation: Housing allowance" in result.output
    assert "20 000 + 0.2 * 120 000" in result.output
    assert "Forskrift om bostøtte § 3" in result.output


def test_bundled_household_details_show_bostotte_step_by_step() -> None:
    result = runner.invoke(app, ["evaluate", str(ROOT / "fixtures" / "enslig-oslo-lavinntekt.yaml"),
                                 "--as-of", "2026-07-01", "--details", "--lang", "en"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Calculation: Housing allowance (bostøtte)" in out
    for text in ("Own share", "39 487.6472 NOK/year", "Cap on housing costs",
                 "92 234 + 27 982", "min(156 000, 120 216)", "Forskrift om bustøtte § 4",
                 "4 958 NOK/month", "rounded from 4 958.0663"):
        assert text in out, text


def test_evaluate_json_has_the_calculation(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", _facts(tmp_path), *ARGS, "--json"])
    body = json.loads(result.output)
    bostotte = next(m for m in body["measures"] if m["id"] == "bostotte")
    steps = {s["name"]: s for s in bostotte["calculation"]}
    assert steps["egenandel"]["value"] == "44000.0" and steps["amount"]["value"] == "983"
    assert steps["tak"]["parameters"][0] == {
        "name": "bostotte.tak", "title": None, "keys": [1], "value": 60000,
        "unit": "NOK/year", "valid_from": "2016-01-01",
        "source": {"ref": "Forskrift om bostøtte § 3", "url": None}, "unconfirmed": False}
    others = [m for m in body["measures"] if m["id"] != "bostotte"]
    assert all(m["calculation"] is None for m in others)


def test_what_if_details_and_json_show_the_steps_that_changed(tmp_path: Path) -> None:
    change = ["--set", "members[0].income_month=11000"]
    result = runner.invoke(app, ["what-if", _facts(tmp_path), *ARGS, *change, "--details"])
    assert result.exit_code == 0, result.output
    assert "Calculation steps that changed: Housing allowance" in result.output
    assert "46 400 NOK/year" in result.output
    body = json.loads(runner.invoke(app, ["what-if", _facts(tmp_path), *ARGS, *change,
                                          "--json"]).output)
    diff = next(m for m in body["measures"] if m["id"] == "bostotte")
    assert [(s["name"], s["before"], s["after"]) for s in diff["steps_changed"]] == [
        ("inntekt_aar", "120000", "132000"), ("egenandel", "44000.0", "46400.0"),
        ("amount", "983", "835")]


def test_why_not_details_show_the_steps_at_each_limit(tmp_path: Path) -> None:
    result = runner.invoke(app, ["why-not", _facts(tmp_path), *ARGS, "-m", "bostotte",
                                 "--details"])
    assert result.exit_code == 0, result.output
    assert "Calculation steps that changed: Housing allowance" in result.output


def test_check_warns_about_untitled_amount_steps() -> None:
    result = runner.invoke(app, ["check", str(MINI), "--no-properties"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if "'egenandel'" in x)
    assert ("measures/bostotte.yaml:9:3: measure 'bostotte': the `let` value 'egenandel' "
            "is a step of the amount's calculation but has no title") in line
    assert line.endswith("[warning]")
    bundled = runner.invoke(app, ["check", str(ROOT / "rules" / "no"), "--no-properties"])
    assert bundled.exit_code == 0 and "[warning]" not in bundled.output
