"""``eligibility check PACK --mutants``: print a mutation run for a rule author.

:func:`mutation_check` runs :func:`~eligibility.testing.mutants.run_mutants` and
prints the baseline, the mutation score per operator and per measure (or
criteria/parameters file), every surviving mutant with its file:line, its change
and — where one was found — a household that tells it apart as a case to paste
into ``cases/``, then the equivalent mutants apart and a summary line, marked
PARTIAL when the time budget ended the run early. It returns the exit code: 1
when the unmutated pack fails its own tests or the score is below the gate.
"""

from __future__ import annotations

from rich.table import Table

from eligibility.cli.common import console, err_console
from eligibility.testing.mutants import (
    OPERATORS,
    Mutant,
    MutantResult,
    MutationReport,
    Tally,
    run_mutants,
)
from eligibility.testing.mutants.operators import equivalent_reason


def _score(t: Tally) -> str:
    score = t.score
    return "–" if score is None else f"{score:.0f}%"


def _table(title: str, first: str, rows: dict[str, Tally]) -> Table:
    table = Table(title=title)
    table.add_column(first, no_wrap=True)
    for column in ("mutants", "killed", "survived", "equiv.", "not run", "score"):
        table.add_column(column, justify="right")
    for key, t in rows.items():
        table.add_row(key, str(t.total), str(t.killed), str(t.survived), str(t.equivalent),
                      str(t.not_run), _score(t))
    return table


def print_report(report: MutationReport) -> None:
    """The whole report (see module docstring)."""
    s = report.settings
    console.print(f"baseline: {report.baseline_cases} cases pass, "
                  f"{len(report.baseline_invariants)} invariants hold on the "
                  f"unmutated pack ({s.examples} households each)", highlight=False)
    console.print(_table("mutation score by operator", "operator", report.by_operator()))
    console.print(_table("mutation score by measure or file", "measure / file",
                         report.by_group()))
    survivors = report.survivors()
    if survivors:
        console.print(f"surviving mutants ({len(survivors)}): the pack's cases and "
                      "invariants do not notice these changes", highlight=False)
    for mutant, result in survivors:
        console.print(f"  SURVIVED {mutant.describe()}", highlight=False, markup=False,
                      soft_wrap=True)
        if result.household is not None:
            console.print(f"    the mutant decides: {result.difference}", highlight=False,
                          markup=False, soft_wrap=True)
            console.print("    --- a household it decides differently: paste into cases/, "
                          "check `expect` against the law ---", highlight=False, markup=False)
            for line in result.household.rstrip().splitlines():
                console.print("    " + line, highlight=False, markup=False, soft_wrap=True)
        else:
            console.print(f"    no household among the {s.households} drawn tells it apart "
                          "(it may be equivalent, or need a boundary case)",
                          highlight=False, markup=False)
    equivalents = report.equivalents()
    if equivalents:
        console.print(f"equivalent mutants ({len(equivalents)}, not scored):", highlight=False)
        for mutant in equivalents:
            console.print(f"  {mutant.describe()} — {equivalent_reason(mutant)}",
                          highlight=False, markup=False, soft_wrap=True)
    for mutant, message in report.errors():
        err_console.print(f"NOT RUN {mutant.describe()}: {message}", highlight=False,
                          markup=False, soft_wrap=True)
    console.print("operators: " + "; ".join(f"{k}: {v}" for k, v in OPERATORS.items()),
                  highlight=False, markup=False, soft_wrap=True, style="dim")


def mutation_check(pack_dir: str, max_mutants: int | None, seed: int, examples: int,
                   workers: int | None, time_budget: float, fail_under: float | None) -> int:
    """Run and print a mutation test of the pack; return the exit code."""
    console.print(f"mutation testing {pack_dir}: {examples} households per invariant, "
                  f"seed {seed}" + (f", at most {max_mutants} mutants" if max_mutants else "")
                  + f", time budget {time_budget:g}s", highlight=False)
    progress = {"done": 0, "killed": 0}

    def show(mutant: Mutant, result: MutantResult) -> None:
        progress["done"] += 1
        progress["killed"] += result.status == "killed"
        if progress["done"] % 50 == 0:
            console.print(f"  … {progress['done']} mutants run, {progress['killed']} killed",
                          highlight=False, style="dim")

    report = run_mutants(pack_dir, max_mutants=max_mutants, seed=seed, examples=examples,
                         workers=workers, time_budget=time_budget, on_result=show)
    if not report.baseline_ok:
        failing = ([f"case {c!r}" for c in report.baseline_failed_cases]
                   + [f"invariant {i}" for i in report.baseline_violated])
        err_console.print("[bold red]the unmutated pack fails its own tests[/bold red] ("
                          + ", ".join(failing) + "): fix these before mutation testing "
                          "(run `eligibility check` for details)", highlight=False)
        return 1
    print_report(report)
    console.print(report.summary(), highlight=False, soft_wrap=True)
    score = report.total.score
    if fail_under is not None and (score is None or score < fail_under):
        err_console.print(f"[bold red]mutation score {'–' if score is None else f'{score:.1f}%'}"
                          f" is below --fail-under {fail_under:g}%[/bold red]")
        return 1
    return 0
