"""Run export requests against the store: plan (`plan.py`), then execute (`cxport.engines`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb

from cxport.engines import Engine
from cxport.engines.duckdb import DuckDBEngine, define
from cxport.errors import UsageError
from cxport.exports import engine, kept
from cxport.exports.catalogue import ExportDef
from cxport.exports.defs import BY_NAME
from cxport.exports.facts import FactContext
from cxport.exports.plan import Output, helpers, plan_group, prepare_steps
from cxport.exports.request import ExportRequest
from cxport.exports.writer import write


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
    views of the record types in `types` are defined (all when None). For tests
    and diagnostics that build facts by hand; exports run a plan."""
    given = helpers(request, as_of)
    engine.install(con, given.zone, base, given.window)
    ctx = FactContext(start=request.start, end=request.end, as_of=as_of)
    steps = prepare_steps(request, as_of, scope, types)
    for step in steps:
        define(con, step, ctx)
    return ctx


def _run_group(
    on: Engine,
    shared: ExportRequest,
    as_of: dt.datetime,
    jobs: Sequence[tuple[ExportRequest, str | Path]],
    scope: str | None,
    use_kept: bool,
    progress: Progress | None = None,
    on_result: Callable[[ExportResult], None] | None = None,
    storing: Callable[[], bool] | None = None,
) -> list[ExportResult]:
    """Exports that share `shared`'s snapshot and request tables: one plan, run
    in one session of the engine `on` (`cxport.engines`).

    On DuckDB an export reads in one transaction: the version of the store it
    began on, even if a batch is stored and the kept facts refreshed meanwhile
    (on another cursor of the same database); the plan is made in it, from the
    kept facts current then (an engine that keeps none gives None: every fact
    is computed). Several exports commit after each file, so they are of one
    version as long as nothing writes the store meanwhile, as `cxport export
    all`'s read turn ensures.
    """
    definitions = [export_def(request.export) for request, _ in jobs]
    results: list[ExportResult] = []
    with on.session(helpers(shared, as_of)) as session:
        found = session.kept(shared.workspace, as_of) if use_kept else None
        through = None
        if use_kept and found is None and storing is not None and storing():
            # A batch is being stored and its kept facts refreshed: read the
            # version before it, kept facts and records alike, instead of
            # waiting for the refresh or computing the facts from the records.
            found = session.kept(shared.workspace, as_of, version=True)
            through = None if found is None else found.batch_id
        the_plan = plan_group(shared, as_of, jobs, definitions, scope, found, through)

        def done(output: Output, rows: int, size: int) -> None:
            rid = output.request_id or uuid.uuid4().hex[:12]
            result = ExportResult(output.export, rows, size, str(output.target), as_of, rid,
                                  the_plan.kept)  # fmt: skip
            results.append(result)
            if on_result is not None:
                on_result(result)  # e.g. a progress line per file

        session.execute(the_plan, progress, done)
    return results


def _duckdb(
    store: duckdb.DuckDBPyConnection,
    on_cursor: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> Engine:
    # The file writer is this module's `write`, looked up now: a test stands in another.
    return DuckDBEngine(store, on_cursor, write)


def _refresh(store: duckdb.DuckDBPyConnection, workspace: str, as_of: dt.datetime) -> None:
    """Bring stale kept facts up to date, on a store open for writing."""
    if kept.writable(store):
        kept.refresh(store, workspace, for_as_of=as_of)


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
    if refresh and use_kept and export_def(request.export).scope is None:
        _refresh(store, request.workspace, request.as_of_utc(now))
    return run_export_on(
        _duckdb(store, on_cursor), request, output, now, progress, use_kept, storing
    )


def run_export_on(
    on: Engine,
    request: ExportRequest,
    output: str | Path,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
    use_kept: bool = True,
    storing: Callable[[], bool] | None = None,
) -> ExportResult:
    """`request` computed by the engine `on` (e.g. `engines.spark.SparkEngine`) and
    written to `output`: the plan `run_export` makes, with the kept facts the
    engine's session finds (none on Spark: every fact computed for the scope)."""
    scope = export_def(request.export).scope
    as_of = request.as_of_utc(now)
    return _run_group(
        on, request, as_of, [(request, output)], scope, use_kept, progress, storing=storing
    )[0]


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
    if use_kept:
        for shared in _groups(jobs):
            _refresh(store, shared.workspace, shared.as_of_utc(now))
    return run_exports_on(_duckdb(store), jobs, now, on_result, use_kept)


def run_exports_on(
    on: Engine,
    jobs: Sequence[tuple[ExportRequest, str | Path]],
    now: dt.datetime | None = None,
    on_result: Callable[[ExportResult], None] | None = None,
    use_kept: bool = True,
) -> list[ExportResult]:
    """Several exports computed by the engine `on`, grouped as `run_exports` groups
    them (one plan, each fact once, per shared request); the same files."""
    results: list[ExportResult] = []
    for shared, members in _groups(jobs).items():
        as_of = shared.as_of_utc(now)
        results += _run_group(on, shared, as_of, members, None, use_kept, on_result=on_result)
    return results


def _groups(
    jobs: Sequence[tuple[ExportRequest, str | Path]],
) -> dict[ExportRequest, list[tuple[ExportRequest, str | Path]]]:
    groups: dict[ExportRequest, list[tuple[ExportRequest, str | Path]]] = {}
    for request, output in jobs:
        groups.setdefault(_shared_key(request), []).append((request, output))
    return groups
