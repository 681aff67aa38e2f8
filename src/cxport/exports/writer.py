"""Every output-format decision, in one place (`exports.md`, "File format").

CSV: UTF-8, `,`, `\\n`, RFC 4180 quoting (only when needed), header always,
optional BOM, formula guard on text cells, empty text written as an empty
field. "CSV for Excel" (issue 22) is the same file as Excel in the request's
locale opens it on a double-click: BOM, CRLF, and that locale's delimiter and
decimal mark (`EXCEL_LOCALES`); the delimiter and the decimal mark can also be
chosen alone. Parquet: the same columns and rows, typed (instants as UTC
TIMESTAMPTZ, durations as integer seconds). Files are streamed by DuckDB's
COPY to a temporary name beside the target and renamed when complete.

The rows' order is the export's `order` (data, apart from its SQL). They are
sorted apart from the query, in chunks that each sort in memory, so that no
step fails past the memory limit and a large CSV file does not hold its rows
twice on disk (a Parquet file, written by one COPY, does: issue 23, `write`).
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxport.exports.catalogue import ColType, Column
from cxport.exports.engine import Query, create_table, create_unsorted, run_after
from cxport.limits import MiB, memory_of

BOM = "\ufeff".encode()

# What Excel expects of a CSV it opens on a double-click, by the request's
# `lang`: (field delimiter, decimal mark). Excel in Portuguese (Brazil), as in
# most of Europe, reads `;` between fields and the decimal comma.
EXCEL_LOCALES = {"en": (",", "."), "pt-BR": (";", ",")}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _number_expr(c: str, t: ColType, decimal_precision: int) -> str | None:
    """Numbers are written alike in both formats: durations in whole seconds
    (truncated), counts as integers, averages with two decimals."""
    if t is ColType.DURATION:
        return f"CAST(trunc({c} / 1000) AS BIGINT)"
    if t is ColType.COUNT:
        return f"CAST({c} AS BIGINT)"
    if t is ColType.DECIMAL2:
        # Through 9 decimals first, so binary noise never decides a half.
        return f"CAST(round(CAST({c} AS DECIMAL(38, 9)), 2) AS DECIMAL({decimal_precision}, 2))"
    return None


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def csv_expr(col: Column, guard: bool, decimal: str = ".") -> str:
    c = _quote_ident(col.id)
    t = col.type
    if t.guarded and guard:
        return f"cx_guard({c})"
    if t in (ColType.ID, ColType.IDS, ColType.TEXT, ColType.TEXTS, ColType.CODE):
        return f"nullif({c}, '')"
    if t is ColType.TIMESTAMP:
        return f"cx_ts({c})"
    if t is ColType.BOOL:
        return f"CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END"
    number = _number_expr(c, t, 38)
    if number is None:
        raise AssertionError(t)
    if t is ColType.DECIMAL2 and decimal != ".":
        # The only '.' of a DECIMAL's text is its decimal point.
        return f"replace(CAST({number} AS VARCHAR), '.', {_sql_text(decimal)})"
    return number


def parquet_expr(col: Column) -> str:
    c = _quote_ident(col.id)
    t = col.type
    if t is ColType.TIMESTAMP:
        return f"CAST({c} AS TIMESTAMPTZ)"  # the session zone is UTC
    if t is ColType.BOOL:
        return f"CAST({c} AS BOOLEAN)"
    return _number_expr(c, t, 18) or f"nullif({c}, '')"


@dataclass(frozen=True)
class FileSpec:
    format: str = "csv"  # csv | parquet
    lang: str = "en"
    bom: bool = False
    formula_guard: bool = True
    excel: bool = False  # as Excel in `lang`'s locale opens it on a double-click
    delimiter: str | None = None  # None: `,`, or the Excel locale's
    decimal: str | None = None  # None: `.`, or the Excel locale's

    @property
    def _excel_locale(self) -> tuple[str, str]:
        # A `lang` that is no locale (headers by column id) gets en's.
        return EXCEL_LOCALES.get(self.lang, EXCEL_LOCALES["en"])

    @property
    def field_delimiter(self) -> str:
        default = self._excel_locale[0] if self.excel else ","
        return self.delimiter or default

    @property
    def decimal_mark(self) -> str:
        default = self._excel_locale[1] if self.excel else "."
        return self.decimal or default

    @property
    def with_bom(self) -> bool:
        return self.bom or self.excel

    @property
    def newline(self) -> str:
        """As DuckDB's NEW_LINE option spells it."""
        return "\\r\\n" if self.excel else "\\n"

    def csv_options(self, header: bool = True) -> str:
        # COMMENT '': no comment character, else DuckDB quotes every field
        # holding '#' (its default), which RFC 4180 and exports.md do not ask.
        return (
            f"FORMAT csv, HEADER {str(header).lower()}, DELIMITER {_sql_text(self.field_delimiter)}, "
            f"QUOTE '\"', ESCAPE '\"', NEW_LINE '{self.newline}', COMMENT ''"
        )


def select_for(columns: tuple[Column, ...], query: str, spec: FileSpec) -> str:
    items = []
    for col in columns:
        if spec.format == "csv":
            expr = csv_expr(col, spec.formula_guard, spec.decimal_mark)
        else:
            expr = parquet_expr(col)
        header = col.id if spec.lang == "id" else col.header(spec.lang)  # id: stable column ids
        items.append(f"{expr} AS {_quote_ident(header)}")
    return f"SELECT {', '.join(items)} FROM ({query}) AS export_rows"


# Rows sorted at once, per MiB of the memory limit: a sorted run of about two
# KiB per row (a `messages` row is about 300 bytes of CSV, 470 in DuckDB's
# memory) stays well within the limit, so a chunk's sort never spills. A
# month of `messages` at 10 M conversations took 164 s at 1 024 a MiB, 151 s
# at 512 and 149 s at 256: a smaller sort leaves the unsorted rows more room.
CHUNK_ROWS_PER_MIB = 512
# Wider rows make fewer a chunk: a sort holds about three times its rows'
# values as text (`_row_width`).
SORT_BYTES_PER_TEXT_BYTE = 3
SAMPLE_ROWS = 65_536  # rows sampled for the chunks' bounds
WIDTH_ROWS = 4_096  # rows whose width is measured


def write(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    query: str,
    order: str,
    spec: FileSpec,
    output: str | Path,
) -> tuple[int, int]:
    """Write the rows of `query`, sorted by `order` (an ORDER BY list over what it
    selects), to `output` (`-` = standard output).

    Returns (rows, bytes). The file appears only when complete.

    The rows are held unsorted in a temporary table of this call's own
    (cursors of one store write at once), then sorted chunk by chunk: one sort
    of every row of a large file spills all of them to disk beside their
    unsorted copy (a month of `messages` at 10 M conversations: about 40 GB).
    The chunks are ranges of the order's first key (`chunks`), each small
    enough to sort in memory, so in order one after the other they are the
    file's order. A CSV file is each chunk's COPY, its query ending in the
    chunk's sort, appended in turn (the header in the first): a COPY ending in
    its ORDER BY keeps the sorted run in memory in DuckDB 2.0.1 and fails past
    the limit, which the chunk's size keeps it within; sorting it into a table
    first spilled the table beside the unsorted one (a month of `messages` at
    10 M: about 1.6 s more a range). A Parquet file, which cannot be appended
    to, is one COPY of a table the chunks' sorted rows are inserted into in
    turn. The COPY keeps the order because `preserve_insertion_order` stays on
    (nothing sets it but `engine.create_unsorted`, for its own cursor).
    """
    unsorted = f"cx_unsorted_{uuid.uuid4().hex}"
    with run_after(con, f"DROP TABLE IF EXISTS {unsorted}"):
        create_unsorted(con, unsorted, [query])
        in_turn = [
            (f"SELECT * FROM {unsorted}{where} ORDER BY {order}", bounds)
            for where, bounds in chunks(con, unsorted, order)
        ]
        with _complete_file(spec, output) as target:
            if spec.format == "csv":
                rows = 0
                for n, (sql, bounds) in enumerate(in_turn):
                    rows += _copy(con, select_for(columns, sql, spec), spec, target, n == 0, bounds)
            else:
                rows = _copy_parquet(con, columns, in_turn, spec, target)
        return rows, target.size


Range = tuple[str, list[object]]  # a WHERE clause ("" for every row) and its parameters


def chunks(con: duckdb.DuckDBPyConnection, table: str, order: str) -> list[Range]:
    """The rows of `table` as ranges of `order`'s first key, in its order: one
    range holding every row when they sort in memory at once.

    A range holds at most CHUNK_ROWS_PER_MIB rows a MiB of the limit, fewer
    when the rows are wide (`_row_width`). Bounds are quantiles of a sample of
    the key; a range holds every row from its bound to the next one's, so rows
    equal in the first key are in one range and the ranges' sorts, one after
    the other, are one sort. Rows whose key is NULL are a range of their own,
    where `order` puts them.
    """
    (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone() or (0,)
    memory = memory_of(con)
    per_chunk = max(1, memory // MiB * CHUNK_ROWS_PER_MIB)
    if rows > WIDTH_ROWS:  # wide rows make smaller chunks
        width = _row_width(con, table)
        per_chunk = max(1, min(per_chunk, memory // max(1, SORT_BYTES_PER_TEXT_BYTE * width)))
    key = _first_key(order) if rows > per_chunk else None  # parsed only when needed
    if key is None:
        return [("", [])]
    expr, nulls_first = key
    count = -(-rows // per_chunk)
    fractions = ", ".join(str(i / count) for i in range(1, count))
    (sampled,) = con.execute(
        f"SELECT quantile_disc(k, [{fractions}]) FROM (SELECT {expr} AS k FROM {table}"
        f" USING SAMPLE reservoir({SAMPLE_ROWS} ROWS) REPEATABLE (7))"
    ).fetchone() or (None,)
    bounds: list[object] = []
    for value in sampled or []:
        if value is not None and (not bounds or value != bounds[-1]):
            bounds.append(value)
    ranges: list[Range] = []
    for lo, hi in itertools.pairwise([None, *bounds, None]):
        tests = [f"({expr}) >= ?"] * (lo is not None) + [f"({expr}) < ?"] * (hi is not None)
        tests = tests or [f"({expr}) IS NOT NULL"]
        ranges.append((" WHERE " + " AND ".join(tests), [v for v in (lo, hi) if v is not None]))
    nulls: Range = (f" WHERE ({expr}) IS NULL", [])
    return [nulls, *ranges] if nulls_first else [*ranges, nulls]


def _copy_parquet(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    in_turn: Iterable[Query],
    spec: FileSpec,
    target: _Target,
) -> int:
    """One COPY of a table the chunks' sorted rows (`in_turn`) are inserted
    into in turn: a Parquet file cannot be appended to. Returns the rows."""
    sorted_rows = f"cx_export_{uuid.uuid4().hex}"
    with run_after(con, f"DROP TABLE IF EXISTS {sorted_rows}"):
        create_table(con, sorted_rows, in_turn, None)
        select = select_for(columns, f"SELECT * FROM {sorted_rows}", spec)
        return _copy(con, select, spec, target, header=True)


def _row_width(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """The mean bytes of `table`'s first rows, every value counted as its text.

    The first rows, not a sample: a sample reads every column of every row,
    and a month of `messages` at 10 M conversations is 21 GB, mostly spilled.
    A file whose rows widen along the table may get larger chunks than its
    mean row asks; each chunk still holds at most CHUNK_ROWS_PER_MIB rows a MiB.
    """
    described = con.execute(f"DESCRIBE {table}").fetchall()
    widths = " + ".join(
        f"coalesce(strlen(CAST({_quote_ident(name)} AS VARCHAR)), 0)" for name, *_ in described
    )
    (width,) = con.execute(
        f"SELECT avg({widths}) FROM (SELECT * FROM {table} LIMIT {WIDTH_ROWS})"
    ).fetchone() or (0,)
    return int(width or 0)


@functools.cache
def _first_key(order: str) -> tuple[str, bool] | None:
    """The first expression of an ORDER BY list and whether its NULLs come first
    (DuckDB's default: last); None when it sorts descending.

    Parsed by sqlglot, imported here only: a file reaches this when it needs
    more than one range, and then takes seconds (`reads.py` on its cost).
    """
    import sqlglot

    listed = sqlglot.parse_one(f"SELECT 1 ORDER BY {order}", read="duckdb").args["order"]
    key = listed.expressions[0]
    if key.args.get("desc"):
        return None
    return key.this.sql(dialect="duckdb"), bool(key.args.get("nulls_first"))


class _Target:
    """The temporary file a COPY writes, or several COPYs append to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0


@contextlib.contextmanager
def _complete_file(spec: FileSpec, output: str | Path) -> Iterator[_Target]:
    """A temporary file beside `output` to write; when the block ends well,
    started with the BOM the spec asks for and moved to `output` (or copied to
    standard output), else removed."""
    to_stdout = str(output) == "-"
    target_dir = Path(tempfile.gettempdir()) if to_stdout else Path(output).resolve().parent
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".cxport-", suffix=".partial", dir=target_dir)
    os.close(fd)
    target = _Target(Path(tmp_name))
    try:
        yield target
        if spec.format == "csv" and spec.with_bom:
            _prepend(target.path, BOM)
        target.size = target.path.stat().st_size
        if to_stdout:
            with target.path.open("rb") as src:
                shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
            target.path.unlink()
        else:
            os.replace(target.path, output)
    except BaseException:
        target.path.unlink(missing_ok=True)
        raise


def _copy(
    con: duckdb.DuckDBPyConnection,
    select: str,
    spec: FileSpec,
    target: _Target,
    header: bool,
    params: list[object] | None = None,
) -> int:
    """COPY `select`'s rows (given `params`) to `target`'s file, or after what it
    holds (header: the first COPY). Returns the rows."""
    path = target.path if header else target.path.with_suffix(".part")
    if spec.format == "parquet":
        options = "FORMAT parquet, COMPRESSION zstd"
    else:
        options = spec.csv_options(header)
    try:
        copy = f"COPY ({select}) TO '{path.as_posix()}' ({options})"
        result = con.execute(copy, params or []).fetchone()
        if not header:
            _append(path, target.path)
    finally:
        if not header:
            path.unlink(missing_ok=True)
    return int(result[0]) if result else 0


def _append(part: Path, whole: Path) -> None:
    with part.open("rb") as src, whole.open("ab") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def _prepend(path: Path, prefix: bytes) -> None:
    with_prefix = path.with_suffix(".bom")
    with path.open("rb") as src, with_prefix.open("wb") as dst:
        dst.write(prefix)
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(with_prefix, path)
