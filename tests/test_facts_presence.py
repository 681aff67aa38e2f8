"""Presence intervals (`f_presence_interval`) and the agent-presence export."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import export_text, fact_rows, ingest_records, rows
from record_builders import agent, channel, presence, ts

RECORDS = [
    channel("c1", "ch-1"),
    agent("ag1", "a1", "Ana", "ana@example.com"),
    agent("ag2", "a2", "=Bia"),
    # a1: a working day, then an interval still open at the snapshot
    presence("p1", "06-10 09:00", "a1", "AVAILABLE"),
    presence("p2", "06-10 12:00", "a1", "AWAY", "Lunch"),
    presence("p3", "06-10 13:00", "a1", "AVAILABLE"),
    presence("p4", "06-10 18:00", "a1", "OFFLINE"),
    presence("p5", "06-11 09:00", "a1", "AVAILABLE"),
    presence("p6", "06-11 12:00", "a1", "OFFLINE"),  # after the snapshot: invisible
    # a2: two events at one instant (record id decides), then two OFFLINEs
    presence("q1", "06-10 10:00", "a2", "AWAY"),
    presence("q2", "06-10 10:00", "a2", "AVAILABLE"),
    presence("q3", "06-10 11:00", "a2", "OFFLINE"),
    presence("q4", "06-10 11:30", "a2", "OFFLINE"),
    # a3 (no agent entity): an interval ending exactly at midnight
    presence("r1", "06-10 20:00", "a3", "AVAILABLE"),
    presence("r2", "06-11 00:00", "a3", "OFFLINE"),
]
AS_OF = "2024-06-11T10:00:00Z"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("presence") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def test_presence_events_cut_time_into_intervals(db: Path) -> None:
    got = fact_rows(
        db,
        ("f_presence_interval",),
        "SELECT agent_id, record_id, status, away_state, strftime(started_at, '%m-%d %H:%M'),"
        " strftime(ended_at, '%m-%d %H:%M'), duration_ms"
        " FROM f_presence_interval ORDER BY agent_id, started_at, record_id",
        as_of=AS_OF,
    )
    assert got == [
        ("a1", "p1", "AVAILABLE", None, "06-10 09:00", "06-10 12:00", 3 * 3600_000),
        ("a1", "p2", "AWAY", "Lunch", "06-10 12:00", "06-10 13:00", 3600_000),
        ("a1", "p3", "AVAILABLE", None, "06-10 13:00", "06-10 18:00", 5 * 3600_000),
        # open: no end, measured to as_of
        ("a1", "p5", "AVAILABLE", None, "06-11 09:00", None, 3600_000),
        # the same instant: record id order, a zero-length interval
        ("a2", "q1", "AWAY", None, "06-10 10:00", "06-10 10:00", 0),
        ("a2", "q2", "AVAILABLE", None, "06-10 10:00", "06-10 11:00", 3600_000),
        ("a3", "r1", "AVAILABLE", None, "06-10 20:00", "06-11 00:00", 4 * 3600_000),
    ]


def test_export_keeps_overlapping_intervals_whole_in_order(db: Path) -> None:
    text = export_text(db, "agent-presence", "2024-06-10", "2024-06-10", as_of=AS_OF)
    assert text.splitlines() == [
        "User ID,User Name,User Email Address,Type,Away State,From,To,Duration (s)",
        "a1,Ana,ana@example.com,AVAILABLE,,2024-06-10T09:00:00+00:00,2024-06-10T12:00:00+00:00,10800",
        "a2,'=Bia,,AWAY,,2024-06-10T10:00:00+00:00,2024-06-10T10:00:00+00:00,0",
        "a2,'=Bia,,AVAILABLE,,2024-06-10T10:00:00+00:00,2024-06-10T11:00:00+00:00,3600",
        "a1,Ana,ana@example.com,AWAY,Lunch,2024-06-10T12:00:00+00:00,2024-06-10T13:00:00+00:00,3600",
        "a1,Ana,ana@example.com,AVAILABLE,,2024-06-10T13:00:00+00:00,2024-06-10T18:00:00+00:00,18000",
        "a3,,,AVAILABLE,,2024-06-10T20:00:00+00:00,2024-06-11T00:00:00+00:00,14400",
    ]


def test_interval_touching_the_start_from_before_is_left_out(db: Path) -> None:
    text = export_text(db, "agent-presence", "2024-06-11", "2024-06-11", as_of=AS_OF)
    assert [(r["User ID"], r["From"], r["To"], r["Duration (s)"]) for r in rows(text)] == [
        ("a1", "2024-06-11T09:00:00+00:00", "", "3600"),  # open: To empty
    ]


def test_crossing_interval_is_whole_in_both_ranges_and_in_the_zone(db: Path) -> None:
    for day in ("2024-06-10", "2024-06-11"):
        text = export_text(db, "agent-presence", day, day, tz="America/Sao_Paulo", as_of=AS_OF)
        a3 = [r for r in rows(text) if r["User ID"] == "a3"]
        # 20:00Z-00:00Z is 17:00-21:00 local on the 10th: only the 10th's file has it
        assert [(r["From"], r["Duration (s)"]) for r in a3] == (
            [("2024-06-10T17:00:00-03:00", "14400")] if day == "2024-06-10" else []
        )
    text = export_text(
        db, "agent-presence", "2024-06-10", "2024-06-10", tz="Asia/Tokyo", as_of=AS_OF
    )
    # the 10th in Tokyo is 06-09 15:00Z to 06-10 15:00Z: a3's 20:00Z start is the 11th there
    assert [r["User ID"] for r in rows(text)] == ["a1", "a2", "a2", "a1", "a1"]


def test_channels_do_not_filter_presence(db: Path) -> None:
    full = export_text(db, "agent-presence", "2024-06-10", "2024-06-11", as_of=AS_OF)
    filtered = export_text(
        db, "agent-presence", "2024-06-10", "2024-06-11", as_of=AS_OF, channels=("ch-other",)
    )
    assert filtered == full
    assert len(rows(full)) == 7


def test_portuguese_headers(db: Path) -> None:
    text = export_text(db, "agent-presence", "2024-06-10", "2024-06-10", as_of=AS_OF, lang="pt-BR")
    assert text.splitlines()[0] == (
        "ID do usuário,Nome do usuário,Endereço de e-mail do usuário,Tipo,Estado ausente,De,Para,"
        "Duração (s)"
    )


def test_snapshot_before_an_interval_ends_leaves_it_open(tmp_path: Path) -> None:
    path = tmp_path / "s.duckdb"
    ingest_records(
        path,
        [
            presence("p1", "06-10 09:00", "a1", "AVAILABLE"),
            presence("p2", "06-10 17:00", "a1", "OFFLINE"),
        ],
    )
    text = export_text(path, "agent-presence", "2024-06-10", "2024-06-10", as_of=ts("06-10 09:30"))
    assert rows(text)[0]["To"] == "" and rows(text)[0]["Duration (s)"] == "1800"
