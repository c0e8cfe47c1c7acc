"""The search commands' time budget on the command line (why-not, counterfactual, sweep,
``evaluate --why-not``): a search that reaches it shows what it found, marked partial, or
ends with a one-line error when it found nothing — never a traceback.

The clock is not waited on: :class:`~eligibility.budget.Deadline` is replaced by one
that passes after a set number of checks, so the tests are exact and fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from eligibility import budget
from eligibility.cli import app
from eligibility.limits import CLI_SEARCH_BUDGET_SECONDS
from tests.conftest import MINI, household
from tests.whatif.conftest import AS_OF

runner = CliRunner()
ARGS = ["--pack", str(MINI), "--as-of", AS_OF.isoformat()]


@pytest.fixture
def facts_file(tmp_path: Path) -> str:
    path = tmp_path / "facts.yaml"
    # an income too high for bostøtte: why-not and counterfactual have work to do
    facts = household(members=[{"age": 40, "income_month": 60000, "disability": False}])
    path.write_text(yaml.safe_dump(facts), encoding="utf-8")
    return str(path)


class Clock:
    """What the patched deadlines saw: the budgets asked for and the checks made."""

    def __init__(self, passes_after: int) -> None:
        self.passes_after = passes_after
        self.asked: list[float | None] = []
        self.checks = 0


@pytest.fixture
def deadline_after(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """``deadline_after(n)``: every deadline made from now on has passed from its
    (n+1)-th check on (counted over all of them); returns the :class:`Clock`."""

    def install(checks: int) -> Clock:
        clock = Clock(checks)

        def passed(self: budget.Deadline) -> bool:
            if self.at is None:
                return False
            clock.checks += 1
            return clock.checks > clock.passes_after

        original_after = budget.Deadline.after.__func__  # type: ignore[attr-defined]

        def after(cls: type[budget.Deadline], seconds: float | None) -> budget.Deadline:
            clock.asked.append(seconds)
            return original_after(cls, seconds)  # type: ignore[no-any-return]

        monkeypatch.setattr(budget.Deadline, "passed", property(passed))
        monkeypatch.setattr(budget.Deadline, "after", classmethod(after))
        return clock

    yield install


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, *ARGS])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize(("command", "what"), [
    (["why-not"], "why-not search"),
    (["counterfactual", "-m", "bostotte", "--max-facts", "2"], "counterfactual search"),
    (["sweep", "--vary", "members[0].income_month=0..40000", "--step", "1000"], "sweep"),
])
def test_a_search_that_finds_nothing_in_its_budget_is_a_clear_error(
        deadline_after: Any, facts_file: str, command: list[str], what: str) -> None:
    clock = deadline_after(0)
    result = run(command[0], facts_file, *command[1:], "--time-budget", "2.5")
    assert result.exit_code == 2, result.output
    assert f"the {what} stopped at its time budget of 2.5 s before it found anything" \
        in result.output
    assert "--time-budget" in result.output
    assert clock.asked == [2.5]


def test_a_sweep_cut_short_shows_its_points_marked_partial(deadline_after: Any,
                                                          facts_file: str) -> None:
    clock = deadline_after(3)
    result = run("sweep", facts_file, "--vary", "members[0].income_month=0..40000",
                 "--step", "1000", "--json")
    assert result.exit_code == 0, result.output
    assert clock.asked == [CLI_SEARCH_BUDGET_SECONDS]  # the default budget
    assert "warning: the sweep stopped at its time budget of 30 s" in result.stderr
    body = json.loads(result.stdout)
    assert body["partial"] is True and len(body["points"]) == 3


def test_a_why_not_cut_short_keeps_the_measures_analysed(deadline_after: Any,
                                                        facts_file: str) -> None:
    counted = deadline_after(10**9)
    full = run("why-not", facts_file, "--json")
    assert full.exit_code == 0 and json.loads(full.stdout)["partial"] is False
    whole = json.loads(full.stdout)["measures"]
    assert len(whole) >= 2 and counted.checks > 1
    # the budget runs out at the very last check: the last measure is left out
    deadline_after(counted.checks - 1)
    result = run("why-not", facts_file, "--json", "--time-budget", "1")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["partial"] is True and body["measures"] == whole[:-1]
    assert "what is shown is partial" in result.stderr


def test_evaluate_why_not_warns_but_keeps_the_decision(deadline_after: Any,
                                                      facts_file: str) -> None:
    deadline_after(0)
    result = run("evaluate", facts_file, "--why-not", "--json", "--time-budget", "1")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["measures"]
    assert "warning: the why-not search stopped at its time budget of 1 s" in result.stderr


def test_a_budget_that_is_not_a_positive_number_is_refused(facts_file: str) -> None:
    for bad in ("0", "-1", "soon"):
        result = run("why-not", facts_file, "--time-budget", bad)
        assert result.exit_code == 2 and "--time-budget" in result.output
