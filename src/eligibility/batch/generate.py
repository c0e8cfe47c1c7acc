"""Synthetic households for benchmarks, demos and load tests, drawn from a fact schema.

:func:`generate` draws ``n`` households column by column with numpy (seeded, so
the same seed gives the same file), from the same ranges and household
structure as the property-test strategies in
:mod:`eligibility.testing.strategies` (:func:`~eligibility.testing.strategies.bounds`,
an adult applicant first, children 0–17, adult partners, up to six members).
With ``missing > 0`` each optional fact is left out with that probability. The
result is a polars frame in the batch *input* shape: ``id``, one struct column
per group, ``members`` as a list of structs.
"""

from __future__ import annotations

import json
import math
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from eligibility.batch.frame import drop_nulls
from eligibility.compile.polars.compiler import DEC
from eligibility.pack.model import FieldSpec, GroupSpec, RulePack
from eligibility.testing.strategies import (
    ADULT_AGE,
    DEFAULT_MAX_MEMBERS,
    EARLIEST_FACT_DATE,
    LATEST_FACT_DATE,
    OLDEST_AGE,
    bounds,
)

_ALPHABET = list("abcdefghijklmnopqrstuvwxyzæøå")


def _column(spec: FieldSpec, n: int, rng: np.random.Generator,
            low: int | None = None, high: int | None = None) -> pl.Series:
    name = spec.name
    if spec.kind == "bool":
        return pl.Series(name, rng.random(n) < 0.5)
    if spec.kind == "enum":
        values = np.array([str(v) for v in spec.values or ()])
        return pl.Series(name, values[rng.integers(0, len(values), n)], pl.String)
    if spec.kind == "string":
        letters = np.array(_ALPHABET)[rng.integers(0, len(_ALPHABET), (n, 6))]
        return pl.Series(name, ["".join(row) for row in letters], pl.String)
    if spec.kind == "date":
        span = (LATEST_FACT_DATE - EARLIEST_FACT_DATE).days
        offset = (EARLIEST_FACT_DATE - date(1970, 1, 1)).days
        days = rng.integers(0, span + 1, n) + offset
        return pl.Series(name, days, pl.Int32).cast(pl.Date)
    lo, hi = bounds(spec)
    ilo, ihi = math.ceil(Decimal(lo)), math.floor(Decimal(hi))
    if low is not None:
        ilo = max(ilo, low)
    if high is not None:
        ihi = min(ihi, high)
    if spec.kind == "int":
        return pl.Series(name, rng.integers(ilo, ihi + 1, n), pl.Int64)
    if spec.kind == "money":
        return pl.Series(name, rng.integers(ilo, ihi + 1, n), pl.Int64).cast(DEC)
    tenths = pl.Series(name, rng.integers(ilo * 10, ihi * 10 + 1, n), pl.Int64).cast(DEC)
    return pl.select((pl.lit(tenths) / pl.lit(10, DEC)).alias(name)).to_series()


def _blank(series: pl.Series, spec: FieldSpec, missing: float,
           rng: np.random.Generator) -> pl.Series:
    if missing <= 0 or spec.required:
        return series
    drop = pl.Series(rng.random(len(series)) < missing)
    return pl.select(pl.when(drop).then(None).otherwise(series).alias(series.name)).to_series()


def _group(spec: GroupSpec, n: int, missing: float, rng: np.random.Generator) -> pl.Series:
    cols = [_blank(_column(f, n, rng), f, missing, rng) for f in spec.fields.values()]
    return pl.DataFrame(cols).select(pl.struct(pl.all()).alias(spec.name)).to_series()


def _members(spec: GroupSpec, n: int, missing: float, rng: np.random.Generator) -> pl.Series:
    most = min(spec.max_items or DEFAULT_MAX_MEMBERS, DEFAULT_MAX_MEMBERS)
    counts = rng.integers(1, max(1, most) + 1, n)
    total = int(counts.sum())
    household = np.repeat(np.arange(n), counts)
    first = np.zeros(total, dtype=bool)
    first[np.concatenate(([0], np.cumsum(counts)[:-1]))] = True
    role_spec = spec.fields.get("role")
    roles = [str(v) for v in role_spec.values or ()] if role_spec and role_spec.kind == \
        "enum" else []
    others = [r for r in roles if r != "applicant"]
    role = None
    if roles:
        picked = np.array(others or roles)[rng.integers(0, len(others or roles), total)]
        role = np.where(first & ("applicant" in roles), "applicant", picked)
    cols = []
    for f in spec.fields.values():
        if f.name == "role" and role is not None:
            series = pl.Series("role", role, pl.String)
        elif f.name == "age" and f.kind == "int" and role is not None:
            _, hi = bounds(f)
            adult = _column(f, total, rng, ADULT_AGE, min(int(hi), OLDEST_AGE)).to_numpy()
            child = _column(f, total, rng, None, ADULT_AGE - 1).to_numpy()
            anyone = _column(f, total, rng).to_numpy()
            ages = np.where(np.isin(role, ["applicant", "partner"]), adult,
                            np.where(role == "child", child, anyone))
            series = pl.Series("age", ages, pl.Int64)
        else:
            series = _column(f, total, rng)
        if not (f.name == "role" and role is not None):
            series = _blank(series, f, missing, rng)
        cols.append(series)
    flat = pl.DataFrame([pl.Series("__hh", household), *cols])
    fields = [c.name for c in cols]
    grouped = flat.group_by("__hh", maintain_order=True).agg(
        pl.struct(fields).alias(spec.name))
    return grouped[spec.name]


def generate(pack: RulePack, n: int, seed: int = 20251125, missing: float = 0.0) -> pl.DataFrame:
    """``n`` households valid under ``pack``'s schema (see module docstring)."""
    rng = np.random.default_rng(seed)
    cols: list[pl.Series] = [pl.Series("id", [f"h{i:07d}" for i in range(n)], pl.String)]
    for spec in pack.schema.groups.values():
        if spec.is_list:
            cols.append(_members(spec, n, missing, rng))
        else:
            cols.append(_group(spec, n, missing, rng))
    return pl.DataFrame(cols)


def write_households(frame: pl.DataFrame, path: Path) -> None:
    """Write generated households as Parquet, or as JSON Lines ``{"id", "facts"}``."""
    if path.suffix.lower() == ".parquet":
        frame.write_parquet(path)
        return
    groups = [c for c in frame.columns if c != "id"]
    docs = frame.select("id", pl.struct(groups).alias("facts"))
    with path.open("w", encoding="utf-8") as fh:
        for row in docs.iter_rows(named=True):
            fh.write(json.dumps({"id": row["id"], "facts": drop_nulls(row["facts"])},
                                default=_json_default, ensure_ascii=False) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() \
            else format(value, "f").rstrip("0")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)
