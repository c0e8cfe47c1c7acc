"""Rule coverage from decisions, and --coverage / --fail-under on the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from eligibility import Engine, load_pack
from eligibility.cli import app
from eligibility.testing.cases import run_cases
from eligibility.testing.coverage import Coverage, coverage_items

runner = CliRunner()


def test_items_and_case_coverage_of_the_mini_pack(mini_copy: Callable[..., Path]) -> None:
    pack = load_pack(mini_copy())
    items = coverage_items(pack)
    assert "startlan.langvarig" in items["requirements"]
    assert items["exceptions"] == ["bostotte.voksen.egne_barn", "startlan.langvarig.barn",
                                   "startlan.langvarig.tvangssalg"]
    assert "startlan.betjeningsevne:discretionary" in items["branches"]
    cov = Coverage(pack)
    cov.record_all(r.decision for r in run_cases(Engine(pack)) if r.decision)
    report = cov.report()
    # the one case (a single tenant) meets every bostotte requirement and no exception
    assert set(report.covered["requirements"]) >= {"bostotte.voksen", "bostotte.registrert",
                                                   "bostotte.utbetaling"}
    assert report.covered["exceptions"] == []
    assert "bostotte.voksen:not_met" in report.missed["branches"]
    assert 0 < report.percent() < 100


def test_a_waiving_exception_is_covered(mini_copy: Callable[..., Path]) -> None:
    pack = load_pack(mini_copy())
    cov = Coverage(pack)
    cov.record(Engine(pack).evaluate({"members": [{"age": 10}]}, as_of=pack.meta.valid_from))
    assert "bostotte.voksen.egne_barn" in cov.report().covered["exceptions"]


def test_fail_under_is_a_gate(mini_copy: Callable[..., Path]) -> None:
    root = mini_copy()
    low = runner.invoke(app, ["check", str(root), "--no-properties", "--fail-under", "20"])
    assert low.exit_code == 0, low.output
    high = runner.invoke(app, ["check", str(root), "--no-properties", "--fail-under", "90"])
    assert high.exit_code == 1
    assert "below --fail-under 90%" in high.output
    assert "not covered by the cases (exceptions): bostotte.voksen.egne_barn" in high.output


def test_coverage_reports_generated_households(mini_copy: Callable[..., Path]) -> None:
    result = runner.invoke(app, ["check", str(mini_copy()), "--coverage", "--examples", "40"])
    assert result.exit_code == 0, result.output
    assert "generated" in result.output and "case coverage" in result.output


def test_a_measure_the_caseworker_decides_has_no_eligible_branch(
        mini_copy: Callable[..., Path]) -> None:
    pack = load_pack(mini_copy())
    branches = coverage_items(pack)["branches"]
    # startlån always holds the discretionary betjeningsevne: never `eligible` by design
    assert "startlan:discretion" in branches and "startlan:eligible" not in branches
    assert "bostotte:eligible" in branches
    cov = Coverage(pack)
    facts = {"economy": {"bank_loan_refused": True, "years_problem": 9, "savings_used": True},
             "members": [{"age": 40}], "situation": {"forced_sale": False}}
    cov.record(Engine(pack).evaluate(facts, as_of=pack.meta.valid_from))
    assert "startlan:discretion" in cov.report().covered["branches"]
