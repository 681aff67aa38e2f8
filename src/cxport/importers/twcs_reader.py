"""Load a TWCS CSV into the working database, every record with its line number.

`csv_raw` gets one row per record, in file order (`rowid` = the record's
ordinal), with the seven TWCS columns as raw strings; `line_of(rec, line)`
gives the physical line each record starts on.

Two readers fill it. DuckDB's strict CSV reader is tried first (fast,
parallel); it is trusted only when the lines its records span add up to the
file's physical line count, and line numbers are then derived from the line
breaks inside the records. On any doubt — a CSV error, invalid UTF-8, blank
lines, the count not matching — the file is read again with Python's `csv`
module, record by record, which names every unreadable record by line and
repairs one quirk of published copies: a text with a bare CR written
*unquoted* (as pandas does) splits its record in two; the pieces are joined
back when the CR ends a physical line and the join makes one full record.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import duckdb
import pyarrow as pa

from cxport.importers.twcs_model import fetch_row

COLUMNS = (
    "tweet_id",
    "author_id",
    "inbound",
    "created_at",
    "text",
    "response_tweet_id",
    "in_response_to_tweet_id",
)
CHUNK_ROWS = 50_000
_CR, _LF = "chr(13)", "chr(10)"


class HeaderError(Exception):
    """The file has no usable header: nothing in it can be read."""


@dataclass
class ReadResult:
    rows: int = 0  # data records met, readable or not
    unreadable: int = 0  # records that could not be read (never loaded)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason), first ones
    max_problems: int = 1000
    reader: str = "duckdb"  # which reader loaded the file

    def reject(self, line: int, reason: str) -> None:
        self.unreadable += 1
        if len(self.problems) < self.max_problems:
            self.problems.append((line, reason))


def load_csv(
    path: Path, con: duckdb.DuckDBPyConnection, *, max_problems: int = 1000, fast: bool = True
) -> ReadResult:
    """Fill `csv_raw` and `line_of` from `path` (`.gz` allowed)."""
    header, crlf = _read_header(path)
    con.execute("SET preserve_insertion_order = true")  # rowid = the record's ordinal
    try:
        if fast:
            try:
                rows = _load_with_duckdb(path, con, header, crlf)
            except duckdb.Error:
                rows = None
            if rows is not None:
                return ReadResult(rows=rows, max_problems=max_problems)
        return _load_with_python(path, con, header, max_problems)
    finally:
        con.execute("SET preserve_insertion_order = false")


def _create_tables(con: duckdb.DuckDBPyConnection) -> None:
    cols = ", ".join(f"{c} VARCHAR" for c in COLUMNS)
    con.execute(f"CREATE OR REPLACE TABLE csv_raw ({cols})")
    con.execute("CREATE OR REPLACE TABLE line_of (rec BIGINT, line BIGINT)")


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", errors="surrogateescape", newline="")
    return path.open(encoding="utf-8", errors="surrogateescape", newline="")


def _open_binary(path: Path) -> gzip.GzipFile | IO[bytes]:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def _read_header(path: Path) -> tuple[list[str], bool]:
    """The header's column names, and whether it ends with CRLF."""
    with _open_text(path) as fh:
        first = fh.readline()
    if not first.strip():
        raise HeaderError("the file is empty" if not first else "the first line is empty")
    try:
        header = next(csv.reader([first]))
    except csv.Error as exc:
        raise HeaderError(f"unreadable header: {exc}") from None
    header = [h.strip() for h in header]
    header[0] = header[0].removeprefix("\ufeff")
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise HeaderError(f"missing column(s) {', '.join(missing)}")
    return header, first.endswith("\r\n")


def physical_lines(path: Path) -> int:
    """Lines as an editor counts them: LF, CRLF and a bare CR each end one."""
    lines, prev_cr, last = 0, False, b""
    with _open_binary(path) as fh:
        while block := fh.read(1 << 22):
            crlf = block.count(b"\r\n") + (1 if prev_cr and block.startswith(b"\n") else 0)
            lines += block.count(b"\r") + block.count(b"\n") - crlf
            prev_cr, last = block.endswith(b"\r"), block[-1:]
    return lines + (1 if last not in (b"", b"\r", b"\n") else 0)


def _breaks(col: str) -> str:
    """SQL: line breaks inside a value (CRLF, CR or LF each count once)."""
    return (
        f"CASE WHEN contains({col}, {_CR}) OR contains({col}, {_LF}) THEN"
        f" length({col}) - length(replace({col}, {_CR}, ''))"
        f" + length({col}) - length(replace({col}, {_LF}, ''))"
        f" - (length({col}) - length(replace({col}, {_CR} || {_LF}, ''))) // 2 ELSE 0 END"
    )


def _load_with_duckdb(
    path: Path, con: duckdb.DuckDBPyConnection, header: list[str], crlf: bool
) -> int | None:
    """Rows loaded, or None when the result cannot be trusted to match the file."""
    _create_tables(con)
    names = {f"c{i}": "VARCHAR" for i in range(len(header))}
    picks = ", ".join(f"coalesce(c{header.index(c)}, '') AS {c}" for c in COLUMNS)
    newline = "\\r\\n" if crlf else "\\n"
    con.execute(
        f"""
        INSERT INTO csv_raw SELECT {picks} FROM read_csv(?, columns = {names}, header = true,
          auto_detect = false, delim = ',', quote = '"', escape = '"', new_line = '{newline}',
          strict_mode = true, null_padding = false, compression = 'auto')
        """,
        [str(path)],
    )
    span = " + ".join(["1", *(_breaks(c) for c in COLUMNS)])  # lines a record spans
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE record_span AS SELECT rowid AS rec, {span} AS n FROM csv_raw"
    )
    rows, lines = fetch_row(con, "SELECT count(*), coalesce(sum(n), 0) FROM record_span")
    if 1 + lines != physical_lines(path):  # blank lines, a break in the header...
        return None
    con.execute("""
        INSERT INTO line_of
        SELECT rec, 2 + coalesce(sum(n) OVER (ORDER BY rec ROWS BETWEEN UNBOUNDED PRECEDING
          AND 1 PRECEDING), 0)
        FROM record_span
    """)
    con.execute("DROP TABLE record_span")
    return int(rows)


class _Lines:
    """The file's physical lines (CR, LF or CRLF), counted; remembers the last one."""

    def __init__(self, fh: IO[str]) -> None:
        self._fh = fh
        self.count = 0
        self.last = ""
        self.last_bad_utf8 = 0  # number of the latest line holding invalid UTF-8

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._fh)
        self.count += 1
        self.last = line
        if not line.isascii():
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # surrogate escapes stand for undecodable bytes
                self.last_bad_utf8 = self.count
        return line

    def ended_by_bare_cr(self) -> bool:
        return self.last.endswith("\r")


def _load_with_python(
    path: Path, con: duckdb.DuckDBPyConnection, header: list[str], max_problems: int
) -> ReadResult:
    _create_tables(con)
    result = ReadResult(max_problems=max_problems, reader="python")
    width = len(header)
    index = [header.index(c) for c in COLUMNS]
    chunk = _Chunk()
    with _open_text(path) as fh:
        lines = _Lines(fh)
        reader = csv.reader(lines)
        next(reader)  # the header, already checked
        while True:
            start = lines.count + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                result.rows += 1
                result.reject(start, f"CSV: {exc}")
                continue
            if not row:  # a blank line
                continue
            result.rows += 1
            if len(row) < width and lines.ended_by_bare_cr():
                row = _join_split_record(row, reader, lines, width)
            if len(row) != width:
                result.reject(start, f"expected {width} fields, found {len(row)}")
            elif lines.last_bad_utf8 >= start:
                result.reject(start, "invalid UTF-8")
            else:
                chunk.add(start, [row[i] for i in index])
                if len(chunk.lines) >= CHUNK_ROWS:
                    chunk.flush(con)
    chunk.flush(con)
    return result


def _join_split_record(
    row: list[str], reader: Iterator[list[str]], lines: _Lines, width: int
) -> list[str]:
    """Join the pieces of a record split by unquoted bare CRs, if they make one record."""
    joined = row
    while len(joined) < width and lines.ended_by_bare_cr():
        try:
            piece = next(reader)
        except (StopIteration, csv.Error):
            break
        joined = [*joined[:-1], joined[-1] + "\r" + (piece[0] if piece else ""), *piece[1:]]
    return joined


class _Chunk:
    """Records read but not yet loaded, column by column."""

    lines: list[int]
    values: list[list[str]]
    loaded: int

    def __init__(self) -> None:
        self.loaded = 0
        self.clear()

    def clear(self) -> None:
        self.lines = []
        self.values = [[] for _ in COLUMNS]

    def add(self, line: int, values: list[str]) -> None:
        self.lines.append(line)
        for column, value in zip(self.values, values, strict=True):
            column.append(value)

    def flush(self, con: duckdb.DuckDBPyConnection) -> None:
        if not self.lines:
            return
        table = pa.Table.from_arrays(
            [pa.array(v, pa.string()) for v in self.values], names=list(COLUMNS)
        )
        recs = pa.array(range(self.loaded, self.loaded + len(self.lines)), pa.int64())
        lines = pa.Table.from_arrays([recs, pa.array(self.lines, pa.int64())], ["rec", "line"])
        con.register("chunk_rows", table)
        con.register("chunk_lines", lines)
        try:
            con.execute("INSERT INTO csv_raw SELECT * FROM chunk_rows")
            con.execute("INSERT INTO line_of SELECT * FROM chunk_lines")
        finally:
            con.unregister("chunk_rows")
            con.unregister("chunk_lines")
        self.loaded += len(self.lines)
        self.clear()
