"""Dask: evaluate a dask DataFrame of households, or run the CLI batch on a cluster.

:func:`evaluate_dataframe` maps the batch evaluation over the partitions of a
``dask.dataframe`` in the input shape (``id``, a struct column per group,
``members``) with ``map_partitions`` and returns a dask DataFrame in the flat
output contract, ``row`` numbered across partitions. Each worker process loads
and compiles the pack once (cached by pack directory, date and backend).
:func:`cluster_results` is the CLI's ``--dask local:N`` / ``--dask tcp://…``:
chunks read here are evaluated on the cluster's workers and come back in input
order. Needs the ``batch`` extra (dask[dataframe], distributed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from eligibility.batch.io import Chunk, chunk_frame, read_chunks
from eligibility.batch.pipeline import compiled
from eligibility.batch.run import ChunkStats, output_schema
from eligibility.pack.model import RulePack


def _pack_dir(pack: RulePack | str | Path) -> str:
    return str(pack.root if isinstance(pack, RulePack) else pack)


def _partition(pdf: Any, offsets: list[int], pack_dir: str, as_of: date, backend: str,
               partition_info: dict[str, Any] | None = None) -> Any:
    import pyarrow as pa

    from eligibility.batch.columns import facts_frame

    engine, evaluator = compiled(pack_dir, as_of, backend)
    number = partition_info["number"] if partition_info else 0
    table = pa.Table.from_pandas(pdf, preserve_index=False)
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    facts = facts_frame(engine.pack, frame, offsets[number], engine.validator)
    out, _ = evaluator.evaluate(facts)
    return out.to_pandas()


def evaluate_dataframe(ddf: Any, pack: RulePack | str | Path, as_of: date,
                       backend: str = "auto") -> Any:
    """The batch output of every household in ``ddf`` (a lazy dask DataFrame)."""
    pack_dir = _pack_dir(pack)
    engine, _ = compiled(pack_dir, as_of, backend)
    lengths = ddf.map_partitions(len).compute()
    offsets = [0]
    for n in list(lengths)[:-1]:
        offsets.append(offsets[-1] + int(n))
    schema = output_schema(engine, as_of)
    meta = pl.DataFrame(schema=schema).to_pandas()
    return ddf.map_partitions(_partition, offsets, pack_dir, as_of, backend, meta=meta,
                              enforce_metadata=False)


def _remote(chunk: Chunk, pack_dir: str, as_of: date,
            backend: str) -> tuple[pl.DataFrame, ChunkStats]:
    engine, evaluator = compiled(pack_dir, as_of, backend)
    return evaluator.evaluate(chunk_frame(engine.pack, engine.validator, chunk))


def connect(address: str) -> Any:
    """A distributed Client: ``local:N`` starts a LocalCluster of N worker processes."""
    from distributed import Client, LocalCluster

    if address.startswith("local:"):
        workers = int(address.split(":", 1)[1] or 2)
        cluster = LocalCluster(n_workers=workers,  # type: ignore[no-untyped-call]
                               threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster)  # type: ignore[no-untyped-call]
    return Client(address)  # type: ignore[no-untyped-call]


def cluster_results(address: str, source: Path, pack_dir: str, as_of: date, backend: str,
                    chunk_size: int) -> Iterator[tuple[pl.DataFrame, ChunkStats]]:
    """Evaluate ``source`` chunk by chunk on a cluster; results in input order."""
    client = connect(address)
    try:
        depth = 2 * max(1, len(client.scheduler_info().get("workers", {})))
        pending: deque[Any] = deque()
        for chunk in read_chunks(source, chunk_size, by_groups=True):
            pending.append(client.submit(_remote, chunk, pack_dir, as_of, backend,
                                         pure=False))
            if len(pending) >= depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None and address.startswith("local:"):
            cluster.close()


__all__ = ["cluster_results", "connect", "evaluate_dataframe"]
