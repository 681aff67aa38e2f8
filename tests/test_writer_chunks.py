"""A large file is sorted in chunks, ranges of its order's first key (issue 23).

The writer sorts at most 512 rows per MiB of the memory limit at once, fewer
when they are wide (`writer.CHUNK_ROWS_PER_MIB`, `SORT_BYTES_PER_TEXT_BYTE`);
here that share is lowered so that a few thousand rows make dozens of
chunks, and every file (CSV, CSV for Excel, Parquet, orders with their NULLs
last or first, a text key, a descending key) must be the bytes of the same
rows sorted at once.
"""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from cxport.exports import writer
from cxport.exports.catalogue import ColType, Column
from cxport.exports.engine import install
from cxport.exports.writer import FileSpec, chunks, write
from cxport.limits import Limits
from cxport.store import open_store

COLUMNS = (
    Column("id", "ID", "ID", ColType.ID),
    Column("at", "At", "Em", ColType.TIMESTAMP),
    Column("name", "Name", "Nome", ColType.TEXT),
    Column("ms", "Time (s)", "Tempo (s)", ColType.DURATION),
    Column("avg", "Average", "Média", ColType.DECIMAL2),
)
# 5 000 rows: instants repeating every 97 rows (ties in the first key cross
# any chunk size), every 13th instant unknown, names with commas, quotes,
# formula-like starts and empty text, some unknown.
ROWS = """
SELECT printf('r%05d', i) AS id,
       CASE WHEN i % 13 = 0 THEN NULL
            ELSE TIMESTAMP '2024-06-01' + to_seconds((i % 97) * 3600) END AS "at",
       CASE i % 7 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN '=1+1'
            WHEN 3 THEN 'a, "b"' ELSE 'name ' || (i % 31) END AS name,
       i * 1500 AS ms, i / 7.0 AS avg
FROM range(5000) AS t(i)
"""
ORDERS = [
    '"at", id',
    '"at" NULLS FIRST, id',
    "nullif(name, '') NULLS LAST, id",
    '"at" DESC, id',  # one range: the chunks are ascending ranges
]
SPECS = [
    FileSpec(),
    FileSpec(lang="pt-BR", excel=True),
    FileSpec(format="parquet"),
]


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    store = open_store(tmp_path / "store.duckdb", limits=Limits("128MB", tmp_path / "spill"))
    install(store, ZoneInfo("America/Sao_Paulo"))
    store.execute(f"CREATE TABLE t AS {ROWS}")
    return store


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("spec", SPECS, ids=["csv", "excel-pt-BR", "parquet"])
def test_a_file_sorted_in_chunks_is_the_file_sorted_at_once(
    con: duckdb.DuckDBPyConnection,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    order: str,
    spec: FileSpec,
) -> None:
    at_once = tmp_path / "at-once"
    rows, size = write(con, COLUMNS, "SELECT * FROM t", order, spec, at_once)
    assert rows == 5000 and size == at_once.stat().st_size
    assert chunks(con, "t", order) == [("", [])]

    monkeypatch.setattr(writer, "CHUNK_ROWS_PER_MIB", 1)  # 122 rows a chunk at 128MB
    ranges = chunks(con, "t", order)
    if "DESC" in order:
        assert ranges == [("", [])]
    else:
        assert len(ranges) > 20
        # NULLs: a range of their own, where the order puts them.
        nulls = 0 if "NULLS FIRST" in order else -1
        assert ranges[nulls][0].endswith("IS NULL")
    in_chunks = tmp_path / "in-chunks"
    assert write(con, COLUMNS, "SELECT * FROM t", order, spec, in_chunks) == (rows, size)
    assert in_chunks.read_bytes() == at_once.read_bytes()
    # Nothing left behind: no part files, no temporary tables.
    files = {p.name for p in tmp_path.iterdir()} - {"store.duckdb", "store.duckdb.wal", "spill"}
    assert files == {"at-once", "in-chunks"}
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone() == (0,)


def test_the_ranges_hold_every_row_once(
    con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(writer, "CHUNK_ROWS_PER_MIB", 1)
    counts = [
        con.execute(f"SELECT count(*) FROM t{where}", bounds).fetchone()
        for where, bounds in chunks(con, "t", "nullif(name, '') NULLS LAST, id")
    ]
    assert sum(c[0] for c in counts if c) == 5000


def test_wide_rows_are_sorted_in_smaller_chunks(tmp_path: Path) -> None:
    """40 000 rows of 4 KB of text (160 MB) under a 128 MB limit: by their
    count alone one chunk (61 952 rows a chunk), whose sort, in memory, would
    not fit; by their width four, and the file is the one sorted at once
    under the default limit."""
    wide = """
    SELECT printf('r%05d', i) AS id, TIMESTAMP '2024-06-01' + to_seconds(i % 997) AS "at",
           repeat(chr(CAST(97 + i % 26 AS INTEGER)), 4000) AS name, i * 1000 AS ms, i / 7.0 AS avg
    FROM range(40000) AS t(i)
    """
    files = []
    for limit in ("128MB", ""):
        folder = tmp_path / (limit or "default")
        folder.mkdir()
        store = open_store(folder / "store.duckdb", limits=Limits(limit, folder / "spill"))
        install(store, ZoneInfo("UTC"))
        store.execute(f"CREATE TABLE w AS {wide}")
        ranges = chunks(store, "w", '"at", id')
        assert (len(ranges) >= 4) if limit else (ranges == [("", [])])
        out = folder / "wide.csv"
        assert write(store, COLUMNS, "SELECT * FROM w", '"at", id', FileSpec(), out)[0] == 40000
        files.append(out.read_bytes())
        store.close()
    assert files[0] == files[1]
