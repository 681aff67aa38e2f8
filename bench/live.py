"""Live ingest (issue 18): a small batch ingested and its kept facts refreshed.

`python -m bench.live --conversations N [--batches 3] [--folder bench/out/live]`
simulates N conversations (reusing the NDJSON when there), ingests them into
a new store, builds the kept facts whole (timed), then ingests batches of
about 1 000 new records each (new messages of recent conversations and of new
ones, status changes, locks, a few entity versions), each followed by
`kept.refresh` as `cxport ingest` and `POST /records` call it, timing both;
and last the worst case: a `business_hours` version for the busiest channel
(a full rebuild). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from bench.common import machine


def _ts(t: dt.datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _batch(con: Any, n: int, start: dt.datetime, tag: str) -> list[dict[str, Any]]:
    """About `n` records after `start`: most on recent conversations, some new."""
    recent = con.execute(
        "SELECT conversation_id, channel_id, contact_profile_id FROM r_conversation"
        ' ORDER BY "at" DESC LIMIT 150'
    ).fetchall()
    agents = [
        a for (a,) in con.execute("SELECT DISTINCT agent_id FROM r_agent LIMIT 20").fetchall()
    ]
    topic = con.execute("SELECT * FROM r_topic LIMIT 1").fetchone()
    out: list[dict[str, Any]] = []
    t = start

    def at() -> str:
        nonlocal t
        t += dt.timedelta(milliseconds=250)
        return _ts(t)

    k = 0
    for i, (cid, _, _) in enumerate(recent):
        agent = agents[i % len(agents)]
        out.append({"type": "message", "id": f"{tag}-m{k}", "at": at(), "message_id": f"{tag}-m{k}",
                    "conversation_id": cid, "direction": "INBOUND", "source": "CONTACT",
                    "message_type": "PRIVATE_MESSAGE"})  # fmt: skip
        k += 1
        out.append({"type": "lock", "id": f"{tag}-l{i}", "at": at(), "conversation_id": cid,
                    "agent_id": agent})  # fmt: skip
        out.append({"type": "message", "id": f"{tag}-m{k}", "at": at(), "message_id": f"{tag}-m{k}",
                    "conversation_id": cid, "direction": "OUTBOUND", "source": "AGENT",
                    "message_type": "PRIVATE_MESSAGE", "agent_id": agent})  # fmt: skip
        k += 1
        out.append({"type": "status_change", "id": f"{tag}-s{i}", "at": at(), "conversation_id": cid,
                    "status": "RESOLVED", "agent_id": agent, "resolved_by": "AGENT",
                    "resolve_trigger": "HUMAN_AGENT"})  # fmt: skip
    channel = recent[0][1]
    j = 0
    while len(out) < n - 2:
        cid, ct = f"{tag}-cv{j}", f"{tag}-ct{j}"
        out.append({"type": "contact", "id": f"{tag}-ct{j}", "at": at(), "contact_profile_id": ct,
                    "medium": "whatsapp"})  # fmt: skip
        out.append({"type": "conversation", "id": f"{tag}-cv{j}", "at": at(), "conversation_id": cid,
                    "channel_id": channel, "contact_profile_id": ct})  # fmt: skip
        out.append({"type": "status_change", "id": f"{tag}-n{j}", "at": at(), "conversation_id": cid,
                    "status": "NEW", "system": True})  # fmt: skip
        for _ in range(2):
            out.append({"type": "message", "id": f"{tag}-m{k}", "at": at(),
                        "message_id": f"{tag}-m{k}", "conversation_id": cid, "direction": "INBOUND",
                        "source": "CONTACT", "message_type": "PRIVATE_MESSAGE"})  # fmt: skip
            k += 1
        j += 1
    out.append({"type": "agent", "id": f"{tag}-ag", "at": at(), "agent_id": agents[0],
                "name": f"Renamed {tag}"})  # fmt: skip
    if topic is not None:
        cols = [d[0] for d in con.description]
        row = dict(zip(cols, topic, strict=True))
        out.append({"type": "topic", "id": f"{tag}-tp", "at": at(), "topic_id": row["topic_id"],
                    "name": f"Topic {tag}", "active": True})  # fmt: skip
    return out


def main() -> None:
    from cxport.exports import kept
    from cxport.ingest import ingest_files
    from cxport.simulate import simulate
    from cxport.store import open_store

    p = argparse.ArgumentParser()
    p.add_argument("--conversations", type=int, default=20_000)
    p.add_argument("--days", type=int, default=35)
    p.add_argument("--batches", type=int, default=3)
    p.add_argument("--folder", default="bench/out/live")
    args = p.parse_args()
    folder = Path(args.folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"sim-{args.conversations}.ndjson"
    if not source.exists():
        simulate(source, seed=1, conversations=args.conversations, days=args.days)
    db = folder / f"store-{args.conversations}.duckdb"
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = open_store(db)
    result: dict[str, Any] = {"conversations": args.conversations, "machine": machine()}
    t0 = time.perf_counter()
    ingest_files(con, [str(source)], workspace="default")
    result["ingest_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    found, _ = kept.refresh(con, "default", force=True)
    result["full_build_s"] = round(time.perf_counter() - t0, 2)
    assert found is not None
    batches = []
    for i in range(args.batches):
        records = _batch(con, 1000, found.horizon.replace(tzinfo=dt.UTC), f"live{i}")
        path = folder / f"batch-{i}.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in records))
        t0 = time.perf_counter()
        ingest_files(con, [str(path)], workspace="default")
        t1 = time.perf_counter()
        found, built = kept.refresh(con, "default")
        t2 = time.perf_counter()
        assert found is not None and built
        batches.append({"records": len(records), "ingest_s": round(t1 - t0, 3),
                        "refresh_s": round(t2 - t1, 3)})  # fmt: skip
    result["batches"] = batches
    # A batch of re-sends: stores nothing, refreshes nothing.
    t0 = time.perf_counter()
    ingest_files(con, [str(folder / "batch-0.ndjson")], workspace="default")
    t1 = time.perf_counter()
    _, built = kept.refresh(con, "default")
    result["duplicates"] = {"ingest_s": round(t1 - t0, 3), "refresh_s": round(time.perf_counter() - t1, 3),
                            "rebuilt": built}  # fmt: skip
    # The worst case: a calendar for the busiest channel.
    (busiest,) = con.execute(
        "SELECT channel_id FROM r_conversation GROUP BY channel_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone() or ("",)
    hours = {"type": "business_hours", "id": "live-hours", "calendar_id": "cal-live",
             "at": _ts(found.horizon.replace(tzinfo=dt.UTC) + dt.timedelta(seconds=1)),
             "timezone": "America/Sao_Paulo", "weekly": {"mon": [["08:00", "18:00"]]},
             "channel_ids": [busiest]}  # fmt: skip
    path = folder / "hours.ndjson"
    path.write_text(json.dumps(hours) + "\n")
    t0 = time.perf_counter()
    ingest_files(con, [str(path)], workspace="default")
    t1 = time.perf_counter()
    kept.refresh(con, "default")
    result["business_hours_edit"] = {"ingest_s": round(t1 - t0, 3),
                                     "refresh_s": round(time.perf_counter() - t1, 3)}  # fmt: skip
    con.close()
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
