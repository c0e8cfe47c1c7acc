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


Issue = tuple[pl.Expr, pl.Expr]  # (true where the value is bad, the message there)


def _message(path: pl.Expr | str, message: str, value: pl.Expr | None = None) -> pl.Expr:
    where = pl.lit(path) if isinstance(path, str) else path
    if value is None:
        return where + pl.lit(f": {message}")
    return where + pl.lit(f": {message} (got ") + value.cast(pl.String).fill_null("null") + ")"


def _issue(path: pl.Expr | str, message: str, value: pl.Expr | None,
           bad: pl.Expr) -> Issue:
    return bad.fill_null(False), _message(path, message, value)


def _field_checks(spec: FieldSpec, src: pl.Expr, dtype: pl.DataType,
                  path: pl.Expr | str) -> tuple[pl.Expr, list[Issue]]:
    """The value cast to its column type, and one issue per check."""
    target = DTYPES[KINDS[spec.kind]]
    issues: list[Issue] = []
    if spec.kind == "bool" and dtype not in (pl.Boolean, pl.Null):
        value = pl.lit(None, pl.Boolean)
        issues.append(_issue(path, "Input should be a valid boolean", src, src.is_not_null()))
        return value, issues
    if spec.kind in ("enum", "string") and dtype not in (pl.String, pl.Null, pl.Categorical):
        issues.append(_issue(path, "Input should be a valid string", src, src.is_not_null()))
        return pl.lit(None, pl.String), issues
    if spec.kind == "int" and dtype.is_float():
        value = src.cast(pl.Int64, strict=False)
        bad = src.is_not_null() & (value.is_null() | (value.cast(pl.Float64) != src))
        issues.append(_issue(path, "Input should be a valid integer", src, bad))
    elif spec.kind in ("number", "money") and dtype.is_float():
        value = src.cast(pl.String).cast(DEC, strict=False)
        bad = src.is_not_null() & value.is_null()
        issues.append(_issue(path, "Input should be a finite number", src, bad))
    else:
        value = src.cast(target, strict=False)
        if spec.kind == "date" and dtype == pl.String:
            value = src.str.to_date("%Y-%m-%d", strict=False)
        bad = src.is_not_null() & value.is_null()
        text = {"int": "Input should be a valid integer", "date": "Input should be a "
                "valid date", "money": "Input should be a valid decimal",
                "number": "Input should be a valid decimal"}.get(spec.kind, "invalid value")
        issues.append(_issue(path, text, src, bad))
    if spec.kind == "enum":
        values = [str(v) for v in spec.values or ()]
        issues.append(_issue(path, "Input should be " + ", ".join(repr(v) for v in values),
                             value, value.is_not_null() & value.is_in(values).not_()))
    if spec.kind in ("int", "number", "money"):
        if spec.minimum is not None:
            issues.append(_issue(path, f"Input should be greater than or equal to "
                                 f"{spec.minimum}", value, value < spec.minimum))
        if spec.maximum is not None:
            issues.append(_issue(path, f"Input should be less than or equal to "
                                 f"{spec.maximum}", value, value > spec.maximum))
    if spec.required:
        issues.append(_issue(path, "Field required", None, src.is_null()))
    return value, issues


def _join(issues: list[Issue]) -> pl.Expr:
    if not issues:
        return pl.lit(None, pl.String)
    text = pl.concat_str([pl.when(bad).then(msg) for bad, msg in issues], separator="; ",
                         ignore_nulls=True)
    count = pl.sum_horizontal([bad.cast(pl.Int64) for bad, _ in issues])
    return pl.when(count > 0).then(count.cast(pl.String) + " invalid fact(s): " + text)


def _any_bad(issues: list[Issue]) -> pl.Expr:
    return pl.any_horizontal([bad for bad, _ in issues]) if issues else pl.lit(False)


def facts_frame(pack: RulePack, df: pl.DataFrame, start: int = 0,
                validator: FactValidator | None = None) -> pl.DataFrame:
    """Validate an input-shape frame into a facts frame; row numbers from ``start``.

    Checks run as booleans over all rows; the messages are built only for the rows
    that fail one.
    """
    if "facts" in df.columns and not any(g in df.columns for g in pack.schema.groups):
        return _json_column(pack, df, start, validator or FactValidator(pack.schema))
    schema = frame_schema(pack)
    exprs: list[pl.Expr] = [(pl.int_range(pl.len(), dtype=pl.Int64) + start).alias("__row")]
    exprs.append(pl.col("id").cast(pl.String).alias("__id") if "id" in df.columns
                 else pl.lit(None, pl.String).alias("__id"))
    issues: list[Issue] = []
    for name in df.columns:
        if name != "id" and name not in pack.schema.groups:
            issues.append(_issue(name, "not a group of this pack's fact schema", None,
                                 pl.col(name).is_not_null()))
    for group in pack.schema.groups.values():
        present = group.name in df.columns
        dtype = df.schema[group.name] if present else pl.Null()
        if group.is_list:
            values, more = _members(group.fields, pl.col(group.name), dtype, group.max_items,
                                    group.name, schema[group.name])
            issues.extend(more)
            exprs.append(values.alias(group.name))
            continue
        fields: dict[str, Any] = {}
        if present and isinstance(dtype, pl.Struct):
            fields = {f.name: f.dtype for f in dtype.fields}
        elif present and dtype != pl.Null:
            issues.append(_issue(group.name, "Input should be an object", None,
                                 pl.col(group.name).is_not_null()))
        for extra in sorted(set(fields) - set(group.fields)):
            issues.append(_issue(f"{group.name}.{extra}", "not a fact of this pack's schema",
                                 None, pl.col(group.name).struct.field(extra).is_not_null()))
        for spec in group.fields.values():
            target = schema[spec.path]
            if spec.name not in fields:
                exprs.append(pl.lit(None, target).alias(spec.path))
                if spec.required:
                    issues.append(_issue(spec.path, "Field required", None, pl.lit(True)))
                continue
            src = pl.col(group.name).struct.field(spec.name)
            value, more = _field_checks(spec, src, fields[spec.name], spec.path)
            issues.extend(more)
            exprs.append(value.cast(target).alias(spec.path))
    exprs.append(_any_bad(issues).alias("__bad"))
    out = df.select(exprs)
    bad = out["__bad"]
    if not bad.any():
        return out.select(pl.lit(None, pl.String).alias("__error"), pl.all()).select(
            list(schema))
    messages = df.filter(bad).select(_join(issues).alias("__error"))["__error"]
    errors = pl.Series("__error", [None] * df.height, pl.String).scatter(
        bad.arg_true(), messages)
    blank = [pl.when(pl.col("__error").is_null()).then(pl.col(c)).otherwise(None).alias(c)
             for c in schema if c not in META]
    return out.with_columns(errors).with_columns(blank).select(list(schema))


def _members(fields: Any, col: pl.Expr, dtype: pl.DataType, max_items: int | None,
             name: str, target: pl.DataType) -> tuple[pl.Expr, list[Issue]]:
    specs: dict[str, FieldSpec] = dict(fields)
    issues: list[Issue] = []
    if dtype == pl.Null:
        return pl.lit(None, target), issues
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        issues.append(_issue(name, "Input should be a valid list of members", None,
                             col.is_not_null()))
        return pl.lit(None, target), issues
    present: dict[str, Any] = {f.name: f.dtype for f in dtype.inner.fields}
    index = pl.lit(f"{name}[") + pl.int_range(pl.len()).cast(pl.String) + pl.lit("]")
    member_values: list[pl.Expr] = []
    member_issues: list[Issue] = []
    for extra in sorted(set(present) - set(specs)):
        member_issues.append(_issue(index + pl.lit(f".{extra}"),
                                    "not a fact of this pack's schema", None,
                                    pl.element().struct.field(extra).is_not_null()))
    for key, spec in specs.items():
        kind_dtype = DTYPES[KINDS[spec.kind]]
        if key not in present:
            member_values.append(pl.lit(None, kind_dtype).alias(key))
            if spec.required:
                member_issues.append(_issue(index + pl.lit(f".{key}"), "Field required", None,
                                            pl.lit(True)))
            continue
        src = pl.element().struct.field(key)
        value, more = _field_checks(spec, src, present[key], index + pl.lit(f".{key}"))
        member_values.append(value.cast(kind_dtype).alias(key))
        member_issues.extend(more)
    values = col if dtype == target else col.list.eval(pl.struct(member_values)).cast(target)
    if member_issues:
        any_bad = col.list.eval(_any_bad(member_issues)).list.any().fill_null(False)
        per = col.list.eval(pl.concat_str([pl.when(b).then(m) for b, m in member_issues],
                                          separator="; ", ignore_nulls=True))
        joined = per.list.eval(pl.element().filter(pl.element() != "")).list.join("; ")
        issues.append((any_bad, joined))
    most = max_items or 100
    issues.append(_issue(name, f"List should have at most {most} items after validation, not",
                         None, col.list.len() > most))
    return values, issues


def _json_column(pack: RulePack, df: pl.DataFrame, start: int,
                 validator: FactValidator) -> pl.DataFrame:
    import json

    ids = df["id"].cast(pl.String).to_list() if "id" in df.columns else [None] * df.height
    rows: list[tuple[int, Any, str | None, Any]] = []
    for i, text in enumerate(df["facts"].to_list()):
        err: str | None = None
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError as exc:
            value, err = None, f"facts: not valid JSON ({exc})"
        rows.append((start + i, value, err, ids[i]))
    raws = raw_rows((r, v) for r, v, _, _ in rows)
    fixed = [type(raw)(raw.row, ident if ident is not None else raw.id, raw.facts, err)
             for raw, (_, _, err, ident) in zip(raws, rows, strict=True)]
    return build_frame(pack, validator, fixed)


__all__ = ["META", "facts_frame"]
