"""CLI messages a user sees: bad files and dates, typos, markup-like values, help, version."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from eligibility.cli import app
from eligibility.cli.common import need_extra
from tests.conftest import MINI, household

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", "2023-06-01"]
COMMANDS = ["evaluate", "check", "what-if", "why-not", "counterfactual", "sweep", "ask",
            "packs", "serve"]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, result.output


def test_a_typo_in_a_facts_file_gets_a_did_you_mean(tmp_path: Path) -> None:
    facts = household()
    facts["members"][0]["incme_month"] = facts["members"][0].pop("income_month")
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(facts))
    code, out = _run("evaluate", str(path), *ARGS)
    assert code == 2
    assert "members[0].incme_month: not a fact of this pack's schema; did you mean " \
        "'income_month'?" in out


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_an_empty_facts_file_is_called_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(text)
    code, out = _run("evaluate", str(path), *ARGS)
    assert code == 2 and "the file is empty" in out and "NoneType" not in out


def test_a_folder_given_as_the_facts_file(tmp_path: Path) -> None:
    code, out = _run("evaluate", str(tmp_path), *ARGS)
    assert code == 2 and "is a folder" in out and "no such file" not in out


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-13-01", "there is no month 13"),
    ("2026-02-30", "there is no day 30 in 2026-02"),
    ("1.7.2026", "must be a date written YYYY-MM-DD"),
])
def test_as_of_messages_say_what_is_wrong(tmp_path: Path, value: str, expected: str) -> None:
    path = tmp_path / "facts.yaml"
    path.write_text(yaml.safe_dump(household()))
    code, out = _run("evaluate", str(path), "--pack", str(MINI), "--as-of", value)
    assert code == 2 and expected in out


def test_a_markup_like_value_in_an_error_prints_as_written(tmp_path: Path) -> None:
    facts = household()
    facts["household"]["x"] = "[/bold] :100:"
    path = tmp_path / "[red]facts.yaml"
    path.write_text(yaml.safe_dump(facts))
    code, out = _run("evaluate", str(path), *ARGS)
    assert code == 2
    assert "'[/bold] :100:'" in out and "💯" not in out


def test_the_install_hint_keeps_its_extra(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    with pytest.raises(typer.Exit):
        need_extra("eligibility_no_such_module", "api", "the HTTP service")
    assert "pip install 'eligibility[api]'" in capsys.readouterr().err


def test_version() -> None:
    from eligibility import __version__

    code, out = _run("--version")
    assert code == 0 and out.strip() == f"eligibility {__version__}"


def test_packs_lists_the_bundled_pack_and_the_env_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELIGIBILITY_RULES", str(MINI.parent))
    code, out = _run("packs", "--json")
    assert code == 0
    import json

    rows = json.loads(out)
    assert [(r["name"], r["origin"]) for r in rows] == [("mini", "ELIGIBILITY_RULES"),
                                                         ("no", "bundled")]
    assert all(len(r["content_hash"]) == 64 for r in rows)


def test_a_pack_name_resolves_through_the_env_folder(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    from eligibility import load_pack
    from eligibility.errors import PackError

    monkeypatch.setenv("ELIGIBILITY_RULES", str(MINI.parent))
    assert load_pack("mini").meta.id == "mini"
    assert load_pack("no").meta.id == "no"
    with pytest.raises(PackError, match="known: mini, no"):
        load_pack("nope")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_plain_metavars_and_an_example(command: str) -> None:
    code, out = _run(command, "--help")
    assert code == 0
    assert "<list[str]>" not in out and "<bool>" not in out
    assert "Example:" in out and f"eligibility {command}" in out
