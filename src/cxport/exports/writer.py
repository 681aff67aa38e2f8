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
sorted apart from the query and from the COPY (`engine.create_sorted`), so
that every step spills to disk past the memory limit (issue 23).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxport.exports.catalogue import ColType, Column
from cxport.exports.engine import create_sorted, run_after

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

    def csv_options(self) -> str:
        # COMMENT '': no comment character, else DuckDB quotes every field
        # holding '#' (its default), which RFC 4180 and exports.md do not ask.
        return (
            f"FORMAT csv, HEADER true, DELIMITER {_sql_text(self.field_delimiter)}, "
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
    """
    # Sorted into a temporary table of this call's own (cursors of one store
    # write at once), then copied: a COPY whose query ends in its ORDER BY keeps
    # the sorted run in memory in DuckDB 2.0.1, and fails past the limit. The
    # COPY keeps the table's order because `preserve_insertion_order` stays on
    # (nothing sets it but `create_sorted`, for its own cursor).
    sorted_rows = f"cx_export_{uuid.uuid4().hex}"
    with run_after(con, f"DROP TABLE IF EXISTS {sorted_rows}"):
        create_sorted(con, sorted_rows, query, order)
        return _copy(con, select_for(columns, f"SELECT * FROM {sorted_rows}", spec), spec, output)


def _copy(
    con: duckdb.DuckDBPyConnection, select: str, spec: FileSpec, output: str | Path
) -> tuple[int, int]:
    to_stdout = str(output) == "-"
    target_dir = Path(tempfile.gettempdir()) if to_stdout else Path(output).resolve().parent
    target_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".cxport-", suffix=".partial", dir=target_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if spec.format == "parquet":
            options = "FORMAT parquet, COMPRESSION zstd"
        else:
            options = spec.csv_options()
        sql = f"COPY ({select}) TO '{tmp.as_posix()}' ({options})"
        result = con.execute(sql).fetchone()
        rows = int(result[0]) if result else 0
        if spec.format == "csv" and spec.with_bom:
            _prepend(tmp, BOM)
        size = tmp.stat().st_size
        if to_stdout:
            with tmp.open("rb") as src:
                shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
            sys.stdout.buffer.flush()
            tmp.unlink()
        else:
            os.replace(tmp, output)
        return rows, size
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _prepend(path: Path, prefix: bytes) -> None:
    with_prefix = path.with_suffix(".bom")
    with path.open("rb") as src, with_prefix.open("wb") as dst:
        dst.write(prefix)
        shutil.copyfileobj(src, dst, 1 << 20)
    os.replace(with_prefix, path)
