"""The export service's own cost, over a real `cxport serve` on 127.0.0.1.

- Overhead of the service over the CLI for one small export: from `POST /exports`
  accepted to the file ready (seen by a client polling every 5 ms), minus the
  export's own time (`run_export` of the same request on the same store, in one
  process, as `cxport export` runs it). Target ≤ 0.3 s.
- Throughput: jobs per minute for a queue of small exports posted at once, with
  the default runners and per-workspace limit.

    uv run python bench/service.py [--conversations 10000] [--runs 15] [--queue 100]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
BODY = {"from": "2024-06-01", "to": "2024-06-30", "tz": "America/Sao_Paulo"}


def cxport(*args: str) -> str:
    """Run `python -m cxport ARGS`; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "cxport", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def admin_token(db: Path, email: str = "bench@x.test") -> str:
    """An admin of the store's workspace and a bearer token of theirs."""
    cxport("user", "add", "--db", str(db), "--email", email, "--role", "admin")
    return cxport("token", "create", "--db", str(db), "--email", email).strip()


@contextmanager
def serving(db: Path, token: str, log: Path | None = None) -> Iterator[httpx.Client]:
    """A real `cxport serve` (API and job runners) on a free port of 127.0.0.1 while the
    block runs, and a client of its API with `token`; its output to `log` (default: none)."""
    port = _port()
    with (log or Path(os.devnull)).open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "cxport", "serve", "--db", str(db), "--port", str(port)],
                                  stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=600,
        )
        try:
            while True:
                try:
                    if api.get("/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    if server.poll() is not None:
                        raise RuntimeError(f"cxport serve exited {server.returncode}") from None
                    time.sleep(0.1)
            yield api
        finally:
            api.close()
            server.send_signal(signal.SIGTERM)
            server.wait(60)


def ready(api: httpx.Client, export_id: str) -> dict[str, Any]:
    """The export request once it has ended (polled every 5 ms)."""
    while True:
        obj: dict[str, Any] = api.get(f"/exports/{export_id}").json()
        if obj["state"] in ("succeeded", "failed"):
            return obj
        time.sleep(0.005)


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.removesuffix("Z"))


def export_seconds(db: Path, export: str, runs: int) -> list[float]:
    """`run_export` of the request, in one process (the CLI's path, no service)."""
    from cxport.exports import ExportRequest, run_export
    from cxport.store import open_store

    con = open_store(db, read_only=True)
    out = Path(tempfile.mkdtemp()) / "x.csv"
    request = ExportRequest(export=export, date_from=dt.date(2024, 6, 1), date_to=dt.date(2024, 6, 30),
                            tz=BODY["tz"], as_of=dt.datetime.now(dt.UTC))  # fmt: skip
    run_export(con, request, out)  # warm
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run_export(con, request, out)
        times.append(time.perf_counter() - start)
    con.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--queue", type=int, default=100)
    parser.add_argument("--exports", default="teams,agent-presence")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "service.json"))
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cxport-bench-service-"))
    db = folder / "store.duckdb"
    cxport("simulate", "--out", str(folder / "r.ndjson"), "--conversations", str(args.conversations),
           "--start", "2024-05-20", "--days", "45")  # fmt: skip
    cxport("ingest", "--db", str(db), str(folder / "r.ndjson"))
    token = admin_token(db)
    result: dict[str, Any] = {
        "conversations": args.conversations,
        "machine": f"{os.cpu_count()} cores",
        "date": dt.date.today().isoformat(),
        "exports": {},
    }
    with serving(db, token) as api:
        for export in args.exports.split(","):
            latency, queue_wait, run = [], [], []
            ready(api, api.post("/exports", json={**BODY, "export": export}).json()["id"])  # warm
            for _ in range(args.runs):
                start = time.perf_counter()
                created = api.post("/exports", json={**BODY, "export": export}).json()
                done = ready(api, created["id"])
                latency.append(time.perf_counter() - start)
                queue_wait.append(
                    (instant(done["started_at"]) - instant(done["created_at"])).total_seconds()
                )
                run.append(
                    (instant(done["finished_at"]) - instant(done["started_at"])).total_seconds()
                )
            result["exports"][export] = {"latency": latency, "queue_wait": queue_wait, "run": run}
        start = time.perf_counter()
        ids = [
            api.post("/exports", json={**BODY, "export": "teams"}).json()["id"]
            for _ in range(args.queue)
        ]
        for i in ids:
            ready(api, i)
        elapsed = time.perf_counter() - start
        result["queue"] = {
            "jobs": args.queue,
            "seconds": elapsed,
            "jobs_per_minute": args.queue / elapsed * 60,
        }
    for export, figures in result["exports"].items():
        figures["export_alone"] = export_seconds(db, export, args.runs)
        med = {k: statistics.median(v) for k, v in figures.items()}
        figures["median"] = med
        figures["overhead"] = med["latency"] - med["export_alone"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(
        "| export | accepted → ready s | export alone s | overhead s | queue wait s | job run s |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for export, f in result["exports"].items():
        m = f["median"]
        print(
            f"| {export} | {m['latency']:.3f} | {m['export_alone']:.3f} | **{f['overhead']:.3f}** | {m['queue_wait']:.3f} | {m['run']:.3f} |"
        )
    q = result["queue"]
    print(
        f"\nqueue of {q['jobs']} teams exports: {q['seconds']:.1f} s, {q['jobs_per_minute']:.0f} jobs/min"
    )


if __name__ == "__main__":
    main()
