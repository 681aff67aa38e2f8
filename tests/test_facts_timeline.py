"""The conversation timeline: f_conversation, f_status_change, f_conversation_messages.

Expected values are worked out by hand from `metrics.md` ("The order of
records", "Conversation timeline", "Resolution time") and `exports.md` §1
(Last Updated, CSAT).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import fact_rows, ingest_records
from record_builders import (
    Record,
    channel,
    conversation,
    csat,
    inbound,
    lock,
    reply,
    status,
    tag_applied,
    topic_applied,
    ts,
)


def t(when: str) -> dt.datetime:
    return dt.datetime.fromisoformat(ts(when)).replace(tzinfo=None)


def csat_full(rid: str, at: str, cv: str, event: str, **fields: Any) -> Record:
    return {**csat(rid, at, cv, event, fields.pop("score", None)), **fields}


RECORDS = [
    channel("c1", "ch-1"),
    # cv-1: an inbound before the entity, resolved, reopened, pending, bulk-resolved.
    {**conversation("e1", "cv-1", "ch-1", "k-1", "06-10 09:00"), "url": "u1", "language": "pt-BR"},
    inbound("i1", "06-10 08:59", "cv-1", message_id="m-1"),
    status("s1", "06-10 09:00", "cv-1", "NEW", initiated_by="INBOUND_MESSAGE"),
    reply("r1", "06-10 09:05", "cv-1", "a1", "t1", message_id="m-2"),
    status(
        "s2", "06-10 09:10", "cv-1", "RESOLVED", agent_id="a1", team_id="t1", resolve_reason="x"
    ),
    status("s3", "06-10 10:00", "cv-1", "NEW", initiated_by="SET_TO_NEW", agent_id="a2"),
    status("s4", "06-10 10:05", "cv-1", "PENDING", agent_id="a2", team_id="t2"),
    status("s5", "06-10 11:00", "cv-1", "RESOLVED", resolved_by="BULK_RESOLVE"),
    csat_full("x1", "06-10 11:01", "cv-1", "SENT"),
    csat_full("x2", "06-10 11:02", "cv-1", "ANSWERED", score=3, follow_up_question="Q1"),
    csat_full("x3", "06-10 11:03", "cv-1", "ANSWERED", score=5),
    csat_full("x4", "06-10 11:04", "cv-1", "FOLLOW_UP_ANSWERED", follow_up_answer="A1"),
    csat_full("x5", "06-10 11:05", "cv-1", "SENT"),
    {"type": "message_deleted", "id": "d1", "at": ts("06-10 11:30"), "message_id": "m-1"},
    tag_applied("g1", "06-10 12:00", "m-2", "tg-1", agent_id="a1"),
    lock("l1", "06-10 13:00", "cv-1", "a1"),  # locks do not update a conversation
    # cv-2: no entity, only a status change and a topic; NEW is no "last status change".
    status(
        "s6", "06-10 12:00", "cv-2", "NEW", va_id="va-1", initiated_by="VA_HANDED_OVER_CONVERSATION"
    ),
    topic_applied("p1", "06-10 12:30", "cv-2", "tp-1"),
    # cv-3: resolved before its first inbound message: no resolution time.
    conversation("e3", "cv-3", "ch-1", "k-3", "06-10 13:00"),
    status("s7", "06-10 13:00", "cv-3", "RESOLVED", agent_id="a1"),
    inbound("i3", "06-10 13:30", "cv-3"),
    # cv-4: inbound and resolution at one instant: the message comes first (0 s).
    inbound("i4", "06-10 14:00", "cv-4"),
    status("s8", "06-10 14:00", "cv-4", "RESOLVED", agent_id="a1"),
    # cv-5: two status changes at one instant: the greater record id is the later.
    inbound("i5", "06-10 15:00", "cv-5"),
    status("z1", "06-10 15:10", "cv-5", "PENDING", agent_id="a3"),
    status("z0", "06-10 15:10", "cv-5", "RESOLVED", agent_id="a4"),
    # cv-9 is named only by a lock: not a conversation.
    lock("l9", "06-10 16:00", "cv-9", "a1"),
    # After the snapshot: invisible.
    status("s9", "06-20 10:00", "cv-3", "NEW", initiated_by="INBOUND_MESSAGE"),
]

AS_OF = "2024-06-15T00:00:00Z"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("timeline") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def conversation_row(db: Path, cid: str) -> dict[str, Any]:
    (row,) = fact_rows(
        db,
        ("f_conversation",),
        f"SELECT to_json(c)::VARCHAR FROM f_conversation AS c WHERE conversation_id = '{cid}'",
        as_of=AS_OF,
    )
    out: dict[str, Any] = json.loads(row[0])
    for k, v in out.items():
        if k.endswith(("_at", "last_updated")) and v is not None:
            out[k] = dt.datetime.fromisoformat(v)
    return out


def test_the_conversations_are_those_named_by_conversation_message_or_status_change(
    db: Path,
) -> None:
    ids = fact_rows(
        db,
        ("f_conversation",),
        "SELECT conversation_id FROM f_conversation ORDER BY 1",
        as_of=AS_OF,
    )
    assert [r[0] for r in ids] == ["cv-1", "cv-2", "cv-3", "cv-4", "cv-5"]


def test_timeline_of_a_reopened_conversation(db: Path) -> None:
    c = conversation_row(db, "cv-1")
    assert c["channel_id"] == "ch-1" and c["contact_profile_id"] == "k-1"
    assert c["url"] == "u1" and c["language"] == "pt-BR"
    assert c["created_at"] == t("06-10 08:59")  # the inbound precedes the entity
    assert c["current_status"] == "RESOLVED"
    assert c["first_resolution_at"] == t("06-10 09:10")
    assert c["first_resolution_record_id"] == "s2"
    assert c["last_resolution_record_id"] == "s5"
    assert c["last_resolution_at"] == t("06-10 11:00")
    assert c["last_resolution_agent_id"] is None
    assert c["resolved_by"] == "BULK_RESOLVE"
    assert c["last_status_change_record_id"] == "s5"
    assert (c["inbound_count"], c["outbound_count"], c["human_outbound_count"]) == (1, 1, 1)
    assert c["resolution_ms"] == 11 * 60_000  # 08:59 → 09:10, from the first resolution


def test_csat_state_comes_from_the_latest_events(db: Path) -> None:
    c = conversation_row(db, "cv-1")
    assert c["csat_score"] == 5  # the latest ANSWERED
    assert c["csat_status"] == "SENT"  # the latest event is a new survey
    assert c["csat_follow_up_question"] == "Q1"
    assert c["csat_follow_up_answer"] == "A1"


def test_last_updated_counts_message_events_but_not_locks(db: Path) -> None:
    assert conversation_row(db, "cv-1")["last_updated"] == t("06-10 12:00")  # the tag on m-2
    assert conversation_row(db, "cv-2")["last_updated"] == t("06-10 12:30")  # its topic


def test_a_conversation_without_entity_or_messages(db: Path) -> None:
    c = conversation_row(db, "cv-2")
    assert c["channel_id"] is None and c["contact_profile_id"] is None
    assert c["created_at"] == t("06-10 12:00")
    assert c["current_status"] == "NEW"
    assert c["last_status_change_record_id"] is None  # NEW is not a last status change
    assert (c["inbound_count"], c["outbound_count"]) == (0, 0)
    assert c["resolution_ms"] is None
    assert c["csat_status"] is None


def test_resolution_time_needs_the_inbound_first(db: Path) -> None:
    c3 = conversation_row(db, "cv-3")
    assert c3["current_status"] == "RESOLVED"  # the reopening is after the snapshot
    assert c3["resolution_ms"] is None
    assert conversation_row(db, "cv-4")["resolution_ms"] == 0


def test_ties_at_one_instant_follow_record_ids(db: Path) -> None:
    c = conversation_row(db, "cv-5")
    assert c["current_status"] == "PENDING"  # z1 > z0
    assert c["last_status_change_record_id"] == "z1"
    assert c["first_resolution_record_id"] == "z0"
    assert c["resolution_ms"] == 10 * 60_000


def test_status_changes_know_reopenings_and_handovers(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_status_change",),
        "SELECT record_id, prev_status, is_reopening, is_handover FROM f_status_change"
        " WHERE conversation_id IN ('cv-1', 'cv-2') ORDER BY conversation_id, \"at\", record_id",
        as_of=AS_OF,
    )
    assert rows == [
        ("s1", None, False, False),
        ("s2", "NEW", False, False),
        ("s3", "RESOLVED", True, False),
        ("s4", "NEW", False, False),
        ("s5", "PENDING", False, False),
        ("s6", None, False, True),
    ]
