"""Households as a frame: validated facts in typed columns, one row per input row.

A *facts frame* is a polars DataFrame with ``__row`` (0-based input index),
``__id``, ``__error`` (null, or why the row was not evaluated) and one column per
fact of the pack (``group.field``, typed: Boolean, Int64, Decimal(38, 10),
String, Date) plus ``members`` as a list of structs. Rows are validated one by
one with the pack's :class:`~eligibility.facts.FactValidator` (the same errors
as ``eligibility evaluate``); an invalid row keeps its place with its error and
null facts. A value the validator takes but the frame cannot hold exactly — a whole
number beyond 64 bits, a number with more than 10 decimal places — is an error of
its row too (naming the field), never cut short. :func:`facts_of` turns a frame row
back into a facts document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from eligibility.compile.polars.compiler import DEC
from eligibility.compile.polars.plan import fact_dtypes
from eligibility.errors import FactIssue, FactsError
from eligibility.facts import FactValidator
from eligibility.pack.model import RulePack

META = {"__row": pl.Int64(), "__id": pl.String(), "__error": pl.String()}
#: Decimal places a number column of the frame holds (``Decimal(38, 10)``).
PLACES = DEC.scale or 0
_INT64 = 2**63


def _unheld(value: Any) -> str | None:
    """Why the frame cannot hold one validated value exactly, or ``None``."""
    cls = type(value)
    if cls is int:
        if -_INT64 <= value < _INT64:
            return None
        return "a whole number beyond what the batch holds (64 bits)"
    if cls is Decimal:
        _, digits, exponent = value.as_tuple()
        if not isinstance(exponent, int) or exponent >= -PLACES:
            return None
        zeros = 0  # trailing zeros (``1.50000000000000000000`` is held exactly)
        for digit in reversed(digits):
            if digit:
                break
            zeros += 1
        if zeros == len(digits) or exponent + zeros >= -PLACES:
            return None
        return f"more than {PLACES} decimal places (the batch holds numbers to {PLACES})"
    return None


def unheld_issues(flat: dict[str, Any], members: list[dict[str, Any]] | None,
                  list_group: str | None) -> list[FactIssue]:
    """The validated values of one household the frame cannot hold exactly."""
    issues = []
    for path, value in flat.items():
        problem = _unheld(value)
        if problem:
            issues.append(FactIssue(path, problem, value))
    for i, member in enumerate(members or ()):
        for name, value in member.items():
            problem = _unheld(value)
            if problem:
                issues.append(FactIssue(f"{list_group}[{i}].{name}", problem, value))
    return issues


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
                unheld = unheld_issues(flat, members, validator.list_group)
                if unheld:
                    raise FactsError(unheld)
            except FactsError as exc:
                error = str(exc)
                flat, members = {}, None
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


def drop_nulls(value: Any) -> Any:
    """A facts document from a frame row: a null value is a fact left out."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value
