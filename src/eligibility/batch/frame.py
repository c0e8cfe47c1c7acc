"""Households as a frame: validated facts in typed columns, one row per input row.

A *facts frame* is a polars DataFrame with ``__row`` (0-based input index),
``__id``, ``__error`` (null, or why the row was not evaluated) and one column per
fact of the pack (``group.field``, typed: Boolean, Int64, Decimal(38, 10),
String, Date) plus ``members`` as a list of structs. Rows are validated one by
one with the pack's :class:`~eligibility.facts.FactValidator` (the same errors
as ``eligibility evaluate``); an invalid row keeps its place with its error and
null facts. :func:`facts_of` turns a frame row back into a facts document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from eligibility.compile.polars.plan import fact_dtypes
from eligibility.errors import FactsError
from eligibility.facts import FactValidator
from eligibility.pack.model import RulePack

META = {"__row": pl.Int64(), "__id": pl.String(), "__error": pl.String()}


@dataclass(frozen=True)
class RawRow:
    """One input row before validation: its index, id, facts or the reason it has none."""

    row: int
    id: str | None
    facts: Any
    error: str | None = None


def frame_schema(pack: RulePack) -> dict[str, pl.DataType]:
    return {**META, **fact_dtypes(pack)}


def build_frame(pack: RulePack, validator: FactValidator, rows: Sequence[RawRow]) -> pl.DataFrame:
    """Validate ``rows`` and lay them out as a facts frame (input order kept)."""
    schema = frame_schema(pack)
    columns: dict[str, list[Any]] = {name: [] for name in schema}
    fact_cols = [c for c in schema if c not in META and c != "members"]
    has_members = "members" in schema
    for raw in rows:
        error = raw.error
        flat: dict[str, Any] = {}
        members: list[dict[str, Any]] | None = None
        if error is None:
            try:
                valid = validator.validate(raw.facts)
                flat, members = valid.flat, valid.members
            except FactsError as exc:
                error = str(exc)
        columns["__row"].append(raw.row)
        columns["__id"].append(raw.id)
        columns["__error"].append(error)
        for name in fact_cols:
            columns[name].append(flat.get(name))
        if has_members:
            columns["members"].append(members)
    return pl.DataFrame(columns, schema=schema)


def facts_of(pack: RulePack, row: dict[str, Any]) -> dict[str, Any]:
    """The facts document of one frame row (as :meth:`pl.DataFrame.iter_rows` named)."""
    facts: dict[str, Any] = {}
    for group in pack.schema.groups.values():
        if group.is_list:
            members = row.get(group.name)
            if members is not None:
                facts[group.name] = [{k: v for k, v in m.items() if v is not None}
                                     for m in members]
            continue
        values = {name: row.get(f"{group.name}.{name}") for name in group.fields}
        values = {k: v for k, v in values.items() if v is not None}
        if values:
            facts[group.name] = values
    return facts


def unwrap(value: Any) -> tuple[str | None, Any]:
    """``{"id": ..., "facts": {...}}`` or the facts themselves → (id, facts)."""
    if isinstance(value, dict) and isinstance(value.get("facts"), dict) and set(value) <= {
            "id", "facts"}:
        ident = value.get("id")
        return (None if ident is None else str(ident)), value["facts"]
    return None, value


def raw_rows(values: Iterable[tuple[int, Any]]) -> list[RawRow]:
    out = []
    for index, value in values:
        ident, facts = unwrap(value)
        out.append(RawRow(index, ident, facts))
    return out
