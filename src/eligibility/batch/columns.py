"""Validate households that arrive as columns (Parquet, Arrow, Dask partitions).

The input shape is one row per household: an optional ``id`` column, one struct
column per group of the fact schema and ``members`` as a list of structs (or a
single ``facts`` column of such documents, as JSON text). :func:`facts_frame`
checks every value with polars expressions — type, enum value, minimum,
maximum, required fields, the number of members, names the schema does not
know — and returns a facts frame (:mod:`eligibility.batch.frame`). A bad value
gives its row an error that names the field path (``members[2].age``) and the
value seen; the row keeps its place. Rows that need a check polars cannot do
here are validated one by one with the pack's validator instead.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from eligibility.batch.frame import META, build_frame, frame_schema, raw_rows
from eligibility.compile.polars.compiler import DEC
from eligibility.compile.polars.plan import DTYPES, KINDS
from eligibility.facts import FactValidator
from eligibility.pack.model import FieldSpec, RulePack

_EXPECTED = {"bool": "true or false", "int": "a whole number", "number": "a number",
             "money": "an amount", "date": "a date YYYY-MM-DD", "string": "text",
             "enum": "one of"}


def _issue(path: pl.Expr | str, message: str, value: pl.Expr) -> pl.Expr:
    where = pl.lit(path) if isinstance(path, str) else path
    return where + pl.lit(f": {message} (got ") + value.cast(pl.String).fill_null("null") + ")"


def _field_checks(spec: FieldSpec, src: pl.Expr, dtype: pl.DataType,
                  path: pl.Expr | str) -> tuple[pl.Expr, list[pl.Expr]]:
    """The value cast to its column type, and one issue expression per check."""
    target = DTYPES[KINDS[spec.kind]]
    issues: list[pl.Expr] = []
    if spec.kind == "bool" and dtype not in (pl.Boolean, pl.Null):
        value = pl.lit(None, pl.Boolean)
        issues.append(pl.when(src.is_not_null()).then(
            _issue(path, "Input should be a valid boolean", src)))
        return value, issues
    if spec.kind in ("enum", "string") and dtype not in (pl.String, pl.Null, pl.Categorical):
        issues.append(pl.when(src.is_not_null()).then(
            _issue(path, "Input should be a valid string", src)))
        return pl.lit(None, pl.String), issues
    if spec.kind == "int" and dtype.is_float():
        value = src.cast(pl.Int64, strict=False)
        bad = src.is_not_null() & (value.is_null() | (value.cast(pl.Float64) != src))
        issues.append(pl.when(bad).then(
            _issue(path, "Input should be a valid integer", src)))
    elif spec.kind in ("number", "money") and dtype.is_float():
        value = src.cast(pl.String).cast(DEC, strict=False)
        bad = src.is_not_null() & value.is_null()
        issues.append(pl.when(bad).then(_issue(path, "Input should be a finite number", src)))
    else:
        value = src.cast(target, strict=False)
        if spec.kind == "date" and dtype == pl.String:
            value = src.str.to_date("%Y-%m-%d", strict=False)
        bad = src.is_not_null() & value.is_null()
        text = {"int": "Input should be a valid integer", "date": "Input should be a "
                "valid date", "money": "Input should be a valid decimal",
                "number": "Input should be a valid decimal"}.get(spec.kind, "invalid value")
        issues.append(pl.when(bad).then(_issue(path, text, src)))
    if spec.kind == "enum":
        values = [str(v) for v in spec.values or ()]
        issues.append(pl.when(value.is_not_null() & value.is_in(values).not_()).then(
            _issue(path, "Input should be " + ", ".join(repr(v) for v in values), value)))
    if spec.kind in ("int", "number", "money"):
        if spec.minimum is not None:
            issues.append(pl.when(value < spec.minimum).then(_issue(
                path, f"Input should be greater than or equal to {spec.minimum}", value)))
        if spec.maximum is not None:
            issues.append(pl.when(value > spec.maximum).then(_issue(
                path, f"Input should be less than or equal to {spec.maximum}", value)))
    if spec.required:
        issues.append(pl.when(src.is_null()).then(pl.lit(path) + pl.lit(": Field required")
                                                  if isinstance(path, str) else
                                                  path + pl.lit(": Field required")))
    return value, issues


def _join(issues: list[pl.Expr]) -> pl.Expr:
    if not issues:
        return pl.lit(None, pl.String)
    text = pl.concat_str(issues, separator="; ", ignore_nulls=True)
    count = pl.sum_horizontal([i.is_not_null().cast(pl.Int64) for i in issues])
    return pl.when(count > 0).then(count.cast(pl.String) + " invalid fact(s): " + text)


def facts_frame(pack: RulePack, df: pl.DataFrame, start: int = 0,
                validator: FactValidator | None = None) -> pl.DataFrame:
    """Validate an input-shape frame into a facts frame; row numbers from ``start``."""
    if "facts" in df.columns and not any(g in df.columns for g in pack.schema.groups):
        return _json_column(pack, df, start, validator or FactValidator(pack.schema))
    schema = frame_schema(pack)
    exprs: list[pl.Expr] = [pl.int_range(pl.len(), dtype=pl.Int64).alias("__row") + start]
    exprs.append(pl.col("id").cast(pl.String).alias("__id") if "id" in df.columns
                 else pl.lit(None, pl.String).alias("__id"))
    issues: list[pl.Expr] = []
    for name in df.columns:
        if name != "id" and name not in pack.schema.groups:
            issues.append(pl.when(pl.col(name).is_not_null()).then(
                pl.lit(f"{name}: not a group of this pack's fact schema")))
    for group in pack.schema.groups.values():
        present = group.name in df.columns
        dtype = df.schema[group.name] if present else pl.Null()
        if group.is_list:
            values, more = _members(group.fields, pl.col(group.name), dtype, group.max_items,
                                    group.name)
            issues.extend(more)
            exprs.append(values.alias(group.name) if present else
                         pl.lit(None, schema[group.name]).alias(group.name))
            continue
        fields: dict[str, Any] = {}
        if present and isinstance(dtype, pl.Struct):
            fields = {f.name: f.dtype for f in dtype.fields}
        elif present and dtype != pl.Null:
            issues.append(pl.when(pl.col(group.name).is_not_null()).then(
                pl.lit(f"{group.name}: Input should be an object")))
        for extra in sorted(set(fields) - set(group.fields)):
            issues.append(pl.when(pl.col(group.name).struct.field(extra).is_not_null()).then(
                pl.lit(f"{group.name}.{extra}: not a fact of this pack's schema")))
        for spec in group.fields.values():
            target = schema[spec.path]
            if spec.name not in fields:
                exprs.append(pl.lit(None, target).alias(spec.path))
                if spec.required:
                    issues.append(pl.lit(f"{spec.path}: Field required"))
                continue
            src = pl.col(group.name).struct.field(spec.name)
            value, more = _field_checks(spec, src, fields[spec.name], spec.path)
            issues.extend(more)
            exprs.append(value.cast(target).alias(spec.path))
    exprs.append(_join(issues).alias("__error"))
    out = df.select(exprs)
    return out.select(list(schema))


def _members(fields: Any, col: pl.Expr, dtype: pl.DataType, max_items: int | None,
             name: str) -> tuple[pl.Expr, list[pl.Expr]]:
    specs: dict[str, FieldSpec] = dict(fields)
    target = pl.List(pl.Struct({k: DTYPES[KINDS[s.kind]] for k, s in specs.items()}))
    issues: list[pl.Expr] = []
    if dtype == pl.Null:
        return pl.lit(None, target), issues
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        issues.append(pl.when(col.is_not_null()).then(
            pl.lit(f"{name}: Input should be a valid list of members")))
        return pl.lit(None, target), issues
    present = {f.name: f.dtype for f in dtype.inner.fields}
    index = pl.lit(f"{name}[") + pl.int_range(pl.len()).cast(pl.String) + pl.lit("]")
    member_values: list[pl.Expr] = []
    member_issues: list[pl.Expr] = []
    for extra in sorted(set(present) - set(specs)):
        member_issues.append(pl.when(pl.element().struct.field(extra).is_not_null()).then(
            index + pl.lit(f".{extra}: not a fact of this pack's schema")))
    for key, spec in specs.items():
        kind_dtype = DTYPES[KINDS[spec.kind]]
        if key not in present:
            member_values.append(pl.lit(None, kind_dtype).alias(key))
            if spec.required:
                member_issues.append(index + pl.lit(f".{key}: Field required"))
            continue
        src = pl.element().struct.field(key)
        value, more = _field_checks(spec, src, present[key], index + pl.lit(f".{key}"))
        member_values.append(value.cast(kind_dtype).alias(key))
        member_issues.extend(more)
    values = col.list.eval(pl.struct(member_values)).cast(target)
    if member_issues:
        per = col.list.eval(pl.concat_str(member_issues, separator="; ", ignore_nulls=True))
        joined = per.list.eval(pl.element().filter(pl.element() != "")).list.join("; ")
        issues.append(pl.when(joined != "").then(joined))
    most = max_items or 100
    issues.append(pl.when(col.list.len() > most).then(
        pl.lit(f"{name}: List should have at most {most} items after validation, not ")
        + col.list.len().cast(pl.String)))
    return values, issues


def _json_column(pack: RulePack, df: pl.DataFrame, start: int,
                 validator: FactValidator) -> pl.DataFrame:
    import json

    ids = df["id"].cast(pl.String).to_list() if "id" in df.columns else [None] * df.height
    rows = []
    for i, text in enumerate(df["facts"].to_list()):
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError as exc:
            value, err = None, f"facts: not valid JSON ({exc})"
        else:
            err = None
        rows.append((start + i, value, err, ids[i]))
    raws = raw_rows((r, v) for r, v, _, _ in rows)
    fixed = [type(raw)(raw.row, ident if ident is not None else raw.id, raw.facts, err)
             for raw, (_, _, err, ident) in zip(raws, rows, strict=True)]
    return build_frame(pack, validator, fixed)


__all__ = ["META", "facts_frame"]
