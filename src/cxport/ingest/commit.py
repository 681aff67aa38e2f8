"""The end of a batch: dedupe, compare with the store, commit.

The batch's valid rows are already in the record tables (uncommitted, with
the batch id and their line numbers):


- Same record id and content (in the batch or in the store): a re-send,
  skipped and counted as a duplicate.
- Same record id, other content: a conflict, naming both lines (or the
  stored record). So is a `message_id` used by two message records.
- Then the rows of skipped lines are deleted and the batch recorded in
  `batches`, and its transaction commits: all of the batch or none of it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cxport.errors import InvalidInput
from cxport.ingest.batch import Batch
from cxport.ingest.checks import ident, q, stored_columns
from cxport.ingest.problems import MAX_PROBLEMS, problem_lines
from cxport.records import BY_NAME, RECORD_TYPES
from cxport.store import to_utc_naive

MAX_WARNINGS = 100
DEDUPE_PARTITION_ROWS = 8_000_000  # rows per partition of the duplicate search
FUTURE_MARGIN = dt.timedelta(days=1)


@dataclass
class BatchResult:
    """What one batch stored."""

    source: str
    batch_id: int
    stored: dict[str, int]
    duplicates: int
    rejected: int
    warnings: list[str]
    warning_count: int
    lines: int


def invalid(b: Batch) -> InvalidInput:
    problems, total, lines = problem_lines(b, MAX_PROBLEMS)
    noun = "line" if lines == 1 else "lines"
    return InvalidInput(
        f"{b.source}: {lines} invalid {noun}; nothing from it was stored", problems, total
    )


def commit(b: Batch) -> BatchResult:
    """End the batch: commit it, or raise InvalidInput (the caller's
    `Batch.close` rolls it back, leaving the store unchanged)."""
    if b.errors and not b.skip_invalid:
        raise invalid(b)
    if b.skip_invalid:  # lines with errors are left out
        b.run("INSERT INTO ingest_skip SELECT DISTINCT lineno FROM ingest_errs")
    _conflicts(b)
    if b.errors and not b.skip_invalid:
        raise invalid(b)
    result = _finish(b)
    b.end(commit=True)
    return result


def _this_batch(b: Batch, t: str) -> str:
    """The rows of record type `t` this batch stored (zone maps skip the others)."""
    return f"{BY_NAME[t].table} WHERE batch_id = {b.batch_id}"


def _ids_view(b: Batch) -> None:
    """`ingest_ids`: (lineno, record_id, type, content_hash, record_key) of this
    batch's rows; `ingest_before`: (record_id, type, content_hash) of the
    records stored before it, of every type (a record id names one record),
    whose key is one of `ingest_hits`: the keys of this batch's ids that
    some stored record has (integers: one narrow scan of each table)."""
    parts = [
        f"SELECT lineno, record_id, {q(t)} AS type, content_hash, record_key"
        f" FROM {_this_batch(b, t)}"
        for t in sorted(b.stored_types)
    ]
    sql = " UNION ALL ".join(parts) or (
        "SELECT NULL::BIGINT AS lineno, NULL::VARCHAR AS record_id, NULL::VARCHAR AS type,"
        " NULL::UBIGINT AS content_hash, NULL::UBIGINT AS record_key WHERE false"
    )
    b.run(f"CREATE OR REPLACE TEMP VIEW ingest_ids AS {sql}")
    stored = [
        f"FROM {rt.table} WHERE workspace = {q(b.workspace)} AND batch_id <> {b.batch_id}"
        for rt in RECORD_TYPES
    ]
    keys = " UNION ALL ".join(f"SELECT record_key {rows}" for rows in stored)
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_hits AS SELECT DISTINCT record_key"
        f" FROM (SELECT record_key FROM ingest_ids) AS i JOIN ({keys}) AS r USING (record_key)"
    )
    hits = " AND record_key IN (SELECT record_key FROM ingest_hits)"
    before = " UNION ALL ".join(
        f"SELECT record_id, {q(rt.name)} AS type, content_hash {rows}{hits}"
        for rt, rows in zip(RECORD_TYPES, stored, strict=True)
    )
    b.run(f"CREATE OR REPLACE TEMP VIEW ingest_before AS {before}")


def _conflicts(b: Batch) -> None:
    """Duplicates go to `ingest_skip`; conflicts to `ingest_errs` (and skip)."""
    _ids_view(b)
    # Against the store: same id and hash is a re-send, another hash a conflict.
    # No stored key among the batch's (new records): nothing stored to read.
    found = b.value("SELECT count(*) FROM ingest_hits") > 0
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_stored AS SELECT i.lineno, i.record_id, i.type,"
        " i.type = r.type AND i.content_hash = r.content_hash AS same FROM ingest_ids i"
        f" JOIN ingest_before r USING (record_id) WHERE {str(found).lower()}"
    )
    _same_columns(b)
    b.run(
        "INSERT INTO ingest_errs SELECT lineno, 'id', 'record id ' || to_json(record_id)"
        " || ' is already stored with different content' FROM ingest_stored WHERE NOT same"
    )
    # Within the batch: ids seen twice are found by their 64-bit hash first
    # (an integer GROUP BY is much cheaper than one on strings), then checked.
    _repeated_hashes(b, "record_id", "ingest_ids")
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_twice AS SELECT lineno, record_id, content_hash"
        " FROM ingest_ids ANTI JOIN ingest_stored USING (lineno)"
        " WHERE hash(record_id) IN (SELECT h FROM ingest_repeated)"
    )
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_groups AS SELECT record_id, min(lineno) AS first,"
        " min(content_hash) <> max(content_hash) AS conflict FROM ingest_twice"
        " GROUP BY record_id HAVING count(*) > 1"
    )
    b.run(
        "INSERT INTO ingest_skip SELECT lineno FROM ingest_stored UNION ALL"
        " SELECT i.lineno FROM ingest_twice i JOIN ingest_groups g USING (record_id)"
        " WHERE NOT g.conflict AND i.lineno <> g.first"
    )
    b.run(
        "INSERT INTO ingest_errs SELECT a.lineno, 'id', 'record id ' || to_json(a.record_id)"
        " || ' has different content on line ' || min(b.lineno) FROM ingest_twice a"
        " JOIN ingest_twice b ON a.record_id = b.record_id AND a.content_hash <> b.content_hash"
        " GROUP BY a.lineno, a.record_id"
    )
    for name in (
        "ingest_stored",
        "ingest_hits",
        "ingest_twice",
        "ingest_groups",
        "ingest_repeated",
    ):
        b.run(f"DROP TABLE {name}")
    if "message" in b.stored_types:
        _message_ids(b)
    b.count_errors()
    if b.skip_invalid:  # rejected conflicts are left out too
        b.run(
            "INSERT INTO ingest_skip SELECT DISTINCT lineno FROM ingest_errs"
            " ANTI JOIN ingest_skip USING (lineno)"
        )


def _same_columns(b: Batch) -> None:
    """Stored records whose hash differs are compared column by column: the
    hash is only a fast path (one computed by another DuckDB may differ)."""
    types = b.run("SELECT DISTINCT type FROM ingest_stored WHERE NOT same")
    for (t,) in types:
        rt = BY_NAME[t]
        same = " AND ".join(
            f"g.{ident(c)} IS NOT DISTINCT FROM r.{ident(c)}" for c in stored_columns(rt)
        )
        b.run(
            "UPDATE ingest_stored SET same = true WHERE lineno IN (SELECT s.lineno"
            f" FROM ingest_stored s JOIN (FROM {_this_batch(b, t)}) g USING (lineno)"
            f" JOIN {rt.table} r ON r.workspace = ? AND r.record_id = g.record_id"
            f" AND r.batch_id <> {b.batch_id} WHERE NOT s.same AND s.type = {q(t)} AND {same})",
            [b.workspace],
        )


def _repeated_hashes(b: Batch, column: str, source: str) -> None:
    """`ingest_repeated` (h): the hashes of `column` seen more than once in `source`.

    In partitions of the hash space, so that the aggregate of a batch of any
    size fits the memory limit (DuckDB cannot spill all of a big one).
    """
    parts = max(1, b.lines // DEDUPE_PARTITION_ROWS + 1)
    b.run("CREATE OR REPLACE TEMP TABLE ingest_repeated (h UBIGINT)")
    for i in range(parts):
        b.run(
            f"INSERT INTO ingest_repeated SELECT h FROM (SELECT hash({column}) AS h FROM {source})"
            f" WHERE h % {parts} = {i} GROUP BY h HAVING count(*) > 1"
        )


def _message_ids(b: Batch) -> None:
    """A `message_id` names one message record per workspace."""
    b.run(
        "CREATE OR REPLACE TEMP VIEW ingest_mids AS SELECT lineno, record_id, message_id,"
        f" message_key FROM (FROM {_this_batch(b, 'message')}) ANTI JOIN ingest_skip USING (lineno)"
        " ANTI JOIN ingest_errs USING (lineno)"
    )
    # The stored messages of the batch's message ids, found by their keys first
    # (integers; see `_ids_view`).
    stored = f"FROM r_message WHERE workspace = {q(b.workspace)} AND batch_id <> {b.batch_id}"
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_hits AS SELECT DISTINCT message_key"
        f" FROM (SELECT message_key FROM ingest_mids) AS m JOIN (SELECT message_key {stored})"
        " AS s USING (message_key)"
    )
    if b.value("SELECT count(*) FROM ingest_hits"):
        b.run(
            "INSERT INTO ingest_errs SELECT m.lineno, 'message_id', 'message_id '"
            " || to_json(m.message_id) || ' is already used by stored record '"
            " || to_json(min(s.record_id)) FROM ingest_mids m JOIN (SELECT record_id, message_id"
            f" {stored} AND message_key IN (SELECT message_key FROM ingest_hits)) AS s"
            " ON s.message_id = m.message_id AND s.record_id <> m.record_id"
            " GROUP BY m.lineno, m.message_id"
        )
    b.run("DROP TABLE ingest_hits")
    # In the batch: message ids seen twice, found by hash first (see ingest_twice).
    _repeated_hashes(b, "message_id", "ingest_mids")
    b.run(
        "CREATE OR REPLACE TEMP TABLE ingest_mids2 AS SELECT * FROM ingest_mids"
        " WHERE hash(message_id) IN (SELECT h FROM ingest_repeated)"
    )
    b.run(
        "INSERT INTO ingest_errs SELECT a.lineno, 'message_id', 'message_id '"
        " || to_json(a.message_id) || ' is also used by record ' || to_json(min(b.record_id))"
        " || ' on line ' || min(b.lineno) FROM ingest_mids2 a JOIN ingest_mids2 b"
        " ON a.message_id = b.message_id AND a.record_id <> b.record_id"
        " GROUP BY a.lineno, a.message_id"
    )
    b.run("DROP TABLE ingest_mids2")
    b.run("DROP TABLE ingest_repeated")
    b.run("DROP VIEW ingest_mids")


def _finish(b: Batch) -> BatchResult:
    """Remove the skipped lines' rows (re-sends, rejected conflicts), record the batch."""
    skips = b.value("SELECT count(*) FROM ingest_skip") > 0
    stored: dict[str, int] = {}
    for t in sorted(b.stored_types):
        if skips:
            b.run(f"DELETE FROM {_this_batch(b, t)} AND lineno IN (SELECT lineno FROM ingest_skip)")
        n = b.value(f"SELECT count(*) FROM {_this_batch(b, t)}")
        if n:
            stored[t] = n
    ingested_at = to_utc_naive(b.now)
    b.run(
        "INSERT INTO batches VALUES (?, ?, ?, ?, ?)",
        [b.batch_id, b.workspace, b.source, ingested_at, sum(stored.values())],
    )
    warnings, warning_count = _future(b, ingested_at + FUTURE_MARGIN)
    duplicates = b.value("SELECT count(*) FROM ingest_skip ANTI JOIN ingest_errs USING (lineno)")
    rejected = b.value("SELECT count(DISTINCT lineno) FROM ingest_errs")
    return BatchResult(
        b.source, b.batch_id, stored, duplicates, rejected, warnings, warning_count, b.lines
    )


def _future(b: Batch, limit: dt.datetime) -> tuple[list[str], int]:
    """Warnings for stored records more than a day in the future (accepted)."""
    if not b.stored_types:
        return [], 0
    union = " UNION ALL ".join(
        f'SELECT lineno, "at" FROM {_this_batch(b, t)} AND "at" > ?' for t in sorted(b.stored_types)
    )
    params = [limit] * len(b.stored_types)
    count = b.value(f"SELECT count(*) FROM ({union})", params)
    if not count:
        return [], 0
    rows = b.run(f'SELECT lineno, "at" FROM ({union}) ORDER BY lineno LIMIT {MAX_WARNINGS}', params)
    return [
        f"{b.source}:{n}: field 'at': {at.isoformat(timespec='milliseconds')}Z is more than"
        " a day in the future (accepted)"
        for n, at in rows
    ], count
