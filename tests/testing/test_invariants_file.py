"""invariants.yaml is validated with file:line errors; the CLI never shows a traceback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility import load_pack
from eligibility.cli import app
from eligibility.errors import PackError
from eligibility.testing.invariants import load_invariants

runner = CliRunner()

GOOD = """invariants:
  ok:
    title: {nb: "Ok", en: "Ok"}
    kind: always
    check: measures.bostotte.amount >= 0
"""


def errors(mini_copy: Callable[..., Path], text: str) -> list[str]:
    pack = load_pack(mini_copy(invariants=text))
    with pytest.raises(PackError) as info:
        load_invariants(pack)
    return [str(d) for d in info.value.diagnostics]


def test_a_good_file_loads(mini_copy: Callable[..., Path]) -> None:
    loaded = load_invariants(load_pack(mini_copy(invariants=GOOD)))
    assert [i.id for i in loaded.invariants] == ["ok"]
    assert loaded.invariants[0].kind == "always"


def test_unknown_kind_names_the_line(mini_copy: Callable[..., Path]) -> None:
    found = errors(mini_copy, GOOD.replace("kind: always", "kind: sometimes"))
    assert any("invariants.yaml:4:11:" in e and "kind must be one of" in e for e in found)


def test_unknown_output_with_a_hint(mini_copy: Callable[..., Path]) -> None:
    found = errors(mini_copy, GOOD.replace("measures.bostotte.amount", "measures.bostote.amount"))
    assert any("invariants.yaml:5:" in e and "unknown name 'measures.bostote.amount'" in e
               and "did you mean 'measures.bostotte.amount'" in e for e in found), found


def test_type_errors_and_bad_given(mini_copy: Callable[..., Path]) -> None:
    text = """invariants:
  mono:
    title: {nb: "M", en: "M"}
    kind: monotone
    output: measures.bostotte.status
    input: housing.tenure
    never: grows
    given: {housing.tenure: hus, household.registred: true}
    colour: red
"""
    found = "\n".join(errors(mini_copy, text))
    assert "invariants.yaml:5:" in found and "must be a number, true/false or a date" in found
    assert "invariants.yaml:6:" in found and "must be a number" in found
    assert "`never` must be rises or falls" in found
    assert "'hus' does not fit the fact housing.tenure" in found
    assert "unknown fact 'household.registred'" in found and "did you mean" in found
    assert "invariants.yaml:9:5:" in found and "unknown key 'colour'" in found


def test_expressions_are_parsed_never_evaluated_as_python(
        mini_copy: Callable[..., Path]) -> None:
    found = errors(mini_copy, GOOD.replace("measures.bostotte.amount >= 0",
                                           "__import__('os').system('true')"))
    assert any("invariants.yaml:5:" in e for e in found)


def test_cli_reports_invariant_errors_without_traceback(mini_copy: Callable[..., Path]) -> None:
    root = mini_copy(invariants=GOOD.replace("kind: always", "kind: sometimes"))
    result = runner.invoke(app, ["check", str(root)])
    assert result.exit_code == 1
    assert "invariants.yaml:4:11" in result.output and "Traceback" not in result.output


def test_information_exempt_names_real_outputs(mini_copy: Callable[..., Path],
                                               tmp_path: Path) -> None:
    text = "settings:\n  information_exempt: [criteria.barnefamilie, criteria.nope]\n" + GOOD
    found = errors(mini_copy, text)
    assert any("invariants.yaml:2:" in e and "'criteria.nope'" in e for e in found), found
    ok = load_invariants(load_pack(mini_copy(
        invariants="settings:\n  information_exempt: [criteria.barnefamilie]\n" + GOOD,
        folder=tmp_path / "second")))
    assert ok.information_exempt == frozenset({"criteria.barnefamilie"})
