"""End to end: the pytest plugin in a fresh project that holds only a pack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-v",
         "--eligibility-examples", "40", *args],
        cwd=project, capture_output=True, text=True, timeout=600, check=False)


def test_plugin_collects_cases_and_invariants(tmp_path: Path,
                                              mini_copy: Callable[..., Path]) -> None:
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    mini_copy(folder=project / "rules" / "mini")
    result = run_pytest(project)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "rules/mini/pack.yaml::static checks PASSED" in out
    assert "rules/mini/pack.yaml::invariant tak_for_2024 PASSED" in out
    assert "rules/mini/pack.yaml::built-in information_monotonicity PASSED" in out
    assert "rules/mini/cases/enslig.yaml::enslig PASSED" in out
    assert "14 passed" in out

    case = project / "rules" / "mini" / "cases" / "enslig.yaml"
    case.write_text(case.read_text().replace("amount: 983", "amount: 984"))
    broken = run_pytest(project)
    assert broken.returncode == 1
    assert "FAILED rules/mini/cases/enslig.yaml::enslig" in broken.stdout
    assert "bostotte: expected amount 984, got 983" in broken.stdout
    assert "Traceback" not in broken.stdout


def test_plugin_reports_a_violation_with_a_counterexample(
        tmp_path: Path, mini_copy: Callable[..., Path]) -> None:
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    mini_copy({"measures/bostotte.yaml": [("when: amount >= param", "when: amount < param")]},
              folder=project / "rules" / "mini")
    result = run_pytest(project, "-k", "utbetaling_over_minste")
    assert result.returncode == 1
    assert "invariant utbetaling_over_minste FAILED" in result.stdout
    assert "paste into cases/" in result.stdout and "utbetaling: met" in result.stdout


def test_plugin_shows_pack_errors(tmp_path: Path, mini_copy: Callable[..., Path]) -> None:
    project = tmp_path / "project"
    (project / "rules").mkdir(parents=True)
    mini_copy({"measures/botilbud.yaml": [("situation.homeless", "situation.homeles")]},
              folder=project / "rules" / "mini")
    result = run_pytest(project)
    assert result.returncode == 1
    assert "botilbud.yaml:9:11: unknown name 'situation.homeles'" in result.stdout
