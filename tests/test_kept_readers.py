"""Readers and the refresh of kept facts (issue 18, item 3).

An export reads one version of the store: the one its transaction began on,
even when a batch is stored and the kept facts are refreshed in the middle
of it (on another cursor of the same database, as the service's ingest and
job runners could). A process killed in the middle of a refresh leaves the
previous kept facts readable, and the next batch's refresh repairs them.
"""

from __future__ import annotations

import datetime as dt
import functools
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from helpers import simulated_records, write_ndjson

from cxport.exports import kept
from cxport.exports.defs import EXPORTS
from cxport.exports.request import ExportRequest
from cxport.exports.runner import run_export, run_exports
from cxport.ingest import ingest_files
from cxport.store import Connection, open_store

WS = "default"
START = dt.date(2024, 5, 1)
AS_OF = dt.datetime(2024, 5, 6, tzinfo=dt.UTC)  # after every record
Record = dict[str, Any]


@functools.cache
def _simulated() -> tuple[Record, ...]:
    """A small simulated workspace (two days, 40 conversations), in time order."""
    records = simulated_records(seed=11, conversations=40, start=START, days=2)
    return tuple(sorted(records, key=lambda r: (r["at"], r["id"])))


def _parts() -> tuple[list[Record], list[Record], list[Record]]:
    """The first 80 % of the records, and two later batches of what is left."""
    records = list(_simulated())
    a, b = int(len(records) * 0.8), int(len(records) * 0.9)
    return records[:a], records[a:b], records[b:]


def _ingest(con: Connection, path: Path, records: list[Record]) -> None:
    ingest_files(con, [str(write_ndjson(path, records))], workspace=WS)


def _request(export: str) -> ExportRequest:
    return ExportRequest(export, START, dt.date(2024, 5, 3), tz="America/Sao_Paulo", as_of=AS_OF)


def _all_files(con: Connection, folder: Path) -> dict[str, bytes]:
    """Every export of the workspace's two days, read from current kept facts."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(_request(d.name), folder / f"{d.name}.csv") for d in EXPORTS]
    results = run_exports(con, jobs)
    assert all(r.kept for r in results), "kept facts were not current"
    return {p.name: p.read_bytes() for _, p in jobs}


def _kept_rows(con: Connection) -> dict[str, list[tuple[Any, ...]]]:
    """Every stored kept fact's rows, sorted: what a refresh may change."""
    (schema,) = con.execute(
        "SELECT schema_name FROM kept_facts WHERE workspace = ?", [WS]
    ).fetchone() or ("",)
    tables = [
        t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = ? ORDER BY table_name",
            [schema],
        ).fetchall()
    ]  # fmt: skip
    return {
        t: sorted(con.execute(f"SELECT * FROM {schema}.{t}").fetchall(), key=repr) for t in tables
    }


def test_an_export_reads_the_version_it_began_on_while_a_batch_is_refreshed(
    tmp_path: Path,
) -> None:
    """A batch is stored and the kept facts refreshed while an export is halfway
    (its facts defined, its file not yet written): the file is the one of the
    version before, byte for byte; the next export shows the batch."""
    first, batch, _ = _parts()
    con = open_store(tmp_path / "store.duckdb")
    try:
        _ingest(con, tmp_path / "first.ndjson", first)
        kept.refresh(con, WS)
        exports = ("teams", "messages", "agent-metrics")
        before = {}
        for name in exports:
            run_export(con, _request(name), tmp_path / f"before-{name}.csv")
            before[name] = (tmp_path / f"before-{name}.csv").read_bytes()

        # Three exports at once, each stopped with its facts defined and its file next.
        stored = threading.Event()
        halfway = {name: threading.Event() for name in exports}
        failures: list[BaseException] = []

        def export(name: str) -> None:
            def wait_for_the_batch(done: float) -> None:
                if done == 0.5:
                    halfway[name].set()
                    assert stored.wait(120), "the batch was not stored"

            try:
                out = tmp_path / f"during-{name}.csv"
                # A cursor of its own, as each of the service's jobs has.
                run_export(cursors[name], _request(name), out, progress=wait_for_the_batch)
            except BaseException as exc:  # reported by the test's thread
                failures.append(exc)

        cursors = {name: con.cursor() for name in exports}
        readers = [threading.Thread(target=export, args=(name,)) for name in exports]
        for reader in readers:
            reader.start()
        assert all(halfway[name].wait(120) for name in exports), failures
        _ingest(con, tmp_path / "batch.ndjson", batch)
        refreshed, built = kept.refresh(con, WS)
        assert built and refreshed is not None
        stored.set()
        for reader in readers:
            reader.join(120)
        assert not failures, failures

        for name in exports:
            during = (tmp_path / f"during-{name}.csv").read_bytes()
            assert during == before[name], f"{name}: the export saw the batch stored after it began"
            run_export(con, _request(name), tmp_path / f"after-{name}.csv")
            after = (tmp_path / f"after-{name}.csv").read_bytes()
            assert after != before[name], f"{name}: the batch changes nothing"
    finally:
        con.close()


def test_while_a_batch_is_stored_an_export_reads_the_version_before_it_from_kept_facts(
    tmp_path: Path,
) -> None:
    """A batch committed, its kept facts not yet refreshed: an export told that a batch
    is being stored (the service's jobs, `storing`) reads the version before it, kept
    facts and records alike, byte for byte, instead of computing its facts from the
    records; told nothing, it shows the batch (computed); after the refresh, the kept
    facts show it."""
    first, batch, _ = _parts()
    con = open_store(tmp_path / "store.duckdb")
    try:
        _ingest(con, tmp_path / "first.ndjson", first)
        kept.refresh(con, WS)
        before = {}
        for d in EXPORTS:
            run_export(con, _request(d.name), tmp_path / f"before-{d.name}.csv")
            before[d.name] = (tmp_path / f"before-{d.name}.csv").read_bytes()
        _ingest(con, tmp_path / "batch.ndjson", batch)
        assert kept.current(con, WS, AS_OF.replace(tzinfo=None)) is None  # stale

        changed = set()
        for d in EXPORTS:
            during, computed = tmp_path / f"during-{d.name}.csv", tmp_path / f"now-{d.name}.csv"
            read = run_export(con, _request(d.name), during, refresh=False, storing=lambda: True)
            assert read.kept, f"{d.name}: computed its facts instead of reading the kept ones"
            assert during.read_bytes() == before[d.name], f"{d.name}: not the version before"
            shown = run_export(
                con, _request(d.name), computed, refresh=False, storing=lambda: False
            )
            assert not shown.kept
            if computed.read_bytes() != before[d.name]:
                changed.add(d.name)
        assert {"messages", "resolved-conversations", "teams"} <= changed, changed

        kept.refresh(con, WS)
        for name in changed:
            out = tmp_path / f"after-{name}.csv"
            assert run_export(con, _request(name), out, refresh=False, storing=lambda: True).kept
            assert out.read_bytes() == (tmp_path / f"now-{name}.csv").read_bytes(), name
    finally:
        con.close()


_KILLED_IN_REFRESH = """
import os, signal, sys
from cxport.exports import kept
from cxport.ingest import ingest_files
from cxport.store import open_store

class Dying:
    '''A DuckDB connection whose cursors kill the process at the third row insertion
    into the kept facts (within the refresh's transaction, after some of its deletes).'''
    def __init__(self, con, seen):
        self._con, self._seen = con, seen
    def cursor(self):
        return Dying(self._con.cursor(), self._seen)
    def execute(self, sql, *args):
        if sql.startswith("INSERT INTO kept_"):
            self._seen.append(sql)
            if len(self._seen) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        return self._con.execute(sql, *args)
    def __getattr__(self, name):
        return getattr(self._con, name)

con = open_store(sys.argv[1])
ingest_files(con, [sys.argv[2]], workspace="default")
print("stored", flush=True)
kept.refresh(Dying(con, []), "default")
print("refreshed", flush=True)
"""


def test_a_refresh_killed_halfway_leaves_the_previous_version_and_the_next_batch_repairs_it(
    tmp_path: Path,
) -> None:
    first, batch, later = _parts()
    db = tmp_path / "store.duckdb"
    con = open_store(db)
    try:
        _ingest(con, tmp_path / "first.ndjson", first)
        kept.refresh(con, WS)
        schema = con.execute("SELECT schema_name, batch_id FROM kept_facts").fetchone()
        rows_before = _kept_rows(con)
    finally:
        con.close()

    child = subprocess.run(
        [sys.executable, "-c", _KILLED_IN_REFRESH, str(db), str(write_ndjson(tmp_path / "batch.ndjson", batch))],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert child.returncode == -9, child.stderr  # SIGKILL, in the refresh
    assert child.stdout.split() == ["stored"]

    con = open_store(db)
    try:
        # The batch is stored; the kept facts are the previous version, whole.
        assert con.execute("SELECT schema_name, batch_id FROM kept_facts").fetchone() == schema
        assert _kept_rows(con) == rows_before
        assert kept.current(con, WS, AS_OF.replace(tzinfo=None)) is None  # stale: not read
        # The next batch's refresh repairs them, in place.
        _ingest(con, tmp_path / "later.ndjson", later)
        refreshed, built = kept.refresh(con, WS)
        assert built and refreshed is not None and refreshed.schema == schema[0]
        repaired = _all_files(con, tmp_path / "repaired")
    finally:
        con.close()

    whole = open_store(tmp_path / "whole.duckdb")
    try:
        _ingest(whole, tmp_path / "whole.ndjson", [*first, *batch, *later])
        assert repaired == _all_files(whole, tmp_path / "whole")
    finally:
        whole.close()
