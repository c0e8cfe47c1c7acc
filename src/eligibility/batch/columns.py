"""Validate households that arrive as columns (Parquet, Arrow, Dask partitions).

The input shape is one row per household: an optional ``id`` column, one struct
column per group of the fact schema and ``members`` as a list of structs (or a
single ``facts`` column of such documents, as JSON text). :func:`facts_frame`
returns a facts frame (:mod:`eligibility.batch.frame`) with the same rows, errors
and values as the row validator (:class:`~eligibility.facts.FactValidator`, the
one ``eligibility evaluate`` uses) would give, but checks the values with polars
expressions: :func:`suspect_rows` marks, per row, every value the validator might
refuse or read differently (a wrong type, an unknown enum value, a number out of
the field's or the engine's bounds, more places or digits than the validator
takes, an unknown name, a missing required fact, too few or too many members, a
null member, a text too long, a date Python cannot hold). The rows it marks —
the rare ones — are turned back into facts documents and validated one by one, so
a bad row gets exactly the validator's error (field path, message, value seen);
the rest are read from the columns. A null value is a missing fact (Parquet has
no other way to leave one out). docs/batch.md lists what still differs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import polars as pl

from eligibility.batch.frame import (
    META,
    PLACES,
    RawRow,
    build_frame,
    drop_nulls,
    frame_schema,
    raw_rows,
)
from eligibility.compile.polars.compiler import DEC
from eligibility.compile.polars.plan import DTYPES, KINDS
from eligibility.errors import FactIssue, FactsError
from eligibility.facts import FactValidator
from eligibility.limits import (
    DEFAULT_MAX_MEMBERS,
    MAX_NUMBER_DIGITS,
    MAX_NUMBER_EXPONENT,
    MAX_OBJECT_KEYS,
    MAX_STRING_LENGTH,
)
from eligibility.pack.model import FieldSpec, GroupSpec, RulePack

_INT64 = (-(2**63), 2**63 - 1)
_BOUND = 10**MAX_NUMBER_EXPONENT  # the validator's bound where the schema gives none
#: A number written as text that the validator reads as exactly this decimal: at most
#: 20 digits before the point (so at most 30 significant digits), at most PLACES after.
_NUMBER_TEXT = rf"^-?[0-9]{{1,{MAX_NUMBER_DIGITS - PLACES}}}(\.[0-9]{{1,{PLACES}}})?$"
#: A float whose shortest text has no exponent and at most PLACES places.
_FLOAT_TEXT = rf"^-?[0-9]+(\.[0-9]{{1,{PLACES}}})?$"
_TEXT = (pl.String, pl.Categorical, pl.Enum)
_EXACT = float(2**53)  # integers a float holds exactly
#: Dates Python (and so the validator) can hold.
_DATES = (date(1, 1, 1), date(9999, 12, 31))


def _is_text(dtype: pl.DataType) -> bool:
    return isinstance(dtype, _TEXT) or dtype == pl.String


def _bounds(spec: FieldSpec) -> tuple[Any, Any]:
    lo = spec.minimum if spec.minimum is not None else -_BOUND
    hi = spec.maximum if spec.maximum is not None else _BOUND
    return lo, hi


def _out_of(value: pl.Expr, lo: Any, hi: Any) -> pl.Expr:
    return (value < pl.lit(lo)) | (value > pl.lit(hi))


def _decimal(spec: FieldSpec, src: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    """A number or money value as ``Decimal(38, 10)``, and where the column cannot vouch
    for it."""
    lo, hi = _bounds(spec)
    if dtype.is_integer():
        wide = src.cast(pl.Int128)
        return wide.cast(DEC, strict=False), _out_of(wide, lo, hi)
    if isinstance(dtype, pl.Decimal) and (dtype.scale or 0) <= PLACES:
        scale = dtype.scale or 0
        # the validator counts the digits Python's Decimal shows: trailing zeros too
        digits = src.abs() >= pl.lit(Decimal(10) ** (MAX_NUMBER_DIGITS - scale))
        return src.cast(DEC, strict=False), digits | _out_of(src, lo, hi)
    if dtype.is_float():
        text = src.cast(pl.String)
        # (beyond 2^53 a float may be a JSON integer that lost digits in decoding)
        plain = src.is_finite() & (src.abs() < _EXACT) & text.str.contains(_FLOAT_TEXT)
        value = pl.when(plain).then(text).cast(DEC, strict=False)
        return value, ~plain | value.is_null() | _out_of(value, lo, hi)
    if _is_text(dtype):
        text = src.cast(pl.String)
        plain = text.str.contains(_NUMBER_TEXT)
        value = pl.when(plain).then(text).cast(DEC, strict=False)
        return value, ~plain | value.is_null() | _out_of(value, lo, hi)
    return pl.lit(None, DEC), pl.lit(True)


def _integer(spec: FieldSpec, src: pl.Expr, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr]:
    lo, hi = _bounds(spec)
    lo, hi = max(lo, _INT64[0]), min(hi, _INT64[1])  # the frame holds Int64
    if dtype.is_integer():
        wide = src.cast(pl.Int128)
        return wide.cast(pl.Int64, strict=False), _out_of(wide, lo, hi)
    if dtype.is_float():
        whole = src.is_finite() & (src.floor() == src) & (src >= float(lo)) & (
            src <= float(hi)) & (src.abs() < _EXACT)
        value = pl.when(whole).then(src).cast(pl.Int64, strict=False)
        return value, ~whole | value.is_null() | _out_of(value, lo, hi)
    return pl.lit(None, pl.Int64), pl.lit(True)


#: Text that JSON decoding in columns may have made from a number or a boolean (a
#: field with both in one chunk is decoded as text).
_JSON_SCALAR = r"^(-?[0-9][0-9.eE+-]*|true|false)$"


def _field(spec: FieldSpec, src: pl.Expr, dtype: pl.DataType,
           json: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """The value in its frame type, and (null-safe) where the row must go to the
    validator: a value it might refuse or read differently. Nulls are missing facts.
    ``json``: the columns were decoded from JSON text (a text value may have been a
    number there)."""
    target = DTYPES[KINDS[spec.kind]]
    if dtype == pl.Null:
        return pl.lit(None, target), pl.lit(False)
    kind = spec.kind
    if kind == "bool" and dtype == pl.Boolean:
        value, bad = src, pl.lit(False)
    elif kind == "int":
        value, bad = _integer(spec, src, dtype)
    elif kind in ("number", "money"):
        value, bad = _decimal(spec, src, dtype)
    elif kind == "enum" and _is_text(dtype):
        value = src.cast(pl.String)
        bad = value.is_in([str(v) for v in spec.values or ()]).not_()
        if json:
            bad = bad | value.str.contains(_JSON_SCALAR)
    elif kind == "string" and _is_text(dtype):
        value = src.cast(pl.String)
        bad = value.str.len_chars() > MAX_STRING_LENGTH
        if json:
            bad = bad | value.str.contains(_JSON_SCALAR)
    elif kind == "date" and dtype == pl.Date:
        value, bad = src, _out_of(src, *_DATES)
    else:  # a type the validator may convert (or refuse): it decides
        value, bad = pl.lit(None, target), pl.lit(True)
    return value.cast(target, strict=False), (src.is_not_null() & bad).fill_null(True)


def _fields(group: GroupSpec, dtype: pl.Struct, col: pl.Expr, target: dict[str, pl.DataType],
            json: bool) -> tuple[list[pl.Expr], list[pl.Expr]]:
    """Values and suspect flags of one struct of ``group`` (a group, or one member)."""
    present: dict[str, Any] = {f.name: f.dtype for f in dtype.fields}
    values: list[pl.Expr] = []
    flags: list[pl.Expr] = []
    if len(present) > MAX_OBJECT_KEYS:
        flags.append(col.is_not_null())
    for extra in sorted(set(present) - set(group.fields)):
        flags.append(col.struct.field(extra).is_not_null())
    for spec in group.fields.values():
        name = target_name = spec.path if not group.is_list else spec.name
        if spec.name not in present:
            values.append(pl.lit(None, target[name]).alias(target_name))
            if spec.required:
                flags.append(col.is_not_null())
            continue
        src = col.struct.field(spec.name)
        value, bad = _field(spec, src, present[spec.name], json)
        if spec.required:
            bad = bad | (col.is_not_null() & src.is_null())
        values.append(value.alias(target_name))
        flags.append(bad)
    return values, flags


def _members(group: GroupSpec, dtype: pl.DataType, target: pl.DataType, json: bool
             ) -> tuple[pl.Expr, list[pl.Expr]]:
    col = pl.col(group.name)
    if dtype == pl.Null:
        return pl.lit(None, target).alias(group.name), []
    if not isinstance(dtype, pl.List) or not isinstance(dtype.inner, pl.Struct):
        return pl.lit(None, target).alias(group.name), [col.is_not_null()]
    assert isinstance(target, pl.List) and isinstance(target.inner, pl.Struct)
    inner: dict[str, pl.DataType] = {f.name: f.dtype for f in target.inner.fields
                                     if isinstance(f.dtype, pl.DataType)}
    values, each = _fields(group, dtype.inner, pl.element(), inner, json)
    most = group.max_items or DEFAULT_MAX_MEMBERS
    size = col.list.len()
    # at least one member (an empty list is not "unknown"), at most ``most``, none null
    each.append(pl.element().is_null())
    flags = [(size == 0) | (size > most), col.list.eval(pl.any_horizontal(each)).list.any()]
    member = col.list.eval(pl.struct(values)).cast(target, strict=False)
    return member.alias(group.name), [f.fill_null(False) for f in flags]


def suspect_rows(pack: RulePack, df: pl.DataFrame, json: bool = False
                 ) -> tuple[pl.DataFrame, pl.Series]:
    """The facts columns of ``df`` (input shape, with ``__row`` from 0) and, per row,
    whether the columns cannot vouch for it: the rows to validate one by one
    (``json``: see :func:`_field`)."""
    schema = frame_schema(pack)
    exprs: list[pl.Expr] = []
    flags: list[pl.Expr] = []
    for name in df.columns:
        if name != "id" and name not in pack.schema.groups:
            flags.append(pl.col(name).is_not_null())  # an unknown name (null: left out)
    for group in pack.schema.groups.values():
        dtype = df.schema.get(group.name, pl.Null())
        col = pl.col(group.name) if group.name in df.columns else pl.lit(None)
        if group.is_list:
            member, more = _members(group, dtype, schema[group.name], json)
            exprs.append(member)
            flags.extend(more)
            continue
        if not isinstance(dtype, pl.Struct):
            if dtype != pl.Null:
                flags.append(col.is_not_null())
            exprs.extend(pl.lit(None, schema[s.path]).alias(s.path)
                         for s in group.fields.values())
            continue
        values, more = _fields(group, dtype, col, schema, json)
        exprs.extend(values)
        flags.extend(more)
    bad = pl.any_horizontal(flags) if flags else pl.lit(False)
    out = df.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("__row"), *exprs,
                    bad.fill_null(True).alias("__suspect"))
    return out.drop("__suspect"), out["__suspect"]


def unknown_names(pack: RulePack, df: pl.DataFrame) -> set[str]:
    """Names in ``df``'s columns and structs that the fact schema does not know."""
    out = {c for c in df.columns if c != "id" and c not in pack.schema.groups}
    for group in pack.schema.groups.values():
        dtype: Any = df.schema.get(group.name)
        if isinstance(dtype, pl.List):
            dtype = dtype.inner
        if isinstance(dtype, pl.Struct):
            out |= {f.name for f in dtype.fields} - set(group.fields)
    return out


def facts_frame(pack: RulePack, df: pl.DataFrame, start: int = 0,
                validator: FactValidator | None = None) -> pl.DataFrame:
    """Validate an input-shape frame into a facts frame; row numbers from ``start``."""
    validator = validator or FactValidator(pack.schema)
    if "facts" in df.columns and not any(g in df.columns for g in pack.schema.groups):
        wrapped = df.schema["facts"]
        if wrapped == pl.String:  # facts documents as JSON text
            return _json_column(pack, df, start, validator)
        if isinstance(wrapped, pl.Struct) and set(df.columns) <= {"id", "facts"}:
            return _wrapped(pack, df, start, validator)
    return _checked(pack, df, start, validator)


def _checked(pack: RulePack, df: pl.DataFrame, start: int,
             validator: FactValidator) -> pl.DataFrame:
    """The facts frame of groups in columns: checked in columns, suspect rows by the
    validator."""
    schema = frame_schema(pack)
    ids = _ids(df)
    values, suspect = suspect_rows(pack, df)
    out = values.with_columns(pl.col("__row") + start, ids,
                              pl.lit(None, pl.String).alias("__error")).select(list(schema))
    if not suspect.any():
        return out
    picked = df.filter(suspect)
    rows = [RawRow(r, i, facts, err) for r, i, (facts, err) in zip(
        out["__row"].filter(suspect).to_list(), ids.filter(suspect).to_list(),
        _documents(pack, picked), strict=True)]
    checked = build_frame(pack, validator, rows)
    return pl.concat([out.filter(~suspect), checked]).sort("__row")


def _wrapped(pack: RulePack, df: pl.DataFrame, start: int,
             validator: FactValidator) -> pl.DataFrame:
    """``{"id": ..., "facts": {...}}`` rows as columns: the groups are the fields of the
    ``facts`` struct; a row whose ``facts`` is null has no facts document (an error,
    as for JSON Lines)."""
    missing = df["facts"].is_null()
    facts = df["facts"]
    assert isinstance(facts.dtype, pl.Struct)
    names = [f.name for f in facts.dtype.fields]
    if "id" in names:  # an unknown name that would clash with the row's id: by rows
        ids = _ids(df).to_list()
        docs = _documents(pack, pl.DataFrame([facts]))  # {"facts": {...}} each
        return build_frame(pack, validator, [
            RawRow(start + i, ids[i], None if doc is None else doc.get("facts"), err)
            for i, (doc, err) in enumerate(docs)])
    inner = pl.DataFrame([facts.struct.field(n) for n in names], height=df.height)
    if "id" in df.columns:
        inner = inner.with_columns(df["id"])
    out = _checked(pack, inner, start, validator)
    if not missing.any():
        return out
    error = str(FactsError([FactIssue("(facts)", "the facts must be a mapping of groups",
                                      "NoneType", "an object")]))
    blank = [pl.when(missing).then(None).otherwise(pl.col(c)).alias(c)
             for c in out.columns if c not in META]
    return out.with_columns(blank).with_columns(
        pl.when(missing).then(pl.lit(error)).otherwise(pl.col("__error")).alias("__error"))


def _ids(df: pl.DataFrame) -> pl.Series:
    if "id" not in df.columns:
        return pl.Series("__id", [None] * df.height, pl.String)
    column = df["id"]
    try:
        return column.cast(pl.String).alias("__id")
    except (pl.exceptions.PolarsError, TypeError):  # a nested id: its Python text
        return pl.Series("__id", [None if v is None else str(v) for v in column.to_list()],
                         pl.String)


def _documents(pack: RulePack, df: pl.DataFrame) -> list[tuple[Any, str | None]]:
    """Each row of ``df`` as a facts document for the validator, or the error of a row
    whose values Python cannot hold (a date beyond year 9999, say)."""
    facts = df.drop("id") if "id" in df.columns else df
    try:
        return [(drop_nulls(row), None) for row in facts.iter_rows(named=True)]
    except _UNREADABLE:
        pass
    out: list[tuple[Any, str | None]] = []
    for i in range(facts.height):
        one = facts.slice(i, 1)
        try:
            out.append((drop_nulls(one.row(0, named=True)), None))
        except _UNREADABLE as exc:
            out.append((None, str(FactsError([FactIssue(_unreadable(one), "a value cannot be "
                                                         f"read here ({exc})")]))))
    return out


_UNREADABLE = (ValueError, OverflowError, TypeError, pl.exceptions.PolarsError)


def _readable(series: pl.Series) -> bool:
    try:
        series.to_list()
    except _UNREADABLE:
        return False
    return True


def _unreadable(one: pl.DataFrame) -> str:
    """The path of the first value of a one-row frame that Python cannot hold."""
    for name in one.columns:
        column = one[name]
        if _readable(column):
            continue
        listed = isinstance(column.dtype, pl.List)
        items = column.explode() if listed else column
        if not isinstance(items.dtype, pl.Struct):
            return name
        for field in items.dtype.fields:
            values = items.struct.field(field.name)
            if _readable(values):
                continue
            if not listed:
                return f"{name}.{field.name}"
            k = next(k for k in range(values.len()) if not _readable(values.slice(k, 1)))
            return f"{name}[{k}].{field.name}"
        return name
    return "(facts)"


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


__all__ = ["META", "PLACES", "facts_frame", "suspect_rows", "unknown_names"]
