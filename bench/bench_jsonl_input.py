"""Benchmark JSON Lines input: row by row (the validator per line) against in columns
(``batch.io.jsonl_columns``), both in this process; prints households/s and the ratio.

1. Validation only: one chunk of N lines into a facts frame, each way (the frames
   are checked equal).
2. ``run_file`` JSON Lines → Parquet over the same file, each way (the output
   encoding of JSON Lines out is the same either way, so Parquet out shows the input).

Usage: python bench/bench_jsonl_input.py [--n 50000] [--pack rules/no]. Figures on a
shared 2-core machine are noisy; the ratio is the figure to read.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl

import eligibility.batch.pipeline as pipeline
from eligibility import Engine, load_pack
from eligibility.batch.frame import build_frame
from eligibility.batch.generate import generate, write_households
from eligibility.batch.io import Chunk, chunk_frame, jsonl_rows, read_chunks
from eligibility.facts import FactValidator
from eligibility.pack.model import RulePack

AS_OF = date(2025, 6, 1)


def rows_only(pack: RulePack, validator: FactValidator, chunk: Chunk) -> pl.DataFrame:
    """The row path as it was: every line read and validated by itself."""
    return build_frame(pack, validator, jsonl_rows(chunk.lines, chunk.start))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--pack", default="rules/no")
    args = parser.parse_args()
    engine = Engine(load_pack(args.pack))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        write_households(generate(engine.pack, args.n, seed=1, missing=0.1), source)
        chunk = next(read_chunks(source, args.n))
        ways: dict[str, Callable[[RulePack, FactValidator, Chunk], pl.DataFrame]] = {
            "rows": rows_only, "columns": chunk_frame}
        frames, rates = {}, {}
        for name, way in ways.items():
            started = time.perf_counter()
            frames[name] = way(engine.pack, engine.validator, chunk)
            rates[name] = args.n / (time.perf_counter() - started)
        assert frames["rows"].equals(frames["columns"])
        print(f"validation, {args.n} lines: rows {rates['rows']:,.0f}/s · columns "
              f"{rates['columns']:,.0f}/s · ratio {rates['columns'] / rates['rows']:.1f}×")
        for name, way in ways.items():
            pipeline.chunk_frame = way  # what run_file calls for each chunk
            summary = pipeline.run_file(source, Path(tmp) / f"{name}.parquet", args.pack,
                                        AS_OF, "polars", chunk_size=min(args.n, 100_000))
            rates[name] = summary.households_per_second
        pipeline.chunk_frame = chunk_frame
        print(f"run_file JSON Lines -> Parquet: rows {rates['rows']:,.0f}/s · columns "
              f"{rates['columns']:,.0f}/s · ratio {rates['columns'] / rates['rows']:.1f}×")


if __name__ == "__main__":
    main()
