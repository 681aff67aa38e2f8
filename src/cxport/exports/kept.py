"""Kept facts: the derived facts no request changes, kept in the store.

Most of an export's time at scale goes into derived facts that read every
record of a conversation (its timeline, lock sessions, first response,
topics). Those do not depend on the request's range, zone or channels, and
for any `as_of` at or after the workspace's last record (its *horizon*) they
do not depend on `as_of` either, save a few columns of the rows still open
(a lock session open at the snapshot ends at `as_of`). So they are built
once per version of the store and kept in it; an export then reads them
instead of computing them.

- The facts kept are those of `keep.KEEP` (data, beside no fact's
  definition); `Keep.at_as_of` turns the kept rows into the fact at the
  request's `as_of` (a projection, no sort). Whether an export reads a kept
  copy or computes the fact is the planner's choice (`plan.py`).
- They are built over the whole workspace, the `as_of` being the horizon,
  into a schema of their own (`kept_<n>`), and recorded in `kept_facts`
  (workspace, schema, the last batch id they saw, horizon, definitions hash);
  the new schema replaces the old one in one transaction.
- An export uses them only when they are *current*: no batch of the
  workspace has landed since (its latest batch id is theirs), the
  definitions are the ones this cxport would build (the hash), and the
  request's `as_of` is at or after the horizon. Otherwise it computes every
  fact at request time, as before: a snapshot in the past, or records
  ingested since, are never answered from a stale copy.
- Who builds them: `cxport ingest` after its batches (`refresh`), and a
  group of exports over one snapshot (`run_exports`), which computes every
  fact over every conversation anyway.

The files are byte for byte those of the request-time path: the kept
facts are the same SQL over the same records (tests compare both).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import duckdb

from cxport.engines.duckdb import define
from cxport.exports import engine, kept_plan
from cxport.exports.defs import EXPORTS
from cxport.exports.engine import create_table
from cxport.exports.facts import (
    Fact,
    FactContext,
    define_request,
    define_scope,
    fact_order,
)
from cxport.exports.keep import KEEP, Keep
from cxport.exports.plan import fact_step
from cxport.limits import memory_of
from cxport.records import RECORD_TYPES
from cxport.store import Snapshot

# Bump when a kept fact's meaning changes without its SQL changing (a Python
# build function's code, say): kept copies built before are then rebuilt.
KEPT_FORMAT = 1


@dataclass(frozen=True)
class Kept:
    """Current kept facts of a workspace: where they are and the horizon they saw."""

    schema: str
    horizon: dt.datetime  # naive UTC: the latest `at` of the workspace's records
    batch_id: int  # the latest batch they saw


def kept_facts() -> list[Keep]:
    """The kept facts some export reads, and what builds them, requirements first.

    A kept fact only another kept fact reads (the status changes behind the
    first response, say) is built, not stored: exports never read it.
    """
    order = fact_order(sorted(stored_facts()))
    loose = [f.name for f in order if f.name not in KEEP]
    if loose:  # a kept fact would read one computed for some request
        raise ValueError(f"kept facts require facts that are not kept: {', '.join(loose)}")
    return [KEEP[f.name] for f in order]


@functools.cache  # the definitions are the program's: fixed while it runs
def stored_facts() -> frozenset[str]:
    """The names of the kept facts some export reads: those stored."""
    return frozenset(
        f.name for d in EXPORTS for f in fact_order(d.facts, kept=True) if f.name in KEEP
    )


@functools.cache
def definitions_hash() -> str:
    """What the kept copies were built from: the kept facts' definitions."""
    h = hashlib.sha256(f"format {KEPT_FORMAT}".encode())
    for keep in kept_facts():
        fact = keep.fact
        build = fact.rows.__qualname__ if fact.rows is not None else ""
        parts = (fact.name, fact.sql or "", build, keep.at_as_of or "", keep.order or "")
        for part in (*parts, *fact.texts()[1:], keep.touched_sql or "", *keep.reads_whole):
            h.update(b"\0" + part.encode())
    return h.hexdigest()[:16]


def _latest_batch(con: duckdb.DuckDBPyConnection, workspace: str) -> int | None:
    """The workspace's latest batch that stored records (one that stored none changes nothing)."""
    row = con.execute(
        "SELECT max(batch_id) FROM batches WHERE workspace = ? AND records > 0", [workspace]
    )
    value = row.fetchone()
    return None if value is None or value[0] is None else int(value[0])


def workspace_horizon(
    con: duckdb.DuckDBPyConnection, workspace: str, since: _Record | None = None
) -> dt.datetime | None:
    """The latest `at` of the workspace's records (each table's maximum, then theirs).

    With `since` (kept facts that saw the batches up to its batch, at its
    horizon), the later of its horizon and the batches' after it: records are
    only ever added, by batch (zone maps on `batch_id` skip the older ones).
    """
    after = "" if since is None else f" AND batch_id > {int(since.batch_id)}"
    parts = " UNION ALL ".join(
        f'SELECT max("at") AS t FROM {rt.table} WHERE workspace = $ws{after}' for rt in RECORD_TYPES
    )
    row = con.execute(f"SELECT max(t) FROM ({parts}) AS m", {"ws": workspace}).fetchone()
    found = None if row is None else row[0]
    if since is None or found is None:
        return found if since is None else since.horizon
    return max(found, since.horizon)


def writable(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute(
        "SELECT NOT readonly FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return bool(row and row[0])


@dataclass(frozen=True)
class _Record:
    """The workspace's row of `kept_facts`."""

    schema: str
    batch_id: int
    horizon: dt.datetime
    definitions: str


def _record(con: duckdb.DuckDBPyConnection, workspace: str) -> _Record | None:
    row = con.execute(
        "SELECT schema_name, batch_id, horizon, definitions FROM kept_facts WHERE workspace = ?",
        [workspace],
    ).fetchone()
    return None if row is None else _Record(str(row[0]), int(row[1]), row[2], str(row[3]))


def _recorded(con: duckdb.DuckDBPyConnection, workspace: str) -> Kept | None:
    """The workspace's kept facts unless stale (records landed since, or other definitions)."""
    found = _record(con, workspace)
    if found is None or found.definitions != definitions_hash():
        return None
    latest = _latest_batch(con, workspace)
    if latest is not None and latest > found.batch_id:
        return None
    return Kept(found.schema, found.horizon, found.batch_id)


def current(con: duckdb.DuckDBPyConnection, workspace: str, as_of: dt.datetime) -> Kept | None:
    """The workspace's kept facts if an export at `as_of` (naive UTC) may read them."""
    found = _recorded(con, workspace)
    return found if found is not None and as_of >= found.horizon else None


def version(con: duckdb.DuckDBPyConnection, workspace: str, as_of: dt.datetime) -> Kept | None:
    """The workspace's kept facts even if batches landed since (their definitions the
    program's, `as_of` not before their horizon): an export reading them reads the
    store as of their batch (`Snapshot.through_batch`), the version before those
    batches, while they are being stored and refreshed."""
    found = _record(con, workspace)
    if found is None or found.definitions != definitions_hash() or as_of < found.horizon:
        return None
    return Kept(found.schema, found.horizon, found.batch_id)


def refresh(
    con: duckdb.DuckDBPyConnection,
    workspace: str,
    force: bool = False,
    for_as_of: dt.datetime | None = None,
) -> tuple[Kept | None, bool]:
    """Bring the workspace's kept facts up to date unless they are current; (kept, built now).

    Kept facts that saw earlier batches are refreshed by what the batches since
    touched (`kept_plan.py`), or rebuilt whole when that reaches too far (or
    with `force`, or other definitions). (None, False) for a workspace without
    records, and when `for_as_of` (naive UTC) is given and is before the
    horizon: an export at that snapshot could not read them.
    """
    found = None if force else _recorded(con, workspace)
    if found is not None:  # current: no scan for the horizon, it is recorded
        if for_as_of is not None and for_as_of < found.horizon:
            return None, False
        return found, False
    latest = _latest_batch(con, workspace)
    previous = None if force else _record(con, workspace)
    if previous is not None and not _updatable(con, previous):
        previous = None
    horizon = workspace_horizon(con, workspace, previous)
    if latest is None or horizon is None:
        return None, False
    if for_as_of is not None and for_as_of < horizon:
        return None, False
    cur = con.cursor()  # its own temporary objects and transaction
    try:
        if previous is not None:
            updated = _update(con, cur, workspace, previous, latest, horizon)
            if updated is not None:
                return updated, True
        return _build(con, cur, workspace, latest, horizon), True
    finally:
        cur.close()


def _updatable(con: duckdb.DuckDBPyConnection, previous: _Record) -> bool:
    """Whether kept facts can be refreshed in place: same definitions, every table there."""
    if previous.definitions != definitions_hash():
        return False
    (n,) = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ?",
        [previous.schema],
    ).fetchone() or (0,)
    return int(n) == len(stored_facts())


def _define_snapshot(
    base: duckdb.DuckDBPyConnection,
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    horizon: dt.datetime,
) -> FactContext:
    Snapshot(workspace, horizon).define(cur)
    engine.install(cur, ZoneInfo("UTC"), base)
    # Kept facts read no request but its `as_of`: the range stays NULL, so a
    # fact that read it would come out empty, and the tests comparing both
    # paths would fail.
    define_request(cur, None, None, horizon)
    return FactContext(start=horizon, end=horizon, as_of=horizon)


def _update(
    base: duckdb.DuckDBPyConnection,
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    previous: _Record,
    batch_id: int,
    horizon: dt.datetime,
) -> Kept | None:
    """Refresh the kept facts in `previous.schema` by what the batches since touched,
    in one transaction; None when the plan says to rebuild them whole."""
    ctx = _define_snapshot(base, cur, workspace, horizon)
    # One transaction: what the refresh computes (temporary) and what it
    # replaces; a statement on its own commits, which costs more than most here.
    cur.execute("BEGIN")
    try:
        plan = kept_plan.plan(cur, workspace, previous.batch_id, previous.schema)
        if plan.full or not _replace(cur, previous.schema, ctx, plan.nothing):
            cur.execute("ROLLBACK")
            return None
        cur.execute(
            "UPDATE kept_facts SET batch_id = ?, horizon = ?, built_at = now()::TIMESTAMP"
            " WHERE workspace = ?",
            [batch_id, horizon, workspace],
        )
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
    return Kept(previous.schema, horizon, batch_id)


def _replace(cur: duckdb.DuckDBPyConnection, schema: str, ctx: FactContext, nothing: bool) -> bool:
    """Compute the touched rows of every kept fact and replace the stored ones
    (in the caller's transaction); False when a fact cannot be refreshed by parts."""
    if nothing:
        return True
    stored = stored_facts()
    # A fact read beyond its touched rows by a later one stays a table of its
    # own (`kd_`) under a view that the reader widens; the others are the table.
    widened = {dep for keep in kept_facts() for dep in keep.reads_whole}
    kept_plan.define_touched_scope(cur)
    for keep in kept_facts():
        fact = keep.fact
        if fact.rows is not None:  # built in Python: whole, over the touched scope
            define(cur, fact_step(fact), ctx)
            continue
        touched = keep.touched_sql
        if fact.sql is None or touched is None:
            return False  # not refreshable by parts: whole
        for dep in keep.reads_whole:  # its rows: the kept ones not touched, and the new
            cur.execute(
                f"CREATE OR REPLACE TEMP VIEW {dep} AS SELECT * FROM {schema}.{dep}"
                f" WHERE {touched} AND NOT coalesce({KEEP[dep].touched_sql}, false)"
                f" UNION ALL SELECT * FROM kd_{dep}"
            )
        rows = f"kd_{fact.name}" if fact.name in widened else fact.name
        cur.execute(
            f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT * FROM ({fact.sql}) AS rows_ WHERE {touched}"
        )
        for dep in keep.reads_whole:  # back to the touched rows for the facts after
            cur.execute(f"CREATE OR REPLACE TEMP VIEW {dep} AS SELECT * FROM kd_{dep}")
        if fact.name in widened:
            cur.execute(f"CREATE OR REPLACE TEMP VIEW {fact.name} AS SELECT * FROM {rows}")
        if fact.name in stored:
            table = f"{schema}.{fact.name}"
            cur.execute(_delete_sql(table, keep.touched_any))
            order = f" ORDER BY {keep.order}" if keep.order else ""
            cur.execute(f"INSERT INTO {table} SELECT * FROM {rows}{order}")
    return True


def _delete_sql(table: str, touched: tuple[str, ...]) -> str:
    """Delete the rows of `table` meeting any of the `touched` alternatives: one
    semi-join each (a single condition deletes by itself)."""
    if len(touched) == 1:
        return f"DELETE FROM {table} WHERE {touched[0]}"
    each = " UNION ALL ".join(f"SELECT rowid FROM {table} WHERE {c}" for c in touched)
    return f"DELETE FROM {table} WHERE rowid IN ({each})"


def _build(
    base: duckdb.DuckDBPyConnection,
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    batch_id: int,
    horizon: dt.datetime,
) -> Kept:
    schema = build_schema(base, cur, workspace, horizon)
    try:
        _swap(cur, workspace, schema, batch_id, horizon)
    except BaseException:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        raise
    return Kept(schema, horizon, batch_id)


def build_schema(
    base: duckdb.DuckDBPyConnection,
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    horizon: dt.datetime,
    on_fact: Callable[[str], None] | None = None,
    shares: int | None = None,
) -> str:
    """Build every kept fact whole, at `horizon`, into a new schema; its name.

    Nothing reads it until it is recorded (`_swap`); tests compare it with
    kept facts refreshed by parts. `on_fact` is told each fact's name once it
    is built (`bench/build.py` times them). A fact built by conversation
    (`Fact.by_conversation`) is built in `shares` of the conversations, one
    after the other (None: as many as the memory limit asks, `build_shares`).
    """
    ctx = _define_snapshot(base, cur, workspace, horizon)
    define_scope(cur, None)
    if shares is None:
        shares = build_shares(cur)
    stored = stored_facts()
    (n,) = cur.execute("SELECT nextval('kept_ids')").fetchone() or (0,)
    schema = f"kept_{int(n)}"
    # Built straight into the new schema, which nothing reads until the swap.
    cur.execute(f"CREATE SCHEMA {schema}")
    keeps = kept_facts()
    try:
        for i, keep in enumerate(keeps):
            fact = keep.fact
            table = f"{schema}.{fact.name}"
            if fact.name in stored and fact.sql is not None:
                if fact.by_conversation and shares > 1:
                    _create_by_shares(cur, table, fact, keep.order, shares, schema)
                else:
                    create_table(cur, table, [fact.sql], keep.order)
                cur.execute(f"CREATE OR REPLACE TEMP VIEW {fact.name} AS SELECT * FROM {table}")
            elif fact.by_conversation and shares > 1:
                _create_by_shares(cur, fact.name, fact, None, shares, schema)
            else:
                define(cur, fact_step(fact), ctx)
                if fact.name in stored:  # built in Python: store its table
                    cur.execute(f"CREATE TABLE {table} AS SELECT * FROM {fact.name}")
            for done in _read_last_by(keeps, i, stored):
                cur.execute(f"DROP TABLE {done}")
            if on_fact is not None:
                on_fact(fact.name)
    except BaseException:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        raise
    return schema


def _read_last_by(keeps: list[Keep], n: int, stored: frozenset[str]) -> list[str]:
    """The facts not stored (temporary tables) that the `n`th of `keeps` reads
    and no later one does: let go of once it is built, so that their rows,
    held uncompressed, leave the memory and the temporary folder to the facts
    after (at 10 M conversations `f_conversation` is 10 M rows of 41 columns)."""

    def reads(keep: Keep) -> set[str]:
        return {*keep.fact.requires, *keep.fact.reads}

    later = set().union(*(reads(k) for k in keeps[n + 1 :]))
    built = {k.name for k in keeps}
    return sorted(t for t in reads(keeps[n]) if t in built and t not in stored and t not in later)


# Conversations a build share may hold for each GB of the memory limit: past
# it, a share's groupings spill (f_conversation at 1 M conversations under
# 3.2 GB: whole 4.65 s, two shares 3.76 s, three 3.84 s, six 4.82 s).
SHARE_CONVERSATIONS_PER_GB = 160_000
# Each share scans every record of the types its fact reads: at 10 M
# conversations, four or eight shares took 88 s, twenty about 120 s (whole:
# 114 s). docs/performance.md, "Building `f_conversation` by shares".
MOST_SHARES = 8


def build_shares(cur: duckdb.DuckDBPyConnection) -> int:
    """How many shares of the conversations a fact built by conversation is
    built in on `cur` (its snapshot's conversation versions, a near count of
    its conversations, under its memory limit)."""
    (conversations,) = cur.execute("SELECT count(*) FROM s_conversation").fetchone() or (0,)
    return shares_for(int(conversations), memory_of(cur))


def shares_for(conversations: int, memory: int) -> int:
    """The shares `conversations` are built in under `memory` bytes: one when they fit."""
    per_share = max(1, int(memory / 10**9 * SHARE_CONVERSATIONS_PER_GB))
    return max(1, min(MOST_SHARES, -(-conversations // per_share)))


def _create_by_shares(
    cur: duckdb.DuckDBPyConnection,
    table: str,
    fact: Fact,
    order: str | None,
    shares: int,
    schema: str,
) -> None:
    """Create `table` with the rows of `fact` (`Fact.by_conversation`) computed
    for one share of the conversations at a time: its `c_*` views and its
    requirements with a `conversation_id` narrowed to the share's, then widened
    again however it ends.

    A requirement is a temporary table (renamed while a view of the same name
    narrows it, and named back after) or a view of its table in `schema`."""
    assert fact.sql is not None, fact.name

    def keyed_by_conversation(dep: str) -> bool:
        columns = cur.execute(f"SELECT * FROM {dep} LIMIT 0").description
        return any(column[0] == "conversation_id" for column in columns)

    keyed = [dep for dep in fact.requires if keyed_by_conversation(dep)]
    temporary = {
        name
        for (name,) in cur.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary"
            " AND list_contains(?, table_name)",
            [keyed],
        ).fetchall()
    }
    tables = {dep: f"kb_{dep}" if dep in temporary else f"{schema}.{dep}" for dep in keyed}

    def narrowed(share: int) -> str:
        # A record without a conversation (none passes ingest) would fall in the first.
        _narrow(cur, tables, f"coalesce(hash(conversation_id) % {shares}, 0) = {share}")
        return str(fact.sql)

    for dep in temporary:
        cur.execute(f"ALTER TABLE {dep} RENAME TO kb_{dep}")
    try:
        create_table(cur, table, (narrowed(share) for share in range(shares)), order)
    finally:
        _narrow(cur, tables, None)
        for dep in temporary:
            cur.execute(f"DROP VIEW {dep}")
            cur.execute(f"ALTER TABLE kb_{dep} RENAME TO {dep}")


def _narrow(cur: duckdb.DuckDBPyConnection, tables: dict[str, str], share: str | None) -> None:
    """Point the `c_*` views, and the views named by `tables` (of those tables),
    at the rows of the conversations meeting `share` (None: at every row)."""
    define_scope(cur, None, where=share)
    where = "" if share is None else f" WHERE {share}"
    for view, rows in tables.items():
        cur.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {rows}{where}")


def _swap(
    cur: duckdb.DuckDBPyConnection,
    workspace: str,
    schema: str,
    batch_id: int,
    horizon: dt.datetime,
) -> None:
    """Record `schema` as the workspace's kept facts and drop the one it replaces, atomically.

    Also dropped: schemas a build left behind when its process died before
    its swap (one build runs at a time: the store has one writing process,
    and it refreshes from one place at a time).
    """
    cur.execute("BEGIN")
    try:
        cur.execute("DELETE FROM kept_facts WHERE workspace = ?", [workspace])
        cur.execute(
            "INSERT INTO kept_facts VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP)",
            [workspace, schema, batch_id, horizon, definitions_hash()],
        )
        unused = cur.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
            " AND regexp_full_match(schema_name, 'kept_[0-9]+')"
            " AND schema_name NOT IN (SELECT schema_name FROM kept_facts)"
        ).fetchall()
        for (name,) in unused:
            cur.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        cur.execute("COMMIT")
    except BaseException:
        cur.execute("ROLLBACK")
        raise
