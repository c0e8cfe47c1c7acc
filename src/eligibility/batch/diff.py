"""Compare two batch outputs (last month's and this month's): what changed, per household.

:func:`diff_outputs` joins OLD and NEW on ``id`` (or on ``row`` when the inputs
have no ids) and gives one row per household and measure that changed:
``kind`` is ``status`` (the status changed), ``amount`` (same status, another
amount), ``requirements`` (same status and amount, but a requirement's outcome
changed: e.g. a second reason for a refusal), ``added`` / ``removed`` (the
household is only in one file) or ``error`` (the row failed in one run and not
the other); with the old and new status and amount, the amount change as an
exact decimal string, and the requirements whose outcome changed
(``requirements_changed``). :func:`summary` counts changes by measure and kind
with the total amount change.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

MIN_SCALE, MAX_SCALE = 2, 18  # amounts keep at least øre; 20 integer digits stay


def _money(frame: pl.DataFrame, columns: list[str]) -> pl.Decimal:
    """The decimal type that holds every amount in ``columns`` exactly: as many places
    as the longest fraction (at least two, at most MAX_SCALE), so an unrounded amount
    is never rounded to the øre on the way to its change."""
    scale = MIN_SCALE
    for c in columns:
        if c in frame.columns:
            places = (frame[c].cast(pl.String).str.split(".").list.get(1, null_on_oob=True)
                      .str.len_chars().max())
            if isinstance(places, int):
                scale = max(scale, places)
    return pl.Decimal(38, min(scale, MAX_SCALE))


def _measures(frame: pl.DataFrame) -> list[str]:
    return [c[: -len(".status")] for c in frame.columns if c.endswith(".status")]


def _requirements(frame: pl.DataFrame, measure: str) -> list[str]:
    prefix = f"{measure}.requirements."
    return [c[len(prefix):] for c in frame.columns if c.startswith(prefix)]


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.String) for c, t in frame.schema.items()
                               if isinstance(t, pl.Enum | pl.Categorical)])


def diff_outputs(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """The changes between two flat batch outputs (see module docstring)."""
    old, new = _as_text(old), _as_text(new)
    by_id = old["id"].null_count() == 0 and new["id"].null_count() == 0 and old.height > 0 \
        and new.height > 0
    key = "id" if by_id else "row"
    a = old.rename({c: f"{c}__old" for c in old.columns if c != key})
    b = new.rename({c: f"{c}__new" for c in new.columns if c != key})
    joined = a.join(b, on=key, how="full", coalesce=True, maintain_order="left_right")
    if key == "id":
        in_old = pl.col("row__old").is_not_null()
        in_new = pl.col("row__new").is_not_null()
    else:
        in_old = pl.col("row").is_in(old["row"].implode())
        in_new = pl.col("row").is_in(new["row"].implode())
    parts = []
    measures = list(dict.fromkeys(_measures(old) + _measures(new)))
    money = max((_money(f, [f"{m}.amount" for m in measures]) for f in (old, new)),
                key=lambda t: t.scale or 0)
    for m in measures:
        def col(name: str, side: str, frame: pl.DataFrame, m: str = m) -> pl.Expr:
            full = f"{m}.{name}"
            if full in frame.columns:
                return pl.col(f"{full}__{side}")
            return pl.lit(None, pl.String)

        so, sn = col("status", "old", old), col("status", "new", new)
        ao, an = col("amount", "old", old), col("amount", "new", new)
        eo = pl.col("error__old") if "error__old" in joined.columns else pl.lit(None)
        en = pl.col("error__new") if "error__new" in joined.columns else pl.lit(None)
        rids = list(dict.fromkeys(_requirements(old, m) + _requirements(new, m)))
        changed_reqs = [pl.when(col(f"requirements.{r}", "old", old).ne_missing(
            col(f"requirements.{r}", "new", new))).then(pl.lit(r)) for r in rids]
        reqs = (pl.concat_list(changed_reqs).list.drop_nulls() if changed_reqs
                else pl.lit([], pl.List(pl.String)))
        kind = (pl.when(in_old.not_()).then(pl.lit("added"))
                .when(in_new.not_()).then(pl.lit("removed"))
                .when(eo.is_null().ne_missing(en.is_null())).then(pl.lit("error"))
                .when(so.ne_missing(sn)).then(pl.lit("status"))
                .when(ao.ne_missing(an)).then(pl.lit("amount"))
                .when(reqs.list.len() > 0).then(pl.lit("requirements")))
        change = (an.cast(money, strict=False).fill_null(Decimal(0))
                  - ao.cast(money, strict=False).fill_null(Decimal(0)))
        parts.append(joined.select(
            pl.col(key),
            pl.lit(m).alias("measure"),
            kind.alias("kind"),
            so.alias("old_status"), sn.alias("new_status"),
            ao.alias("old_amount"), an.alias("new_amount"),
            change.cast(pl.String).alias("amount_change"),
            reqs.alias("requirements_changed"),
        ).filter(pl.col("kind").is_not_null()))
    if not parts:
        return pl.DataFrame(schema={key: pl.String, "measure": pl.String, "kind": pl.String})
    return pl.concat(parts)


def summary(changes: pl.DataFrame) -> pl.DataFrame:
    """Counts of changes by measure and kind, with the total amount change (exact)."""
    if changes.height == 0 or "kind" not in changes.columns:
        return pl.DataFrame(schema={"measure": pl.String, "kind": pl.String,
                                    "households": pl.UInt32, "amount_change": pl.String})
    money = _money(changes, ["amount_change"])
    return (changes.group_by("measure", "kind", maintain_order=True)
            .agg(pl.len().alias("households"),
                 pl.col("amount_change").cast(money).sum().alias("amount_change"))
            .sort("measure", "kind")
            .with_columns(pl.col("amount_change").cast(pl.String)))


__all__ = ["diff_outputs", "summary"]
