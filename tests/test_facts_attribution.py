"""Attribution facts: replies, resolutions (with / without reply), CSAT answers, labels."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import fact_rows, ingest_records
from record_builders import (
    channel,
    conversation,
    csat,
    inbound,
    reply,
    status,
    tag_applied,
    topic_applied,
)

RECORDS = [
    channel("c1", "ch-1"),
    conversation("cv1", "cv-1", "ch-1", "k-1", "06-10 09:00"),
    conversation("cv2", "cv-2", "ch-1", "k-2", "06-10 11:50"),
    # cv-1: replied and resolved by a1; reopened and resolved by a2 without a reply;
    # then a reply and a resolution at one instant (the message is before).
    inbound("i1", "06-10 09:00", "cv-1"),
    reply("m1", "06-10 09:05", "cv-1", "a1", "t1", message_id="msg-1"),
    status("s1", "06-10 09:10", "cv-1", "RESOLVED", agent_id="a1", team_id="t1"),
    inbound("i2", "06-10 10:00", "cv-1"),
    status("s2", "06-10 10:00", "cv-1", "NEW", initiated_by="INBOUND_MESSAGE"),
    status("s3", "06-10 10:30", "cv-1", "RESOLVED", agent_id="a2", team_id="t2"),
    csat("x1", "06-10 10:31", "cv-1", "ANSWERED", 4),
    reply("m2", "06-10 11:00", "cv-1", "a1", "t1"),
    status("s4", "06-10 11:00", "cv-1", "RESOLVED", agent_id="a1"),
    csat("x2", "06-10 11:00", "cv-1", "ANSWERED", 5),  # after s4 in the order of records
    csat("x0", "06-10 11:01", "cv-1", "SENT"),
    # cv-2: an answer before any resolution; a reply at the instant of a resolution
    # counts for that one, not for the next.
    csat("x3", "06-10 11:59", "cv-2", "ANSWERED", 1),
    reply("m3", "06-10 12:00", "cv-2", "a1"),
    status("s5", "06-10 12:00", "cv-2", "RESOLVED", agent_id="a1", team_id="t1"),
    status("s6", "06-10 12:30", "cv-2", "RESOLVED", agent_id="a1", team_id="t1"),
    # cv-3 has no conversation entity: no channel, no contact
    reply("m4", "06-10 13:00", "cv-3", "a3", "t3"),
    status("s7", "06-10 13:05", "cv-3", "RESOLVED", va_id="va-1"),
    # labels
    tag_applied("g1", "06-10 09:06", "msg-1", "tg-1", agent_id="a1", team_id="t1"),
    tag_applied("g2", "06-10 09:07", "msg-unknown", "tg-1", agent_id="a2"),
    topic_applied("tp1", "06-10 09:08", "cv-1", "top-1", va_id="va-1", team_id="t1"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("attribution") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def test_replies_carry_agent_team_channel_and_contact(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_reply",),
        "SELECT record_id, agent_id, team_id, channel_id, contact_profile_id FROM f_reply"
        " ORDER BY record_id",
    )
    assert got == [
        ("m1", "a1", "t1", "ch-1", "k-1"),
        ("m2", "a1", "t1", "ch-1", "k-1"),
        ("m3", "a1", None, "ch-1", "k-2"),
        ("m4", "a3", "t3", None, None),
    ]


def test_resolutions_with_and_without_reply(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_resolution",),
        "SELECT record_id, ordinal, agent_id, virtual_agent_id, team_id, channel_id, with_reply"
        " FROM f_resolution ORDER BY record_id",
    )
    assert got == [
        ("s1", 1, "a1", None, "t1", "ch-1", True),
        ("s3", 2, "a2", None, "t2", "ch-1", False),  # nothing sent since s1
        ("s4", 3, "a1", None, None, "ch-1", True),  # m2 at the same instant is before it
        ("s5", 1, "a1", None, "t1", "ch-1", True),
        ("s6", 2, "a1", None, "t1", "ch-1", False),  # m3 is before s5, not after it
        ("s7", 1, None, "va-1", None, None, True),
    ]


def test_csat_answers_go_to_the_latest_resolution_at_or_before(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_csat_answer",),
        "SELECT record_id, score, resolution_record_id, agent_id, team_id, channel_id"
        " FROM f_csat_answer ORDER BY record_id",
    )
    assert got == [
        ("x1", 4, "s3", "a2", "t2", "ch-1"),  # after the reopening: the second resolver
        ("x2", 5, "s4", "a1", None, "ch-1"),  # same instant: the status change is before
        ("x3", 1, None, None, None, "ch-1"),  # no resolution yet: no credit
    ]


def test_labels_added_carry_their_actor_and_channel(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_label_added",),
        "SELECT kind, record_id, agent_id, virtual_agent_id, team_id, conversation_id, channel_id"
        " FROM f_label_added ORDER BY record_id",
    )
    assert got == [
        ("tag", "g1", "a1", None, "t1", "cv-1", "ch-1"),
        ("tag", "g2", "a2", None, None, None, None),  # its message is unknown
        ("topic", "tp1", None, "va-1", "t1", "cv-1", "ch-1"),
    ]


def test_the_snapshot_decides_what_was_resolved(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_csat_answer",),
        "SELECT record_id, agent_id FROM f_csat_answer ORDER BY record_id",
        as_of="2024-06-10T10:35:00Z",
    )
    assert got == [("x1", "a2")]
