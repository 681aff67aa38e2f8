"""Business-hour intervals: weekly hours in the calendar's zone, holidays, DST days,
versions in force, the calendar of a channel, and the cumulative clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import fact_rows, ingest_records
from hypothesis import given, settings
from hypothesis import strategies as st
from record_builders import channel, inbound, ts

from cxport.exports.facts.business_hours import (
    DAY_MS,
    DEFAULT_KEY,
    CalendarVersion,
    clock,
    key_intervals,
    parse_weekly,
    version_intervals,
)

H = 3_600_000
UTC = dt.UTC


def ms(text: str) -> int:
    """An instant written with its offset, as epoch milliseconds."""
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


def version(
    cal: str,
    weekly: dict[str, list[list[str]]],
    *,
    zone: str = "UTC",
    at: str = "2000-01-01T00:00:00Z",
    holidays: tuple[str, ...] = (),
    channels: tuple[str, ...] | None = None,
    rid: str | None = None,
) -> CalendarVersion:
    return CalendarVersion(
        rid or f"{cal}@{at}",
        ms(at),
        cal,
        zone,
        parse_weekly(weekly),
        frozenset(dt.date.fromisoformat(d) for d in holidays),
        None if channels is None else frozenset(channels),
    )


ALL_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
OFFICE = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def total(intervals: list[tuple[int, int]]) -> int:
    return sum(e - s for s, e in intervals)


def test_weekly_hours_are_local_to_the_calendar_zone() -> None:
    v = version("c", OFFICE, zone="America/Sao_Paulo")
    day = version_intervals(v, ms("2024-06-10T00:00:00Z"), ms("2024-06-11T00:00:00Z"))
    # Monday 09:00-17:00 in São Paulo (-03:00) is 12:00-20:00 UTC.
    assert day == [(ms("2024-06-10T12:00:00Z"), ms("2024-06-10T20:00:00Z"))]


def test_a_holiday_has_no_business_time() -> None:
    v = version("c", OFFICE, zone="America/Sao_Paulo", holidays=("2024-06-20",))
    week = version_intervals(v, ms("2024-06-17T00:00:00-03:00"), ms("2024-06-24T00:00:00-03:00"))
    assert total(week) == 4 * 8 * H
    assert all(not (ms("2024-06-20T00:00:00-03:00") <= s < ms("2024-06-21T00:00:00-03:00"))
               for s, _ in week)  # fmt: skip


@pytest.mark.parametrize(
    ("day", "wall", "hours"),
    [
        ("2024-03-10", ["00:00", "04:00"], 3),  # 02:00-03:00 does not exist
        ("2024-03-10", ["02:15", "02:45"], 0),  # inside the skipped hour
        ("2024-03-10", ["00:00", "24:00"], 23),
        ("2024-11-03", ["00:00", "04:00"], 5),  # 01:00-02:00 happens twice
        ("2024-11-03", ["01:15", "01:45"], 1),  # twice 30 minutes
        ("2024-11-03", ["00:00", "24:00"], 25),
        ("2024-11-04", ["00:00", "24:00"], 24),
    ],
)
def test_dst_days_have_their_real_length(day: str, wall: list[str], hours: float) -> None:
    d = dt.date.fromisoformat(day)
    weekly = {("mon", "tue", "wed", "thu", "fri", "sat", "sun")[d.weekday()]: [wall]}
    v = version("c", weekly, zone="America/New_York")
    lo = ms(f"{day}T00:00:00Z") - DAY_MS
    got = version_intervals(v, lo, lo + 3 * DAY_MS)
    assert total(got) == hours * H


def test_a_skipped_midnight_starts_the_day_at_01_00() -> None:
    # São Paulo, 2018-11-04: 00:00 became 01:00.
    v = version("c", {"sun": [["00:00", "02:00"]]}, zone="America/Sao_Paulo")
    got = version_intervals(v, ms("2018-11-03T00:00:00Z"), ms("2018-11-06T00:00:00Z"))
    assert got == [(ms("2018-11-04T01:00:00-02:00"), ms("2018-11-04T02:00:00-02:00"))]


def test_an_edit_changes_business_time_from_its_instant_on() -> None:
    v1 = version("c", OFFICE, at="2000-01-01T00:00:00Z")
    v2 = version("c", ALL_DAY, at="2024-06-10T12:00:00Z")
    span = (ms("2024-06-10T00:00:00Z"), ms("2024-06-11T00:00:00Z"))
    got = key_intervals([v1, v2], [DEFAULT_KEY], span)[DEFAULT_KEY]
    # v1 from 09:00 to its end at 12:00, v2 from 12:00 to midnight.
    assert total([(s, e) for s, e, _ in got]) == 3 * H + 12 * H


def test_the_calendar_of_a_channel() -> None:
    versions = [
        version("cal-b", OFFICE, channels=("ch-1",)),
        version("cal-a", ALL_DAY, channels=("ch-1", "ch-2")),  # smaller id wins for ch-1
        version("cal-z", {"sat": [["10:00", "11:00"]]}),  # default
        version("cal-y", {"sun": [["10:00", "11:00"]]}),  # default, smaller id
        version("cal-e", OFFICE, channels=()),  # applies to no channel
    ]
    span = (ms("2024-06-08T00:00:00Z"), ms("2024-06-10T00:00:00Z"))  # Saturday, Sunday
    got = key_intervals(versions, [DEFAULT_KEY, "ch-1", "ch-3"], span)
    assert {k: total([(s, e) for s, e, _ in v]) for k, v in got.items()} == {
        DEFAULT_KEY: 1 * H,  # cal-y: Sunday 10-11
        "ch-1": 48 * H,  # cal-a
        "ch-3": 1 * H,  # follows the default
    }
    assert {c for _, _, c in got["ch-1"]} == {"cal-a"}


def test_without_any_calendar_time_is_24x7() -> None:
    span = (ms("2024-06-08T00:00:00Z"), ms("2024-06-10T00:00:00Z"))
    assert key_intervals([], [DEFAULT_KEY], span) == {DEFAULT_KEY: [(*span, None)]}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 10)), max_size=8),
    st.integers(0, 50),
    st.integers(0, 50),
)
def test_the_clock_counts_what_the_intervals_cover(
    raw: list[tuple[int, int]], a: int, b: int
) -> None:
    # Disjoint intervals in hours over a two-day span, then B(t) at whole hours.
    intervals, pos = [], 0
    for gap, length in raw:
        s = pos + gap
        if s + length > 48:
            break
        intervals.append((s * H, (s + length) * H, "c"))
        pos = s + length
    span = (0, 2 * DAY_MS)
    c = clock(intervals, span)
    a, b = sorted((min(a, 47), min(b, 47)))

    def business_until(t: int) -> int:
        i = max(j for j, s in enumerate(c["seg_start"]) if s <= t)
        return int(c["cum_ms"][i] + (t - c["seg_start"][i] if c["business"][i] else 0))

    brute = sum(max(0, min(e, b * H) - max(s, a * H)) for s, e, _ in intervals)
    assert business_until(b * H) - business_until(a * H) == brute
    # Segments never cross a UTC midnight (the lookup joins on the day).
    assert all(
        s // DAY_MS == (e - 1) // DAY_MS for s, e in zip(c["seg_start"], c["seg_end"], strict=True)
    )


RECORDS = [
    channel("c1", "ch-1"),
    {"type": "business_hours", "id": "b1", "at": ts("01-01 00:00"), "calendar_id": "cal-1",
     "timezone": "America/Sao_Paulo", "weekly": OFFICE, "holidays": ["2024-06-20"]},
    {"type": "business_hours", "id": "b2", "at": ts("01-01 00:00"), "calendar_id": "cal-2",
     "timezone": "Asia/Tokyo", "weekly": OFFICE, "channel_ids": ["ch-2"]},
    inbound("i1", "06-17 10:00", "cv-1"),
    inbound("i2", "06-21 10:00", "cv-1"),
]  # fmt: skip


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("business_hours") / "store.duckdb"
    ingest_records(path, RECORDS)
    return path


def test_the_facts_cover_the_days_of_the_messages(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_business_interval", "f_business_channel"),
        "SELECT calendar_key, calendar_id, count(*), min(start_at), max(end_at)"
        " FROM f_business_interval GROUP BY ALL ORDER BY 1",
    )
    assert rows == [
        # 06-17 .. 06-21 São Paulo, less the holiday: Mon, Tue, Wed, Fri.
        ("", "cal-1", 4, dt.datetime(2024, 6, 17, 12), dt.datetime(2024, 6, 21, 20)),
        # Tokyo (+09:00): the weekdays of 06-17 .. 06-21 UTC that meet 09:00-17:00 local.
        ("ch-2", "cal-2", 5, dt.datetime(2024, 6, 17, 0), dt.datetime(2024, 6, 21, 8)),
    ]
    assert fact_rows(db, ("f_business_channel",), "SELECT * FROM f_business_channel") == [("ch-2",)]


def test_the_clock_tiles_the_span_per_key(db: Path) -> None:
    rows = fact_rows(
        db,
        ("f_business_clock",),
        "SELECT calendar_key, min(seg_start), max(seg_end), bool_and(day = CAST(seg_start AS DATE)),"
        " sum(CASE WHEN business THEN cx_ms(seg_start, seg_end) ELSE 0 END) // 3600000"
        " FROM f_business_clock GROUP BY ALL ORDER BY 1",
    )
    assert rows == [
        ("", dt.datetime(2024, 6, 17), dt.datetime(2024, 6, 22), True, 32),
        ("ch-2", dt.datetime(2024, 6, 17), dt.datetime(2024, 6, 22), True, 40),
    ]
