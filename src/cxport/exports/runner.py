"""Run one export request against the store: snapshot, facts, query, file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from cxport.errors import UsageError
from cxport.exports import engine, kept
from cxport.exports.catalogue import ExportDef
from cxport.exports.defs import BY_NAME
from cxport.exports.facts import (
    FactContext,
    define_facts,
    define_request,
    define_scope,
    fact_order,
    snapshot_types,
    types_read,
)
from cxport.exports.request import ExportRequest
from cxport.exports.writer import FileSpec, write
from cxport.exports.zones import request_window
from cxport.store import Snapshot


@dataclass(frozen=True)
class ExportResult:
    export: str
    rows: int
    bytes: int
    output: str
    as_of: dt.datetime  # naive UTC: the snapshot the file shows
    request_id: str
    kept: bool = False  # its kept facts came from the store (`kept.py`), not computed


Progress = Callable[[float], None]  # told the share of an export's steps done (0-1)


def _step(progress: Progress | None, done: float) -> None:
    if progress is not None:
        progress(done)


def export_def(name: str) -> ExportDef:
    try:
        return BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(BY_NAME)) or "none yet"
        raise UsageError(f"unknown export {name!r} (known: {known})") from None


def prepare(
    con: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    as_of: dt.datetime,
    base: duckdb.DuckDBPyConnection | None = None,
    scope: str | None = None,
    types: Collection[str] | None = None,
) -> FactContext:
    """Define the snapshot views, request tables and helpers on `con` (a cursor of `base`),
    and the `c_*` views of the conversations in `scope` (all when None). Only the
    views of the record types in `types` are defined (all when None)."""
    ctx = _helpers(con, request, as_of, base)
    _define(con, request, ctx, scope, types)
    return ctx


def _helpers(
    con: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    as_of: dt.datetime,
    base: duckdb.DuckDBPyConnection | None,
) -> FactContext:
    """The request's context, and the SQL helpers on `con` (`engine.install`): before
    a transaction that reads with them, which would not see a function registered
    on `base` after it began."""
    ctx = FactContext(start=request.start, end=request.end, as_of=as_of)
    window = request_window(min(ctx.start, as_of), max(ctx.end, as_of))
    engine.install(con, request.zoneinfo, base, window)
    return ctx


def _define(
    con: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    ctx: FactContext,
    scope: str | None,
    types: Collection[str] | None,
    through_batch: int | None = None,
) -> None:
    """The snapshot views, request tables and scope views of `prepare` (of the store as
    its batches up to `through_batch` left it, when given)."""
    Snapshot(request.workspace, ctx.as_of, through_batch).define(con, types=types)
    define_request(
        con, ctx.start, ctx.end, ctx.as_of, request.channels, request.scheduled,
        request.include_content,
    )  # fmt: skip
    define_scope(con, scope, types)


def _run_group(
    store: duckdb.DuckDBPyConnection,
    shared: ExportRequest,
    as_of: dt.datetime,
    jobs: Sequence[tuple[ExportRequest, str | Path]],
    scope: str | None,
    use_kept: bool,
    progress: Progress | None = None,
    on_cursor: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    on_result: Callable[[ExportResult], None] | None = None,
    refresh: bool = True,
    storing: Callable[[], bool] | None = None,
) -> list[ExportResult]:
    """Exports that share `shared`'s snapshot and request tables, on one cursor.

    With kept facts current for the request, the scope is computed only if a
    fact still computed reads it: the kept ones cover every conversation.

    An export reads in one transaction: the version of the store it began on,
    even if a batch is stored and the kept facts refreshed meanwhile (on
    another cursor of the same database). Several exports commit after each
    file (see below), so they are of one version as long as nothing writes
    the store meanwhile, as `cxport export all`'s read turn ensures.
    """
    definitions = [export_def(request.export) for request, _ in jobs]
    names = [f for d in definitions for f in d.facts]
    if refresh and use_kept and scope is None and kept.writable(store):
        kept.refresh(store, shared.workspace, for_as_of=as_of)  # brought up to date if stale
    results = []
    con = store.cursor()  # its own temporary views and helpers, and its own transaction
    if on_cursor is not None:
        on_cursor(con)  # e.g. to interrupt a cancelled job's query
    try:
        ctx = _helpers(con, shared, as_of, store)
        con.execute("BEGIN TRANSACTION")
        found = kept.current(con, shared.workspace, as_of) if use_kept else None
        through = None
        if use_kept and found is None and storing is not None and storing():
            # A batch is being stored and its kept facts refreshed: read the
            # version before it, kept facts and records alike, instead of
            # waiting for the refresh or computing the facts from the records.
            found = kept.version(con, shared.workspace, as_of)
            through = None if found is None else found.batch_id
        facts = fact_order(names, kept=found is not None)
        if found is not None and not any(f.reads_scope for f in facts if not f.keep):
            scope = None
        # Only the snapshot views something reads: with kept facts, few.
        types = types_read(facts, kept=found is not None)
        if types is not None:
            types |= snapshot_types([*(d.sql for d in definitions), scope])
        _define(con, shared, ctx, scope, types, through)
        _step(progress, 0.1)
        define_facts(con, names, ctx, kept=found)
        _step(progress, 0.5)
        for definition, (request, output) in zip(definitions, jobs, strict=True):
            spec = FileSpec(
                request.format, request.lang, request.bom, request.formula_guard,
                request.excel, request.delimiter, request.decimal,
            )  # fmt: skip
            rows, size = write(
                con, definition.columns, definition.sql, definition.order, spec, output
            )
            rid = request.request_id or uuid.uuid4().hex[:12]
            result = ExportResult(
                request.export, rows, size, str(output), as_of, rid, found is not None
            )
            results.append(result)
            if on_result is not None:
                on_result(result)  # e.g. a progress line per file
            # A temporary table dropped in a transaction keeps its space until the
            # commit: commit after each file, or a group's sorted rows pile up
            # (at 10 M conversations `export all` filled the disk with them).
            con.execute("COMMIT")
            if len(results) < len(jobs):
                con.execute("BEGIN TRANSACTION")
    finally:
        con.close()  # rolls back what is left of the transaction
    return results


def run_export(
    store: duckdb.DuckDBPyConnection,
    request: ExportRequest,
    output: str | Path,
    now: dt.datetime | None = None,
    use_kept: bool = True,
    progress: Progress | None = None,
    on_cursor: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    refresh: bool = True,
    storing: Callable[[], bool] | None = None,
) -> ExportResult:
    """Compute `request` on the store and write it to `output` (`-`: stdout).

    Kept facts are read when current for the request (`kept.py`; not with
    `use_kept` False); the others are computed only for the conversations the
    export can show (its scope). An export of every conversation (no scope)
    first brings stale kept facts up to date on a store open for writing,
    unless `refresh` is False: a job of the service never writes (it may read
    through the connection an ingest is writing with, `store_access.py`, and
    that ingest refreshes them itself). While `storing()` says a batch is being
    stored and refreshed (asked once the export's transaction began), an export
    finding the kept facts stale reads the version before that batch.
    """
    scope = export_def(request.export).scope
    as_of = request.as_of_utc(now)
    return _run_group(
        store, request, as_of, [(request, output)], scope, use_kept, progress, on_cursor,
        refresh=refresh, storing=storing,
    )[0]  # fmt: skip


def _shared_key(request: ExportRequest) -> ExportRequest:
    """What exports must have in common to share one snapshot and its facts."""
    return replace(request, export="", lang="en", format="csv", bom=False, formula_guard=True,
                   excel=False, delimiter=None, decimal=None, request_id="")  # fmt: skip


def run_exports(
    store: duckdb.DuckDBPyConnection,
    jobs: Sequence[tuple[ExportRequest, str | Path]],
    now: dt.datetime | None = None,
    use_kept: bool = True,
    on_result: Callable[[ExportResult], None] | None = None,
) -> list[ExportResult]:
    """Several exports; those of the same request (workspace, range, zone, channels,
    `as_of`) share one snapshot and build each derived fact once, over every
    conversation (no per-export scope), so "all twelve" costs far less than
    twelve runs. Since that computes the kept facts anyway, stale kept facts
    are rebuilt first and then read (unless `use_kept` is False). The files
    are the same bytes `run_export` writes.
    """
    groups: dict[ExportRequest, list[tuple[ExportRequest, str | Path]]] = {}
    for request, output in jobs:
        groups.setdefault(_shared_key(request), []).append((request, output))
    results: list[ExportResult] = []
    for shared, members in groups.items():
        as_of = shared.as_of_utc(now)
        results += _run_group(store, shared, as_of, members, None, use_kept, on_result=on_result)
    return results
