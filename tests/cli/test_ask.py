"""``ask``: progress, only what changed after each answer, a final table, no silent loss."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import console
from tests.conftest import MINI

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", "2023-06-01", "--lang", "en"]
START = {"members": [{"age": 40, "income_month": 10000}], "household": {"kommunegruppe": 4}}


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 160)


def _ask(tmp_path: Path, script: list[str], *extra: str) -> str:
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(START))
    result = runner.invoke(app, ["ask", str(path), *ARGS, *extra],
                           input="\n".join(script) + ("\n" if script else ""))
    assert result.exit_code == 0, result.output
    return result.output


def test_ask_shows_progress_changes_and_a_final_table(tmp_path: Path) -> None:
    out = _ask(tmp_path, ["", "nei", "ja", "6000", "nei", "nei"],
               "--save", str(tmp_path / "out.yaml"))
    assert "Question 1 of " in out and "Question 2 of " in out
    assert "Changed by the answer:" in out
    assert "Housing allowance: Cannot be decided yet → Eligible 983 NOK/month" in out
    result = out[out.index("\nResult\n"):]
    assert "1 eligible" in result and "983" in result and "Rule pack: mini" in result
    # after an answer only the changed measures are listed, never every status again
    after_first = out[out.index("Question 2 of "):out.index("\nResult\n")]
    assert "Housing First" not in after_first.replace("Question", "")
    assert (tmp_path / "out.yaml").is_file()


def test_interrupted_answers_are_offered_for_saving(tmp_path: Path) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(START))
    # "" skips the first question, "nei" answers the second; then a (scripted) Ctrl-D
    # cannot be sent through CliRunner, so the end of input plays that role: the
    # save prompt then reads nothing either and the facts are printed instead
    result = runner.invoke(app, ["ask", str(path), *ARGS], input="\nnei\n")
    assert result.exit_code == 0, result.output
    assert "The answers are not saved" in result.output
    assert "The answers were not saved; here are the facts:" in result.output
    assert "savings_used: false" in result.output


def test_nothing_is_asked_to_save_when_nothing_was_answered(tmp_path: Path) -> None:
    out = _ask(tmp_path, [])
    assert "not saved" not in out and "Unanswered" in out
