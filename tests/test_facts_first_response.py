"""First response time in business seconds (`metrics.md`), on hand-made conversations.

The calendar of most cases is the spec's example: Monday to Friday 09:00-17:00
(here in UTC; 2024-06-10 is a Monday, 06-14 a Friday).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import fact_rows, ingest_records
from record_builders import (
    Record,
    bot_message,
    channel,
    conversation,
    inbound,
    reply,
    status,
    ts,
)

OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def calendar(
    rid: str, cal: str, weekly: dict[str, Any], at: str = "01-01 00:00", **kw: Any
) -> Record:
    return {"type": "business_hours", "id": rid, "at": ts(at), "calendar_id": cal,
            "timezone": kw.pop("timezone", "UTC"), "weekly": weekly, **kw}  # fmt: skip


def handover(rid: str, at: str, cv: str) -> Record:
    return status(rid, at, cv, "NEW", va_id="va-1", initiated_by="VA_HANDED_OVER_CONVERSATION")


RECORDS = [
    calendar("b1", "cal-office", OFFICE),
    channel("c1", "ch-1"),
    # metrics.md: inbound 08:00, reply 09:20 → 1 200 s.
    conversation("e1", "cv-1", "ch-1", "k", "06-10 08:00"),
    inbound("i1", "06-10 08:00", "cv-1"),
    reply("r1", "06-10 09:20", "cv-1", "a1", "t1", message_id="m-r1"),
    # metrics.md: inbound 11:00, handover 11:02, reply 11:30 → 1 680 s.
    inbound("i2", "06-10 11:00", "cv-2"),
    bot_message("v2", "06-10 11:01", "cv-2", "va-1"),  # a virtual agent never responds
    handover("h2", "06-10 11:02", "cv-2"),
    reply("r2", "06-10 11:30", "cv-2", "a1"),
    # metrics.md: inbound Friday 16:50, reply Monday 09:05 → 900 s.
    inbound("i3", "06-14 16:50", "cv-3"),
    reply("r3", "06-17 09:05", "cv-3", "a1"),
    # A reopening before the first reply is the start: 11:00 → 11:10.
    inbound("i4", "06-10 10:00", "cv-4"),
    status("s4a", "06-10 10:05", "cv-4", "RESOLVED", va_id="va-1"),
    inbound("i4b", "06-10 11:00", "cv-4"),
    status("s4b", "06-10 11:00", "cv-4", "NEW", initiated_by="INBOUND_MESSAGE"),
    reply("r4", "06-10 11:10", "cv-4", "a1"),
    # A reopening after the first reply changes nothing: 10:00 → 10:10.
    inbound("i5", "06-10 10:00", "cv-5"),
    reply("r5", "06-10 10:10", "cv-5", "a1"),
    status("s5a", "06-10 10:20", "cv-5", "RESOLVED", agent_id="a1"),
    status("s5b", "06-10 11:00", "cv-5", "NEW", initiated_by="INBOUND_MESSAGE"),
    reply("r5b", "06-10 11:30", "cv-5", "a2"),
    # No inbound message before the reply: empty.
    reply("r6", "06-10 10:00", "cv-6", "a1"),
    inbound("i6", "06-10 10:05", "cv-6"),
    # Inbound and reply at one instant: the smaller record id is first.
    inbound("z7", "06-10 10:00", "cv-7"),
    reply("y7", "06-10 10:00", "cv-7", "a1"),
    inbound("a8", "06-10 10:00", "cv-8"),
    reply("b8", "06-10 10:00", "cv-8", "a1"),
    # A handover at the reply's instant comes after it (status changes rank after messages).
    inbound("i9", "06-10 10:00", "cv-9"),
    reply("r9", "06-10 10:30", "cv-9", "a1"),
    handover("h9", "06-10 10:30", "cv-9"),
    # No reply: no row.
    inbound("i10", "06-10 10:00", "cv-10"),
    # The calendar is edited at Wed 12:00 to all day: 09:00-12:00 old, 12:00-13:00 new.
    channel("c2", "ch-2"),
    calendar("b2", "cal-2", OFFICE, channel_ids=["ch-2"]),
    calendar("b3", "cal-2", {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
             at="06-12 12:00", channel_ids=["ch-2"]),
    conversation("e11", "cv-11", "ch-2", "k", "06-12 08:00"),
    inbound("i11", "06-12 08:00", "cv-11"),
    reply("r11", "06-12 13:00", "cv-11", "a1"),
    # The calendar's zone, not the export's: São Paulo hours for ch-3.
    channel("c3", "ch-3"),
    calendar("b4", "cal-3", OFFICE, channel_ids=["ch-3"], timezone="America/Sao_Paulo"),
    conversation("e12", "cv-12", "ch-3", "k", "06-10 11:00"),
    inbound("i12", "06-10 11:00", "cv-12"),  # 08:00 in São Paulo
    reply("r12", "06-10 12:30", "cv-12", "a1"),  # 09:30 there
]  # fmt: skip

EXPECTED = {
    "cv-1": 1_200,
    "cv-2": 1_680,
    "cv-3": 900,
    "cv-4": 600,
    "cv-5": 600,
    "cv-6": None,
    "cv-7": None,
    "cv-8": 0,
    "cv-9": 1_800,
    "cv-11": 4 * 3_600,
    "cv-12": 1_800,
}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("first_response") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def seconds(db: Path, tz: str = "UTC") -> dict[str, int | None]:
    rows = fact_rows(
        db,
        ("f_first_response",),
        "SELECT conversation_id, business_ms // 1000 FROM f_first_response",
        tz=tz,
    )
    return dict(rows)


def test_business_seconds_of_each_case(db: Path) -> None:
    assert seconds(db) == EXPECTED


def test_the_export_zone_does_not_move_business_hours(db: Path) -> None:
    assert seconds(db, tz="Asia/Tokyo") == EXPECTED


def test_end_message_and_its_credit(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_first_response",),
        "SELECT end_message_id, end_agent_id, end_team_id, strftime(start_at, '%H:%M'),"
        " strftime(end_at, '%H:%M') FROM f_first_response"
        " WHERE conversation_id IN ('cv-1', 'cv-2', 'cv-11') ORDER BY conversation_id",
    )
    assert rows == [
        ("m-r1", "a1", "t1", "08:00", "09:20"),
        ("m-r11", "a1", None, "08:00", "13:00"),
        ("m-r2", "a1", None, "11:02", "11:30"),
    ]


def test_without_any_calendar_time_is_24x7(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    ingest_records(
        db,
        [inbound("i1", "06-15 10:00", "cv-1"), reply("r1", "06-15 12:00", "cv-1", "a1")],
    )
    assert seconds(db) == {"cv-1": 7_200}  # a Saturday, counted whole
