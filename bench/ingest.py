"""Ingest throughput: cxport's ingest vs DuckDB's plain `read_json` of the same file.

    uv run python bench/ingest.py --records 5000000
    uv run python bench/ingest.py --file some.ndjson

Generates (with DuckDB, in seconds) a file of valid records of several types
unless --file is given, then times, each in a fresh process so peak memory is
its own: cxport's ingest into a new store, and `CREATE TABLE AS SELECT * FROM
read_json(file)`. Prints records/s for both, the ratio, and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# (weight, type, extra JSON fields as DuckDB json_object arguments); `i` is the row number.
MIX: tuple[tuple[int, str, str], ...] = (
    (
        9,
        "message",
        "'message_id', 'm-' || i, 'conversation_id', 'cv-' || (i // 20),"
        " 'direction', 'INBOUND', 'source', 'CONTACT', 'message_type', 'PRIVATE_MESSAGE',"
        " 'content', 'Olá, meu pedido ' || i || ' não chegou \"ainda\"'",
    ),
    (
        3,
        "status_change",
        "'conversation_id', 'cv-' || (i // 20), 'status', 'RESOLVED',"
        " 'agent_id', 'a-' || (i % 50), 'team_id', 't-1', 'resolved_by', 'AGENT',"
        " 'resolve_trigger', 'HUMAN_AGENT'",
    ),
    (
        2,
        "lock",
        "'conversation_id', 'cv-' || (i // 20), 'agent_id', 'a-' || (i % 50), 'team_id', 't-1'",
    ),
    (
        2,
        "conversation",
        "'conversation_id', 'cv-' || (i // 20), 'channel_id', 'ch-1',"
        " 'contact_profile_id', 'c-' || (i // 7), 'language', 'pt-BR'",
    ),
    (1, "presence", "'agent_id', 'a-' || (i % 50), 'status', 'AWAY', 'away_state', 'Almoço'"),
    (1, "csat", "'conversation_id', 'cv-' || (i // 20), 'event', 'ANSWERED', 'score', 1 + i % 5"),
    (1, "tag_applied", "'message_id', 'm-' || (i - 1), 'tag_id', 'tg-1', 'agent_id', 'a-1'"),
    (
        1,
        "contact",
        "'contact_profile_id', 'c-' || i, 'medium', 'whatsapp',"
        " 'primary_identifier', '+55119' || i",
    ),
)


def generate(path: str, records: int) -> None:
    """A file of `records` valid records (NDJSON), written by DuckDB."""
    total = sum(w for w, _, _ in MIX)
    cases, start = [], 0
    for weight, name, extra in MIX:
        cases.append(
            f"WHEN i % {total} < {start + weight} THEN json_object('type', '{name}', 'id', 'r' || i,"
            f" 'at', \"at\", {extra})"
        )
        start += weight
    at = (
        "strftime(TIMESTAMP '2024-01-01' + to_seconds(i // 10), '%Y-%m-%dT%H:%M:%S')"
        " || '.' || lpad((i % 1000)::VARCHAR, 3, '0') || '-03:00'"
    )
    con = duckdb.connect()
    con.execute(
        f'COPY (SELECT CASE {" ".join(cases)} END FROM (SELECT i, {at} AS "at" FROM range({records}) t(i)))'
        f" TO '{path}' (FORMAT csv, HEADER false, QUOTE '\x02', ESCAPE '\x02', DELIMITER '\x01')"
    )
    con.close()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_cxport(path: str, db: str, chunk_mb: int) -> dict[str, float]:
    from cxport.ingest import ingest_files
    from cxport.store import open_store

    con = open_store(db)
    t, cpu = time.perf_counter(), time.process_time()
    summary = ingest_files(con, [path], chunk_bytes=chunk_mb << 20)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    con.close()
    return {
        "records": summary.total_stored,
        "seconds": seconds,
        "cpu": cpu,
        "peak_rss_mb": peak_rss_mb(),
    }


def run_read_json(path: str, db: str) -> dict[str, float]:
    con = duckdb.connect(db)
    t, cpu = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_json('{path}')")
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    rows = con.execute("SELECT count(*) FROM raw").fetchall()[0][0]
    con.close()
    return {"records": rows, "seconds": seconds, "cpu": cpu, "peak_rss_mb": peak_rss_mb()}


def child(which: str, path: str, chunk_mb: int) -> dict[str, float]:
    """Run one contender in a fresh process (its own peak RSS, a cold store)."""
    with tempfile.TemporaryDirectory(prefix="cxport-bench-") as tmp:
        db = str(Path(tmp) / "bench.duckdb")
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--child",
                which,
                "--file",
                path,
                "--db",
                db,
                "--chunk-mb",
                str(chunk_mb),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--file", help="an NDJSON file to ingest instead of a generated one")
    ap.add_argument("--chunk-mb", type=int, default=64)
    ap.add_argument("--child", choices=["cxport", "read_json"], help=argparse.SUPPRESS)
    ap.add_argument("--db", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        run = (
            run_cxport(args.file, args.db, args.chunk_mb)
            if args.child == "cxport"
            else run_read_json(args.file, args.db)
        )
        print(json.dumps(run))
        return

    with tempfile.TemporaryDirectory(prefix="cxport-bench-") as tmp:
        path = args.file
        if not path:
            path = str(Path(tmp) / "records.ndjson")
            t = time.perf_counter()
            generate(path, args.records)
            print(f"generated {args.records:,} records in {time.perf_counter() - t:.1f} s")
        size = os.path.getsize(path)
        print(f"file: {path} ({size / 1e9:.2f} GB)")
        raw = child("read_json", path, args.chunk_mb)
        ours = child("cxport", path, args.chunk_mb)
    for name, r in (("read_json", raw), ("cxport", ours)):
        rate = r["records"] / r["seconds"]
        print(
            f"{name:>10}: {int(r['records']):>11,} records in {r['seconds']:7.2f} s"
            f" = {rate:>11,.0f} records/s ({size / r['seconds'] / 1e6:6.1f} MB/s),"
            f" CPU {r['cpu']:.1f} s, peak RSS {r['peak_rss_mb']:,.0f} MB"
        )
    ratio = (ours["records"] / ours["seconds"]) / (raw["records"] / raw["seconds"])
    cpu_ratio = raw["cpu"] / ours["cpu"]
    print(f"cxport / read_json: {ratio:.0%} of the rate ({cpu_ratio:.0%} by CPU time)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
