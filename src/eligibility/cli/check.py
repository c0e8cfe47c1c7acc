"""``eligibility check PACK_DIR``: static checks, cases, invariants and rule coverage.

The command loads the pack with every static check, loads its
``invariants.yaml``, runs its cases, then (unless ``--no-properties``) searches
generated households for violations of the declared and built-in invariants
(``--examples N --seed S``). ``--coverage`` prints which requirements,
exceptions and branches the cases and the generated households exercised;
``--fail-under P`` fails when the cases cover less than P per cent. A summary
line ends every run; the exit code is 1 on any error, failed case or violation.
``--mutants`` runs mutation testing instead of the invariant search (see
:mod:`eligibility.cli.mutants`): ``--max N`` mutants, ``--seed S``, ``--examples``
households per invariant, and ``--fail-under P`` gates the mutation score.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from eligibility.cli.common import (
    BackendOption,
    app,
    check_backend,
    console,
    err_console,
    fail,
    need_extra,
)
from eligibility.engine import Engine
from eligibility.errors import EligibilityError, PackError
from eligibility.pack.lint import texts_without_nynorsk, untitled_amount_steps
from eligibility.pack.loader import load_pack
from eligibility.pack.model import RulePack
from eligibility.pack.sets import stale_versions
from eligibility.testing.cases import run_cases
from eligibility.testing.coverage import KINDS, Coverage, CoverageReport
from eligibility.testing.invariants import load_invariants

if TYPE_CHECKING:
    from eligibility.testing.properties import PropertyResult


def _print_errors(exc: PackError, where: str) -> None:
    for diag in exc.diagnostics:
        err_console.print(str(diag), highlight=False, markup=False, soft_wrap=True)
    err_console.print(Text.assemble((f"{len(exc.diagnostics)} error(s)", "bold red"),
                                    f" in {where}"))


def _coverage_table(cases: CoverageReport, generated: CoverageReport | None) -> None:
    table = Table(title="rule coverage")
    table.add_column("kind")
    table.add_column("cases")
    if generated is not None:
        table.add_column("generated")
    for kind in KINDS:
        row = [kind, f"{cases.percent(kind):.0f}% ({len(cases.covered[kind])}/"
                     f"{len(cases.covered[kind]) + len(cases.missed[kind])})"]
        if generated is not None:
            row.append(f"{generated.percent(kind):.0f}% ({len(generated.covered[kind])}/"
                       f"{len(generated.covered[kind]) + len(generated.missed[kind])})")
        table.add_row(*row)
    console.print(table)
    for kind in KINDS:
        if cases.missed[kind]:
            console.print(f"not covered by the cases ({kind}): " + ", ".join(cases.missed[kind]),
                          highlight=False, markup=False)
        if generated is not None and generated.missed[kind]:
            console.print(f"not reached by generated households ({kind}): "
                          + ", ".join(generated.missed[kind]), highlight=False, markup=False)


def _stale_report(pack: RulePack, upto: date) -> None:
    stale, undated = stale_versions(pack, upto)
    table = Table(title=f"parameters not confirmed up to {upto.isoformat()}")
    table.add_column("parameter")
    table.add_column("version of")
    table.add_column("value")
    table.add_column("confirmed until")
    table.add_column("stale from – to")
    for s in stale:
        table.add_row(s.parameter, s.version.valid_from.isoformat(),
                      _value_text(s.version.value), str(s.version.confirmed_until),
                      f"{s.start.isoformat()} – {s.end.isoformat() if s.end else 'open'}")
    console.print(table)
    console.print(f"{len(stale)} stale version(s); {len(undated)} parameter(s) with a version "
                  "in force by then that states no confirmed_until: "
                  + (", ".join(undated) if undated else "none"),
                  highlight=False, markup=False, soft_wrap=True)


def _value_text(value: object) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    return str(value)


@app.command()
def check(
    pack_dir: Annotated[str, typer.Argument(
        metavar="PACK", help="The rule pack folder (e.g. rules/no) or a pack's name.")],
    properties: Annotated[bool, typer.Option(
        "--properties/--no-properties",
        help="Search generated households for violations of the pack's invariants.")] = True,
    examples: Annotated[int | None, typer.Option(
        "--examples", min=1, metavar="N",
        help="Generated households per invariant (default: invariants.yaml settings, "
             "else 100).")] = None,
    seed: Annotated[int, typer.Option("--seed", metavar="SEED",
                                      help="Seed of the search (reproducible).")] = 0,
    coverage: Annotated[bool, typer.Option(
        "--coverage", help="Report the requirements, exceptions and branches exercised.")]
        = False,
    fail_under: Annotated[float | None, typer.Option(
        "--fail-under", min=0, max=100, metavar="PERCENT",
        help="Fail if the cases cover less than this per cent of the rule items "
             "(with --mutants: if the mutation score is below this per cent).")] = None,
    stale_after: Annotated[datetime | None, typer.Option(
        "--stale-after", formats=["%Y-%m-%d"], metavar="DATE",
        help="List every parameter version used up to this date (YYYY-MM-DD) after the "
             "last date its source confirms (`confirmed_until`).")] = None,
    mutants: Annotated[bool, typer.Option(
        "--mutants", help="Mutation testing: would the cases and invariants notice a "
                          "wrong rule? Reports the mutation score and surviving mutants.")]
        = False,
    max_mutants: Annotated[int | None, typer.Option(
        "--max", min=1, metavar="N", help="With --mutants: run at most N mutants (seeded "
                                          "sample, every operator represented).")] = None,
    time_budget: Annotated[float, typer.Option(
        "--time-budget", min=1, metavar="SECONDS",
        help="With --mutants: stop after this many seconds (the score is then marked "
             "PARTIAL).")] = 600,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, metavar="N",
        help="With --mutants: worker processes (default: CPU count).")] = None,
    backend: BackendOption = "reference",
) -> None:
    """Check a pack: static checks, cases, invariants; exit 1 on any error or violation.

    \b
    Example:
      eligibility check rules/no --coverage
    """
    if properties:
        need_extra("hypothesis", "testing", "the invariant search (turn it off with "
                   "--no-properties)")
    try:
        pack = load_pack(pack_dir, full=True)
    except PackError as exc:
        _print_errors(exc, pack_dir)
        raise typer.Exit(1) from None
    for warning in [*untitled_amount_steps(pack), *texts_without_nynorsk(pack)]:
        err_console.print(f"{warning} [warning]", highlight=False, markup=False, soft_wrap=True)
    try:
        invariant_set = load_invariants(pack)
    except PackError as exc:
        _print_errors(exc, f"{pack_dir} invariants")
        raise typer.Exit(1) from None
    if stale_after is not None:
        _stale_report(pack, stale_after.date())
    check_backend(backend)
    try:
        engine = Engine(pack, backend=backend)
    except PackError as exc:
        _print_errors(exc, f"{pack_dir} (--backend {backend})")
        raise typer.Exit(1) from None
    except EligibilityError as exc:
        fail(str(exc))
    results = run_cases(engine)
    failed = [r for r in results if not r.passed]
    table = Table(title=f"{pack.meta.id} {pack.meta.version}: cases")
    table.add_column("case")
    table.add_column("file", style="dim")
    table.add_column("result")
    for r in results:
        table.add_row(r.case.name, r.case.file,
                      Text("pass", style="green") if r.passed else
                      Text.assemble(("FAIL", "red"), "\n" + "\n".join(r.problems)))
    if results:
        console.print(table)
    if mutants:
        if failed:
            err_console.print(f"[bold red]{len(failed)} case(s) fail on the unmutated pack"
                              "[/bold red]: fix them before mutation testing")
            raise typer.Exit(1)
        need_extra("hypothesis", "testing", "mutation testing")
        from eligibility.cli.mutants import mutation_check

        code = mutation_check(pack_dir, max_mutants, seed, examples or 30, workers,
                              time_budget, fail_under)
        raise typer.Exit(code)
    case_cov = Coverage(pack)
    case_cov.record_all(r.decision for r in results if r.decision is not None)
    gen_cov = Coverage(pack) if coverage else None

    props: list[PropertyResult] = []
    started = time.perf_counter()
    if properties:
        from eligibility.testing.properties import run_all

        n = examples or invariant_set.examples
        console.print(f"invariants: {len(invariant_set.invariants)} declared + built-in, "
                      f"{n} examples each, seed {seed}", highlight=False)

        def show(result: PropertyResult) -> None:
            mark = Text("ok", style="green") if result.passed else \
                Text("VIOLATED", style="bold red")
            origin = "built-in" if result.builtin else "declared"
            console.print(Text.assemble("  ", mark, f" {result.id} ({origin}; {result.examples} "
                                        f"examples, {result.checked} checked, "
                                        f"{result.seconds:.1f}s)"), highlight=False)
            if result.violation is not None:
                console.print(result.violation.report(result.id), highlight=False,
                              markup=False, soft_wrap=True)

        props = run_all(engine, invariant_set.invariants, n, seed, gen_cov,
                        fixed_examples=examples is not None, on_result=show,
                        information_exempt=invariant_set.information_exempt)
    elapsed = time.perf_counter() - started
    violated = [p for p in props if not p.passed]

    cases_report = case_cov.report()
    if coverage or fail_under is not None:
        _coverage_table(cases_report, gen_cov.report() if gen_cov else None)
    below = fail_under is not None and cases_report.percent() < fail_under

    summary = (f"static checks: ok ({len(pack.measures)} measures, {len(pack.criteria)} "
               f"criteria, {len(pack.parameters)} parameters) · cases: "
               f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if properties:
        summary += (f" · invariants: {len(props) - len(violated)} held, {len(violated)} "
                    f"violated ({elapsed:.1f}s, seed {seed})")
    if coverage or fail_under is not None:
        summary += f" · case coverage {cases_report.summary()}"
    summary += f" · sha256:{pack.content_hash[:12]}"
    console.print(summary, highlight=False, soft_wrap=True)
    if below:
        err_console.print(f"case coverage {cases_report.percent():.1f}% is below "
                          f"--fail-under {fail_under:g}%", style="bold red")
    if failed or violated or below:
        raise typer.Exit(1)
