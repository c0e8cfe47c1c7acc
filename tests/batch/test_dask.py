"""Dask: a LocalCluster with two worker processes gives the same rows as one process."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from eligibility import load_pack
from eligibility.batch.generate import generate
from eligibility.batch.pipeline import run_file

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
NO_DIR = str(ROOT / "rules" / "no")
AS_OF = date(2025, 6, 1)


def test_local_cluster_gives_the_same_rows_as_one_process(tmp_path: Path) -> None:
    from eligibility.batch.dask import evaluate_dataframe

    data = generate(load_pack(NO_DIR), 90, seed=11, missing=0.1)
    source = tmp_path / "hh.parquet"
    data.write_parquet(source, row_group_size=30)
    run_file(source, tmp_path / "one.parquet", NO_DIR, AS_OF, "polars", chunk_size=30)
    one = pl.read_parquet(tmp_path / "one.parquet")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        ddf = dd.read_parquet(str(source), split_row_groups=True)
        assert ddf.npartitions == 3
        out = evaluate_dataframe(ddf, NO_DIR, AS_OF).compute()
        cli = run_file(source, tmp_path / "dask.parquet", NO_DIR, AS_OF, "polars",
                       chunk_size=30, dask=cluster.scheduler_address)
    assert cli.rows_out == 90
    assert pl.read_parquet(tmp_path / "dask.parquet").equals(one)
    frame = pl.from_pandas(out.reset_index(drop=True))
    assert frame["row"].to_list() == list(range(90))
    assert list(frame.columns) == one.columns
    for name in one.columns:
        if not name.endswith(".missing_facts"):
            assert frame[name].to_list() == one[name].to_list(), name
    missing = [list(x) if x is not None else None for x in out["bostotte.missing_facts"]]
    assert missing == one["bostotte.missing_facts"].to_list()
