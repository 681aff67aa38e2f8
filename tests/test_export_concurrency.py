"""Exports written at once on cursors of one store, as the service's two job runners
write them (issue 23): each job on its own cursor of the process's one read-only
connection (`StoreAccess.read`), closed when the job ends while the other runner's
job goes on. The files are the bytes of the same exports written one at a time.

Before the fix this killed the process (SIGSEGV): the Python function behind
`cx_ts` was referenced only by the job cursor that registered it, the other job
found it registered and called it after that cursor had closed (folded while
planning the COPY of its sorted rows). So the two runners run in a child process,
where a crash is this test failing, not the test run lost."""

from __future__ import annotations

import datetime as dt
import gc
import subprocess
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
from helpers import simulated_store

from cxport.exports import ExportRequest, engine
from cxport.exports.runner import run_export
from cxport.service.store_access import StoreAccess
from cxport.store import open_store

DAY = dt.date(2024, 3, 31)  # Berlin's spring DST change: 23 hours
AS_OF = dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)


def _jobs() -> list[ExportRequest]:
    """Each hour of the day's messages (as an hourly schedule makes them), and a few
    exports of the whole day."""
    start = dt.datetime(2024, 3, 30, 23)  # 00:00 Berlin, naive UTC
    hours = [
        ExportRequest(
            export="messages",
            date_from=DAY,
            date_to=DAY,
            tz="Europe/Berlin",
            as_of=AS_OF,
            start_at=start + dt.timedelta(hours=h),
            end_at=start + dt.timedelta(hours=h + 1),
        )
        for h in range(23)
    ]
    days = [
        ExportRequest(export=name, date_from=DAY, date_to=DAY, tz="Europe/Berlin", as_of=AS_OF)
        for name in (
            "resolved-conversations",
            "contacts",
            "agent-presence",
            "open-conversations",
            "teams",
        )
    ]
    return hours + days


def write_at_once(db: Path, out: Path) -> None:
    """Two threads run the jobs in pairs, each job on its own cursor of `db`'s one
    read-only connection, as two job runners of one process do. In each pair one
    runner takes the store, the other writes its file and closes its cursor, then
    the first writes its own (exports this small are otherwise over before the
    other starts, and the connection closes in between). The runners swap parts
    from one pair to the next."""
    access = StoreAccess(db)
    jobs = list(enumerate(_jobs()))
    pairs = list(zip(jobs[::2], jobs[1::2], strict=True))
    steps = [(threading.Event(), threading.Event()) for _ in pairs]  # (held, written)
    errors: list[BaseException] = []

    def runner(me: int) -> None:
        try:
            for n, ((i, a), (j, b)) in enumerate(pairs):
                held, written = steps[n]
                if n % 2 == me:  # holds the store while the other runner writes `a`
                    with access.read() as cursor:
                        held.set()
                        written.wait(60)
                        run_export(cursor, b, out / f"{j}.csv")
                else:
                    held.wait(60)
                    try:
                        with access.read() as cursor:
                            run_export(cursor, a, out / f"{i}.csv")
                    finally:
                        written.set()
        except BaseException as exc:  # reported by the parent
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(me,)) for me in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def in_a_child(*args: str) -> subprocess.CompletedProcess[str]:
    """This module run as a script with `args`: a crash fails the test, not the run."""
    return subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, timeout=300
    )


def instant_after_close() -> None:
    """Print `cx_ts` of an instant outside the SQL window (so through the Python
    function), asked on one cursor after the cursor that registered it closed."""
    con = duckdb.connect()
    berlin = ZoneInfo("Europe/Berlin")
    first = con.cursor()
    engine.install(first, berlin, base=first)
    first.close()
    gc.collect()
    second = con.cursor()
    engine.install(second, berlin, base=second)  # finds the function registered
    print(second.execute("SELECT cx_ts(TIMESTAMP '1890-07-01 12:00:00')").fetchall()[0][0])


def test_the_python_timestamp_function_outlives_the_cursor_that_registered_it() -> None:
    done = in_a_child("instant-after-close")
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "1890-07-01T12:53:28+00:53:28"  # Berlin's mean solar time


def test_two_runners_write_exports_at_once_on_cursors_of_one_store(tmp_path: Path) -> None:
    db = simulated_store(tmp_path, seed=3, conversations=150, start=dt.date(2024, 3, 29), days=4)
    alone = tmp_path / "alone"
    alone.mkdir()
    for i, request in enumerate(_jobs()):
        con = open_store(db, read_only=True)
        try:
            run_export(con, request, alone / f"{i}.csv")
        finally:
            con.close()
    at_once = tmp_path / "at-once"
    at_once.mkdir()
    done = in_a_child("write-at-once", str(db), str(at_once))
    assert done.returncode == 0, done.stderr[-3000:]
    expected = {p.name: p.read_bytes() for p in alone.iterdir()}
    assert len(expected) == len(_jobs())
    assert {p.name: p.read_bytes() for p in at_once.iterdir()} == expected


if __name__ == "__main__":
    if sys.argv[1] == "instant-after-close":
        instant_after_close()
    else:
        write_at_once(Path(sys.argv[2]), Path(sys.argv[3]))
