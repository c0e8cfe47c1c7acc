"""The column checks (:func:`eligibility.batch.columns.facts_frame`, the Parquet door, and
:func:`eligibility.batch.io.jsonl_columns`, JSON Lines decoded in columns) held
to the row validator (``FactValidator``, the ``eligibility evaluate`` door) by a
differential property test: generated households — valid ones and ones with wrong
types, out-of-range or huge numbers, too many places, unknown enum values and names,
missing required facts, too few or too many members, null members, long texts — laid
out as Parquet would hold them, then read both ways: the same rows fail, with the same
error (field path and message), and the rest have the same values.
"""

from __future__ import annotations

import json
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
from eligibility.batch.io import Chunk, chunk_frame, jsonl_columns, jsonl_rows
from eligibility.facts import FactValidator
from eligibility.pack.model import FieldSpec, GroupSpec, RulePack

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
    groups = [c for c in frame.columns if c != "id"]
    if groups:  # the same rows as {"id": ..., "facts": {...}}
        wrapped = frame.select("id", pl.struct(groups).alias("facts"))
        assert facts_frame(PACKS[pack_name], wrapped, validator=VALIDATORS[pack_name]).equals(
            rows)


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


# -- JSON Lines read in columns ------------------------------------------------------
def _json_value(spec: FieldSpec, messy: bool) -> st.SearchStrategy[Any]:
    """A JSON value for one fact: one of its kind (in range or not), or (``messy``)
    sometimes of any other kind."""
    near = _bounds(spec)
    fitting: st.SearchStrategy[Any] = {
        "bool": st.booleans(),
        "int": st.one_of(st.sampled_from(near), st.integers(0, 130)),
        "number": st.one_of(st.sampled_from(near), st.integers(0, 500),
                            st.decimals(0, 10**6, places=2).map(str),
                            st.sampled_from([0.5, 12.25, 1e-5, 0.30000000000000004, 3.0])),
        "money": st.one_of(st.integers(-1, 10**6), st.decimals(0, 10**7, places=2).map(str),
                           st.sampled_from(["12.50", " 7", "1e3", "-1", "0.123456789012",
                                            1.5, 0.1, "1e25"])),
        "enum": st.sampled_from([*(spec.values or ()), "slott", 1]),
        "string": st.sampled_from(["Oslo", "5", "true", "x" * 10_001]),
        "date": st.sampled_from(["2024-01-31", "2024-1-1", "0000-01-01", 20240131]),
    }[spec.kind]
    if not messy:
        return st.one_of(fitting, st.none())
    other = st.sampled_from([None, True, "abc", 3, 2.5, [], {}, [1], {"x": 1},
                             9007199254740993, 10**19, -(10**19)])
    return st.one_of(fitting, fitting, fitting, other)


@st.composite
def _json_document(draw: st.DrawFn, pack: RulePack, messy: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    for group in pack.schema.groups.values():
        if draw(st.integers(0, 5)) == 0:
            continue
        def one(group: GroupSpec = group) -> dict[str, Any]:
            item = {s.name: draw(_json_value(s, messy)) for s in group.fields.values()
                    if draw(st.integers(0, 4))}
            if draw(st.integers(0, 15)) == 0:
                item[draw(st.sampled_from(["zzz", "agee", "z\\u007a"]))] = draw(
                    st.sampled_from([None, 1]))
            return item
        if group.is_list:
            doc[group.name] = [one() for _ in range(draw(st.sampled_from([1, 1, 2, 0])))]
            if draw(st.integers(0, 20)) == 0:
                doc[group.name].append(None)
        else:
            doc[group.name] = draw(st.sampled_from([None, "x"])) if draw(
                st.integers(0, 20)) == 0 else one()
    if draw(st.integers(0, 20)) == 0:
        doc["foo"] = None
    return doc


BAD_LINES = ["", "   ", "not json", "[1, 2]", "\ufeff{}", '{"housing": {"rooms": 3}} x',
             '{"housing": {"rooms": 3, "rooms": -1}}', '{"housing": {"cost_month": NaN}}',
             '{"housing": {"tenure": "\\ud800"}}', '{"members": [{"age": 1e400}]}', "3",
             '{"id": "only-an-id"}', '{"id": 1, "facts": null}']


@st.composite
def jsonl_chunks(draw: st.DrawFn, pack_name: str) -> list[str]:
    pack = PACKS[pack_name]
    wrap = draw(st.sampled_from(["bare", "wrapped", "wrapped", "mixed"]))
    messy = draw(st.integers(0, 3)) == 0  # values of any kind: mostly row by row
    ids = draw(st.sampled_from([lambda i: f"h{i}", lambda i: i, lambda i: None]))
    lines = []
    for i in range(draw(st.integers(1, 8))):
        if draw(st.integers(0, 12)) == 0:
            lines.append(draw(st.sampled_from(BAD_LINES)))
            continue
        doc = draw(_json_document(pack, messy))
        if wrap == "wrapped" or (wrap == "mixed" and draw(st.booleans())):
            doc = {"id": ids(i), "facts": doc}
        lines.append(json.dumps(doc, ensure_ascii=draw(st.booleans()), default=str).replace(
            "z\\\\u007a", "z\\u007a"))
    return lines


@pytest.mark.parametrize("pack_name", list(PACKS))
def test_json_lines_in_columns_give_the_rows_of_the_row_path(pack_name: str) -> None:
    @SETTINGS
    @given(jsonl_chunks(pack_name), st.integers(0, 1000))
    def check(lines: list[str], start: int) -> None:
        pack, validator = PACKS[pack_name], VALIDATORS[pack_name]
        got = chunk_frame(pack, validator, Chunk("jsonl", start, tuple(lines)))
        want = build_frame(pack, validator, jsonl_rows(tuple(lines), start))
        assert got["__row"].to_list() == list(range(start, start + len(lines)))
        assert got["__error"].to_list() == want["__error"].to_list()
        assert got.equals(want)

    check()


def test_a_plain_chunk_of_json_lines_is_read_in_columns() -> None:
    lines = tuple(json.dumps({"id": f"h{i}", "facts": {
        "housing": {"rooms": i, "cost_month": f"{i}.50", "tenure": "leie_privat"},
        "members": [{"age": 30 + i, "role": "applicant"}]}}) for i in range(5))
    bad = ("", "not json", '{"id": "x", "facts": {"members": [{"age": -4}]}}')
    mixed = lines[:2] + bad + lines[2:]
    pack, validator = PACKS[NO], VALIDATORS[NO]
    got = jsonl_columns(pack, validator, mixed, 40)
    assert got is not None  # the column path took it
    assert got["__error"].to_list()[:2] == [None, None]
    assert got["__error"].to_list()[2:5] == [
        "line 43: empty line",
        "line 44: not valid JSON (Expecting value: line 1 column 1 (char 0))",
        "1 invalid fact(s): members[0].age: Input should be greater than or equal to 0 "
        "(got -4)"]
    assert got["__id"].to_list() == ["h0", "h1", None, None, "x", "h2", "h3", "h4"]
    assert got["housing.cost_month"].to_list()[5] == Decimal("2.50")
    assert got.equals(build_frame(pack, validator, jsonl_rows(mixed, 40)))


def test_a_key_twice_in_json_lines_reads_as_python_reads_it() -> None:
    """polars keeps a duplicate key's first value, Python's decoder the last: such a
    line goes row by row (a null value is no duplicate)."""
    lines = ('{"id": "a", "facts": {"housing": {"rooms": 3, "rooms": -1}}}',
             '{"id": "b", "facts": {"housing": {"rooms": null, "tenure": "ingen"}}}',
             '{"id": "c", "facts": {"housing": {"rooms": -1, "rooms": 3}}}')
    pack, validator = PACKS[NO], VALIDATORS[NO]
    got = jsonl_columns(pack, validator, lines, 0)
    assert got is not None
    assert got["__error"].to_list() == [
        "1 invalid fact(s): housing.rooms: Input should be greater than or equal to 0 "
        "(got -1)", None, None]
    assert got["housing.rooms"].to_list() == [None, None, 3]
    alone = ('{"housing": {"rooms": 3, "rooms": -1}}',)  # (polars may infer two fields)
    for _ in range(20):
        assert chunk_frame(pack, validator, Chunk("jsonl", 0, alone))["__error"].to_list() \
            == got["__error"].to_list()[:1]
