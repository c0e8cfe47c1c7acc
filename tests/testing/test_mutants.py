"""Mutation testing: operators on the loaded pack, scores of a weak and a strong pack, the CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from eligibility import Engine, load_pack
from eligibility.cli import app
from eligibility.testing.cases import run_case
from eligibility.testing.mutants import OPERATORS, Mutant, generate, run_mutants
from eligibility.testing.mutants.runner import sample
from tests.conftest import household

HERE = Path(__file__).parent
MINI = HERE.parent / "packs" / "mini"
STRONG_CASES = HERE / "data" / "strong-cases"
EXAMPLES = 10
runner = CliRunner()


@pytest.fixture
def strong(mini_copy: Callable[..., Path]) -> Path:
    """The mini pack with its test invariants and the cases of tests/testing/data/strong-cases."""
    root = mini_copy()
    for case in STRONG_CASES.glob("*.yaml"):
        shutil.copy(case, root / "cases" / case.name)
    return root


def _find(mutants: list[Mutant], operator: str, text: str) -> Mutant:
    found = [m for m in mutants if m.operator == operator and text in m.change]
    assert len(found) == 1, [m.describe() for m in found]
    return found[0]


# -- operators ----------------------------------------------------------------------
def test_operators_mutate_the_loaded_pack_with_file_and_line() -> None:
    pack = load_pack(MINI)
    mutants = generate(pack)
    assert {m.operator for m in mutants} == set(OPERATORS) - {"not_removed"}  # mini has no `not`
    assert [m.index for m in mutants] == list(range(len(mutants)))
    flip = _find(mutants, "comparison", "requirement langvarig")
    assert flip.where.endswith("measures/startlan.yaml:12")
    assert flip.change == ("requirement langvarig: `economy.years_problem >= "
                           "param(startlan.langvarig_aar)` → `economy.years_problem > "
                           "param(startlan.langvarig_aar)`")
    assert _find(mutants, "exception_dropped", "langvarig/tvangssalg").where.endswith(
        "startlan.yaml:17")
    assert _find(mutants, "requirement_dropped", "registrert").where.endswith("bostotte.yaml:18")
    cap = _find(mutants, "parameter_nudged", "tak from 2024-01-01[2]: 96000 → 96001")
    assert cap.where.endswith("parameters/bostotte.yaml:11")
    assert cap.group == "parameters/bostotte.yaml" and cap.measures == {"bostotte"}
    wrapped = _find(mutants, "parameter_nudged", "egenandel from 2024-01-01: 24000 → 24240")
    assert wrapped.where.endswith("bostotte.yaml:17")
    moved = _find(mutants, "valid_from_moved", "tak: version 2024-01-01 starts 2023-01-01")
    assert moved.where.endswith("bostotte.yaml:11")
    assert _find(mutants, "constant", "criterion barnefamilie: `any(members, age < 18)` → "
                                      "`false`").criteria == {"barnefamilie", "prioritert"}
    # the generated list is a pure function of the pack: workers rely on it
    assert [m.describe() for m in generate(load_pack(MINI))] == [m.describe() for m in mutants]


def test_a_mutant_changes_the_decision_and_leaves_the_pack_alone() -> None:
    pack = load_pack(MINI)
    mutants = generate(pack)
    facts = household(economy={"bank_loan_refused": True, "years_problem": 5,
                               "savings_used": True})
    before = Engine(pack).evaluate(facts, as_of=pack.meta.valid_from.replace(year=2023))
    flip = _find(mutants, "comparison", "requirement langvarig")
    after = Engine(flip.apply(pack)).evaluate(facts, as_of=before.as_of)
    assert before.measure("startlan").status == "undetermined"
    assert after.measure("startlan").status == "not_eligible"
    again = Engine(pack).evaluate(facts, as_of=before.as_of)
    assert again.to_json() == before.to_json()
    dropped = _find(mutants, "requirement_dropped", "requirement bank dropped")
    assert [r.id for r in dropped.apply(pack).measure("startlan").requirements] == [
        "langvarig", "betjeningsevne"]
    assert [r.id for r in pack.measure("startlan").requirements] == [
        "bank", "langvarig", "betjeningsevne"]


def test_not_removed_and_equivalent_mutants(mini_copy: Callable[..., Path]) -> None:
    root = mini_copy({"measures/botilbud.yaml": [
        ("when: situation.homeless", "when: situation.homeless and not situation.forced_sale")],
        "measures/bostotte.yaml": [("let:\n", "let:\n  ubrukt: param(bostotte.sats) * 2\n")]})
    mutants = generate(load_pack(root))
    removed = _find(mutants, "not_removed", "bostedslos")
    assert removed.change.endswith("`not situation.forced_sale` → `situation.forced_sale`")
    assert not removed.equivalent
    # a parameter version that starts before the pack: moving it changes no value in force
    early = _find(mutants, "valid_from_moved", "tak: version 2016-01-01 starts 2015-01-01")
    assert early.equivalent
    assert not _find(mutants, "valid_from_moved", "tak: version 2024-01-01 starts 2023").equivalent
    # no rule reads the let `ubrukt`; the nudged `sats` it reads still matters elsewhere
    assert _find(mutants, "constant", "criterion prioritert: `criteria.barnefamilie or "
                                      "criteria.funksjonsnedsettelse or situation.homeless` → "
                                      "`true`").equivalent is False
    assert all(m.equivalent for m in mutants if m.change.startswith("let ubrukt"))


def test_sample_is_seeded_and_keeps_every_operator() -> None:
    mutants = generate(load_pack(MINI))
    picked = sample(mutants, 14, 3)
    assert len(picked) == 14
    assert {m.operator for m in picked} == {m.operator for m in mutants}
    assert [m.index for m in sample(mutants, 14, 3)] == [m.index for m in picked]
    assert [m.index for m in sample(mutants, 14, 4)] != [m.index for m in picked]
    assert sample(mutants, None, 0) == mutants


# -- scores -------------------------------------------------------------------------
def test_a_weak_pack_scores_low_and_its_survivors_come_with_cases(
        mini_copy: Callable[..., Path], tmp_path: Path) -> None:
    report = run_mutants(MINI, examples=EXAMPLES, workers=1)
    total = report.total
    assert report.baseline_ok and not report.partial
    assert total.total == report.generated == len(generate(load_pack(MINI)))
    assert total.score is not None and total.score < 30, report.summary()
    assert total.equivalent == 12  # valid_from moves of versions that start before the pack
    assert set(report.by_operator()) <= set(OPERATORS)
    assert sum(t.total for t in report.by_group().values()) == total.total
    with_household = [(m, r) for m, r in report.survivors() if r.household is not None]
    # boundary mutants (`>= 18` → `> 18`) need a household exactly on the boundary, which the
    # random households may miss; mutants of whole conditions are always told apart
    assert len(with_household) >= 20
    found = {m.change for m, _ in with_household}
    assert "requirement bank dropped" in found
    assert "criterion barnefamilie: `any(members, age < 18)` → `false`" in found
    # each household printed for a survivor, pasted into cases/, loads, passes on the
    # unmutated pack and kills the mutant
    for n, (mutant, result) in enumerate(with_household[::4]):
        root = mini_copy(folder=tmp_path / f"paste{n}")
        (root / "cases" / "mutant.yaml").write_text(result.household or "", encoding="utf-8")
        pack = load_pack(root)
        case = next(c for c in pack.cases if c.file.endswith("mutant.yaml"))
        assert run_case(Engine(pack), case).passed, result.household
        same = generate(pack)[mutant.index]
        assert same.describe().split("] ")[1] == mutant.describe().split("] ")[1]
        assert not run_case(Engine(same.apply(pack)), case).passed, result.household
    assert "PARTIAL" not in report.summary()


def test_a_strong_pack_scores_high(strong: Path) -> None:
    report = run_mutants(strong, examples=EXAMPLES, workers=1)
    score = report.total.score
    assert report.baseline_ok and len(report.baseline_invariants) == 8
    assert score is not None and score > 90, report.text()
    killers = {report.result(m).killed_by for m in report.mutants} - {None}
    assert any(k.startswith("case ") for k in killers if k)
    # the survivors left are the ones no household tells apart: e.g. without `voksen` a
    # household with no adult has a member under 18, whose exception waives it anyway
    assert all(r.household is None for _, r in report.survivors()), report.text()


def test_time_budget_gives_a_partial_score() -> None:
    report = run_mutants(MINI, examples=EXAMPLES, workers=1, time_budget=1)
    total = report.total
    assert report.partial and total.not_run > 0
    assert total.killed + total.survived + total.equivalent + total.not_run == total.total
    assert report.summary().startswith("PARTIAL mutation score")


def test_worker_processes_give_the_same_results(strong: Path) -> None:
    one = run_mutants(strong, max_mutants=10, examples=EXAMPLES, workers=1, seed=2)
    two = run_mutants(strong, max_mutants=10, examples=EXAMPLES, workers=2, seed=2)
    assert two.workers == 2 and not two.partial
    assert {i: (r.status, r.killed_by) for i, r in one.results.items()} == {
        i: (r.status, r.killed_by) for i, r in two.results.items()}


def test_a_failing_baseline_runs_no_mutant(mini_copy: Callable[..., Path]) -> None:
    root = mini_copy({"cases/enslig.yaml": [("amount: 983", "amount: 984")]})
    report = run_mutants(root, examples=EXAMPLES, workers=1)
    assert not report.baseline_ok and report.baseline_failed_cases == ["Enslig leietaker"]
    assert all(r.status == "equivalent" for r in report.results.values())


# -- the command line ---------------------------------------------------------------
def test_cli_mutants_end_to_end(strong: Path) -> None:
    weak = runner.invoke(app, ["check", str(MINI), "--mutants", "--max", "24", "--seed", "1",
                               "--examples", str(EXAMPLES), "--workers", "1",
                               "--fail-under", "50"])
    out = weak.output
    assert weak.exit_code == 1, out
    assert "mutation score by operator" in out and "mutation score by measure" in out
    assert "SURVIVED " in out and "mini/measures/" in out
    assert "paste into cases/" in out and "the UNMUTATED pack's decision" in out
    assert "is below --fail-under 50%" in out
    assert "24 of 96 mutants selected, seed 1" in out
    good = runner.invoke(app, ["check", str(strong), "--mutants", "--max", "24", "--seed", "1",
                               "--examples", str(EXAMPLES), "--workers", "1",
                               "--fail-under", "80"])
    assert good.exit_code == 0, good.output
    assert "equivalent mutants" in good.output and "mutation score: " in good.output


def test_cli_mutants_refuses_a_pack_that_fails_its_cases(mini_copy: Callable[..., Path]) -> None:
    root = mini_copy({"cases/enslig.yaml": [("amount: 983", "amount: 984")]})
    result = runner.invoke(app, ["check", str(root), "--mutants", "--workers", "1"])
    assert result.exit_code == 1
    assert "fail on the unmutated pack" in result.output
    assert "mutation score" not in result.output


# -- the pytest plugin ----------------------------------------------------------------
def test_plugin_runs_mutation_testing_as_an_item(tmp_path: Path,
                                                 mini_copy: Callable[..., Path]) -> None:
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    shutil.copytree(MINI, project / "rules" / "weak")
    strong_root = mini_copy(folder=project / "rules" / "strong")
    for case in STRONG_CASES.glob("*.yaml"):
        shutil.copy(case, strong_root / "cases" / case.name)
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v", "-k", "mutants",
         "--eligibility-examples", str(EXAMPLES), "--eligibility-mutants", "60",
         "--eligibility-mutants-max", "12", "--eligibility-mutants-workers", "1"],
        cwd=project, capture_output=True, text=True, timeout=600, check=False)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "rules/weak/pack.yaml::mutants FAILED" in out
    assert "rules/strong/pack.yaml::mutants PASSED" in out
    assert "is below 60%" in out and "SURVIVED " in out and "Traceback" not in out
    plain_run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q"],
        cwd=project, capture_output=True, text=True, timeout=600, check=False)
    assert "static checks" in plain_run.stdout
    assert "::mutants" not in plain_run.stdout  # only with --eligibility-mutants
