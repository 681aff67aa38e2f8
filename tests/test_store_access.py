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
