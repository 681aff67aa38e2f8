"""Live ingest under load (issue 18, item 4): a stream of small batches through
`POST /records` while exports run, over a real `cxport serve` on 127.0.0.1.

    python -m bench.stream --conversations N --seconds S [--rate R] [--folder bench/out/live]

The store is `bench/live.py`'s (`FOLDER/store-N.duckdb`, the simulation of N
conversations with its kept facts built; made here when missing), copied
into `FOLDER/stream-N/` first: the copy is what the stream changes. Over it
runs `cxport serve` (API and job runners, defaults), and an admin's token:

1. Exports alone: each of `--exports` (one month in America/Sao_Paulo: the
   month of a day `--month`, by default the month the stream writes into,
   that of the store's last record) requested through the API one after another, `--runs` times after a
   warm round, each waited for (polled every 5 ms): accepted → ready.
2. The stream, `--seconds` long: one client posts batches of about
   `--batch` new records (`bench/live.py`'s: on the 150 most recent
   conversations an inbound message, a lock, a reply and a resolution; new
   conversations with their contact, status and two messages; an agent
   version), each later in time than the one before, back to back or at
   `--rate` records/s; meanwhile another requests the same exports as in 1,
   one after another, waiting for each.
3. Afterwards, the correctness check (cheap): the store's kept facts are
   current (they saw the last batch), and `--check` over the month the
   stream wrote into, at an `as_of` after its last record, gives the same bytes through the
   API, through `cxport export`, and computed from the records without the
   kept facts (`run_export(use_kept=False)`): the refresh by parts missed
   nothing.

Prints the figures (records/s sustained, batch latency, export latency
alone and under the stream, medians and p95) and writes them as JSON to
`--out`; exits 1 if any request failed or a check did not hold.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

if __package__ in (None, ""):  # run as `python bench/stream.py`: make `bench.*` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import ROOT, machine
from bench.live import Recent, batch, recent
from bench.service import admin_token, cxport, instant, ready, serving

TZ = "America/Sao_Paulo"


@dataclass
class Store:
    """The copied store, as the stream starts."""

    db: Path
    horizon: dt.datetime  # naive UTC: its last record's `at`
    recent: Recent


@dataclass
class Timings:
    """Export requests of one phase, by export: accepted → ready, queue wait, job run."""

    latency: dict[str, list[float]] = field(default_factory=dict)
    queue_wait: dict[str, list[float]] = field(default_factory=dict)
    run: dict[str, list[float]] = field(default_factory=dict)

    def add(self, export: str, latency: float, done: dict[str, Any]) -> None:
        started, created = instant(done["started_at"]), instant(done["created_at"])
        self.latency.setdefault(export, []).append(latency)
        self.queue_wait.setdefault(export, []).append((started - created).total_seconds())
        self.run.setdefault(export, []).append(
            (instant(done["finished_at"]) - started).total_seconds()
        )


def p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]


def spread(values: list[float]) -> dict[str, float | int]:
    return {"n": len(values), "median": statistics.median(values), "p95": p95(values),
            "max": max(values)}  # fmt: skip


def prepare(folder: Path, conversations: int, days: int) -> Store:
    """`bench/live.py`'s store of `conversations` (made when missing), copied for the stream."""
    from cxport.exports import kept
    from cxport.ingest import ingest_files
    from cxport.store import open_store

    source = folder / f"store-{conversations}.duckdb"
    if not source.exists():
        from bench.live import simulated

        con = open_store(source)
        ingest_files(con, [str(simulated(folder, conversations, days))], workspace="default")
        kept.refresh(con, "default", force=True)
        con.close()
    work = folder / f"stream-{conversations}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    db = work / "store.duckdb"
    for suffix in ("", ".wal"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{db}{suffix}")
    con = open_store(db)
    found, _ = kept.refresh(con, "default")  # current already, unless the definitions changed
    if found is None:
        raise SystemExit(f"{source}: no records")
    store = Store(db, found.horizon, recent(con))
    con.close()
    return store


def month_of(day: dt.date) -> tuple[dt.date, dt.date]:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return day.replace(day=1), following - dt.timedelta(days=1)


class Stream:
    """Batches posted to `POST /records` from a thread of their own until `deadline`."""

    def __init__(self, api: httpx.Client, store: Store, size: int, rate: float) -> None:
        self.client = httpx.Client(base_url=api.base_url, headers=api.headers, timeout=600)
        self.store, self.size, self.rate = store, size, rate
        self.latency: list[float] = []
        self.stored = 0
        self.failures: list[str] = []
        self.seconds = 0.0
        self.last_at = store.horizon
        self.deadline = 0.0
        self.thread = threading.Thread(target=self._post_all, name="stream")

    def start(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds
        self.thread.start()

    def _post_all(self) -> None:
        begin = time.perf_counter()
        sent = 0
        step = dt.timedelta(seconds=self.size * 0.25 + 1)  # a batch's records are 250 ms apart
        try:
            while time.perf_counter() < self.deadline:
                if self.rate > 0:
                    time.sleep(max(0.0, begin + sent / self.rate - time.perf_counter()))
                start = self.store.horizon.replace(tzinfo=dt.UTC) + (len(self.latency) + 1) * step
                records = batch(self.store.recent, self.size, start, f"st{len(self.latency)}")
                body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
                t0 = time.perf_counter()
                answer = self.client.post(
                    "/records", content=body, headers={"Content-Type": "application/x-ndjson"}
                )
                self.latency.append(time.perf_counter() - t0)
                sent += len(records)
                found = answer.json() if answer.status_code == 200 else {}
                if answer.status_code != 200 or found.get("rejected"):
                    self.failures.append(f"POST /records {answer.status_code}: {answer.text[:300]}")
                    continue
                self.stored += int(found["stored"])
                self.last_at = dt.datetime.fromisoformat(records[-1]["at"].removesuffix("Z"))
        except httpx.HTTPError as exc:
            self.failures.append(f"POST /records: {type(exc).__name__}: {exc}")
        finally:
            self.seconds = time.perf_counter() - begin
            self.client.close()


def request_exports(
    api: httpx.Client, exports: list[str], body: dict[str, str], rounds: int | None = None,
    until: threading.Thread | None = None,
) -> tuple[Timings, list[str]]:  # fmt: skip
    """Each export requested in turn, waiting for each: `rounds` times, or while `until` runs."""
    timings, failures = Timings(), []
    done_rounds = 0
    while (until is not None and until.is_alive()) or (rounds is not None and done_rounds < rounds):
        for export in exports:
            t0 = time.perf_counter()
            try:
                created = api.post("/exports", json={**body, "export": export})
                if created.status_code != 202:
                    failures.append(f"POST /exports {created.status_code}: {created.text[:300]}")
                    continue
                done = ready(api, created.json()["id"])
            except httpx.HTTPError as exc:
                failures.append(f"{export}: {type(exc).__name__}: {exc}")
                continue
            if done["state"] != "succeeded":
                failures.append(f"{export}: {done['state']}: {done.get('error')}")
                continue
            timings.add(export, time.perf_counter() - t0, done)
            if until is not None and not until.is_alive():
                break
        done_rounds += 1
    return timings, failures


def check(api: httpx.Client, store: Store, export: str, as_of: dt.datetime) -> dict[str, Any]:
    """`export` over the month the stream wrote into, at `as_of`, through the API (its
    file for `check_offline`, which reads the store once it is no longer served)."""
    start, end = month_of(as_of.date())
    body = {"export": export, "from": start.isoformat(), "to": end.isoformat(), "tz": TZ,
            "as_of": as_of.isoformat() + "Z"}  # fmt: skip
    done = ready(api, api.post("/exports", json=body).json()["id"])
    path = store.db.parent / f"check-api-{export}.csv"
    if done["state"] == "succeeded":
        path.write_bytes(api.get(f"/exports/{done['id']}/file").content)
    return {"request": body, "state": done["state"], "api_file": path}


def check_offline(store: Store, found: dict[str, Any]) -> dict[str, Any]:
    """The kept facts current; the API's file the same bytes as `cxport export`'s and as
    the export computed without the kept facts."""
    from cxport.exports import ExportRequest, kept, run_export
    from cxport.store import open_store

    body = found["request"]
    as_of = dt.datetime.fromisoformat(body["as_of"].removesuffix("Z"))
    con = open_store(store.db, read_only=True)
    current = kept.current(con, "default", as_of)
    computed = store.db.parent / f"check-computed-{body['export']}.csv"
    request = ExportRequest(export=body["export"], date_from=dt.date.fromisoformat(body["from"]),
                            date_to=dt.date.fromisoformat(body["to"]), tz=TZ,
                            as_of=as_of.replace(tzinfo=dt.UTC))  # fmt: skip
    t0 = time.perf_counter()
    run_export(con, request, computed, use_kept=False)
    computed_s = time.perf_counter() - t0
    con.close()
    cli = store.db.parent / f"check-cli-{body['export']}.csv"
    cxport("export", body["export"], "--db", str(store.db), "--from", body["from"], "--to",
           body["to"], "--tz", TZ, "--as-of", body["as_of"], "--output", str(cli))  # fmt: skip
    api = found["api_file"].read_bytes() if found["state"] == "succeeded" else b""
    return {
        "request": body,
        "kept_current": current is not None,
        "api_equals_cli": api == cli.read_bytes(),
        "api_equals_computed": api == computed.read_bytes(),
        "rows": max(0, api.count(b"\n") - 1),
        "computed_without_kept_s": round(computed_s, 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    store = prepare(folder, args.conversations, args.days)
    exports = args.exports.split(",")
    start, end = month_of(args.month or store.horizon.date())
    body = {"from": start.isoformat(), "to": end.isoformat(), "tz": TZ}
    result: dict[str, Any] = {
        "conversations": args.conversations, "machine": machine(), "seconds": args.seconds,
        "batch": args.batch, "rate": args.rate, "request": body,
        "horizon": store.horizon.isoformat(), "store_bytes": store.db.stat().st_size,
    }  # fmt: skip
    failures: list[str] = []
    token = admin_token(store.db)
    with serving(store.db, token, log=store.db.parent / "serve.log") as api:
        request_exports(api, exports, body, rounds=1)  # warm: the first opening of the store
        alone, failed = request_exports(api, exports, body, rounds=args.runs)
        failures += failed
        stream = Stream(api, store, args.batch, args.rate)
        stream.start(args.seconds)
        under, failed = request_exports(api, exports, body, until=stream.thread)
        stream.thread.join()
        failures += failed + stream.failures
        as_of = stream.last_at + dt.timedelta(seconds=1)
        found = check(api, store, args.check, as_of)
    result["checks"] = check_offline(store, found)
    checks = result["checks"]
    failures += [f"check: {k} is false" for k in ("kept_current", "api_equals_cli",
                 "api_equals_computed") if not checks[k]]  # fmt: skip
    result["stream"] = {
        "batches": len(stream.latency),
        "records_stored": stream.stored,
        "seconds": round(stream.seconds, 2),
        "records_per_s": stream.stored / stream.seconds if stream.seconds else 0.0,
        "batch_latency": spread(stream.latency) if stream.latency else None,
        "batch_latency_all": stream.latency,
    }
    result["exports"] = {
        export: {
            "alone": spread(alone.latency[export]) if export in alone.latency else None,
            "under_stream": spread(under.latency[export]) if export in under.latency else None,
            "under_stream_queue_wait": spread(under.queue_wait[export])
            if export in under.queue_wait else None,
            "under_stream_run": spread(under.run[export]) if export in under.run else None,
            "alone_run": spread(alone.run[export]) if export in alone.run else None,
        }
        for export in exports
    }  # fmt: skip
    result["failures"] = failures
    return result


def say(result: dict[str, Any]) -> None:
    s = result["stream"]
    lat = s["batch_latency"] or {"median": 0.0, "p95": 0.0}
    print(f"{result['conversations']:,} conversations; store {result['store_bytes'] / 1e9:.1f} GB;"
          f" exports over {result['request']['from']}..{result['request']['to']} {TZ}")  # fmt: skip
    print(f"stream: {s['batches']} batches, {s['records_stored']:,} records in {s['seconds']} s:"
          f" {s['records_per_s']:,.0f} records/s; batch latency median {lat['median']:.2f} s,"
          f" p95 {lat['p95']:.2f} s")  # fmt: skip
    print("\n| export | alone: median / p95 s (n) | under the stream: median / p95 s (n)"
          " | of which queue wait (median) | job run (median) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: |")
    for export, f in result["exports"].items():

        def cell(x: dict[str, Any] | None) -> str:
            return "–" if x is None else f"{x['median']:.2f} / {x['p95']:.2f} ({x['n']})"

        def median(x: dict[str, Any] | None) -> str:
            return "–" if x is None else f"{x['median']:.2f}"

        print(f"| {export} | {cell(f['alone'])} | {cell(f['under_stream'])} |"
              f" {median(f['under_stream_queue_wait'])} | {median(f['under_stream_run'])} |")  # fmt: skip
    c = result["checks"]
    print(f"\ncheck ({c['request']['export']} {c['request']['from']}..{c['request']['to']},"
          f" {c['rows']} rows): kept facts current {c['kept_current']}; API = cxport export"
          f" {c['api_equals_cli']}; API = computed without kept facts {c['api_equals_computed']}"
          f" ({c['computed_without_kept_s']} s)")  # fmt: skip
    print(f"failures: {len(result['failures'])}" + "".join(f"\n  {f}" for f in result["failures"]))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.stream", description=__doc__.splitlines()[0])
    p.add_argument("--conversations", type=int, default=20_000)
    p.add_argument("--days", type=int, default=35, help="simulated days, when the store is made")
    p.add_argument("--seconds", type=float, default=60.0, help="how long the stream runs")
    p.add_argument("--batch", type=int, default=1000, help="records per POST")
    p.add_argument("--rate", type=float, default=0.0, help="records/s (default: back to back)")
    p.add_argument("--exports", default="resolved-conversations,messages,teams")
    p.add_argument("--month", type=dt.date.fromisoformat, default=None,
                   help="a day of the exports' month (default: the store's last record's)")  # fmt: skip
    p.add_argument("--runs", type=int, default=3, help="requests of each export with no stream")
    p.add_argument("--check", default="teams", help="the export checked after the stream")
    p.add_argument("--folder", default=str(ROOT / "bench" / "out" / "live"))
    p.add_argument("--out", default=None, help="JSON (default: FOLDER/stream-N.json)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result = run(args)
    out = Path(args.out or Path(args.folder) / f"stream-{args.conversations}.json")
    out.write_text(json.dumps(result, indent=1, default=str) + "\n")
    say(result)
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
