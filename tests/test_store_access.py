"""How processes share the store (`service/store_access.py`): an ingest waits for the
exports reading it, an export waits for the ingest writing it, neither fails on
DuckDB's file lock, and an ingest gets in between the jobs of a busy service."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from helpers import simulated_store

from cxport.service.store_access import StoreAccess, StoreBusy


def _records(path: Path, n: int, prefix: str) -> Path:
    lines = [
        json.dumps({"type": "channel", "id": f"{prefix}-{i}", "at": "2024-06-20T10:00:00Z",
                    "channel_id": f"ch-{prefix}-{i}", "medium": "sms", "name": f"{prefix} {i}"})
        for i in range(n)
    ]  # fmt: skip
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(*args: str) -> tuple[int, float, str]:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cxport", *args], capture_output=True, text=True, timeout=120
    )
    return done.returncode, time.monotonic() - start, done.stderr


def _hold(
    access: StoreAccess, mode: str, seconds: float, held: threading.Event
) -> threading.Thread:
    def work() -> None:
        with getattr(access, mode)():
            held.set()
            time.sleep(seconds)

    t = threading.Thread(target=work)
    t.start()
    return t


def test_an_ingest_waits_for_a_reader_and_an_export_for_a_writer(tmp_path: Path) -> None:
    db = simulated_store(tmp_path, seed=2, conversations=60, start=dt.date(2024, 6, 1), days=5)
    held = threading.Event()
    reader = _hold(StoreAccess(db), "read", 1.5, held)
    held.wait()
    code, took, err = _run("ingest", "--db", str(db), str(_records(tmp_path / "a.ndjson", 3, "a")))
    reader.join()
    assert code == 0, err
    assert took >= 1.0  # it waited its turn instead of failing on the lock
    held = threading.Event()
    writer = _hold(StoreAccess(db), "write", 1.5, held)
    held.wait()
    out = tmp_path / "m.csv"
    code, took, err = _run(
        "export",
        "messages",
        "--db",
        str(db),
        "--from",
        "2024-06-01",
        "--to",
        "2024-06-05",
        "--output",
        str(out),
    )
    writer.join()
    assert code == 0, err
    assert took >= 1.0 and out.stat().st_size > 0


def test_a_reader_gives_up_after_its_wait_and_says_so(tmp_path: Path) -> None:
    db = simulated_store(tmp_path, seed=2, conversations=20, start=dt.date(2024, 6, 1), days=2)
    held = threading.Event()
    writer = _hold(StoreAccess(db), "write", 1.0, held)
    held.wait()
    start = time.monotonic()
    try:
        with StoreAccess(db, wait=0.2).read():
            raise AssertionError("read while an ingest wrote")
    except StoreBusy as exc:
        assert "in use" in str(exc) or "being written" in str(exc)
    assert time.monotonic() - start < 5  # it gave up (StoreBusy above), not waited the writer out
    writer.join()


def test_an_ingest_gets_in_between_readers_that_never_stop(tmp_path: Path) -> None:
    """Two readers of one process overlap so that the store is never free (a busy
    service's runners); an ingest in another process still gets its turn at once."""
    db = simulated_store(tmp_path, seed=4, conversations=60, start=dt.date(2024, 6, 1), days=5)
    access = StoreAccess(db)
    stop = threading.Event()
    reads: list[float] = []

    def runner(offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            with access.read() as con:
                con.execute("SELECT count(*) FROM r_message").fetchall()
                time.sleep(0.1)
            reads.append(time.monotonic())

    threads = [threading.Thread(target=runner, args=(i * 0.05,)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        code, took, err = _run(
            "ingest", "--db", str(db), str(_records(tmp_path / "b.ndjson", 5, "b"))
        )
        done = time.monotonic()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert code == 0, err
    assert took < 20  # not starved
    assert any(r > done for r in reads)  # the readers went on after it
    with access.read() as con:
        found = con.execute(
            "SELECT count(*) FROM r_channel WHERE channel_id LIKE 'ch-b-%'"
        ).fetchone()
    assert found == (5,)


def test_a_job_does_not_wait_for_its_own_process_s_batch_and_reads_one_version(
    tmp_path: Path,
) -> None:
    """While this process writes a batch, a job of it starts at once, on the
    connection open for writing; in its transaction it sees the store as it was
    before the batch's commit, and the next job sees the batch."""
    from cxport.ingest import ingest_files

    db = simulated_store(tmp_path, seed=2, conversations=20, start=dt.date(2024, 6, 1), days=2)
    access = StoreAccess(db)
    count = "SELECT count(*) FROM r_channel WHERE channel_id LIKE 'ch-c-%'"
    writing, go, committed = threading.Event(), threading.Event(), threading.Event()

    def ingest() -> None:
        with access.write() as con:
            writing.set()
            assert go.wait(30)
            ingest_files(con, [str(_records(tmp_path / "c.ndjson", 3, "c"))])
            committed.set()
            time.sleep(1.0)  # e.g. the kept facts' refresh

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        assert writing.wait(30)
        start = time.monotonic()
        with access.read() as con:
            entered = time.monotonic() - start
            con.execute("BEGIN TRANSACTION")
            before = con.execute(count).fetchone()
            go.set()
            assert committed.wait(30)
            during = con.execute(count).fetchone()
            con.execute("COMMIT")
        with access.read() as con:
            after = con.execute(count).fetchone()
        assert entered < 0.5, f"the job waited {entered:.2f} s for the batch"
        assert before == during == (0,)
        assert after == (3,)
    finally:
        go.set()
        writer.join()


def test_another_process_gets_its_turn_from_jobs_reading_through_the_writer(
    tmp_path: Path,
) -> None:
    """Jobs of this process that overlap without end join its connection open for
    writing (kept open by them after the batch); an export of another process still
    gets the store: the jobs stop joining, the connection is given up, they go on
    read-only beside it."""
    db = simulated_store(tmp_path, seed=4, conversations=60, start=dt.date(2024, 6, 1), days=5)
    access = StoreAccess(db)
    stop, joined = threading.Event(), threading.Event()
    reads: list[float] = []

    def runner(offset: float) -> None:
        time.sleep(offset)
        while not stop.is_set():
            with access.read() as con:
                con.execute("SELECT count(*) FROM r_message").fetchall()
                if access._writable:
                    joined.set()
                time.sleep(0.1)
            reads.append(time.monotonic())

    held = threading.Event()
    writer = _hold(access, "write", 0.5, held)
    held.wait()
    threads = [threading.Thread(target=runner, args=(i * 0.05,)) for i in range(2)]
    for t in threads:
        t.start()
    try:
        writer.join()
        assert joined.wait(10), "no job read through the connection open for writing"
        out = tmp_path / "m.csv"
        code, took, err = _run(
            "export", "messages", "--db", str(db), "--from", "2024-06-01", "--to", "2024-06-05",
            "--output", str(out),
        )  # fmt: skip
        done = time.monotonic()
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert code == 0, err
    assert took < 30 and out.stat().st_size > 0  # not starved
    assert any(r > done for r in reads)  # the jobs went on after it


def test_a_service_job_reading_through_an_ingest_s_connection_writes_nothing(
    tmp_path: Path,
) -> None:
    """A job that starts while the process writes a batch (stored, its kept facts not
    yet refreshed) runs on the writing connection; it reads the stale kept facts'
    records as they are and leaves the refresh to the ingest: were it to refresh
    them itself, its writes would conflict with the ingest's ('Conflict on tuple
    deletion', seen in bench/stream.py at 1 M)."""
    from cxport.exports import kept
    from cxport.ingest import ingest_files
    from cxport.service import Service
    from cxport.service.requests import ExportAsk
    from cxport.service.settings import Settings

    db = simulated_store(tmp_path, seed=2, conversations=40, start=dt.date(2024, 6, 1), days=3)
    service = Service(Settings(db=db, runners=0))
    try:
        with service.store.write() as con:
            kept.refresh(con, "default")
        who = service.add_user("default", "a@x.test", "admin")
        ask = ExportAsk("teams", dt.date(2024, 6, 1), dt.date(2024, 6, 3))
        service.request_export(who, ask)
        lease = service.claim("test")
        assert lease is not None
        with service.store.write() as con:
            ingest_files(con, [str(_records(tmp_path / "d.ndjson", 2, "d"))])
            as_of = dt.datetime(2100, 1, 1)
            assert kept.current(con, "default", as_of) is None  # stale until refreshed
            service.run_export_job(lease, lambda done: None, lambda cursor: None)
            assert service.store._writable  # the job read through this connection
            assert kept.current(con, "default", as_of) is None, "the job refreshed them"
            kept.refresh(con, "default")  # the ingest's own refresh, no conflict
    finally:
        service.close()


def test_a_job_starting_during_the_refresh_of_a_batch_reads_the_version_before_it(
    tmp_path: Path,
) -> None:
    """Between a batch's commit and the end of its kept facts' refresh, a job finds them
    stale: it neither waits for the refresh nor computes its facts from the records,
    but reads the version before the batch, from the kept facts."""
    from cxport.exports import kept
    from cxport.exports.request import ExportRequest
    from cxport.exports.runner import run_export
    from cxport.ingest import ingest_files

    db = simulated_store(tmp_path, seed=2, conversations=40, start=dt.date(2024, 6, 1), days=3)
    access = StoreAccess(db)
    request = ExportRequest(
        "resolved-conversations", dt.date(2024, 6, 1), dt.date(2024, 6, 4),
        as_of=dt.datetime(2024, 6, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    with access.write() as con:
        kept.refresh(con, "default")
        (channel,) = con.execute("SELECT channel_id FROM r_channel LIMIT 1").fetchone() or ("",)
    with access.read() as con:
        run_export(con, request, tmp_path / "before.csv", refresh=False)
    renamed = tmp_path / "rename.ndjson"
    renamed.write_text(json.dumps({"type": "channel", "id": "rename-1", "at": "2024-06-02T00:00:00Z",
                                   "channel_id": channel, "medium": "sms", "name": "Renamed"}) + "\n")  # fmt: skip
    refreshing = threading.Event()

    def ingest() -> None:
        with access.write() as con, access.storing():
            ingest_files(con, [str(renamed)])
            refreshing.set()
            time.sleep(1.5)
            kept.refresh(con, "default")

    writer = threading.Thread(target=ingest)
    writer.start()
    try:
        assert refreshing.wait(30)
        start = time.monotonic()
        with access.read() as con:
            during = run_export(
                con, request, tmp_path / "during.csv", refresh=False, storing=access.storing_batch
            )
        took = time.monotonic() - start
    finally:
        writer.join()
    with access.read() as con:
        after = run_export(con, request, tmp_path / "after.csv", refresh=False)
    assert took < 1.0, "the job waited for the refresh"
    assert during.kept
    assert (tmp_path / "during.csv").read_bytes() == (tmp_path / "before.csv").read_bytes()
    assert after.kept and b"Renamed" in (tmp_path / "after.csv").read_bytes()


def test_a_service_keeps_the_store_open_between_batches_and_gives_it_up_to_another_process(
    tmp_path: Path,
) -> None:
    """With `keep_open` (the service), the connection open for writing outlives its
    batch: the next batch and the jobs meanwhile use it, warm. A process that waits
    for the store (an ingest of the CLI) gets it at once; the next batch opens the
    store again; `close` gives it up."""
    db = simulated_store(tmp_path, seed=2, conversations=20, start=dt.date(2024, 6, 1), days=2)
    access = StoreAccess(db, keep_open=True)
    with access.write() as con:
        con.execute("SELECT 1").fetchall()
    held = access._con
    assert held is not None and access._writable, "given up after the batch"
    with access.read() as con:
        assert access._con is held  # a job reads through it
        con.execute("SELECT count(*) FROM r_message").fetchall()
    with access.write():
        assert access._con is held  # the next batch too: not opened again
    time.sleep(0.3)
    assert access._con is held

    code, took, err = _run("ingest", "--db", str(db), str(_records(tmp_path / "f.ndjson", 2, "f")))
    assert code == 0, err
    assert took < 10, f"the other process waited {took:.1f} s"
    assert access._con is None  # given up to it

    with access.write() as con:  # opened again
        assert con.execute(
            "SELECT count(*) FROM r_channel WHERE channel_id LIKE 'ch-f-%'"
        ).fetchone() == (2,)
    assert access._con is not None
    access.close()
    assert access._con is None
    code, _, err = _run("ingest", "--db", str(db), str(_records(tmp_path / "g.ndjson", 1, "g")))
    assert code == 0, err
