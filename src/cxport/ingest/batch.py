"""One batch (a file, an HTTP body), staged chunk by chunk.

Each chunk's lines are grouped by `type` (Arrow, no object per line) and
queued per type (`ingest_pend_<type>`); when enough lines of a type are
queued (a query over few lines runs on one thread), they go through their
type's check query (`checks.py`) straight into a staging temp table `ingest_stg_<type>` (temp tables spill to disk, so a
batch may be larger than memory), with its errors in a column `_errs`; the
errors are also gathered, with those of unparsable lines, in `ingest_errs`
(lineno, field, reason). `commit.py` stores the batch at the end.
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
from cxport.ingest.checks import ERR_TYPE, hash_sql, q, validate_query
from cxport.ingest.reader import Chunk, EarlyReject, int64_array
from cxport.records import BY_NAME, RecordType
from cxport.store import Connection

# yyjson (DuckDB's parser) accepts trailing commas; lines that may hold one are
# re-checked with Python's strict parser (few lines: the pattern is rare).
TRAILING_COMMA_RE = r",[ \t\r\n]*[\]}]"
BLANK_RE = r"[ \t\r\n]*"
SKIPPED = -2  # a line already rejected (by the reader or the strict JSON check)
UNPARSED = -1  # a line without a string `type`: invalid JSON, not an object...


# Lines of a type queued before their check query runs: enough for every thread.
FLUSH_LINES = 500_000
FLUSH_BYTES = 128 * 1024 * 1024


def stage_table(type_name: str) -> str:
    return f"ingest_stg_{type_name}"


def pending_table(type_name: str) -> str:
    return f"ingest_pend_{type_name}"


@dataclass
class Pending:
    """Lines of one type queued in `pending_table(type)`."""

    first_line: int
    lines: int = 0
    nbytes: int = 0


@dataclass
class Batch:
    """The staging of one batch on `con` (temp tables named `ingest_*`)."""

    con: Connection
    source: str
    workspace: str
    skip_invalid: bool
    now: dt.datetime
    lines: int = 0
    staged: set[str] = field(default_factory=set)  # record types with a staging table
    pending: dict[str, Pending] = field(default_factory=dict)  # record types with lines queued
    errors: int = 0  # rows of ingest_errs

    def __post_init__(self) -> None:
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_errs (lineno BIGINT, field VARCHAR, reason VARCHAR)"
        )
        self.run("CREATE OR REPLACE TEMP TABLE ingest_skip (lineno BIGINT)")
        # Rejected lines kept for the rejects file: those not in a staging table,
        # and (by offset in the reader's spill file) those the reader set aside.
        self.run("CREATE OR REPLACE TEMP TABLE ingest_raw (lineno BIGINT, raw VARCHAR)")
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_spill (lineno BIGINT, off BIGINT, len BIGINT)"
        )

    def run(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        # Results are always drained: DuckDB refuses `register` while one is open.
        return self.con.execute(sql, params).fetchall()

    def value(self, sql: str, params: list[Any] | None = None) -> int:
        rows = self.run(sql, params)
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    def close(self) -> None:
        tables = ["ingest_errs", "ingest_skip", "ingest_raw", "ingest_spill"]
        tables += [stage_table(t) for t in self.staged] + [pending_table(t) for t in self.pending]
        for name in tables:
            self.run(f"DROP TABLE IF EXISTS {name}")
        self.staged.clear()
        self.pending.clear()

    # Per chunk ---------------------------------------------------------------

    def add_chunk(self, chunk: Chunk) -> None:
        self.lines = chunk.first_line + chunk.lines - 1
        table = chunk.table
        self.con.register("ingest_chunk", table)
        try:
            types = self.con.sql(
                "SELECT try(json_extract_string(line, '$.type')) AS type,"
                f" coalesce(regexp_matches(line, {q(TRAILING_COMMA_RE)}), false)::UTINYINT"
                " AS suspect, (line IS NULL)::UTINYINT AS early FROM ingest_chunk ORDER BY lineno"
            ).to_arrow_table()
        finally:
            self.con.unregister("ingest_chunk")
        codes, names = _codes(types.column("type"))
        codes[numpy_of(types.column("early")) == 1] = SKIPPED
        suspects = numpy_of(types.column("suspect"))
        if suspects.any():
            self._strict_json(table, np.flatnonzero(suspects), codes)
        # Group the lines by type: one sort, then a zero-copy slice per type.
        order = np.argsort(codes, kind="stable")
        grouped = table.take(int64_array(order))
        sorted_codes = codes[order]
        for code in np.unique(sorted_codes):
            if code == SKIPPED:
                continue
            lo, hi = np.searchsorted(sorted_codes, [code, code + 1])
            lines = grouped.slice(int(lo), int(hi - lo))
            if code == UNPARSED:
                self._with(lines, self._unparsed)
            elif names[code] in BY_NAME:
                self._with(lines, lambda name=names[code], ls=lines: self._queue(name, ls))
            else:
                self._with(lines, lambda name=names[code]: self._unknown_type(name))
        self.errors = self.value("SELECT count(*) FROM ingest_errs")

    def flush(self) -> None:
        """Check the lines still queued (at the end of the batch)."""
        for name in list(self.pending):
            self._flush(name)
        self.errors = self.value("SELECT count(*) FROM ingest_errs")

    def _queue(self, name: str, lines: pa.Table) -> None:
        """Queue the lines of `ingest_lines` (of type `name`): lines are
        checked in bulk, as a query over few lines runs on one thread."""
        table = pending_table(name)
        queued = self.pending.get(name)
        if queued is None:
            queued = self.pending[name] = Pending(lines.column("lineno")[0].as_py())
            self.run(f"CREATE OR REPLACE TEMP TABLE {table} AS FROM ingest_lines")
        else:
            self.run(f"INSERT INTO {table} FROM ingest_lines")
        queued.lines += len(lines)
        queued.nbytes += lines.nbytes
        if queued.lines >= FLUSH_LINES or queued.nbytes >= FLUSH_BYTES:
            self._flush(name)

    def _flush(self, name: str) -> None:
        queued = self.pending.pop(name)
        table = pending_table(name)
        self._check(BY_NAME[name], table, queued.first_line)
        self.run(f"DROP TABLE {table}")

    def _with(self, lines: pa.Table, step: Any) -> None:
        self.con.register("ingest_lines", lines)
        try:
            step()
        finally:
            self.con.unregister("ingest_lines")

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
        self.con.register("ingest_early", table)
        try:
            self.run("INSERT INTO ingest_errs SELECT lineno, '', reason FROM ingest_early")
            self.run("INSERT INTO ingest_spill SELECT lineno, off, len FROM ingest_early")
        finally:
            self.con.unregister("ingest_early")
        self.errors = self.value("SELECT count(*) FROM ingest_errs")

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

    def _unparsed(self) -> None:
        """Errors of lines without a string `type`; blank lines are skipped."""
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_bad AS SELECT lineno, line, e[1] AS field,"
            " e[2] AS reason FROM (SELECT lineno, line, CASE"
            f" WHEN regexp_full_match(line, {q(BLANK_RE)}) THEN NULL"
            " WHEN NOT json_valid(line) THEN ['', 'invalid JSON']"
            " WHEN json_type(line) <> 'OBJECT' THEN ['', 'not a JSON object']"
            " WHEN coalesce(json_type(line, '$.type'), 'NULL') = 'NULL' THEN ['type', 'required']"
            " ELSE ['type', 'must be a string'] END AS e FROM ingest_lines) WHERE e IS NOT NULL"
        )
        self._add_bad()

    def _unknown_type(self, name: str) -> None:
        reason = f"unknown record type {json.dumps(name, ensure_ascii=False)}"
        self.run(
            "CREATE OR REPLACE TEMP TABLE ingest_bad AS SELECT lineno, line, 'type' AS field,"
            " ? AS reason FROM ingest_lines",
            [reason],
        )
        self._add_bad()

    def _add_bad(self) -> None:
        self.run("INSERT INTO ingest_errs SELECT lineno, field, reason FROM ingest_bad")
        if self.skip_invalid:
            self.run("INSERT INTO ingest_raw SELECT lineno, line FROM ingest_bad")
        self.run("DROP TABLE ingest_bad")

    def _check(self, rt: RecordType, source: str, first_line: int) -> None:
        """Check the lines of `source`, all of type `rt` and from `first_line` on."""
        table = stage_table(rt.name)
        query = validate_query(rt, source, with_raw=self.skip_invalid)
        if rt.name in self.staged:
            self.run(f"INSERT INTO {table} {query}")
        else:
            self.run(f"CREATE OR REPLACE TEMP TABLE {table} AS {query}")
            self.staged.add(rt.name)
        # Only these lines' rows (zone maps skip the earlier row groups).
        this_chunk = f"lineno >= {first_line}"
        if rt.name == "business_hours":
            self._business_hours(table, this_chunk)
        self.run(
            "INSERT INTO ingest_errs SELECT lineno, e.field, e.reason FROM (SELECT lineno,"
            f" unnest(_errs) AS e FROM {table} WHERE {this_chunk} AND len(_errs) > 0)"
        )

    def _business_hours(self, table: str, this_chunk: str) -> None:
        rows = self.run(
            f"SELECT lineno, timezone, weekly FROM {table} WHERE {this_chunk} AND len(_errs) = 0"
        )
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
        if not fixes:
            return
        err = pa.struct([("field", pa.string()), ("reason", pa.string())])
        schema = pa.schema(
            [("lineno", pa.int64()), ("weekly", pa.string()), ("errs", pa.list_(err))]
        )
        self.con.register("ingest_bh", pa.Table.from_pylist(fixes, schema=schema))
        try:
            self.run(
                f"UPDATE {table} SET weekly = b.weekly, _errs = b.errs::{ERR_TYPE}[]"
                f" FROM ingest_bh b WHERE {table}.lineno = b.lineno"
            )
        finally:
            self.con.unregister("ingest_bh")
        # The hash is of the canonical weekly text.
        self.run(
            f"UPDATE {table} SET content_hash = {hash_sql(BY_NAME['business_hours'])} WHERE {this_chunk}"
        )


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
