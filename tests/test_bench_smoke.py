"""The benchmark's pandas baseline computes what cxport computes.

`bench/pandas_baseline.py` stands for what a user would otherwise write; the
benchmark's pandas / cxport ratio means something only if both give the same
numbers. Here they run on the worked example plus a few hand-made records
(a calendar edited in force, a DST week-end, sessions ended by presence, by
the agent's next lock and by a resolution without reply), and must agree on
the first response time and the lock-session classes of every resolved
conversation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
from helpers import EXAMPLE, export_text, ingest_records, read_ndjson, rows

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = (
    "First Response Time (s)",
    "Handle Time (s)",
    "No Reply Time (s)",
    "Cherry Picking Time (s)",
)
REQUEST = {"from": "2024-03-01", "to": "2024-06-30", "tz": "America/Sao_Paulo"}
AS_OF = "2024-06-22T12:00:00Z"

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def weekly(start: str, end: str) -> dict[str, list[list[str]]]:
    return {day: [[start, end]] for day in WEEKDAYS}


def extra_records() -> list[dict[str, Any]]:
    """An email channel on a New York calendar: DST on 2024-03-10, an edit on the 12th."""
    r: list[dict[str, Any]] = []

    def add(kind: str, at: str, **fields: Any) -> None:
        r.append({"type": kind, "id": f"x{len(r):03d}", "at": at, **fields})

    add("channel", "2024-03-01T00:00:00Z", channel_id="ch-em", medium="email", name="Email")
    add(
        "business_hours",
        "2024-03-01T00:00:00Z",
        calendar_id="cal-ny",
        timezone="America/New_York",
        weekly=weekly("09:00", "17:00"),
        channel_ids=["ch-em"],
    )
    add(
        "business_hours",
        "2024-03-12T00:00:00Z",
        calendar_id="cal-ny",
        timezone="America/New_York",
        weekly=weekly("08:00", "17:00"),
        channel_ids=["ch-em"],
    )
    add("contact", "2024-03-01T00:00:00Z", contact_profile_id="c-em", medium="email")
    for cv in ("cv-x1", "cv-x2", "cv-x3"):
        add(
            "conversation",
            "2024-03-01T00:00:00Z",
            conversation_id=cv,
            channel_id="ch-em",
            contact_profile_id="c-em",
        )

    def inbound(cv: str, at: str) -> None:
        add(
            "message",
            at,
            message_id=f"mx-{len(r)}",
            conversation_id=cv,
            direction="INBOUND",
            source="CONTACT",
            message_type="EMAIL",
        )

    def reply(cv: str, at: str, agent: str) -> None:
        add(
            "message",
            at,
            message_id=f"mx-{len(r)}",
            conversation_id=cv,
            direction="OUTBOUND",
            source="AGENT",
            message_type="EMAIL",
            agent_id=agent,
        )

    def resolve(cv: str, at: str, agent: str) -> None:
        add(
            "status_change",
            at,
            conversation_id=cv,
            status="RESOLVED",
            agent_id=agent,
            resolved_by="AGENT",
            resolve_trigger="HUMAN_AGENT",
        )

    # Friday 16:50 EST, reply Monday 09:05 EDT: 600 + 300 s across the DST week-end.
    inbound("cv-x1", "2024-03-08T21:50:00Z")
    add("lock", "2024-03-11T13:00:00Z", conversation_id="cv-x1", agent_id="a-ana")
    reply("cv-x1", "2024-03-11T13:05:00Z", "a-ana")
    add("presence", "2024-03-11T13:10:00Z", agent_id="a-ana", status="AWAY")  # ends the session
    resolve("cv-x1", "2024-03-11T13:12:00Z", "a-ana")
    # Tuesday 07:30 EDT, reply 08:20: the edited calendar opens at 08:00 → 1 200 s.
    inbound("cv-x2", "2024-03-12T11:30:00Z")
    add("lock", "2024-03-12T12:00:00Z", conversation_id="cv-x2", agent_id="a-bruno")
    reply("cv-x2", "2024-03-12T12:20:00Z", "a-bruno")
    inbound("cv-x3", "2024-03-12T11:00:00Z")
    add("lock", "2024-03-12T12:25:00Z", conversation_id="cv-x3", agent_id="a-bruno")  # ends cv-x2's
    resolve("cv-x3", "2024-03-12T12:30:00Z", "a-bruno")  # no reply: no first response either
    resolve("cv-x2", "2024-03-12T12:40:00Z", "a-bruno")
    add("lock", "2024-03-13T12:00:00Z", conversation_id="cv-x2", agent_id="a-carla")
    add("unlock", "2024-03-13T12:01:00Z", conversation_id="cv-x2", agent_id="a-carla")
    return r


def test_pandas_baseline_agrees_with_the_resolved_conversations_export(tmp_path: Path) -> None:
    records = read_ndjson(EXAMPLE)
    records += extra_records()
    db = tmp_path / "store.duckdb"
    ingest_records(db, records)
    cxport = rows(
        export_text(db, "resolved-conversations", REQUEST["from"], REQUEST["to"],
                    tz=REQUEST["tz"], as_of=AS_OF)
    )  # fmt: skip

    ndjson = tmp_path / "records.ndjson"
    ndjson.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    out = tmp_path / "pandas.csv"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pandas_baseline.py"), str(ndjson),
         "--from", REQUEST["from"], "--to", REQUEST["to"], "--tz", REQUEST["tz"],
         "--as-of", AS_OF, "--output", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    pandas = rows(out.read_text(encoding="utf-8"))

    def table(found: list[dict[str, str]]) -> dict[str, tuple[str, ...]]:
        return {row["Conversation ID"]: tuple(row[c] for c in COLUMNS) for row in found}

    assert table(pandas) == table(cxport)
    # The hand-traced values, so that agreeing is not agreeing on a mistake.
    assert table(pandas) == {
        "cv-1": ("630", "660", "0", "0"),
        "cv-3": ("2400", "660", "0", "120"),
        "cv-x1": ("900", "600", "0", "0"),
        "cv-x2": ("1200", "1500", "0", "60"),
        "cv-x3": ("", "0", "300", "0"),
    }
