"""Run a whole batch file: read in chunks, evaluate (here or in worker processes), write.

:func:`run_file` is what ``eligibility batch`` calls. Chunks are evaluated in this
process, in a pool of worker processes (``workers > 1``; each worker loads and
compiles the pack once) or on a Dask cluster (:mod:`eligibility.batch.dask`);
in every case the output is written in input order and has one row per input
row. In one process, reading the next chunk and writing the last one run on two
helper threads while the current chunk is evaluated (pyarrow and polars release
the GIL), so file I/O overlaps the evaluation. :class:`RunSummary` is the closing
count.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import polars as pl

from eligibility.batch.io import (
    DEFAULT_CHUNK,
    Chunk,
    OutputWriter,
    chunk_frame,
    jsonl_text,
    kind_of,
    read_chunks,
)
from eligibility.batch.run import Backend, ChunkStats, make_backend
from eligibility.engine import Engine
from eligibility.pack.loader import load_pack


@dataclass
class RunSummary:
    """The closing count of a batch run."""

    rows_in: int = 0
    rows_out: int = 0
    errors: int = 0
    seconds: float = 0.0
    backend: str = ""
    reference_rows: int = 0
    fallback: dict[str, str] = field(default_factory=dict)
    status_counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def households_per_second(self) -> float:
        return self.rows_in / self.seconds if self.seconds > 0 else 0.0


def evaluate_chunk(backend: Backend, engine: Engine, chunk: Chunk) -> tuple[pl.DataFrame,
                                                                          ChunkStats]:
    frame = chunk_frame(engine.pack, engine.validator, chunk)
    return backend.evaluate(frame)


# -- worker processes -------------------------------------------------------------
@lru_cache(maxsize=8)
def compiled(pack_dir: str, as_of: date, backend: str) -> tuple[Engine, Backend]:
    """The pack loaded and compiled once per process (workers, Dask) and date."""
    engine = Engine(load_pack(pack_dir))
    return engine, make_backend(backend, engine, as_of)


@dataclass(frozen=True)
class Encoded:
    """A chunk's output rows encoded by the worker (JSON Lines text), with the
    status counts the closing count needs: the writing process only appends it."""

    text: str
    height: int
    counts: dict[str, dict[str, int]]


Result = tuple[pl.DataFrame | Encoded, ChunkStats]


def _work(chunk: Chunk, pack_dir: str, as_of: date, backend: str,
          encode: str | None = None) -> Result:
    engine, evaluator = compiled(pack_dir, as_of, backend)
    out, stats = evaluate_chunk(evaluator, engine, chunk)
    if encode == "jsonl":  # the slow part of writing JSON Lines runs in the worker
        return Encoded(jsonl_text(out), out.height, status_counts(out)), stats
    return out, stats


def _in_order(pool: ProcessPoolExecutor, chunks: Iterator[Chunk], depth: int,
              job: tuple[str, date, str, str | None]) -> Iterator[Result]:
    """Results in input order, with at most ``depth`` chunks in flight."""
    pending: deque[Future[Result]] = deque()
    for chunk in chunks:
        pending.append(pool.submit(_work, chunk, *job))
        if len(pending) >= depth:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


_END = object()


def ahead(work: Callable[[Chunk], pl.DataFrame], items: Iterable[Chunk],
          threads: ThreadPoolExecutor) -> Iterator[pl.DataFrame]:
    """``work(item)`` for each item in order, the next one computed on ``threads``
    while the caller uses the current one (an error is raised where it would have
    been without the thread)."""
    source = iter(items)

    def pull() -> object:
        item = next(source, _END)
        return item if item is _END else work(item)  # type: ignore[arg-type]

    pending: Future[object] = threads.submit(pull)
    while True:
        done = pending.result()
        if done is _END:
            return
        pending = threads.submit(pull)
        assert isinstance(done, pl.DataFrame)
        yield done


def status_counts(out: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Rows per status of each measure (``error`` for error rows)."""
    result: dict[str, dict[str, int]] = {}
    for col in out.columns:
        if col.endswith(".status"):
            counts = result.setdefault(col[:-7], {})
            for status, n in out[col].value_counts().iter_rows():
                key = status or "error"
                counts[key] = counts.get(key, 0) + n
    return result


def _count(summary: RunSummary, counts: dict[str, dict[str, int]]) -> None:
    for measure, by_status in counts.items():
        mine = summary.status_counts.setdefault(measure, {})
        for key, n in by_status.items():
            mine[key] = mine.get(key, 0) + n


def run_file(source: Path, target: Path, pack_dir: str, as_of: date, backend: str = "auto",
             workers: int = 1, chunk_size: int = DEFAULT_CHUNK,
             progress: Callable[[int], None] | None = None,
             dask: str | None = None) -> RunSummary:
    """Evaluate every household of ``source`` into ``target`` (see module docstring)."""
    engine = Engine(load_pack(pack_dir))
    pack_dir = str(engine.pack.root)
    local = make_backend(backend, engine, as_of)
    summary = RunSummary(backend=local.name)
    summary.fallback = dict(getattr(local, "fallback", {}))
    started = time.perf_counter()
    chunks = read_chunks(source, chunk_size, by_groups=workers > 1 or dask is not None)
    with OutputWriter(target) as writer:
        results: Iterator[Result]
        pool: ProcessPoolExecutor | None = None
        helper: ThreadPoolExecutor | None = None
        saved: str | None = None
        if dask is not None:
            from eligibility.batch.dask import cluster_results

            results = cluster_results(dask, source, pack_dir, as_of, backend, chunk_size)
        elif workers > 1:
            # spawn, not fork: a forked child of a process running polars threads can
            # hang; one polars thread per worker (the environment the workers start
            # with, while the pool lives), the workers are the parallelism
            saved = os.environ.get("POLARS_MAX_THREADS")
            os.environ["POLARS_MAX_THREADS"] = "1"
            pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
            encode = "jsonl" if kind_of(target) == "jsonl" else None
            results = _in_order(pool, chunks, 2 * workers, (pack_dir, as_of, backend, encode))
        else:  # read and validate the next chunk on a thread while this one runs
            helper = ThreadPoolExecutor(2, thread_name_prefix="batch-io")
            frames = ahead(lambda chunk: chunk_frame(engine.pack, engine.validator, chunk),
                           chunks, helper)
            results = (local.evaluate(frame) for frame in frames)
        writing: Future[None] | None = None
        try:
            for out, stats in results:
                if isinstance(out, Encoded):
                    writer.write_text(out.text, out.height)
                    counts = out.counts
                elif helper is not None:  # one write in flight, in order
                    if writing is not None:
                        writing.result()
                    writing = helper.submit(writer.write, out)
                    counts = status_counts(out)
                else:
                    writer.write(out)
                    counts = status_counts(out)
                summary.rows_in += stats.rows
                summary.rows_out += out.height
                summary.errors += stats.errors
                summary.reference_rows += stats.reference_rows
                _count(summary, counts)
                if progress is not None:
                    progress(out.height)
            if writing is not None:
                writing.result()
        finally:
            if helper is not None:
                helper.shutdown(wait=True, cancel_futures=True)
            if pool is not None:
                pool.shutdown(cancel_futures=True)
                if saved is None:
                    os.environ.pop("POLARS_MAX_THREADS", None)
                else:
                    os.environ["POLARS_MAX_THREADS"] = saved
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["RunSummary", "evaluate_chunk", "run_file"]
