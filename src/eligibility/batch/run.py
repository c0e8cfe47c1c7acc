"""Evaluate a facts frame with a backend: one output row per input row, in order.

The output is a flat frame — the batch output contract (docs/batch.md):
``row``, ``id``, ``error``, then per measure in force ``<m>.status`` (an enum of
text values: dictionary-encoded text in Parquet),
``<m>.amount`` (exact decimal string), ``<m>.missing_facts`` (list of paths) and
``<m>.requirements.<r>`` (the outcome of each requirement), then the
``provenance.*`` columns. Backends are a small registry (:data:`BACKENDS`):
``reference`` runs the engine's three-valued closures row by row; ``polars``
runs :class:`~eligibility.compile.polars.PolarsPlan` and hands to the reference
the measures it cannot express and the rows where the reference would raise.
A row that cannot be evaluated gets its error; no row is ever dropped.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from eligibility.batch.frame import facts_of
from eligibility.compile.outcomes import Outcomes
from eligibility.compile.pack import CompiledMeasure
from eligibility.compile.runtime import UNKNOWN, Ctx
from eligibility.engine import Engine
from eligibility.errors import EligibilityError
from eligibility.facts import ValidFacts
from eligibility.pack.model import Measure
from eligibility.version import __version__

if TYPE_CHECKING:
    from eligibility.compile.polars import PolarsPlan
    from eligibility.compile.polars.plan import FrameFacts


@dataclass
class ChunkStats:
    """What a backend did with one chunk (summed into the closing count)."""

    rows: int = 0
    errors: int = 0
    reference_rows: int = 0  # rows the polars backend handed to the reference
    fallback: dict[str, str] = field(default_factory=dict)  # measure -> why

    def add(self, other: ChunkStats) -> None:
        self.rows += other.rows
        self.errors += other.errors
        self.reference_rows += other.reference_rows
        self.fallback.update(other.fallback)


class Backend(Protocol):
    name: str

    def evaluate(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, ChunkStats]: ...


def measures_in_force(engine: Engine, as_of: date) -> list[Measure]:
    return [m for m in engine.pack.measures if m.in_force(as_of)]


def output_schema(engine: Engine, as_of: date) -> dict[str, pl.DataType]:
    """Column names and types of the batch output for ``as_of`` (the contract)."""
    schema: dict[str, pl.DataType] = {"row": pl.Int64(), "id": pl.String(),
                                      "error": pl.String()}
    from eligibility.compile.polars.plan import OUTCOME, STATUS

    for m in measures_in_force(engine, as_of):
        schema[f"{m.id}.status"] = STATUS
        schema[f"{m.id}.amount"] = pl.String()
        schema[f"{m.id}.missing_facts"] = pl.List(pl.String())
        for r in m.requirements:
            if r.in_force(as_of):
                schema[f"{m.id}.requirements.{r.id}"] = OUTCOME
    for key, value in provenance(engine, as_of).items():
        schema[f"provenance.{key}"] = pl.Enum([value])  # one value: stored once per page
    return schema


def provenance(engine: Engine, as_of: date) -> dict[str, str]:
    meta = engine.pack.meta
    return {"pack_id": meta.id, "pack_version": meta.version,
            "content_hash": engine.pack.content_hash, "as_of": as_of.isoformat(),
            "engine_version": __version__}


def format_amount(value: Any, rounding: str = "krone") -> str | None:
    """An amount as the contract writes it: the rounded decimal, or (rounding ``none``)
    the exact value without trailing zeros."""
    if value is None or value is UNKNOWN:
        return None
    if value == 0:
        value = abs(value)
    if rounding == "none":
        return format(Decimal(value).normalize(), "f")
    return str(value)


class ReferenceBackend:
    """The engine's closures, one household at a time (the semantics)."""

    name = "reference"

    def __init__(self, engine: Engine, as_of: date) -> None:
        self.engine = engine
        self.as_of = as_of
        self.schema = output_schema(engine, as_of)
        engine.parameters_at(as_of)  # an AsOfError here stops the run before any row

    def records(self, frame: pl.DataFrame, only: set[str] | None = None) -> list[dict[str, Any]]:
        """Output records (``__row`` + measure columns) of every row of ``frame``."""
        engine, as_of = self.engine, self.as_of
        params, _ = engine.parameters_at(as_of)
        measures = [cm for cm in engine.measures if cm.measure.in_force(as_of)
                    and (only is None or cm.measure.id in only)]
        out = []
        for row in frame.iter_rows(named=True):
            rec: dict[str, Any] = {"__row": row["__row"], "error": row["__error"]}
            if rec["error"] is None:
                try:
                    valid = engine.validate(facts_of(engine.pack, row))
                    for cm, res in self.measure_outcomes(valid, measures, params):
                        mid = cm.measure.id
                        rounding = cm.measure.amount.rounding if cm.measure.amount else ""
                        rec[f"{mid}.status"] = res.status
                        rec[f"{mid}.amount"] = (None if res.status == "not_eligible"
                                                else format_amount(res.amount, rounding))
                        rec[f"{mid}.missing_facts"] = list(res.missing)
                        for creq, outcome, *_ in res.reasons:
                            rec[f"{mid}.requirements.{creq.req.id}"] = outcome
                except (EligibilityError, ArithmeticError) as exc:
                    rec = {"__row": row["__row"], "error": _message(exc)}
            out.append(rec)
        return out

    def measure_outcomes(self, valid: ValidFacts, measures: list[CompiledMeasure],
                         params: dict[str, Any]) -> Iterator[tuple[CompiledMeasure, Outcomes]]:
        """Each of ``measures`` with its outcomes for one validated household."""
        ctx = Ctx(valid.flat, valid.members, self.as_of, params)
        for cm in measures:
            yield cm, self.engine.evaluate_measure(cm, ctx)

    def evaluate(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, ChunkStats]:
        recs = self.records(frame)
        stats = ChunkStats(rows=frame.height, errors=sum(r["error"] is not None for r in recs))
        return finish(self, frame, _records_frame(recs, self.schema)), stats


class ReteBatchBackend(ReferenceBackend):
    """The durable_rules backend (the ``rete`` extra), one household per session: the
    same records as :class:`ReferenceBackend`, executed by forward chaining. Each
    worker process holds its own rete host."""

    name = "rete"

    def __init__(self, engine: Engine, as_of: date) -> None:
        super().__init__(Engine(engine.pack, backend="rete"), as_of)

    def measure_outcomes(self, valid: ValidFacts, measures: list[CompiledMeasure],
                         params: dict[str, Any]) -> Iterator[tuple[CompiledMeasure, Outcomes]]:
        wanted = {id(cm) for cm in measures}
        household = self.engine.outcomes(valid, self.as_of, observe=False, calculation=False)
        for _, cm, res in household.measures:
            if id(cm) in wanted:
                yield cm, res


def _message(exc: BaseException) -> str:
    if isinstance(exc, ArithmeticError):
        return f"arithmetic error ({type(exc).__name__}); check the size of the amounts"
    return str(exc)


def _records_frame(recs: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    cols = {"__row": pl.Int64(), **{k: v for k, v in schema.items()
                                    if k not in ("row", "id") and not k.startswith(
                                        "provenance.")}}
    return pl.DataFrame(recs, schema=cols)


def finish(backend: ReferenceBackend | PolarsBackend, frame: pl.DataFrame,
           results: pl.DataFrame) -> pl.DataFrame:
    """Put ids and provenance around the measure columns, in input order."""
    meta = provenance(backend.engine, backend.as_of)
    joined = frame.select("__row", "__id", "__error").join(
        results, on="__row", how="left", maintain_order="left")
    if "error" not in joined.columns:
        joined = joined.with_columns(pl.lit(None, pl.String).alias("error"))
    joined = _blank_errors(joined.with_columns(
        pl.coalesce("__error", "error").alias("error")))
    cols: list[pl.Expr] = []
    for name, dtype in backend.schema.items():
        if name == "row":
            cols.append(pl.col("__row").alias("row"))
        elif name == "id":
            cols.append(pl.col("__id").alias("id"))
        elif name.startswith("provenance."):
            cols.append(pl.lit(meta[name.split(".", 1)[1]], dtype).alias(name))
        elif name in joined.columns:
            cols.append(pl.col(name).cast(dtype))
        else:
            cols.append(pl.lit(None, dtype).alias(name))
    return joined.select(cols)


class PolarsBackend:
    """:class:`PolarsPlan` for the whole chunk; the reference where polars cannot go."""

    name = "polars"

    def __init__(self, engine: Engine, as_of: date) -> None:
        from eligibility.compile.polars import PolarsPlan
        from eligibility.compile.polars.plan import has_unknown

        self._has_unknown = has_unknown

        self.engine = engine
        self.as_of = as_of
        self.schema = output_schema(engine, as_of)
        self._params, _ = engine.parameters_at(as_of)
        self.plan = PolarsPlan(engine.pack, as_of, self._params)
        #: plans by what the frame's number facts allow (see plan_for)
        self._plans: dict[FrameFacts, PolarsPlan] = {}
        self._lock = threading.Lock()
        self.reference = ReferenceBackend(engine, as_of)
        #: measures the reference evaluates for every row, with the reason
        self.fallback = dict(self.plan.fallback)

    def plan_for(self, frame: pl.DataFrame) -> PolarsPlan:
        """The plan for this frame: household money facts are assumed to be whole øre
        below 9.2e8 and read as Int64 øre, the plan checking that as it evaluates (a
        frame that breaks it is evaluated by a plan for what it holds; see
        PolarsPlan.assumed); other number facts whose values all have at most two
        places (checked here, one pass) are read as øre too, and bounded by the power
        of ten their values stay below. Exact either way; smaller integers are
        faster. Built once per such description of a frame."""
        from eligibility.compile.polars.plan import (
            ORE,
            PLAN_MEMO_LIMIT,
            PolarsPlan,
            frame_facts,
            household_money,
        )

        money = household_money(self.engine.pack)
        facts = frame_facts(self.engine.pack, frame, skip=money)
        plan = self._plans.get(facts)
        if plan is None:
            plan = PolarsPlan(self.engine.pack, self.as_of, self._params,
                              scales=dict.fromkeys(facts.coarse, ORE),
                              bounds=dict(facts.bounds), assume=money)
            if plan.fallback != self.plan.fallback:  # never expected; stay consistent
                plan = self.plan
            with self._lock:
                if len(self._plans) >= PLAN_MEMO_LIMIT:
                    self._plans.clear()
                plan = self._plans.setdefault(facts, plan)
        return plan

    def evaluate(self, frame: pl.DataFrame) -> tuple[pl.DataFrame, ChunkStats]:
        stats = ChunkStats(rows=frame.height, fallback=dict(self.fallback))
        good = frame.filter(pl.col("__error").is_null())
        plan = self.plan_for(good)
        res = plan.amount_text(plan.evaluate(good))
        statuses = [f"{mp.id}.status" for mp in plan.measures]
        empty = pl.lit([], pl.List(pl.String))
        if statuses:
            open_rows = res.filter(pl.any_horizontal(
                [pl.col(s) == "undetermined" for s in statuses]) & ~pl.col("__unsure"))
            # only a row with a missing fact can list missing facts
            subset = good.filter(self._has_unknown(self.engine.pack)).join(
                open_rows.select("__row"), on="__row", how="semi")
            if subset.height:
                res = res.join(plan.missing(subset), on="__row", how="left",
                               maintain_order="left")
                res = res.with_columns([pl.col(f"{mp.id}.missing_facts").fill_null(empty)
                                        for mp in plan.measures])
            else:
                res = res.with_columns([empty.alias(f"{mp.id}.missing_facts")
                                        for mp in plan.measures])
        res = res.with_columns(pl.lit(None, pl.String).alias("error"))
        unsure = res.filter(pl.col("__unsure")).select("__row")
        stats.reference_rows = unsure.height
        parts = [res.filter(~pl.col("__unsure")).drop("__unsure")]
        if unsure.height:
            ref_rows = good.join(unsure, on="__row", how="semi")
            parts.append(_records_frame(self.reference.records(ref_rows), self.schema))
        res = pl.concat(parts, how="diagonal_relaxed")
        if self.fallback:
            rest = good.join(unsure, on="__row", how="anti")
            extra = _records_frame(self.reference.records(rest, only=set(self.fallback)),
                                   self.schema)
            cols = [c for c in extra.columns
                    if c.split(".", 1)[0] in self.fallback and c != "error"]
            extra = extra.select("__row", pl.col("error").alias("__err"), *cols)
            res = res.drop([c for c in cols if c in res.columns]).join(
                extra, on="__row", how="left")
            res = res.with_columns(pl.coalesce("error", "__err").alias("error")).drop("__err")
        out = finish(self, frame, res)
        stats.errors = out.filter(pl.col("error").is_not_null()).height
        return out, stats


def _blank_errors(out: pl.DataFrame) -> pl.DataFrame:
    """A row with an error carries no measure results."""
    if out["error"].null_count() == out.height:  # no error: nothing to blank
        return out
    measure_cols = [c for c in out.columns if "." in c and not c.startswith("provenance.")]
    failed = pl.col("error").is_not_null()
    return out.with_columns([pl.when(failed).then(None).otherwise(pl.col(c)).alias(c)
                             for c in measure_cols])


def _auto(engine: Engine, as_of: date) -> Backend:
    try:
        import polars  # noqa: F401
    except ImportError:  # pragma: no cover - polars is in the batch extra
        return ReferenceBackend(engine, as_of)
    return PolarsBackend(engine, as_of)


#: Backend name -> factory. ``auto`` picks polars where it is installed.
BACKENDS: dict[str, Callable[[Engine, date], Backend]] = {
    "auto": _auto,
    "polars": PolarsBackend,
    "reference": ReferenceBackend,
    "rete": ReteBatchBackend,
}


def make_backend(name: str, engine: Engine, as_of: date) -> Backend:
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise EligibilityError(
            f"unknown backend {name!r} (choose from {', '.join(BACKENDS)})") from None
    return factory(engine, as_of)
