"""Batch files in and out: JSON Lines and Parquet, chosen by the file's suffix.

:func:`read_chunks` yields the input in chunks of rows, each a
:class:`Chunk` that knows its first row number; a line that is not JSON, or a
blank line, becomes a row with an error (never skipped). :func:`chunk_frame`
validates a chunk into a facts frame: JSON lines are decoded and checked in columns
where the chunk allows (:func:`jsonl_columns`), else line by line. :class:`OutputWriter`
appends output frames (the flat contract of :mod:`eligibility.batch.run`) to a
``.parquet`` file (flat columns) or a ``.jsonl`` file (one nested object per
row). :func:`read_output` reads either back into the flat frame, for ``diff``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl

from eligibility.batch.frame import RawRow, build_frame, frame_schema, unwrap
from eligibility.errors import EligibilityError
from eligibility.facts import FactValidator
from eligibility.pack.model import RulePack

SUFFIXES = (".jsonl", ".parquet")
DEFAULT_CHUNK = 100_000


class BatchFileError(EligibilityError):
    """A batch file that cannot be read or written (names the file)."""


def kind_of(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".ndjson":
        return "jsonl"
    if suffix not in SUFFIXES:
        raise BatchFileError(f"{path}: unknown file type {suffix or '(none)'!r}; "
                             "use .jsonl or .parquet")
    return suffix[1:]


@dataclass(frozen=True)
class Chunk:
    """Rows ``start`` … of the input: JSON lines, or an input-shape frame (Parquet)."""

    kind: str  # "jsonl" | "parquet" | "parquet-groups" (row groups read where evaluated)
    start: int
    lines: tuple[str, ...] = ()
    frame: pl.DataFrame | None = None
    path: str | None = None
    groups: tuple[int, ...] = ()
    rows: int = 0

    def __len__(self) -> int:
        if self.kind == "jsonl":
            return len(self.lines)
        return self.frame.height if self.frame is not None else self.rows

    def load(self) -> pl.DataFrame:
        """The input-shape frame of a Parquet chunk (reading its row groups if needed)."""
        if self.frame is not None:
            return self.frame
        import pyarrow.parquet as pq

        assert self.path is not None
        # one thread: the worker processes (or the batch's own threads) are the parallelism
        frame = pl.from_arrow(pq.ParquetFile(self.path).read_row_groups(
            list(self.groups), use_threads=False))
        assert isinstance(frame, pl.DataFrame)
        return frame


def count_rows(path: Path) -> int | None:
    """Rows in an input file (for the progress bar), or None if it is unknown cheaply."""
    try:
        if kind_of(path) == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        with path.open("rb") as fh:
            return sum(1 for line in fh if line.strip())
    except (OSError, ValueError, EligibilityError):
        return None


def read_chunks(path: Path, size: int = DEFAULT_CHUNK, by_groups: bool = False
                ) -> Iterator[Chunk]:
    """The input file in chunks of ``size`` rows, in order.

    With ``by_groups`` a Parquet chunk names whole row groups (about ``size`` rows)
    instead of holding the data, so a worker process reads them itself.
    """
    kind = kind_of(path)
    if not path.is_file():
        raise BatchFileError(f"{path}: no such file")
    if kind == "parquet" and by_groups:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(path).metadata
        except (OSError, pa.ArrowException) as exc:
            raise BatchFileError(f"{path}: not a readable Parquet file ({exc})") from None
        start, groups, rows = 0, [], 0
        for i in range(meta.num_row_groups):
            groups.append(i)
            rows += meta.row_group(i).num_rows
            if rows >= size:
                yield Chunk("parquet-groups", start, path=str(path), groups=tuple(groups),
                            rows=rows)
                start, groups, rows = start + rows, [], 0
        if groups:
            yield Chunk("parquet-groups", start, path=str(path), groups=tuple(groups),
                        rows=rows)
        return
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            source = pq.ParquetFile(path)
            start = 0
            # one thread: it reads while the previous chunk is evaluated (pipeline.ahead);
            # pyarrow's own threads only contend with polars' for the cores
            for batch in source.iter_batches(batch_size=size, use_threads=False):
                frame = pl.from_arrow(pa.Table.from_batches([batch]))
                assert isinstance(frame, pl.DataFrame)
                yield Chunk("parquet", start, frame=frame)
                start += frame.height
        except (OSError, pa.ArrowException) as exc:
            raise BatchFileError(f"{path}: not a readable Parquet file ({exc})") from None
        return
    start = 0
    lines: list[str] = []
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            for raw in fh:
                line = raw.rstrip("\n").rstrip("\r")
                lines.append(line)
                if len(lines) >= size:
                    yield Chunk("jsonl", start, lines=tuple(lines))
                    start += len(lines)
                    lines = []
    except OSError as exc:
        raise BatchFileError(f"{path}: cannot be read ({exc})") from None
    # a final newline does not make an extra row; blank lines elsewhere do
    while lines and not lines[-1].strip():
        lines.pop()
    if lines:
        yield Chunk("jsonl", start, lines=tuple(lines))


def jsonl_rows(lines: tuple[str, ...], start: int) -> list[RawRow]:
    """Each line read with the standard library's JSON decoder (the row path)."""
    return [_row(line, start + i) for i, line in enumerate(lines)]


#: A line the column path leaves to the row path as it stands: not one object
#: (blank, a list, a BOM), or a \u escape of a lone surrogate (which polars decodes
#: to another character, where Python keeps it and the validator refuses it).
_ROW_LINE = r"^\s*[^\s{]|^\s*$|[^}\s]\s*$|\\u[dD][89a-fA-F]"


def jsonl_columns(pack: RulePack, validator: FactValidator, lines: tuple[str, ...],
                  start: int) -> pl.DataFrame | None:
    """The facts frame of JSON lines decoded and checked in columns, or ``None`` when
    the chunk has a shape the column path does not take (a line that is not JSON, a
    value of two kinds polars cannot join, wrapped and bare documents mixed, …): the
    caller then goes row by row. Lines the column checks cannot vouch for — and lines
    that are not one plain object — are read and validated one by one exactly as
    :func:`jsonl_rows` does, so each row gets today's error, with its line number."""
    from eligibility.batch.columns import suspect_rows, unknown_names

    raw = pl.Series("line", lines, pl.String)
    by_rows = raw.str.contains(_ROW_LINE)
    picked = raw.filter(~by_rows)
    if picked.is_empty():
        return None
    try:
        decoded = picked.str.json_decode(infer_schema_length=None)
    except (pl.exceptions.PolarsError, ValueError, OverflowError):
        return None
    if not isinstance(decoded.dtype, pl.Struct) or decoded.len() != picked.len() or \
            _repeats_a_name(decoded.dtype):
        return None
    df = decoded.struct.unnest() if decoded.dtype.fields else pl.DataFrame(
        height=picked.len())
    wrapped = "facts" in df.columns
    ids = pl.Series("__id", [None] * df.height, pl.String)
    alone = pl.Series([False] * df.height)  # rows to read one by one
    if wrapped:  # {"id": ..., "facts": {...}} on every line
        if not set(df.columns) <= {"id", "facts"} or not isinstance(
                df.schema["facts"], pl.Struct | pl.Null):
            return None
        if "id" in df.columns:
            id_type = df.schema["id"]
            if not (id_type == pl.String or id_type == pl.Null or id_type.is_integer()):
                return None
            ids = df["id"].cast(pl.String).alias("__id")
        alone = df["facts"].is_null()  # not unwrapped: the validator says why
        facts = df["facts"]
        df = facts.struct.unnest() if isinstance(facts.dtype, pl.Struct) and \
            facts.dtype.fields else pl.DataFrame(height=df.height)
        if "id" in df.columns or "facts" in df.columns:
            return None
    elif "id" in df.columns:
        return None
    values, suspect = suspect_rows(pack, df, json=True)
    # a key twice in one object: polars keeps the first value, Python the last; a line
    # with more keys than values decoded (or null values) goes row by row
    keys = picked.str.count_matches(_KEY) - picked.str.count_matches(_NULL_VALUE)
    suspect = suspect | alone | (keys != decoded.to_frame().select(
        _key_count(pl.col(decoded.name), decoded.dtype)).to_series())
    unknown = unknown_names(pack, df)
    if unknown:  # a null value of an unknown name is still an unknown name in JSON
        for name in sorted(unknown):
            suspect = suspect | picked.str.contains(json.dumps(name), literal=True)
        suspect = suspect | picked.str.contains("\\u", literal=True)
    numbers = pl.int_range(raw.len(), dtype=pl.Int64, eager=True) + start
    good = values.with_columns(numbers.filter(~by_rows).alias("__row"), ids,
                               pl.lit(None, pl.String).alias("__error"))
    good = good.filter(~suspect).select(list(frame_schema(pack)))
    redo = by_rows.clone()
    redo[by_rows.not_().arg_true().filter(suspect)] = True
    if not redo.any():
        return good
    which = redo.arg_true().to_list()
    rows = [_row(lines[i], start + i) for i in which]
    return pl.concat([good, build_frame(pack, validator, rows)]).sort("__row")


#: A key of a JSON object (a string followed by a colon) and a null value after a key.
_KEY = r'"(?:[^"\\]|\\.)*"\s*:'
_NULL_VALUE = r":\s*null\b"


def _repeats_a_name(dtype: Any) -> bool:
    """Whether a struct in ``dtype`` has a field name twice (polars may infer that from a
    key given twice in one object)."""
    if isinstance(dtype, pl.List):
        return _repeats_a_name(dtype.inner)
    if not isinstance(dtype, pl.Struct):
        return False
    names = [f.name for f in dtype.fields]
    return len(set(names)) != len(names) or any(_repeats_a_name(f.dtype)
                                                for f in dtype.fields)


def _key_count(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The keys with a non-null value in a decoded JSON value, all levels down."""
    if isinstance(dtype, pl.Struct):
        parts = [col.struct.field(f.name).is_not_null().cast(pl.Int64)
                 + _key_count(col.struct.field(f.name), f.dtype)  # type: ignore[arg-type]
                 for f in dtype.fields]
        return pl.sum_horizontal(parts).fill_null(0) if parts else pl.lit(0, pl.Int64)
    if isinstance(dtype, pl.List):
        inner = _key_count(pl.element(), dtype.inner)  # type: ignore[arg-type]
        return col.list.eval(inner).list.sum().fill_null(0)
    return pl.lit(0, pl.Int64)


def _row(line: str, number: int) -> RawRow:
    if not line.strip():
        return RawRow(number, None, None, f"line {number + 1}: empty line")
    try:
        value = json.loads(line)
    except ValueError as exc:
        return RawRow(number, None, None, f"line {number + 1}: not valid JSON ({exc})")
    ident, facts = unwrap(value)
    return RawRow(number, ident, facts)


def chunk_frame(pack: RulePack, validator: FactValidator, chunk: Chunk) -> pl.DataFrame:
    """The facts frame of one chunk (JSON lines: in columns where the chunk allows)."""
    if chunk.kind == "jsonl":
        frame = jsonl_columns(pack, validator, chunk.lines, chunk.start)
        if frame is not None:
            return frame
        return build_frame(pack, validator, jsonl_rows(chunk.lines, chunk.start))
    from eligibility.batch.columns import facts_frame

    return facts_frame(pack, chunk.load(), chunk.start, validator)


# -- output -------------------------------------------------------------------------
def nested(row: dict[str, Any]) -> dict[str, Any]:
    """One flat output row as the nested JSON object of the contract."""
    out: dict[str, Any] = {"row": row["row"], "id": row["id"], "error": row["error"]}
    measures: dict[str, dict[str, Any]] = {}
    provenance: dict[str, Any] = {}
    for key, value in row.items():
        if key.startswith("provenance."):
            provenance[key[11:]] = value
            continue
        mid, dot, rest = key.partition(".")
        if not dot:
            continue
        entry = measures.setdefault(mid, {"status": None, "amount": None,
                                          "missing_facts": None, "requirements": {}})
        if rest.startswith("requirements."):
            entry["requirements"][rest[13:]] = value
        else:
            entry[rest] = value
    out["measures"] = None if row["error"] is not None else measures
    out["provenance"] = provenance
    return out


def flat(obj: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`nested`."""
    row: dict[str, Any] = {"row": obj.get("row"), "id": obj.get("id"),
                           "error": obj.get("error")}
    for mid, entry in (obj.get("measures") or {}).items():
        for key in ("status", "amount", "missing_facts"):
            row[f"{mid}.{key}"] = entry.get(key)
        for rid, outcome in (entry.get("requirements") or {}).items():
            row[f"{mid}.requirements.{rid}"] = outcome
    for key, value in (obj.get("provenance") or {}).items():
        row[f"provenance.{key}"] = value
    return row


def jsonl_text(frame: pl.DataFrame) -> str:
    """Output rows as JSON Lines text (one nested object per row); worker processes
    encode their chunks with this so the writing process only appends text."""
    return "".join(json.dumps(nested(row), ensure_ascii=False) + "\n"
                   for row in frame.iter_rows(named=True))


class OutputWriter:
    """Appends output frames to ``path`` (.jsonl or .parquet); use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kind = kind_of(path)
        self._parquet: Any = None
        self._text: Any = None
        self.rows = 0
        try:
            if self.kind == "jsonl":
                self._text = path.open("w", encoding="utf-8")
        except OSError as exc:
            raise BatchFileError(f"{path}: cannot be written ({exc})") from None

    def write(self, frame: pl.DataFrame) -> None:
        if self.kind == "jsonl":
            self.write_text(jsonl_text(frame), frame.height)
            return
        self.rows += frame.height
        table = frame.to_arrow()
        if self._parquet is None:
            import pyarrow.parquet as pq

            try:
                # statistics of ~90 text and list columns cost more than the data;
                # row and id keep theirs (readers filter on them)
                self._parquet = pq.ParquetWriter(self.path, table.schema,
                                                 write_statistics=["row", "id"])
            except OSError as exc:
                raise BatchFileError(f"{self.path}: cannot be written ({exc})") from None
        self._parquet.write_table(table)

    def write_text(self, text: str, rows: int) -> None:
        """Append ``rows`` output rows already encoded by :func:`jsonl_text`."""
        assert self.kind == "jsonl"
        self.rows += rows
        self._text.write(text)

    def close(self) -> None:
        if self._text is not None:
            self._text.close()
        if self._parquet is not None:
            self._parquet.close()
        elif self.kind == "parquet" and self.rows == 0:
            pl.DataFrame({"row": [], "id": [], "error": []},
                         schema={"row": pl.Int64, "id": pl.String,
                                 "error": pl.String}).write_parquet(self.path)

    def __enter__(self) -> OutputWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def read_output(path: Path) -> pl.DataFrame:
    """A batch output file (either format) as the flat frame."""
    kind = kind_of(path)
    if not path.is_file():
        raise BatchFileError(f"{path}: no such file")
    if kind == "parquet":
        try:
            return pl.read_parquet(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise BatchFileError(f"{path}: not a readable Parquet file ({exc})") from None
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(flat(json.loads(line)))
            except (ValueError, AttributeError) as exc:
                raise BatchFileError(f"{path}:{number}: not a batch output row ({exc})") \
                    from None
    if not rows:
        return pl.DataFrame({"row": [], "id": [], "error": []},
                            schema={"row": pl.Int64, "id": pl.String, "error": pl.String})
    keys = list(dict.fromkeys(k for r in rows for k in r))
    schema = {k: (pl.List(pl.String) if k.endswith(".missing_facts") else
                  pl.Int64 if k == "row" else pl.String) for k in keys}
    return pl.DataFrame(rows, schema=schema)
