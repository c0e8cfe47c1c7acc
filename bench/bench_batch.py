"""Benchmark the batch path; prints ratios from one run (see README "Batch runs").

1. Anchor rule set (bench/anchors, issue 9's pack of the anchor benchmarks) at N
   households: the polars backend against hand-written numpy of the same rules
   (copied from the anchor benchmark scripts), both in this process.
2. rules/no at N households from a Parquet file: ``run_file`` in one process and with
   a pool of 2 worker processes; households/s and peak RSS (this process and its
   children).
3. rules/no at M households: Dask LocalCluster (2 workers) vs the process pool vs one
   process.

Usage: python bench/bench_batch.py [--n 1000000] [--dask-n 200000]
       [--anchor-pack bench/anchors]. Figures on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import math
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from eligibility import Engine, load_pack
from eligibility.batch.columns import facts_frame
from eligibility.batch.generate import generate
from eligibility.batch.pipeline import run_file
from eligibility.batch.run import PolarsBackend

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)
TENURES = np.array(["rent", "own", "none"])
INCOME_CAP = np.array([[330000, 400000, 470000, 540000], [310000, 375000, 440000, 505000],
                       [295000, 355000, 420000, 480000], [285000, 345000, 405000, 465000]])
COST_CAP = np.array([[100000, 120000, 135000, 150000], [85000, 100000, 115000, 130000],
                     [75000, 90000, 100000, 115000], [70000, 82000, 93000, 105000]])


def peak_rss_mib() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return me, kids


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (user + system)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def anchor_columns(n: int, seed: int = 20251125) -> dict[str, np.ndarray]:
    """The anchor benchmarks' household generator (rules_common.generate_columns)."""
    rng = np.random.default_rng(seed)
    adults = rng.choice(np.array([1, 2, 3]), size=n, p=[0.45, 0.45, 0.10])
    children = rng.choice(np.arange(5), size=n, p=[0.5, 0.2, 0.18, 0.08, 0.04])
    size = adults + children
    has_dis = rng.random(n) < 0.12
    dis = np.where(has_dis, (rng.random(n) * size).astype(np.int64) + 1, 0)
    income = np.exp(rng.normal(math.log(420000), 0.6, n))
    income = np.where(rng.random(n) < 0.03, 0, income)
    tenure = rng.choice(np.array([0, 1, 2]), size=n, p=[0.45, 0.45, 0.10])
    return {
        "adults": adults, "children": children, "members_with_disability": dis,
        "annual_income": np.clip(income, 0, 3_000_000).astype(np.int64),
        "net_wealth": np.clip(rng.normal(300000, 800000, n), -1_000_000,
                              5_000_000).astype(np.int64),
        "monthly_housing_cost": rng.integers(2000, 25001, n),
        "tenure": tenure,
        "is_homeless": np.where(tenure == 2, rng.random(n) < 0.5, rng.random(n) < 0.01),
        "eviction_notice": np.where(tenure == 0, rng.random(n) < 0.05, rng.random(n) < 0.01),
        "rooms": rng.integers(1, 7, n),
        "municipality_group": rng.integers(1, 5, n),
        "bank_loan_refused": rng.random(n) < 0.3,
        "age_of_applicant": rng.integers(16, 91, n),
    }


def numpy_rules(c: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Hand-written numpy (rules_common.evaluate_numpy of the anchor benchmarks)."""
    size = c["adults"] + c["children"]
    tenure, income, homeless = c["tenure"], c["annual_income"], c["is_homeless"]
    has_children = c["children"] > 0
    crowded = c["rooms"] < size
    disability = c["members_with_disability"] > 0
    homeless_risk = homeless | c["eviction_notice"] | (tenure == 2)
    low_income = income < 250000 + 100000 * size
    adult = c["age_of_applicant"] >= 18
    startlan = (adult & c["bank_loan_refused"] & low_income & (c["net_wealth"] < 200000)
                & ((tenure != 1) | crowded))
    band = np.where(size <= 1, 0, np.where(size == 2, 1, np.where(size <= 4, 2, 3)))
    g = c["municipality_group"] - 1
    hc_annual = c["monthly_housing_cost"] * 12
    bostotte = (adult & (tenure != 2) & (c["monthly_housing_cost"] * 60 > income)
                & (income < INCOME_CAP[g, band]))
    amount = np.where(bostotte, 0.737 * np.maximum(
        0, np.minimum(hc_annual, COST_CAP[g, band]) - 0.18 * income), 0.0)
    return {"startlan": startlan, "tilskudd_etablering": startlan & low_income & (
        has_children | disability), "bostotte": bostotte, "bostotte_amount": amount,
        "kommunal_bolig": homeless_risk & low_income, "midlertidig_botilbud": homeless.copy(),
        "tilpasning": disability & (tenure == 1), "housing_first": homeless & disability}


def bench_anchor(pack_dir: Path, n: int) -> None:
    if not (pack_dir / "pack.yaml").is_file():
        print(f"anchor: no pack at {pack_dir} (issue 9 adds bench/anchors); skipped")
        return
    pack = load_pack(pack_dir)
    engine = Engine(pack)
    cols = anchor_columns(n)
    household = pl.DataFrame({k: (TENURES[v] if k == "tenure" else v)
                              for k, v in cols.items()})
    money = ("annual_income", "net_wealth", "monthly_housing_cost")
    household = household.with_columns([pl.col(m).cast(pl.Decimal(38, 10)) for m in money])
    source = pl.DataFrame({"household": household.to_struct()})
    started = time.perf_counter()
    frame = facts_frame(pack, source)
    t_validate = time.perf_counter() - started
    backend = PolarsBackend(engine, AS_OF)
    if backend.fallback:
        print("anchor: measures on the reference:", backend.fallback)
    runs_np, runs_pl, runs_text, cpu_np, cpu_pl, runs_for = [], [], [], [], [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        want = numpy_rules(cols)
        runs_np.append(time.perf_counter() - started)
        cpu_np.append(time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        plan = backend.plan_for(frame)  # checks which member money facts are whole øre
        runs_for.append(time.perf_counter() - started)
        got = plan.evaluate(frame)  # checks the household money it assumes is øre
        runs_pl.append(time.perf_counter() - started)
        cpu_pl.append(time.process_time() - cpu)
        started = time.perf_counter()
        plan.amount_text(got)
        runs_text.append(time.perf_counter() - started)
    t_np, t_pl, t_text = min(runs_np), min(runs_pl), min(runs_text)
    for name in ("startlan", "bostotte", "kommunal_bolig", "housing_first"):
        same = (got[f"{name}.status"].to_numpy() == "eligible") == want[name]
        print(f"  check {name}: {int(same.sum()):,}/{n:,} agree")
    exact = got["bostotte.amount"].cast(pl.Float64).fill_null(0.0).to_numpy()
    close = np.isclose(exact, want["bostotte_amount"], rtol=1e-9, atol=1e-6)
    print(f"  check bostotte amount (exact vs numpy float): {int(close.sum()):,}/{n:,} agree")
    print(f"anchor @ {n:,}: numpy {n / t_np:,.0f} hh/s; polars plan (statuses, requirement "
          f"outcomes, exact Decimal amounts) {n / t_pl:,.0f} hh/s → polars/numpy = "
          f"{t_np / t_pl:.2f}×; + amount text {t_np / (t_pl + t_text):.2f}×; + column "
          f"validation {t_np / (t_pl + t_text + t_validate):.2f}×")
    print(f"  polars plan, fastest run: plan_for {min(runs_for) * 1e3:.1f} ms, evaluate "
          f"{min(p - f for p, f in zip(runs_pl, runs_for, strict=True)) * 1e3:.0f} ms; "
          f"amount text {t_text * 1e3:.0f} ms; column validation (once) "
          f"{t_validate * 1e3:.0f} ms; numpy {t_np * 1e3:.0f} ms")
    print(f"  CPU time (all threads; steadier on a shared machine): numpy "
          f"{min(cpu_np) * 1e3:.0f} ms, polars plan {min(cpu_pl) * 1e3:.0f} ms → "
          f"{min(cpu_np) / min(cpu_pl):.2f}× (polars runs on "
          f"{pl.thread_pool_size()} threads, numpy on one)")


def bench_rules_no(n: int, tmp: Path) -> None:
    pack = load_pack(ROOT / "rules" / "no")
    source = tmp / "no.parquet"
    generate(pack, n, seed=20251125).write_parquet(source, row_group_size=100_000)
    for workers in (1, 2):
        target = tmp / f"out{workers}.parquet"
        cpu = _cpu_seconds()
        result = run_file(source, target, str(ROOT / "rules" / "no"), AS_OF, "polars",
                          workers=workers)
        cpu = _cpu_seconds() - cpu
        me, kids = peak_rss_mib()
        print(f"rules/no @ {n:,}, {workers} process(es): {result.households_per_second:,.0f} "
              f"hh/s ({result.seconds:.1f} s; CPU {cpu:.1f} s = {n / cpu:,.0f} hh per "
              f"CPU-second); peak RSS this process {me:,.0f} MiB, "
              f"largest child {kids:,.0f} MiB; rows out {result.rows_out:,}, "
              f"reference rows {result.reference_rows}")


def bench_dask(n: int, tmp: Path) -> None:
    from distributed import LocalCluster

    pack = load_pack(ROOT / "rules" / "no")
    source = tmp / "dask.parquet"
    generate(pack, n, seed=7).write_parquet(source, row_group_size=50_000)
    pack_dir = str(ROOT / "rules" / "no")
    one = run_file(source, tmp / "d1.parquet", pack_dir, AS_OF, "polars", chunk_size=50_000)
    pool = run_file(source, tmp / "d2.parquet", pack_dir, AS_OF, "polars", workers=2,
                    chunk_size=50_000)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        on_cluster = run_file(source, tmp / "d3.parquet", pack_dir, AS_OF, "polars",
                              chunk_size=50_000, dask=cluster.scheduler_address)
        dask_s = on_cluster.seconds
    print(f"dask @ {n:,}: one process {one.seconds:.1f} s; process pool(2) {pool.seconds:.1f} s "
          f"({one.seconds / pool.seconds:.2f}×); LocalCluster(2) {dask_s:.1f} s "
          f"({one.seconds / dask_s:.2f}×, cluster already started)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--dask-n", type=int, default=200_000)
    parser.add_argument("--anchor-pack", type=Path, default=ROOT / "bench" / "anchors")
    parser.add_argument("--skip", nargs="*", default=[], choices=["anchor", "no", "dask"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if "anchor" not in args.skip:
            bench_anchor(args.anchor_pack, args.n)
        if "no" not in args.skip:
            bench_rules_no(args.n, Path(tmp))
        if "dask" not in args.skip:
            bench_dask(args.dask_n, Path(tmp))


if __name__ == "__main__":
    main()
