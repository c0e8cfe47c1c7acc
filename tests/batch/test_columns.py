"""The column checks (:func:`eligibility.batch.columns.facts_frame`, the Parquet door) held
to the row validator (``FactValidator``, the ``eligibility evaluate`` door) by a
differential property test: generated households — valid ones and ones with wrong
types, out-of-range or huge numbers, too many places, unknown enum values and names,
missing required facts, too few or too many members, null members, long texts — laid
out as Parquet would hold them, then read both ways: the same rows fail, with the same
error (field path and message), and the rest have the same values.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eligibility import load_pack
from eligibility.batch.columns import facts_frame, suspect_rows
from eligibility.batch.frame import RawRow, build_frame
from eligibility.facts import FactValidator
from eligibility.pack.model import FieldSpec, GroupSpec

ROOT = Path(__file__).resolve().parents[2]
PACKS = {name: load_pack(path) for name, path in [
    ("no", ROOT / "rules" / "no"), ("anchors", ROOT / "bench" / "anchors"),
    ("edge", Path(__file__).parent / "packs" / "edge")]}
VALIDATORS = {name: FactValidator(pack.schema) for name, pack in PACKS.items()}
SETTINGS = settings(max_examples=45, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

#: The dtype each kind of fact has in a well-made Parquet file.
NATURAL: dict[str, list[pl.DataType]] = {
    "bool": [pl.Boolean()], "int": [pl.Int64()],
    "number": [pl.Decimal(38, 2), pl.Decimal(38, 10), pl.Int64()],
    "money": [pl.Decimal(38, 2), pl.Decimal(18, 0), pl.Int64()],
    "enum": [pl.String()], "string": [pl.String()], "date": [pl.Date()]}
#: Every other dtype a file may hold for a fact.
OTHER: list[pl.DataType] = [
    pl.Boolean(), pl.Int8(), pl.Int64(), pl.UInt64(), pl.Float64(), pl.Decimal(38, 0),
    pl.Decimal(38, 2), pl.Decimal(38, 12), pl.String(), pl.Date(), pl.Datetime("us"),
    pl.Null(), pl.List(pl.Int64())]


def _bounds(spec: FieldSpec) -> list[Any]:
    out: list[Any] = [0, 1, -1]
    for bound in (spec.minimum, spec.maximum):
        if bound is not None:
            out += [bound - 1, bound, bound + 1]
    return [*out, 10**20, 10**20 + 1, -(10**20) - 1, 10**19]


def _values(spec: FieldSpec, dtype: pl.DataType) -> st.SearchStrategy[Any]:
    """Values of ``dtype``, near the field's bounds and the engine's limits."""
    near = _bounds(spec)
    if dtype == pl.Boolean:
        return st.booleans()
    if dtype.is_integer():
        info = {pl.Int8: (-128, 127), pl.UInt64: (0, 2**64 - 1)}.get(type(dtype),
                                                                      (-(2**63), 2**63 - 1))
        fits = [v for v in near + list(info) if info[0] <= v <= info[1]]
        return st.one_of(st.sampled_from(fits), st.integers(max(info[0], -5),
                                                            min(info[1], 200)))
    if dtype == pl.Float64:
        return st.one_of(st.sampled_from([float(v) for v in near] + [
            0.1, 2.5, -0.0, 1e25, 1e-12, 1e-5, 0.30000000000000004, 1.5e20, 12345.67,
            float("nan"), float("inf"), 1e16, 123456789.123456789]),
            st.floats(allow_nan=True, allow_infinity=True))
    if isinstance(dtype, pl.Decimal):
        scale = dtype.scale or 0
        # (polars builds a struct from dicts through a wider decimal: keep a margin)
        top = Decimal(10) ** (min(dtype.precision or 38, 32) - scale) - 1
        fits = [Decimal(v) for v in near if abs(v) <= top]
        return st.one_of(st.sampled_from(fits), st.decimals(
            -top, top, places=scale, allow_nan=False, allow_infinity=False))
    if dtype == pl.String:
        words = [*(spec.values or ()), "applicant", "Applicant", "slott", "", " 3", "3",
                 "3.0", "-1", "+5", "1e5", "12.50", "0.12345678901", "1_000", "x" * 10_001,
                 "2024-01-31", "2024-1-1", "0000-01-01", "100000000000000000000", "true"]
        return st.one_of(st.sampled_from(words), st.text(max_size=4),
                         st.decimals(-10**6, 10**6, places=3).map(str))
    if dtype == pl.Date:
        return st.dates()
    if isinstance(dtype, pl.Datetime):
        return st.sampled_from([datetime(2024, 1, 1), datetime(2024, 1, 1, 12, 30)])
    if isinstance(dtype, pl.List):
        return st.lists(st.integers(0, 3), max_size=2)
    return st.none()


@st.composite
def _column(draw: st.DrawFn, spec: FieldSpec, rows: int, natural: bool
            ) -> tuple[pl.DataType, list[Any]]:
    choices = NATURAL[spec.kind] if natural else NATURAL[spec.kind] * 3 + OTHER
    dtype = draw(st.sampled_from(choices))
    values = draw(st.lists(st.one_of(st.none(), _values(spec, dtype)), min_size=rows,
                           max_size=rows))
    return dtype, values


@st.composite
def _structs(draw: st.DrawFn, group: GroupSpec, rows: int, natural: bool
             ) -> tuple[pl.Struct, list[dict[str, Any]]]:
    """``rows`` structs of ``group``'s fields (some left out, maybe an unknown one)."""
    fields: dict[str, pl.DataType] = {}
    columns: dict[str, list[Any]] = {}
    for spec in group.fields.values():
        if draw(st.integers(0, 9)) == 0:
            continue  # the whole field left out of the file
        fields[spec.name], columns[spec.name] = draw(_column(spec, rows, natural))
    if draw(st.integers(0, 7)) == 0:  # an unknown or misspelt name
        first = next(iter(group.fields))
        name = draw(st.sampled_from(["zzz", first + "s", "x" * 101]))
        fields[name] = pl.Int64()
        columns[name] = draw(st.lists(st.one_of(st.none(), st.integers(0, 9)),
                                      min_size=rows, max_size=rows))
    return pl.Struct(fields), [{k: v[i] for k, v in columns.items()} for i in range(rows)]


@st.composite
def households(draw: st.DrawFn, pack_name: str, natural: bool = False) -> pl.DataFrame:
    """A frame in the batch's input shape (``natural``: only the dtypes of a well-made
    file, with any values)."""
    pack = PACKS[pack_name]
    rows = draw(st.integers(1, 6))
    series: list[pl.Series] = [pl.Series("id", [f"h{i}" for i in range(rows)])]
    for group in pack.schema.groups.values():
        shape = draw(st.sampled_from(["ok"] * 8 + ["absent", "wrong"]))
        if shape == "absent":
            continue
        if shape == "wrong" and not natural:
            series.append(pl.Series(group.name, draw(st.lists(
                st.one_of(st.none(), st.text(max_size=3)), min_size=rows, max_size=rows)),
                pl.String))
            continue
        if not group.is_list:
            dtype, values = draw(_structs(group, rows, natural))
            nulls = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
            series.append(pl.Series(group.name, [None if n else v for n, v in zip(
                nulls, values, strict=True)], dtype))
            continue
        most = group.max_items or 100
        sizes = draw(st.lists(st.sampled_from([1, 1, 1, 2, 3, 0, -1, most, most + 1]),
                              min_size=rows, max_size=rows))
        drawn = [min(max(s, 0), 3) for s in sizes]  # a long list repeats its first three
        dtype, flat = draw(_structs(group, max(1, sum(drawn)), natural))
        lists: list[Any] = []
        at = 0
        for size, k in zip(sizes, drawn, strict=True):  # -1: no member list (unknown)
            members: list[Any] = [flat[at + i % k] for i in range(size)] if k else []
            at += k
            if members and draw(st.integers(0, 9)) == 0:
                members[draw(st.integers(0, len(members) - 1))] = None  # a null member
            lists.append(None if size < 0 else members)
        series.append(pl.Series(group.name, lists, pl.List(dtype)))
    if draw(st.integers(0, 9)) == 0:  # a column that is no group
        name = draw(st.sampled_from(["foo", "housng", "facts"]))
        series.append(pl.Series(name, draw(st.lists(st.one_of(st.none(), st.integers(0, 3)),
                                                    min_size=rows, max_size=rows))))
    return pl.DataFrame(series)


def _documents(frame: pl.DataFrame) -> list[RawRow]:
    """The rows as facts documents, as the validator would be given them: a null value
    is a fact left out."""

    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: drop(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    facts = frame.drop("id")
    return [RawRow(i, row_id, drop(row)) for i, (row_id, row) in enumerate(zip(
        frame["id"].to_list(), facts.iter_rows(named=True), strict=True))]


def _by_rows(pack_name: str, frame: pl.DataFrame) -> pl.DataFrame:
    return build_frame(PACKS[pack_name], VALIDATORS[pack_name], _documents(frame))


def _check_same(pack_name: str, frame: pl.DataFrame) -> None:
    columns = facts_frame(PACKS[pack_name], frame, validator=VALIDATORS[pack_name])
    rows = _by_rows(pack_name, frame)
    assert columns["__row"].to_list() == list(range(frame.height))  # rows in = rows out
    assert columns["__error"].to_list() == rows["__error"].to_list()
    assert columns.equals(rows), "the same rows fail, and the others have the same values"


@pytest.mark.parametrize("pack_name", list(PACKS))
def test_columns_and_rows_agree_on_every_household(pack_name: str) -> None:
    @SETTINGS
    @given(households(pack_name))
    def check(frame: pl.DataFrame) -> None:
        _check_same(pack_name, frame)

    check()


@pytest.mark.parametrize("pack_name", list(PACKS))
def test_column_checks_pass_exactly_what_the_validator_takes(pack_name: str) -> None:
    """On the dtypes of a well-made file the column checks decide alone: the rows they
    send to the validator are exactly the ones it refuses."""
    @SETTINGS
    @given(households(pack_name, natural=True))
    def check(frame: pl.DataFrame) -> None:
        _, suspect = suspect_rows(PACKS[pack_name], frame)
        refused = _by_rows(pack_name, frame)["__error"].is_not_null()
        assert suspect.to_list() == refused.to_list()

    check()


NO = "no"


def _one(groups: dict[str, pl.Series]) -> pl.DataFrame:
    return pl.DataFrame([pl.Series("id", ["a"]), *groups.values()])


@pytest.mark.parametrize(("frame", "path", "message"), [
    # each a disagreement the column checks had with the validator (now the same)
    (_one({"members": pl.Series("members", [[]], pl.List(pl.Struct({"age": pl.Int64})))}),
     "members", "List should have at least 1 item"),
    (_one({"members": pl.Series("members", [[None]], pl.List(pl.Struct({"age": pl.Int64})))}),
     "members[0]", "Input should be a valid dictionary"),
    (_one({"housing": pl.Series("housing", [{"cost_month": 1e25}],
                                pl.Struct({"cost_month": pl.Float64}))}),
     "housing.cost_month", "a number may be at most 1e20 in size"),
    (_one({"housing": pl.Series("housing", [{"cost_month": Decimal("0.123456789012")}],
                                pl.Struct({"cost_month": pl.Decimal(38, 12)}))}),
     "housing.cost_month", "more than 10 decimal places"),
    (_one({"housing": pl.Series("housing", [{"rooms": 2**63}],
                                pl.Struct({"rooms": pl.UInt64}))}),
     "housing.rooms", "beyond what the batch holds"),
    (_one({"housing": pl.Series("housing", [{"rooms": 3.5}], pl.Struct({"rooms": pl.Float64}))}),
     "housing.rooms", "Input should be a valid integer, got a number with a fractional part"),
    (_one({"housing": pl.Series("housing", [{"tenurre": "leie_privat"}],
                                pl.Struct({"tenurre": pl.String}))}),
     "housing.tenurre", "not a fact of this pack's schema; did you mean 'tenure'?"),
])
def test_known_disagreements_now_give_the_validators_error(frame: pl.DataFrame, path: str,
                                                           message: str) -> None:
    error = facts_frame(PACKS[NO], frame)["__error"][0]
    assert error is not None and f"{path}: " in error and message in error
    assert error == _by_rows(NO, frame)["__error"][0]


def test_values_the_validator_reads_are_read_the_same() -> None:
    """Text and float numbers, a whole float for an int, a boolean for an int (the
    validator's lax rules): the columns hand these to the validator, which reads them."""
    frame = pl.DataFrame([
        pl.Series("housing", [{"cost_month": " 12.5", "rooms": 3.0, "area_m2": "1e2"},
                              {"cost_month": "7", "rooms": 4.0, "area_m2": "0.5"}],
                  pl.Struct({"cost_month": pl.String, "rooms": pl.Float64,
                             "area_m2": pl.String}))])
    out = facts_frame(PACKS[NO], frame)
    assert out["__error"].to_list() == [None, None]
    assert out["housing.cost_month"].to_list() == [Decimal("12.5"), Decimal(7)]
    assert out["housing.rooms"].to_list() == [3, 4]
    assert out["housing.area_m2"].to_list() == [Decimal(100), Decimal("0.5")]


def test_a_date_python_cannot_hold_is_an_error_of_its_row() -> None:
    frame = pl.DataFrame(
        {"household": [{"municipality": "Oslo", "since": d} for d in (19_000, 3_000_000, None)]},
        schema={"household": pl.Struct({"municipality": pl.String, "since": pl.Int32})},
    ).with_columns(pl.col("household").struct.with_fields(pl.field("since").cast(pl.Date)))
    out = facts_frame(PACKS["edge"], frame)  # 3 000 000 days: the year 10183
    errors = out["__error"].to_list()
    assert errors[0] is None and errors[2] is None
    assert errors[1] is not None and "household.since: a value cannot be read" in errors[1]
    assert out["household.since"].to_list()[0] == date(2022, 1, 8)
