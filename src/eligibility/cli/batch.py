"""``eligibility batch``, ``diff`` and ``generate``: population runs from the terminal.

``batch IN OUT`` evaluates every household of a JSON Lines or Parquet file
(the suffix decides) into OUT, with a progress bar on a terminal and a closing
count; ``diff OLD NEW`` compares two batch outputs; ``generate`` writes
synthetic households. The work is done by :mod:`eligibility.batch`; this module
parses options, shows progress and prints tables. Needs the ``batch`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from eligibility.cli.common import (
    AsOfOption,
    PackOption,
    app,
    console,
    fail,
    parse_date,
    user_errors,
)


def _need_batch_extra() -> None:
    try:
        import polars  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        fail("batch commands need the batch extra: pip install 'eligibility[batch]'")


@app.command()
def batch(
    source: Annotated[Path, typer.Argument(metavar="IN",
                                           help="Households: .jsonl or .parquet.")],
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Output: .jsonl or .parquet.")],
    pack: PackOption = "no",
    as_of: AsOfOption = None,
    backend: Annotated[str, typer.Option(
        "--backend", metavar="BACKEND", help="auto (polars where it can), polars, reference "
        "or rete (durable_rules; the rete extra, Python < 3.13).")] = "auto",
    workers: Annotated[int, typer.Option(
        "--workers", min=1, metavar="N", help="Worker processes on this machine.")] = 1,
    dask: Annotated[str | None, typer.Option(
        "--dask", metavar="CLUSTER",
        help="Run on a Dask cluster: local:N or tcp://host:port.")] = None,
    chunk_size: Annotated[int, typer.Option(
        "--chunk-size", min=1, metavar="N", help="Households per chunk.")] = 100_000,
    show_summary: Annotated[bool, typer.Option(
        "--summary", help="Print the statuses per measure after the run.")] = False,
) -> None:
    """Evaluate every household of IN into OUT, one output row per input row."""
    _need_batch_extra()
    from eligibility.batch.io import count_rows, kind_of
    from eligibility.batch.pipeline import run_file
    from eligibility.pack.loader import resolve_pack_dir

    when = parse_date(as_of)
    with user_errors():
        kind_of(source)
        kind_of(target)
        if not source.is_file():
            fail(f"no such file: {source}")
        if source.resolve() == target.resolve():
            fail("the output file must not be the input file")
        pack_dir = str(resolve_pack_dir(pack))
    total = count_rows(source)
    interactive = console.is_terminal
    with user_errors():
        if interactive:
            with Progress(TextColumn("[bold]batch[/bold]"), BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn(), console=console, transient=True) as bar:
                task = bar.add_task("households", total=total)
                result = run_file(source, target, pack_dir, when, backend, workers,
                                  chunk_size, lambda n: bar.advance(task, n), dask)
        else:
            result = run_file(source, target, pack_dir, when, backend, workers, chunk_size,
                              None, dask)
    console.print(
        f"rows in {result.rows_in:,} · rows out {result.rows_out:,} · "
        f"rows with errors {result.errors:,} · {result.households_per_second:,.0f} "
        f"households/s ({result.seconds:.1f} s, backend {result.backend})",
        highlight=False)
    if result.fallback:
        for measure, why in result.fallback.items():
            console.print(f"  {measure}: reference evaluator for the whole batch ({why})",
                          highlight=False)
    if result.reference_rows:
        console.print(f"  {result.reference_rows:,} rows evaluated by the reference "
                      "(a division by zero or a key missing from a table)", highlight=False)
    if show_summary:
        table = Table("measure", "eligible", "undetermined", "not_eligible", "error")
        for measure, counts in result.status_counts.items():
            table.add_row(measure, *(f"{counts.get(k, 0):,}" for k in (
                "eligible", "undetermined", "not_eligible", "error")))
        console.print(table)


@app.command()
def diff(
    old: Annotated[Path, typer.Argument(metavar="OLD",
                                        help="Earlier batch output (.jsonl or .parquet).")],
    new: Annotated[Path, typer.Argument(metavar="NEW",
                                        help="Later batch output (.jsonl or .parquet).")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", metavar="FILE",
        help="Write the changes per household (.jsonl or .parquet).")] = None,
) -> None:
    """Compare two batch outputs: status and amount changes per household and measure."""
    _need_batch_extra()
    from eligibility.batch.diff import diff_outputs, summary
    from eligibility.batch.io import kind_of, read_output

    with user_errors():
        if out is not None:
            kind_of(out)
        changes = diff_outputs(read_output(old), read_output(new))
    table = Table("measure", "change", "households", "amount change (NOK)")
    for measure, kind, n, amount in summary(changes).iter_rows():
        table.add_row(measure, kind, f"{n:,}", amount or "0")
    console.print(table)
    console.print(f"{changes.height:,} changes", highlight=False)
    if out is not None:
        with user_errors():
            if out.suffix.lower() == ".parquet":
                changes.write_parquet(out)
            else:
                changes.write_ndjson(out)


@app.command()
def generate(
    target: Annotated[Path, typer.Argument(metavar="OUT", help="Output: .jsonl or .parquet.")],
    n: Annotated[int, typer.Option("--n", min=0, metavar="N", help="Number of households.")] = 1000,
    pack: PackOption = "no",
    seed: Annotated[int, typer.Option("--seed", metavar="SEED", help="Random seed.")] = 20251125,
    missing: Annotated[float, typer.Option(
        "--missing", min=0.0, max=1.0, metavar="SHARE",
        help="Chance that an optional fact is left out.")] = 0.0,
) -> None:
    """Write N synthetic households drawn from the pack's fact schema."""
    _need_batch_extra()
    from eligibility.batch.generate import generate as draw
    from eligibility.batch.generate import write_households
    from eligibility.batch.io import kind_of
    from eligibility.pack.loader import load_pack

    with user_errors():
        kind_of(target)
        frame = draw(load_pack(pack), n, seed, missing)
        write_households(frame, target)
    console.print(f"{n:,} households written to {target}", highlight=False)
