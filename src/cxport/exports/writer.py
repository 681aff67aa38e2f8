"""Every output-format decision, in one place (`exports.md`, "File format").

CSV: UTF-8, `,`, `\\n`, RFC 4180 quoting (only when needed), header always,
optional BOM, formula guard on text cells, empty text written as an empty
field. Parquet: the same columns and rows, typed (instants as UTC
TIMESTAMPTZ, durations as integer seconds). Files are streamed by DuckDB's
COPY to a temporary name beside the target and renamed when complete.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxport.exports.catalogue import ColType, Column

BOM = "\ufeff".encode()


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


def csv_expr(col: Column, guard: bool) -> str:
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


def select_for(columns: tuple[Column, ...], query: str, spec: FileSpec) -> str:
    items = []
    for col in columns:
        expr = csv_expr(col, spec.formula_guard) if spec.format == "csv" else parquet_expr(col)
        items.append(f"{expr} AS {_quote_ident(col.header(spec.lang))}")
    return f"SELECT {', '.join(items)} FROM ({query}) AS export_rows"


def write(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    query: str,
    spec: FileSpec,
    output: str | Path,
) -> tuple[int, int]:
    """Write the rows of `query` to `output` (`-` = standard output).

    Returns (rows, bytes). The file appears only when complete.
    """
    select = select_for(columns, query, spec)
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
            options = (
                "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n'"
            )
        sql = f"COPY ({select}) TO '{tmp.as_posix()}' ({options})"
        result = con.execute(sql).fetchone()
        rows = int(result[0]) if result else 0
        if spec.format == "csv" and spec.bom:
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
