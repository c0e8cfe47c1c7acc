"""The command line: exit codes, tables, JSON, and clean errors (never a traceback)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console
from tests.conftest import MINI, household

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables wide enough that cells are not wrapped or cut in the captured output."""
    monkeypatch.setattr(console, "width", 200)
ARGS = ["--pack", str(MINI), "--as-of", "2023-06-01"]


def write(tmp_path: Path, data: object, name: str = "facts.yaml") -> str:
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(data))
    else:
        path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(path)


def test_evaluate_prints_a_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", write(tmp_path, household()), *ARGS,
                                 "--lang", "en"])
    assert result.exit_code == 0, result.output
    out = result.output.replace("\u00a0", " ")  # amounts use no-break spaces
    assert "Housing allowance" in out and "983 NOK/month" in out
    assert "Eligible" in out and "1 eligible" in out
    assert "Sosialtjenesteloven § 27" not in out  # legal bases are in --details
    details = runner.invoke(app, ["evaluate", write(tmp_path, household()), *ARGS,
                                  "--lang", "en", "--details"])
    assert details.exit_code == 0, details.output
    assert "Sosialtjenesteloven § 27" in details.output


def test_evaluate_in_bokmal(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", write(tmp_path, household()), *ARGS])
    assert result.exit_code == 0
    assert "Bostøtte" in result.output and "Oppfyller vilkårene" in result.output


def test_evaluate_json_has_the_stable_contract(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", write(tmp_path, household(), "f.json"), *ARGS,
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {m["id"]: m["status"] for m in data["measures"]} == {
        "midlertidig_botilbud": "not_eligible", "bostotte": "eligible",
        "startlan": "not_eligible"}
    assert data["provenance"]["pack_id"] == "mini"
    assert len(data["provenance"]["content_hash"]) == 64
    assert data["measures"][1]["amount"] == "983"


def test_evaluate_reads_stdin() -> None:
    result = runner.invoke(app, ["evaluate", "-", *ARGS, "--json"],
                           input=yaml.safe_dump(household()))
    assert result.exit_code == 0 and json.loads(result.output)["lang"] == "nb"


def test_bad_facts_exit_2_with_every_field(tmp_path: Path) -> None:
    facts = household(members=[{"age": "old"}], housing={"tenure": "villa"})
    result = runner.invoke(app, ["evaluate", write(tmp_path, facts), *ARGS])
    assert result.exit_code == 2
    assert "members[0].age" in result.output and "housing.tenure" in result.output
    assert "expected one of leie, eie, ingen" in result.output
    assert "Traceback" not in result.output


def test_bad_input_files_exit_2(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("a: [1,\n")
    for args, fragment in [
        (["evaluate", str(tmp_path / "nope.yaml"), *ARGS], "no such file"),
        (["evaluate", str(tmp_path / "broken.yaml"), *ARGS], "broken.yaml:"),
        (["evaluate", "-", "--pack", str(MINI), "--as-of", "1.1.2024"], "YYYY-MM-DD"),
        (["evaluate", "-", *ARGS, "--lang", "de"], "--lang must be nb, nn or en"),
        (["evaluate", "-", "--pack", str(MINI), "--as-of", "2019-01-01"], "outside the period"),
        (["evaluate", "-", "--pack", str(tmp_path), "--as-of", "2023-01-01"], "no pack.yaml"),
    ]:
        result = runner.invoke(app, args, input="{}")
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.output, (fragment, result.output)
        assert "Traceback" not in result.output


def test_check_passes_on_a_good_pack() -> None:
    result = runner.invoke(app, ["check", str(MINI)])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 failed" in result.output


def test_check_fails_on_a_failing_case(pack_copy: Callable[..., Path]) -> None:
    pack = pack_copy({"cases/enslig.yaml": [("amount: 983", "amount: 984")]})
    result = runner.invoke(app, ["check", str(pack)])
    assert result.exit_code == 1
    assert "expected amount 984, got 983" in result.output


def test_check_fails_with_file_and_line(pack_copy: Callable[..., Path]) -> None:
    pack = pack_copy({"measures/botilbud.yaml": [("situation.homeless", "situation.homeles")]})
    result = runner.invoke(app, ["check", str(pack)])
    assert result.exit_code == 1
    assert "measures/botilbud.yaml:9:11: unknown name 'situation.homeles'" in result.output
    assert "did you mean 'situation.homeless'?" in result.output


def test_evaluate_why_not_adds_thresholds_to_the_json(tmp_path: Path) -> None:
    facts = household(members=[{"age": 40, "income_month": 19000}])
    result = runner.invoke(app, ["evaluate", write(tmp_path, facts), *ARGS, "--json",
                                 "--why-not"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    plain = json.loads(runner.invoke(app, ["evaluate", write(tmp_path, facts), *ARGS,
                                           "--json"]).output)
    assert plain["why_not"] is None
    bostotte = next(m for m in data["why_not"] if m["id"] == "bostotte")
    flips = [f for f in bostotte["thresholds"] if f["path"] == "members[0].income_month"]
    # amount = round(0.737 × (60 000 − 20 000 − 0.2 × 12 × income) / 12) must reach 50:
    # income 16 330 → 49.62 → 50 (paid); 16 331 → 49.48 → 49 (not paid)
    assert flips and flips[0]["value"] == "16330" and flips[0]["verified"] is True


def test_the_entry_point_never_prints_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import eligibility.cli.common as common
    from eligibility.cli import main

    def broken(pack: str) -> None:
        raise RuntimeError("a bug, not a user error")

    monkeypatch.setattr(common, "load_engine", broken)
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "fixtures/familie-utkastelse.yaml"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "Traceback" not in err and "failed unexpectedly (RuntimeError" in err
