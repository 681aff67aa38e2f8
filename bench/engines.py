"""Spark against DuckDB (issue 19, item 5): the twelve exports of a month on both engines.

    python -m bench.engines --conversations N [--days 35] [--folder bench/out/engines]
                            [--master local[2]] [--store DB] [--month YYYY-MM]
                            [--skip EXPORT ...] [--ways duckdb,duckdb-computed,spark]
                            [--lean-disk]

The store is `bench/live.py`'s simulation of N conversations (`FOLDER/store-N.duckdb`,
its kept facts built; made here when missing) and its lake (`FOLDER/lake-N`,
written by `cxport.lake.sync` when missing). Then, for the month of the store's
last record (America/Sao_Paulo), the twelve exports together, each way timed on
its own, with the peak resident memory of this process and its children (the
JVM) and the peak of the disk used (temporary files and the files written)
sampled every 0.1 s, and when each file was done:

- `duckdb`: `run_exports`, the kept facts read (what `cxport export all` does);
- `duckdb-computed`: the same with every fact computed (`use_kept=False`), the
  work Spark does, since a lake keeps no facts;
- `spark`: `run_exports_on` a Spark engine (`--master`, `local[2]` by default)
  over the lake; the session's start is timed apart.

The three sets of files must be byte-identical (exit 1 if not). Prints one JSON
object. A manual benchmark: never in CI.

For a store too large for the disk to hold every way's files (10 M
conversations): `--store` takes an existing store (its kept facts rebuilt
first only when stale), `--month` the month exported, `--skip` leaves
exports out, `--ways` runs some of the three, and `--lean-disk` keeps each
way's files only until their SHA-256 is taken (the ways are compared by
those, and their sizes are in the figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python bench/engines.py`: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine


@contextmanager
def _peak(folder: Path) -> Iterator[Callable[[], dict[str, float]]]:
    """While the block runs: the peak resident memory (GB) of this process and its
    children, and the peak of the disk used since it began on `folder`'s file
    system (GB: temporary files, Spark's among them, and the files written),
    sampled every 0.1 s."""
    import shutil

    import psutil

    me = psutil.Process()
    free_before = shutil.disk_usage(folder).free
    peak = {"peak_gb": 0.0, "disk_peak_gb": 0.0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = 0
            for p in [me, *me.children(recursive=True)]:
                with suppress(psutil.Error):
                    total += p.memory_info().rss
            used = free_before - shutil.disk_usage(folder).free
            peak["peak_gb"] = max(peak["peak_gb"], round(total / 1e9, 2))
            peak["disk_peak_gb"] = max(peak["disk_peak_gb"], round(used / 1e9, 2))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield lambda: dict(peak)
    finally:
        done.set()
        sampler.join()


def _clock(began: float, into: dict[str, float]) -> Callable[[Any], None]:
    """An `on_result` noting when each file was done (seconds from `began`)."""
    return lambda result: into.__setitem__(result.export, round(time.perf_counter() - began, 2))


def _store(folder: Path, conversations: int, days: int) -> Path:
    from bench.live import simulated
    from cxport.exports import kept
    from cxport.ingest import ingest_files
    from cxport.store import open_store

    db = folder / f"store-{conversations}.duckdb"
    source = None if db.exists() else simulated(folder, conversations, days)
    con = open_store(db)
    try:
        if source is not None:
            ingest_files(con, [str(source)], workspace="default")
        # Built anew when this cxport's kept facts differ from the store's.
        kept.refresh(con, "default")
    finally:
        con.close()
    return db


def _jobs(
    db: Path, out: Path, month: str | None = None, skip: tuple[str, ...] = ()
) -> list[tuple[Any, Path]]:
    """The exports (but `skip`) of `month` (YYYY-MM; None: the month of the
    store's last record), to files under `out`."""
    from cxport.exports.defs import EXPORTS
    from cxport.exports.request import ExportRequest
    from cxport.store import open_store

    if month is None:
        con = open_store(db, read_only=True)
        try:
            (last,) = con.execute('SELECT max("at") FROM r_message').fetchone() or (None,)
        finally:
            con.close()
        assert last is not None
        first = last.date().replace(day=1)
    else:
        first = dt.date.fromisoformat(f"{month}-01")
    end = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    out.mkdir(parents=True, exist_ok=True)
    return [
        (ExportRequest(d.name, first, end, tz="America/Sao_Paulo",
                       as_of=dt.datetime(2100, 1, 1, tzinfo=dt.UTC)), out / f"{d.name}.csv")
        for d in EXPORTS
        if d.name not in skip
    ]  # fmt: skip


def _taken(folder: Path, lean: bool) -> dict[str, Any]:
    """The files of a way: their bytes; or, with `lean`, their SHA-256 and size,
    the files deleted."""
    import hashlib

    out: dict[str, Any] = {}
    for path in sorted(folder.iterdir()):
        if not lean:
            out[path.name] = path.read_bytes()
            continue
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(1 << 24):
                digest.update(chunk)
        out[path.name] = (digest.hexdigest(), path.stat().st_size)
        path.unlink()
    return out


def _size(files: dict[str, Any]) -> int:
    return sum(v[1] if isinstance(v, tuple) else len(v) for v in files.values())


def main() -> int:
    from cxport.engines.spark import open_engine
    from cxport.exports import kept
    from cxport.exports.runner import run_exports, run_exports_on
    from cxport.lake import sync
    from cxport.store import open_store

    ways_all = ("duckdb", "duckdb-computed", "spark")
    p = argparse.ArgumentParser()
    p.add_argument("--conversations", type=int, default=20_000)
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--folder", default="bench/out/engines")
    p.add_argument("--master", default=None, help="a Spark master URL (default: local[2])")
    p.add_argument("--store", default=None, help="an existing store (default: simulated)")
    p.add_argument("--month", default=None, help="YYYY-MM (default: the last record's)")
    p.add_argument("--skip", nargs="*", default=[], help="exports left out")
    p.add_argument("--ways", default=",".join(ways_all), help="some of " + ",".join(ways_all))
    p.add_argument("--lean-disk", action="store_true", help="files deleted once hashed")
    args = p.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    ways = [w for w in args.ways.split(",") if w]
    if not ways or set(ways) - set(ways_all):
        p.error(f"--ways: some of {', '.join(ways_all)}")
    skip = tuple(args.skip)
    result: dict[str, Any] = {"conversations": args.conversations, "machine": machine()}

    if args.store is None:
        db = _store(folder, args.conversations, args.days)
    else:
        db = Path(args.store)
        con = open_store(db)
        try:
            kept.refresh(con, "default")  # rebuilt only when stale
        finally:
            con.close()
    lake = folder / f"lake-{args.conversations}"
    files: dict[str, dict[str, Any]] = {}
    con = open_store(db, read_only=True)
    try:
        if "spark" in ways:
            t0 = time.perf_counter()
            synced = sync(con, lake)
            result["lake_sync_s"] = round(time.perf_counter() - t0, 2)
            result["lake_records_written"] = synced.records
        for name, use_kept in (("duckdb", True), ("duckdb-computed", False)):
            if name not in ways:
                continue
            jobs = _jobs(db, folder / f"out-{args.conversations}" / name, args.month, skip)
            at: dict[str, float] = {}
            with _peak(folder) as peak:
                t0 = time.perf_counter()
                done = run_exports(con, jobs, use_kept=use_kept, on_result=_clock(t0, at))
                result[name] = {"s": round(time.perf_counter() - t0, 2), **peak(), "files_at_s": at}
            # Kept facts no longer current (built by another cxport) are not read:
            # the way then computes every fact, and says so here.
            result[name]["kept_read"] = all(r.kept for r in done)
            files[name] = _taken(jobs[0][1].parent, args.lean_disk)
    finally:
        con.close()

    if "spark" in ways:
        jobs = _jobs(db, folder / f"out-{args.conversations}" / "spark", args.month, skip)
        at = {}
        with _peak(folder) as peak:
            t0 = time.perf_counter()
            with open_engine(lake, "default", master=args.master) as engine:
                started = time.perf_counter()
                run_exports_on(engine, jobs, on_result=_clock(started, at))
                ran = time.perf_counter()
            result["spark"] = {"start_s": round(started - t0, 2), "s": round(ran - started, 2),
                               **peak(), "files_at_s": at}  # fmt: skip
        files["spark"] = _taken(jobs[0][1].parent, args.lean_disk)
    result["month"] = jobs[0][0].date_from.isoformat()
    result["exports"] = [r.export for r, _ in jobs]
    result["rows_bytes"] = _size(files[ways[0]])
    result["identical"] = all(f == files[ways[0]] for f in files.values())
    print(json.dumps(result, indent=1, default=str))
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
