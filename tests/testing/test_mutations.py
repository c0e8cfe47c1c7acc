"""The runner catches seeded bugs with a shrunk counterexample; the unmutated pack passes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility import Engine, load_pack
from eligibility.cli import app
from eligibility.pack.yamlio import load_yaml_text, plain
from eligibility.testing.invariants import load_invariants
from eligibility.testing.properties import BUILTINS, Searcher, Violation, _drop, run_all

runner = CliRunner()
EXAMPLES = 120

DROPPED_UNLESS = """    unless:
      barn:
        title: {nb: Barnefamilie, en: Family with children}
        when: criteria.barnefamilie
      tvangssalg:
        title: {nb: Fare for tvangssalg, en: Risk of forced sale}
        when: situation.forced_sale
"""

MUTATIONS = {
    "flipped comparison": (
        {"measures/bostotte.yaml": [("when: amount >= param", "when: amount < param")]},
        "utbetaling_over_minste"),
    "dropped exception": ({"measures/startlan.yaml": [(DROPPED_UNLESS, "")]},
                          "barnefamilie_startlan"),
    "wrong parameter date": (
        {"parameters/bostotte.yaml": [("    2024-01-01: {1: 72000", "    2023-01-01: {1: 72000")]},
        "tak_for_2024"),
    "flipped monotone comparison": (
        {"measures/bostotte.yaml": [("max(0, min(yearly(housing.cost_month), tak) - egenandel)",
                                     "max(0, min(yearly(housing.cost_month), tak) + egenandel)")]},
        "bostotte_faller_med_inntekt"),
}


def test_unmutated_pack_passes_every_invariant(mini_copy: Callable[..., Path]) -> None:
    pack = load_pack(mini_copy())
    invariants = load_invariants(pack)
    results = run_all(Engine(pack), invariants.invariants, EXAMPLES)
    assert [r.id for r in results if not r.passed] == []
    assert len(results) == len(invariants.invariants) + len(BUILTINS) == 12
    assert all(r.checked > EXAMPLES // 2 for r in results)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_mutation_is_caught_with_a_shrunk_counterexample(
        mutation: str, mini_copy: Callable[..., Path]) -> None:
    edits, invariant_id = MUTATIONS[mutation]
    pack = load_pack(mini_copy(edits))
    invariants = {i.id: i for i in load_invariants(pack).invariants}
    result = Searcher(Engine(pack), EXAMPLES).run(invariants[invariant_id])
    assert result.violation is not None, f"{mutation} was not caught"
    report = result.violation.report(invariant_id)
    assert "paste into cases/" in report and "trace" in report
    # the counterexample is a valid case: it loads as YAML and evaluates
    case_text = report.split("paste into cases/ ---\n", 1)[1].split("\n---", 1)[0]
    case = plain(load_yaml_text(case_text, "counterexample.yaml"))
    Engine(pack).evaluate(case["facts"], as_of=case["as_of"])
    # shrunk: at most the applicant and the one child some mutations need
    assert len(case["facts"]["members"]) <= 2


def test_dropped_exception_counterexample_is_minimal(mini_copy: Callable[..., Path]) -> None:
    pack = load_pack(mini_copy(MUTATIONS["dropped exception"][0]))
    inv = {i.id: i for i in load_invariants(pack).invariants}["barnefamilie_startlan"]
    violation = Searcher(Engine(pack), EXAMPLES).run(inv).violation
    assert violation is not None
    household = violation.households[0]
    # shrunk to the boundary: no years of problems, the applicant and one child
    assert household.facts["economy"]["years_problem"] == 0
    assert [m["age"] >= 18 for m in household.facts["members"]] == [True, False]
    assert household.decision is not None
    assert household.decision.measure("startlan").status == "not_eligible"


READS_MISSINGNESS = {"measures/botilbud.yaml": [
    ("when: situation.homeless", "when: situation.homeless or not known(household.registered)")
]}
# enough draws that the search does not hinge on one draw sequence: the violation needs
# household.registered dropped (1 of the household's facts, each dropped 1 time in 8) in a
# household that is not homeless, and hypothesis's draws are correlated, so at 120 examples
# 4 of seeds 0-19 missed it; at 400, seeds 0-19 all find it
MISSINGNESS_EXAMPLES = 400


def _dropping_each_fact_alone(pack_root: Path) -> dict[str, bool]:
    """For the mini pack's case household (not homeless, registered), whether the
    information-monotonicity check finds a violation when exactly one fact is missing."""
    searcher = Searcher(Engine(load_pack(pack_root)), EXAMPLES)
    _strategy, check = searcher._builtin_information_monotonicity()
    case = plain(load_yaml_text((pack_root / "cases" / "enslig.yaml").read_text(), "case"))
    facts, as_of = case["facts"], date.fromisoformat(str(case["as_of"]))
    n = sum(len(m) for m in facts["members"]) + sum(
        len(v) for v in facts.values() if isinstance(v, dict))
    caught = {}
    for i in range(n):
        mask = [j == i for j in range(n)]
        _partial, [dropped] = _drop(facts, mask)
        try:
            check((facts, as_of, mask))
            caught[dropped] = False
        except Violation as violation:
            assert violation.measures == ["midlertidig_botilbud"], violation.message
            caught[dropped] = True
    return caught


def test_information_monotonicity_catches_a_rule_that_reads_missingness(
        mini_copy: Callable[..., Path], tmp_path: Path) -> None:
    # the check itself, without a search: exactly the missing fact the rule reads is caught
    mutated = _dropping_each_fact_alone(mini_copy(READS_MISSINGNESS))
    assert len(mutated) == 7 and [k for k, v in mutated.items() if v] == ["household.registered"]
    clean = _dropping_each_fact_alone(mini_copy(folder=tmp_path / "clean"))
    assert clean.keys() == mutated.keys() and not any(clean.values())
    # and the search finds it (seeded, so the same run every time)
    pack = load_pack(mini_copy(READS_MISSINGNESS, folder=tmp_path / "searched"))
    result = Searcher(Engine(pack), MISSINGNESS_EXAMPLES).run_builtin("information_monotonicity")
    assert result.violation is not None
    assert "midlertidig_botilbud" in result.violation.message
    assert "household.registered" in result.violation.message


def test_cli_passes_unmutated_and_fails_mutated(mini_copy: Callable[..., Path],
                                               tmp_path: Path) -> None:
    good = runner.invoke(app, ["check", str(mini_copy()), "--examples", "60", "--seed", "7"])
    assert good.exit_code == 0, good.output
    assert "invariants: 12 held, 0 violated" in good.output and "seed 7" in good.output
    bad_root = mini_copy(MUTATIONS["wrong parameter date"][0], folder=tmp_path / "bad")
    bad = runner.invoke(app, ["check", str(bad_root), "--examples", "80"])
    assert bad.exit_code == 1
    assert "VIOLATED tak_for_2024" in bad.output
    assert "paste into cases/" in bad.output and "as_of: 2023-" in bad.output


def test_no_properties_skips_the_search(mini_copy: Callable[..., Path]) -> None:
    result = runner.invoke(app, ["check", str(mini_copy()), "--no-properties"])
    assert result.exit_code == 0
    assert "invariants:" not in result.output
