"""The store's schema: versions and the migration chain."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cxport.errors import InvalidInput, StoreError
from cxport.ingest import ingest_bytes
from cxport.ingest.checks import hash_sql
from cxport.records import BY_NAME
from cxport.store import MIGRATIONS, SCHEMA_VERSION, open_store, schema_version

NOW = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
TEAM = {"type": "team", "id": "r1", "at": "2024-06-19T08:30:00Z", "team_id": "t1", "name": "Sales"}
MESSAGE = {"type": "message", "id": "r2", "at": "2024-06-19T08:31:00Z", "message_id": "m1",
           "conversation_id": "cv1", "direction": "INBOUND", "source": "CONTACT",
           "message_type": "PRIVATE_MESSAGE"}  # fmt: skip


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
    con.execute(
        "INSERT INTO batches VALUES (1, 'default', 'old.ndjson', TIMESTAMP '2024-06-20', 1)"
    )
    con.close()


def test_a_version_1_store_is_migrated_and_keeps_its_records(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    version_1_store(path)
    with pytest.raises(StoreError, match="needs a migration"):
        open_store(path, read_only=True)
    con = open_store(path)
    assert schema_version(con) == SCHEMA_VERSION == 5
    types = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'r_team' AND column_name IN ('content_hash', 'lineno')"
    ).fetchall()
    assert sorted(types) == [("content_hash", "UBIGINT"), ("lineno", "BIGINT")]
    tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "record_ids" not in tables
    assert "kept_facts" in tables  # version 3: none kept yet
    assert con.execute("SELECT count(*) FROM kept_facts").fetchall() == [(0,)]
    expected = f"SELECT {hash_sql(BY_NAME['team'])} FROM r_team"
    assert (
        con.execute("SELECT content_hash FROM r_team").fetchall()
        == con.execute(expected).fetchall()
    )
    # The same record again is a re-send; the next batch gets the next id.
    summary = ingest_bytes(con, (json.dumps(TEAM) + "\n").encode(), now=NOW)
    assert (summary.total_stored, summary.duplicates, summary.batches[0].batch_id) == (0, 1, 2)
    rows = con.execute("SELECT record_id, name, batch_id, lineno FROM r_team").fetchall()
    assert rows == [("r1", "Sales", 1, None)]
    # Version 4: each record's key, the hash of its id.
    assert con.execute("SELECT record_key = hash(record_id) FROM r_team").fetchall() == [(True,)]
    con.close()


def test_record_keys_made_by_another_hash_are_recomputed_at_open(tmp_path: Path) -> None:
    """A record's key (the hash of its id) is how a batch finds its re-sends: keys
    made by a DuckDB that hashed otherwise are made again when the store opens."""
    path = tmp_path / "keys.duckdb"
    con = open_store(path)
    ingest_bytes(con, (json.dumps(TEAM) + "\n" + json.dumps(MESSAGE) + "\n").encode(), now=NOW)
    keyed = "SELECT record_key = hash(record_id), message_key = hash(message_id) FROM r_message"
    assert con.execute(keyed).fetchall() == [(True, True)]
    con.execute("UPDATE r_team SET record_key = 7")
    con.execute("UPDATE r_message SET record_key = 7, message_key = 7")
    con.execute("UPDATE cxport_meta SET value = '7' WHERE key = 'record_key'")
    con.close()
    con = open_store(path)
    assert con.execute("SELECT record_key = hash(record_id) FROM r_team").fetchall() == [(True,)]
    assert con.execute(keyed).fetchall() == [(True, True)]
    summary = ingest_bytes(con, (json.dumps(TEAM) + "\n").encode(), now=NOW)
    assert (summary.total_stored, summary.duplicates) == (0, 1)
    other = {**MESSAGE, "id": "r3"}  # another record of the same message id
    with pytest.raises(InvalidInput) as found:
        ingest_bytes(con, (json.dumps(other) + "\n").encode(), now=NOW)
    assert "already used by stored record" in " ".join(found.value.problems)
    con.close()


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    open_store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE cxport_meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer than this cxport"):
        open_store(path)


def test_a_store_opens_after_a_crash_in_the_middle_of_work(tmp_path: Path) -> None:
    """The process dies after an ingest, before any checkpoint: the next open
    replays the write-ahead log (offline, as on a machine without internet)."""
    path = tmp_path / "crash.duckdb"
    script = (
        "import os, sys\n"
        "from cxport.store import open_store\n"
        "from cxport.ingest import ingest_bytes\n"
        "con = open_store(sys.argv[1])\n"
        "ingest_bytes(con, sys.argv[2].encode() + b'\\n')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path), json.dumps(TEAM)], check=True)
    assert Path(f"{path}.wal").exists()
    con = open_store(path, read_only=True)
    assert con.execute("SELECT record_id, name FROM r_team").fetchall() == [("r1", "Sales")]
    con.close()


def test_a_store_just_opened_takes_a_relational_query(tmp_path: Path) -> None:
    # DuckDB 2 refuses `sql()` on a connection with a result left unread.
    db = tmp_path / "store.duckdb"
    for read_only in (False, True, False):
        con = open_store(db, read_only=read_only)
        try:
            assert con.sql("SELECT 1").fetchall() == [(1,)]
        finally:
            con.close()
