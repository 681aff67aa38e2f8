"""One batch (a file, an HTTP body), checked chunk by chunk in one transaction.

Each chunk's lines are grouped by `type` (Arrow, no object per line) and
queued per type (as Arrow); when enough lines of a type are
queued (a query over few lines runs on one thread), they go through their
type's check query (`checks.py`) straight into the type's record table,
with their batch id and line number, inside the batch's transaction (DuckDB
writes a large uncommitted insert to the store file, so a batch may be
larger than memory). Errors go to `ingest_errs` (lineno, field, reason): a
second run of the check query collects them when fewer rows were valid than
lines checked. `commit.py` ends the batch: it removes re-sends, finds
conflicts, and commits or rolls back.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxport.ingest.business_hours import canonical_weekly, check_timezone
from cxport.ingest.checks import ERR_TYPE, hash_sql, ident, q, stored_columns, validate_query
from cxport.ingest.reader import (
    POOL,
    Chunk,
    EarlyReject,
    copy_lines,
    in_batches,
    int64_array,
)
from cxport.records import BY_NAME, RecordType
from cxport.store import Connection, key_columns

# yyjson (DuckDB's parser) accepts trailing commas; lines that may hold one are
# re-checked with Python's strict parser (few lines: the pattern is rare).
TRAILING_COMMA_RE = r",[ \t\r\n]*[\]}]"
BLANK_RE = r"[ \t\r\n]*"
SKIPPED = -2  # a line already rejected (by the reader or the strict JSON check)
UNPARSED = -1  # a line without a string `type`: invalid JSON, not an object...


# Lines of a type queued before their check query runs: enough for every thread.
FLUSH_LINES = 1_000_000
FLUSH_BYTES = 256 * 1024 * 1024
QUEUED_BYTES = 384 * 1024 * 1024  # all types together: past it, the largest is checked
SMALL_SLICE = 4  # a type's lines under 1/4 of their chunk are copied when queued


@dataclass
class Pending:
    """Lines of one type queued: Arrow tables (lineno, line)."""

    tables: list[pa.Table] = field(default_factory=list)
    lines: int = 0
    nbytes: int = 0


@dataclass
class Batch:
    """One batch on `con`: its transaction, its queued lines, and its
    bookkeeping in temp tables named `ingest_*` (made before the transaction)."""

    con: Connection
    source: str
    workspace: str
    skip_invalid: bool
    now: dt.datetime
    lines: int = 0
    batch_id: int = 0
    stored_types: set[str] = field(default_factory=set)  # record types this batch stored rows of
    pending: dict[str, Pending] = field(default_factory=dict)  # record types with lines queued
    errors: int = 0  # rows of ingest_errs
    in_transaction: bool = False

    def __post_init__(self) -> None:
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_errs (lineno BIGINT, field VARCHAR, reason VARCHAR)"
        )
        self.run("CREATE OR REPLACE TEMP TABLE ingest_skip (lineno BIGINT)")
        # Rejected lines kept for the rejects file (skip-invalid mode): those
        # with no record type, the lines of the record types (`ingest_lines_raw`:
        # a conflict is found at the end), and (by offset in the reader's spill
        # file) those the reader set aside.
        self.run("CREATE OR REPLACE TEMP TABLE ingest_raw (lineno BIGINT, raw VARCHAR)")
        self.run("CREATE OR REPLACE TEMP TABLE ingest_lines_raw (lineno BIGINT, raw VARCHAR)")
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_spill (lineno BIGINT, off BIGINT, len BIGINT)"
        )
        self.run("BEGIN TRANSACTION")
        self.in_transaction = True
        self.batch_id = self.value("SELECT nextval('batch_ids')")

    def end(self, commit: bool) -> None:
        """Commit or roll back the batch's transaction."""
        if self.in_transaction:
            self.in_transaction = False
            self.run("COMMIT" if commit else "ROLLBACK")

    @property
    def storing(self) -> bool:
        """Whether valid rows are still stored: not once the batch is bound to fail."""
        return self.skip_invalid or not self.errors

    def run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        # Results are always drained: a pending result blocks the next query.
        return self.con.execute(sql, params).fetchall()

    # Queries on Arrow lines name them `ingest_lines`, a local variable that
    # DuckDB finds by name (a replacement scan). Not a view made by
    # `register`: it would hold the table, and its memory, until the end of
    # the batch's transaction. Not a relation's `query` either: it plans a
    # check query in 35 ms, against 9 this way.

    def run_on(self, table: pa.Table, sql: str) -> list[tuple[Any, ...]]:
        """Run `sql`, in which `ingest_lines` is the Arrow `table`; its rows."""
        ingest_lines = table  # noqa: F841 (read by DuckDB)
        return self.con.execute(sql).fetchall()

    def arrow_on(self, table: pa.Table, sql: str) -> pa.Table:
        """Run `sql`, in which `ingest_lines` is the Arrow `table`; its rows as Arrow."""
        ingest_lines = table  # noqa: F841 (read by DuckDB)
        return self.con.sql(sql).to_arrow_table()

    def value(self, sql: str, params: list[Any] | None = None) -> int:
        rows = self.run(sql, params)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def count_errors(self) -> None:
        self.errors = self.value("SELECT count(*) FROM ingest_errs")

    def close(self) -> None:
        self.end(commit=False)
        tables = ["ingest_errs", "ingest_skip", "ingest_raw", "ingest_lines_raw", "ingest_spill"]
        for name in [*tables, "ingest_checked"]:
            self.run(f"DROP TABLE IF EXISTS {name}")
        self.stored_types.clear()
        self.pending.clear()

    # Per chunk ---------------------------------------------------------------

    def add_chunk(self, chunk: Chunk) -> None:
        self.lines = chunk.first_line + chunk.lines - 1
        table = chunk.table
        types = self.arrow_on(
            in_batches(table),
            "SELECT lineno, try(json_extract_string(line, '$.type')) AS type,"
            f" coalesce(regexp_matches(line, {q(TRAILING_COMMA_RE)}), false)::UTINYINT"
            " AS suspect, (line IS NULL)::UTINYINT AS early FROM ingest_lines",
        )
        # Rows come back in any order: put them back in line order.
        at = numpy_of(types.column("lineno")) - chunk.first_line
        found, names = _codes(types.column("type"))
        found[numpy_of(types.column("early")) == 1] = SKIPPED
        codes = np.empty_like(found)
        codes[at] = found
        suspects = np.empty(len(at), np.uint8)
        suspects[at] = numpy_of(types.column("suspect"))
        if suspects.any():
            self._strict_json(table, np.flatnonzero(suspects), codes)
        # Group the lines by type: one sort, one take, then a slice per type.
        order = np.argsort(codes, kind="stable")
        grouped = pc.take(table, int64_array(order), memory_pool=POOL)
        sorted_codes = codes[order]
        for code in np.unique(sorted_codes):
            if code == SKIPPED:
                continue
            lo, hi = np.searchsorted(sorted_codes, [code, code + 1])
            lines = grouped.slice(int(lo), int(hi - lo))
            if code == UNPARSED:
                self._unparsed(lines)
            elif names[code] in BY_NAME:
                self._queue(names[code], lines, grouped.nbytes)
            else:
                self._unknown_type(lines, names[code])
        self.count_errors()

    def flush(self) -> None:
        """Check the lines still queued (at the end of the batch)."""
        for name in list(self.pending):
            self._flush(name)
        self.count_errors()

    def _queue(self, name: str, lines: pa.Table, chunk_bytes: int) -> None:
        """Queue lines of type `name` (a slice of a chunk of `chunk_bytes`):
        lines are checked in bulk, as a query over few lines runs on one
        thread. They wait as Arrow, outside DuckDB: a temp table made and
        dropped in the batch's transaction would be kept in memory until its
        end. A small slice is copied; a large one keeps its chunk, and counts
        as the whole chunk against the memory the queue may hold."""
        if lines.nbytes * SMALL_SLICE < chunk_bytes:
            lines = copy_lines(lines)
            nbytes = lines.nbytes
        else:
            nbytes = chunk_bytes
        queued = self.pending.setdefault(name, Pending())
        queued.tables.append(lines)
        queued.lines += len(lines)
        queued.nbytes += nbytes
        if queued.lines >= FLUSH_LINES or queued.nbytes >= FLUSH_BYTES:
            self._flush(name)
        elif sum(p.nbytes for p in self.pending.values()) >= QUEUED_BYTES:
            self._flush(max(self.pending, key=lambda t: self.pending[t].nbytes))

    def _flush(self, name: str) -> None:
        queued = self.pending.pop(name)
        lines = in_batches(pa.concat_tables(queued.tables))
        rt = BY_NAME[name]
        if self.skip_invalid:
            self.run_on(lines, "INSERT INTO ingest_lines_raw SELECT lineno, line FROM ingest_lines")
        if name == "business_hours":
            self._check_in_python_too(rt, lines)
        else:
            self._check(rt, lines)

    def add_early(self, early: list[EarlyReject]) -> None:
        """Lines the reader rejected (too long, not UTF-8)."""
        if not early:
            return
        table = pa.table(
            {
                "lineno": pa.array([e.lineno for e in early], pa.int64()),
                "reason": [e.reason for e in early],
                "off": pa.array([e.offset for e in early], pa.int64()),
                "len": pa.array([e.length for e in early], pa.int64()),
            }
        )
        for sql in (
            "INSERT INTO ingest_errs SELECT lineno, '', reason FROM ingest_lines",
            "INSERT INTO ingest_spill SELECT lineno, off, len FROM ingest_lines",
        ):
            self.run_on(table, sql)
        self.count_errors()

    def _strict_json(self, table: pa.Table, suspects: np.ndarray, codes: np.ndarray) -> None:
        """Lines yyjson accepts but JSON does not (a trailing comma) are rejected."""
        lines = table.column("line")
        first = int(table.column("lineno")[0].as_py())
        for i in suspects:
            line = lines[int(i)].as_py()
            if line is None:
                continue
            try:
                json.loads(line)
            except ValueError as exc:
                codes[i] = SKIPPED
                lineno = first + int(i)
                self.run(
                    "INSERT INTO ingest_errs VALUES (?, '', ?)", [lineno, f"invalid JSON: {exc}"]
                )
                self.run("INSERT INTO ingest_raw VALUES (?, ?)", [lineno, line])

    def _unparsed(self, lines: pa.Table) -> None:
        """Errors of lines without a string `type`; blank lines are skipped."""
        self.run_on(
            lines,
            "CREATE OR REPLACE TEMP TABLE ingest_bad AS SELECT lineno, line, e[1] AS field,"
            " e[2] AS reason FROM (SELECT lineno, line, CASE"
            f" WHEN regexp_full_match(line, {q(BLANK_RE)}) THEN NULL"
            " WHEN NOT json_valid(line) THEN ['', 'invalid JSON']"
            " WHEN json_type(line) <> 'OBJECT' THEN ['', 'not a JSON object']"
            " WHEN coalesce(json_type(line, '$.type'), 'NULL') = 'NULL' THEN ['type', 'required']"
            " ELSE ['type', 'must be a string'] END AS e FROM ingest_lines) WHERE e IS NOT NULL",
        )
        self._add_bad()

    def _unknown_type(self, lines: pa.Table, name: str) -> None:
        reason = f"unknown record type {json.dumps(name, ensure_ascii=False)}"
        self.run_on(
            lines,
            "CREATE OR REPLACE TEMP TABLE ingest_bad AS SELECT lineno, line, 'type' AS field,"
            f" {q(reason)} AS reason FROM ingest_lines",
        )
        self._add_bad()

    def _add_bad(self) -> None:
        self.run("INSERT INTO ingest_errs SELECT lineno, field, reason FROM ingest_bad")
        if self.skip_invalid:
            self.run("INSERT INTO ingest_raw SELECT lineno, line FROM ingest_bad")
        self.run("DROP TABLE ingest_bad")

    def _check(self, rt: RecordType, lines: pa.Table) -> None:
        """Check `lines` (all of type `rt`): the valid ones go to the record
        table; when some were not, a second run of the check collects the errors."""
        query = validate_query(rt, "ingest_lines")
        stored = 0
        if self.storing:
            sql = f"{self._insert_sql(rt)} ({query}) WHERE len(_errs) = 0"
            stored = int(self.run_on(lines, sql)[0][0])
            if stored:
                self.stored_types.add(rt.name)
        if stored < len(lines):
            self.run_on(lines, self._errors_sql(f"({query})"))
            self.count_errors()

    def _insert_sql(self, rt: RecordType) -> str:
        """INSERT INTO the record table of `rt`, then a SELECT of a check
        query's rows (`validate_query`'s columns) is to follow."""
        cols = ", ".join(ident(n) for n in stored_columns(rt))
        keys = key_columns(rt.name)
        return (
            f"INSERT INTO {rt.table} (workspace, {cols}, content_hash, batch_id, lineno,"
            f" {', '.join(keys)}) SELECT {q(self.workspace)}, {cols}, content_hash,"
            f" {self.batch_id}, lineno, {', '.join(keys.values())} FROM"
        )

    def _errors_sql(self, checked: str) -> str:
        return (
            "INSERT INTO ingest_errs SELECT lineno, e.field, e.reason FROM (SELECT lineno,"
            f" unnest(_errs) AS e FROM {checked} WHERE len(_errs) > 0)"
        )

    def _check_in_python_too(self, rt: RecordType, lines: pa.Table) -> None:
        """Business hours: the check query, then the time zone and the days
        of `weekly` in Python (few records), then the valid ones are stored."""
        table = "ingest_checked"
        query = validate_query(rt, "ingest_lines")
        self.run_on(lines, f"CREATE OR REPLACE TEMP TABLE {table} AS {query}")
        rows = self.run(f"SELECT lineno, timezone, weekly FROM {table} WHERE len(_errs) = 0")
        fixes = []
        for lineno, tz, weekly in rows:
            errs = []
            reason = check_timezone(tz)
            if reason:
                errs.append({"field": "timezone", "reason": reason})
            canon, reason = canonical_weekly(weekly)
            if reason:
                errs.append({"field": "weekly", "reason": reason})
            fixes.append({"lineno": lineno, "weekly": canon, "errs": errs})
        if fixes:
            err = pa.struct([("field", pa.string()), ("reason", pa.string())])
            schema = pa.schema(
                [("lineno", pa.int64()), ("weekly", pa.string()), ("errs", pa.list_(err))]
            )
            self.run_on(
                pa.Table.from_pylist(fixes, schema=schema),
                f"UPDATE {table} SET weekly = b.weekly, _errs = b.errs::{ERR_TYPE}[]"
                f" FROM ingest_lines b WHERE {table}.lineno = b.lineno",
            )
            # The hash is of the canonical weekly text.
            self.run(f"UPDATE {table} SET content_hash = {hash_sql(rt)}")
        self.run(self._errors_sql(table))
        self.count_errors()
        if self.storing and self.value(f"{self._insert_sql(rt)} {table} WHERE len(_errs) = 0"):
            self.stored_types.add(rt.name)
        self.run(f"DROP TABLE {table}")


def _codes(types: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Per line, the index of its type in the returned names (UNPARSED for null)."""
    encoded = pc.dictionary_encode(types.combine_chunks())
    names = [str(n) for n in encoded.dictionary.to_pylist()]
    codes = numpy_of(encoded.indices).astype(np.int64)
    validity = encoded.indices.buffers()[0]
    if validity is not None:
        n, offset = len(encoded.indices), encoded.indices.offset
        bits = np.unpackbits(np.frombuffer(validity, np.uint8), bitorder="little")
        codes[bits[offset : offset + n] == 0] = UNPARSED
    return codes, names


def numpy_of(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """The values of an Arrow array of integers, as numpy (nulls ignored),
    read from its buffer: pyarrow's `to_numpy`, `fill_null` and `scalar`
    import pandas (~0.8 s)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    dtype = np.dtype(values.type.to_pandas_dtype())
    return np.frombuffer(values.buffers()[1], dtype, len(values), values.offset * dtype.itemsize)
