"""The embedded store: one DuckDB file, one typed table per record type.

Every table holds every record ever accepted (entity versions included), so
any snapshot `as_of` can be rebuilt. Instants are naive `TIMESTAMP`s in UTC
with millisecond precision.

The read API is `Snapshot`: it defines, on a connection, one view per record
type holding what a workspace looked like at `as_of`:

- `s_<type>`: the visible records of the type (`at <= as_of`);
- `e_<type>` (entities only): the latest visible version of each entity
  (ties: greatest record id).

Later code (exports, checks) reads only these views.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from cxport.errors import StoreError
from cxport.limits import Limits
from cxport.records import RECORD_TYPES, RecordType

SCHEMA_VERSION = 5

Connection = duckdb.DuckDBPyConnection


def _table_v1(rt: RecordType) -> str:
    """A record type's table as schema version 1 made it."""
    cols = ",\n  ".join(f'"{f.name}" {f.sql_type}' for f in rt.fields)
    return (
        f"CREATE TABLE IF NOT EXISTS {rt.table} (\n"
        "  workspace VARCHAR NOT NULL,\n"
        "  record_id VARCHAR NOT NULL,\n"
        '  "at" TIMESTAMP NOT NULL,\n'
        f"  {cols},\n"
        "  content_hash VARCHAR NOT NULL,\n"
        "  batch_id BIGINT NOT NULL\n"
        ")"
    )


def _first(con: Connection, sql: str, params: list[object] | None = None) -> tuple[Any, ...] | None:
    """The first row of `sql`, its result read to the end: a result left unread
    (`fetchone`) makes DuckDB 2 refuse the connection's next `sql()`."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def _migrate_to_1(con: Connection) -> None:
    con.execute(
        "CREATE TABLE IF NOT EXISTS batches (batch_id BIGINT PRIMARY KEY, workspace VARCHAR NOT NULL,"
        " source VARCHAR, ingested_at TIMESTAMP NOT NULL, records BIGINT NOT NULL)"
    )
    # Every record id of a workspace, whatever its type: idempotency and conflicts.
    con.execute(
        "CREATE TABLE IF NOT EXISTS record_ids (workspace VARCHAR NOT NULL, record_id VARCHAR NOT NULL,"
        " type VARCHAR NOT NULL, content_hash VARCHAR NOT NULL)"
    )
    for rt in RECORD_TYPES:
        con.execute(_table_v1(rt))


def _migrate_to_2(con: Connection) -> None:
    """Ingest writes straight into the record tables:

    - content hashes: md5 text becomes DuckDB's 64-bit hash (`hash_sql`);
    - `lineno`: the record's line in its batch (null for records stored
      before), with `batch_id` where each record came from;
    - `record_ids` goes: the record tables themselves say which ids are stored;
    - batch ids come from the sequence `batch_ids`.
    """
    from cxport.ingest.checks import hash_sql

    for rt in RECORD_TYPES:
        con.execute(
            f"ALTER TABLE {rt.table} ALTER content_hash SET DATA TYPE UBIGINT USING {hash_sql(rt)}"
        )
        con.execute(f"ALTER TABLE {rt.table} ADD COLUMN lineno BIGINT")
    con.execute("DROP TABLE record_ids")
    # Batch ids from a sequence: batches that overlap (one transaction each)
    # get ids of their own.
    row = _first(con, "SELECT coalesce(max(batch_id), 0) + 1 FROM batches")
    con.execute(f"CREATE SEQUENCE batch_ids START {int(row[0]) if row else 1}")


def _migrate_to_3(con: Connection) -> None:
    """Kept facts (`cxport.exports.kept`): where each workspace's are, and what they saw."""
    con.execute(
        "CREATE TABLE kept_facts (workspace VARCHAR PRIMARY KEY, schema_name VARCHAR NOT NULL,"
        " batch_id BIGINT NOT NULL, horizon TIMESTAMP NOT NULL, definitions VARCHAR NOT NULL,"
        " built_at TIMESTAMP NOT NULL)"
    )
    con.execute("CREATE SEQUENCE kept_ids START 1")


# A record's key: DuckDB's 64-bit hash of its record id, stored beside it, so
# that a batch looks for its ids among the stored records by reading integers
# (`ingest/commit.py`), not every stored id's text. A message's `message_id`
# (one message record per workspace) has its key too.
RECORD_KEY = "hash(record_id)"
_ID_KEYS = {"message": {"message_key": "hash(message_id)"}}
# The key of this id says which hash made a store's keys: a DuckDB that hashes
# otherwise recomputes them when it opens the store for writing (`_rekey`).
_KEY_PROBE = "cxport record key"


def key_columns(type_name: str) -> dict[str, str]:
    """The key columns of a record type's table, and how each is computed."""
    return {"record_key": RECORD_KEY, **_ID_KEYS.get(type_name, {})}


def _migrate_to_4(con: Connection) -> None:
    """`record_key` (`RECORD_KEY`) in every record table."""
    for rt in RECORD_TYPES:
        con.execute(f"ALTER TABLE {rt.table} ADD COLUMN record_key UBIGINT")
        con.execute(f"UPDATE {rt.table} SET record_key = {RECORD_KEY}")
    con.execute("INSERT OR REPLACE INTO cxport_meta VALUES ('record_key', ?)", [_key_probe(con)])


def _migrate_to_5(con: Connection) -> None:
    """`message_key` in the message table (`key_columns`)."""
    for name, sql in _ID_KEYS["message"].items():
        con.execute(f"ALTER TABLE r_message ADD COLUMN {name} UBIGINT")
        con.execute(f"UPDATE r_message SET {name} = {sql}")


def _key_probe(con: Connection) -> str:
    row = _first(con, f"SELECT {RECORD_KEY.replace('record_id', '?')}::VARCHAR", [_KEY_PROBE])
    return str((row or ("",))[0])


def _rekey(con: Connection) -> None:
    """Compute every key with this DuckDB's hash, and say which."""
    for rt in RECORD_TYPES:
        keys = ", ".join(f"{name} = {sql}" for name, sql in key_columns(rt.name).items())
        con.execute(f"UPDATE {rt.table} SET {keys}")
    con.execute("INSERT OR REPLACE INTO cxport_meta VALUES ('record_key', ?)", [_key_probe(con)])


def _keys_current(con: Connection) -> bool:
    row = _first(con, "SELECT value FROM cxport_meta WHERE key = 'record_key'")
    return row is not None and row[0] == _key_probe(con)


# Migration n takes a store at version n-1 to version n.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _migrate_to_1,
    2: _migrate_to_2,
    3: _migrate_to_3,
    4: _migrate_to_4,
    5: _migrate_to_5,
}


def schema_version(con: Connection) -> int:
    con.execute("CREATE TABLE IF NOT EXISTS cxport_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    row = _first(con, "SELECT value FROM cxport_meta WHERE key = 'schema_version'")
    return int(row[0]) if row else 0


def migrate(con: Connection) -> None:
    """Bring the store's schema to SCHEMA_VERSION, one step at a time."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the store has schema version {current}, newer than this cxport ({SCHEMA_VERSION})"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        con.execute("BEGIN")
        MIGRATIONS[version](con)
        con.execute(
            "INSERT OR REPLACE INTO cxport_meta VALUES ('schema_version', ?)", [str(version)]
        )
        con.execute("COMMIT")
    if not _keys_current(con):
        con.execute("BEGIN")
        _rekey(con)
        con.execute("COMMIT")
    if current < SCHEMA_VERSION:
        # Into the store file now: replaying a migration from the write-ahead
        # log (after a crash) needs DuckDB extensions loaded on demand, which
        # fails offline.
        con.execute("CHECKPOINT")


def open_store(
    path: str | Path, read_only: bool = False, limits: Limits | None = None
) -> Connection:
    """Open (creating on first use) the store at `path`, migrated, under `limits`
    (memory and spill folder; the defaults when None)."""
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreError(f"cannot open the store {path}: {exc}") from exc
    con.execute("SET TimeZone = 'UTC'")
    try:
        (limits or Limits()).apply(con, path)
    except BaseException:
        con.close()
        raise
    if not read_only:
        migrate(con)
    elif schema_version_readonly(con) != SCHEMA_VERSION:
        raise StoreError(f"the store {path} needs a migration: open it once for writing")
    return con


def schema_version_readonly(con: Connection) -> int:
    try:
        row = _first(con, "SELECT value FROM cxport_meta WHERE key = 'schema_version'")
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row else 0


@contextmanager
def connect(path: str | Path, read_only: bool = False) -> Iterator[Connection]:
    con = open_store(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


def to_utc_naive(t: dt.datetime) -> dt.datetime:
    """An aware instant as the store keeps it: naive UTC, truncated to the millisecond."""
    if t.tzinfo is None:
        raise ValueError("instant without a time zone")
    t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.replace(microsecond=t.microsecond - t.microsecond % 1000)


@dataclass(frozen=True)
class Snapshot:
    """What a workspace looked like at `as_of` (UTC, naive or aware); with `through_batch`,
    as its batches up to that one left it (a version read while later ones are stored)."""

    workspace: str
    as_of: dt.datetime
    through_batch: int | None = None

    def define(
        self, con: Connection, prefix: str = "", types: Collection[str] | None = None
    ) -> None:
        """Create the temporary `s_*` and `e_*` views of this snapshot on `con`:
        of the record types named in `types` (all when None)."""
        for name, sql in self.views(prefix, types):
            con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {sql}")

    def views(
        self, prefix: str = "", types: Collection[str] | None = None
    ) -> list[tuple[str, str]]:
        """The `s_*` and `e_*` views of this snapshot (name, SELECT), of the record
        types named in `types` (all when None): the canonical tables' visible rows."""
        as_of = self.as_of if self.as_of.tzinfo is None else to_utc_naive(self.as_of)
        ws = self.workspace.replace("'", "''")
        ts = as_of.isoformat(sep=" ", timespec="milliseconds")
        batches = (
            "" if self.through_batch is None else f" AND batch_id <= {int(self.through_batch)}"
        )
        out = []
        for rt in RECORD_TYPES:
            if types is not None and rt.name not in types:
                continue
            cols = ", ".join(["record_id", '"at"', *(f'"{f.name}"' for f in rt.fields)])
            out.append(
                (
                    f"{prefix}s_{rt.name}",
                    f"SELECT {cols} FROM {rt.table}"
                    f" WHERE workspace = '{ws}' AND \"at\" <= TIMESTAMP '{ts}'{batches}",
                )
            )
            if rt.entity_key:
                out.append(
                    (
                        f"{prefix}e_{rt.name}",
                        f"SELECT * FROM {prefix}s_{rt.name}"
                        f" QUALIFY row_number() OVER (PARTITION BY {rt.entity_key}"
                        ' ORDER BY "at" DESC, record_id DESC) = 1',
                    )
                )
        return out


def record_counts(con: Connection, workspace: str | None = None) -> dict[str, int]:
    """Stored records per type (all workspaces when `workspace` is None)."""
    out = {}
    for rt in RECORD_TYPES:
        if workspace is None:
            row = _first(con, f"SELECT count(*) FROM {rt.table}")
        else:
            row = _first(con, f"SELECT count(*) FROM {rt.table} WHERE workspace = ?", [workspace])
        out[rt.name] = int(row[0]) if row else 0
    return out
