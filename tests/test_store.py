"""The store's schema: versions and the migration chain."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from cxport.errors import StoreError
from cxport.ingest import ingest_bytes
from cxport.ingest.checks import hash_sql
from cxport.records import BY_NAME
from cxport.store import MIGRATIONS, SCHEMA_VERSION, open_store, schema_version

NOW = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
TEAM = {"type": "team", "id": "r1", "at": "2024-06-19T08:30:00Z", "team_id": "t1", "name": "Sales"}


def version_1_store(path: Path) -> None:
    """A store as cxport 0.1 left it: md5 text content hashes."""
    con = duckdb.connect(str(path))
    schema_version(con)  # creates cxport_meta
    MIGRATIONS[1](con)
    con.execute("INSERT INTO cxport_meta VALUES ('schema_version', '1')")
    con.execute(
        'INSERT INTO r_team (workspace, record_id, "at", team_id, name, content_hash, batch_id)'
        " VALUES ('default', 'r1', TIMESTAMP '2024-06-19 08:30:00', 't1', 'Sales', md5('x'), 1)"
    )
    con.execute("INSERT INTO record_ids VALUES ('default', 'r1', 'team', md5('x'))")
    con.close()


def test_a_version_1_store_is_migrated_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    version_1_store(path)
    with pytest.raises(StoreError, match="needs a migration"):
        open_store(path, read_only=True)
    con = open_store(path)
    assert schema_version(con) == SCHEMA_VERSION == 2
    types = con.execute(
        "SELECT table_name, data_type FROM information_schema.columns"
        " WHERE column_name = 'content_hash' AND table_name IN ('r_team', 'record_ids')"
    ).fetchall()
    assert sorted(types) == [("r_team", "UBIGINT"), ("record_ids", "UBIGINT")]
    expected = f"SELECT {hash_sql(BY_NAME['team'])} FROM r_team"
    assert (
        con.execute("SELECT content_hash FROM r_team").fetchall()
        == con.execute(expected).fetchall()
    )
    assert (
        con.execute("SELECT content_hash FROM record_ids").fetchall()
        == con.execute(expected).fetchall()
    )
    # The same record again is a re-send.
    summary = ingest_bytes(con, (json.dumps(TEAM) + "\n").encode(), now=NOW)
    assert (summary.total_stored, summary.duplicates) == (0, 1)
    assert con.execute("SELECT record_id, name FROM r_team").fetchall() == [("r1", "Sales")]
    con.close()


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE cxport_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer than this cxport"):
        open_store(path)
