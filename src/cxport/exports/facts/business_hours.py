"""Business-hour intervals (`metrics.md`, "First response time").

Built in Python, with `zoneinfo`, from the visible `business_hours` versions
over the span the data needs (the UTC days of the visible messages: a first
response starts and ends within them). Per *calendar key*: every channel
named in some version's `channel_ids`, plus `''` for every other channel
(known or not), which follows the default calendar.

At each instant the versions in force are the latest version of each
calendar with `at` ≤ that instant, so time is cut into segments at every
version's `at`; in each segment a key follows the calendar naming its
channel (smallest `calendar_id`), else the default calendar (no
`channel_ids`; smallest `calendar_id`), else it is 24×7.

A weekly interval `[s, e)` of local date `D` is the set of instants whose
wall time in the calendar's zone lies in it: a skipped hour has no business
time, a repeated hour counts twice. Holidays (local dates) have none.

Facts:

- `f_business_channel(channel_id)`: the channels with a key of their own;
- `f_business_interval(calendar_key, calendar_id, start_at, end_at)`: the
  business intervals (UTC, disjoint per key; `calendar_id` NULL for 24×7);
- `f_business_clock(calendar_key, day, seg_start, seg_end, business, cum_ms)`:
  the span cut, per key, at interval ends and UTC midnights; `cum_ms` is the
  business time from the span start to `seg_start`. Business time up to an
  instant `t` is one equi-join on (key, UTC day of `t`):
  `cum_ms + (business ? t − seg_start : 0)` for the segment holding `t`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np

from cxport.exports.facts import Fact, FactContext
from cxport.exports.zones import offset_periods

DAY_MS = 86_400_000
DEFAULT_KEY = ""
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_EPOCH_DATE = dt.date(1970, 1, 1)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_OFFSET_S = 26 * 3600  # beyond any UTC offset, local mean times included

Interval = tuple[int, int]  # UTC epoch milliseconds, [start, end)


@dataclass(frozen=True)
class CalendarVersion:
    record_id: str
    at_ms: int
    calendar_id: str
    zone: str
    weekly: tuple[tuple[Interval, ...], ...]  # per weekday (Mon=0): wall seconds of day
    holidays: frozenset[dt.date]
    channel_ids: frozenset[str] | None  # None: the default calendar


def _wall_seconds(hhmm: str) -> int:
    hh, mm = hhmm.split(":")
    return int(hh) * 3600 + int(mm) * 60


def parse_weekly(weekly: str | dict[str, list[list[str]]]) -> tuple[tuple[Interval, ...], ...]:
    obj = json.loads(weekly) if isinstance(weekly, str) else weekly
    return tuple(
        tuple((_wall_seconds(s), _wall_seconds(e)) for s, e in obj.get(day) or ())
        for day in _WEEKDAYS
    )


# ---------------------------------------------------------------- zones


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


# ---------------------------------------------------------------- intervals


def version_intervals(v: CalendarVersion, a_ms: int, b_ms: int) -> list[Interval]:
    """Business intervals of version `v` inside `[a_ms, b_ms)`, in order."""
    if a_ms >= b_ms:
        return []
    zone = _zone(v.zone)
    a_s, b_s = a_ms // 1000, -(-b_ms // 1000)
    margin = 2 * 86_400
    periods = offset_periods(zone, a_s - margin, b_s + margin)
    starts = [p[0] for p in periods]
    first = (_EPOCH + dt.timedelta(seconds=a_s - margin)).date()
    last = (_EPOCH + dt.timedelta(seconds=b_s + margin)).date()
    out: list[Interval] = []
    day = first
    while day <= last:
        if day not in v.holidays:
            wall0 = (day - _EPOCH_DATE).days * 86_400
            for ws, we in v.weekly[day.weekday()]:
                w0, w1 = wall0 + ws, wall0 + we
                # Periods that can hold an instant whose wall time is in [w0, w1).
                i = max(bisect.bisect_right(starts, w0 - _MAX_OFFSET_S) - 1, 0)
                while i < len(periods) and periods[i][0] < w1 + _MAX_OFFSET_S:
                    p0, p1, off = periods[i]
                    u0, u1 = max(w0 - off, p0) * 1000, min(w1 - off, p1) * 1000
                    u0, u1 = max(u0, a_ms), min(u1, b_ms)
                    if u0 < u1:
                        out.append((u0, u1))
                    i += 1
        day += dt.timedelta(days=1)
    out.sort()
    return out


def choose(in_force: Iterable[CalendarVersion], key: str) -> CalendarVersion | None:
    """The version a calendar key follows among those in force (None: 24×7)."""
    versions = sorted(in_force, key=lambda v: v.calendar_id)
    if key != DEFAULT_KEY:
        for v in versions:
            if v.channel_ids is not None and key in v.channel_ids:
                return v
    for v in versions:
        if v.channel_ids is None:
            return v
    return None


def key_intervals(
    versions: Sequence[CalendarVersion], keys: Iterable[str], span: Interval
) -> dict[str, list[tuple[int, int, str | None]]]:
    """Per key, its business intervals over `span` as (start, end, calendar_id)."""
    lo, hi = span
    ordered = sorted(versions, key=lambda v: (v.at_ms, v.record_id))
    cuts = sorted({lo, hi, *(v.at_ms for v in ordered if lo < v.at_ms < hi)})
    keys = list(keys)
    out: dict[str, list[tuple[int, int, str | None]]] = {k: [] for k in keys}
    in_force: dict[str, CalendarVersion] = {}
    cache: dict[tuple[str, int, int], list[Interval]] = {}
    j = 0
    for a, b in itertools.pairwise(cuts):
        while j < len(ordered) and ordered[j].at_ms <= a:
            in_force[ordered[j].calendar_id] = ordered[j]
            j += 1
        for key in keys:
            v = choose(in_force.values(), key)
            if v is None:
                out[key].append((a, b, None))
                continue
            ck = (v.record_id, a, b)
            if ck not in cache:
                cache[ck] = version_intervals(v, a, b)
            out[key].extend((s, e, v.calendar_id) for s, e in cache[ck])
    return out


def clock(
    intervals: Sequence[tuple[int, int, str | None]], span: Interval
) -> dict[str, np.ndarray]:
    """The span cut at interval ends and UTC midnights, with business time before each cut."""
    lo, hi = span
    starts = np.array([s for s, _, _ in intervals], dtype=np.int64)
    ends = np.array([e for _, e, _ in intervals], dtype=np.int64)
    midnights = np.arange(lo - lo % DAY_MS, hi + DAY_MS, DAY_MS, dtype=np.int64)
    pts = np.unique(np.concatenate([starts, ends, midnights, [lo, hi]]))
    pts = pts[(pts >= lo) & (pts <= hi)]
    seg_s, seg_e = pts[:-1], pts[1:]
    if len(starts):
        idx = np.searchsorted(starts, seg_s, side="right") - 1
        inside = (idx >= 0) & (seg_s < ends[np.maximum(idx, 0)])
    else:
        inside = np.zeros(len(seg_s), dtype=bool)
    dur = np.where(inside, seg_e - seg_s, 0)
    cum = np.concatenate([[0], np.cumsum(dur)[:-1]]).astype(np.int64)
    return {"seg_start": seg_s, "seg_end": seg_e, "business": inside, "cum_ms": cum}


# ---------------------------------------------------------------- the facts


def read_versions(
    con: duckdb.DuckDBPyConnection, source: str = "s_business_hours"
) -> list[CalendarVersion]:
    """The calendar versions of `source` (the visible ones; the kept facts' planner
    reads those it saw before a batch too)."""
    rows = con.execute(
        "SELECT record_id, cx_ms(TIMESTAMP '1970-01-01 00:00:00', \"at\"), calendar_id, timezone,"
        f' weekly, holidays, channel_ids FROM {source} ORDER BY "at", record_id'
    ).fetchall()
    out = []
    for rid, at_ms, cal, tz, weekly, holidays, channels in rows:
        try:
            _zone(tz)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # ingest rejects these; a store written elsewhere may not have
        out.append(
            CalendarVersion(
                rid,
                int(at_ms),
                cal,
                tz,
                parse_weekly(weekly),
                frozenset(dt.date.fromisoformat(d) for d in holidays or ()),
                None if channels is None else frozenset(channels),
            )
        )
    return out


def data_span(con: duckdb.DuckDBPyConnection) -> Interval | None:
    """The UTC days holding the visible messages in scope, as epoch milliseconds.

    A first response starts and ends between two messages of its conversation,
    so the days of the conversations in scope suffice; and business time is
    read as a difference of two clock readings, which no other span changes.
    """
    (row,) = con.execute(
        "SELECT cx_ms(TIMESTAMP '1970-01-01 00:00:00', min(\"at\")),"
        " cx_ms(TIMESTAMP '1970-01-01 00:00:00', max(\"at\")) FROM c_message"
    ).fetchall()
    if row[0] is None:
        return None
    lo, hi = int(row[0]), int(row[1])
    return lo - lo % DAY_MS, hi - hi % DAY_MS + DAY_MS


_SCHEMAS = {
    "f_business_channel": "channel_id VARCHAR",
    "f_business_interval": "calendar_key VARCHAR, calendar_id VARCHAR, start_at TIMESTAMP,"
    " end_at TIMESTAMP",
    "f_business_clock": "calendar_key VARCHAR, day DATE, seg_start TIMESTAMP, seg_end TIMESTAMP,"
    " business BOOLEAN, cum_ms BIGINT",
}

# Rows go in as list parameters, one per column, zipped by `unnest` (no Arrow:
# DuckDB imports pandas to scan an Arrow table). Instants travel as epoch ms.
_EPOCH_SQL = "TIMESTAMP '1970-01-01 00:00:00'"
_LOADS = {
    "f_business_channel": "SELECT unnest(?::VARCHAR[])",
    "f_business_interval": "SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),"
    f" {_EPOCH_SQL} + to_milliseconds(unnest(?::BIGINT[])),"
    f" {_EPOCH_SQL} + to_milliseconds(unnest(?::BIGINT[]))",
    "f_business_clock": "SELECT k, CAST(s AS DATE), s, e, b, c FROM (SELECT unnest(?::VARCHAR[]) AS k,"
    f" {_EPOCH_SQL} + to_milliseconds(unnest(?::BIGINT[])) AS s,"
    f" {_EPOCH_SQL} + to_milliseconds(unnest(?::BIGINT[])) AS e,"
    " unnest(?::BOOLEAN[]) AS b, unnest(?::BIGINT[]) AS c) AS rows_",
}


def build_business_hours(con: duckdb.DuckDBPyConnection, ctx: FactContext) -> None:
    versions = read_versions(con)
    named = sorted({c for v in versions if v.channel_ids for c in v.channel_ids})
    span = data_span(con)
    per_key = key_intervals(versions, [DEFAULT_KEY, *named], span) if span else {}

    intervals: list[list[object]] = [[], [], [], []]
    clocks: list[list[object]] = [[], [], [], [], []]
    for key, ivs in per_key.items():
        for s, e, cal in ivs:
            for column, value in zip(intervals, (key, cal, s, e), strict=True):
                column.append(value)
        assert span is not None
        c = clock(ivs, span)
        clocks[0].extend([key] * len(c["seg_start"]))
        clocks[1].extend(c["seg_start"].tolist())
        clocks[2].extend(c["seg_end"].tolist())
        clocks[3].extend(c["business"].tolist())
        clocks[4].extend(c["cum_ms"].tolist())
    for name, columns in (
        ("f_business_channel", [named]),
        ("f_business_interval", intervals),
        ("f_business_clock", clocks),
    ):
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({_SCHEMAS[name]})")
        con.execute(f"INSERT INTO {name} {_LOADS[name]}", columns)


def _built_with_intervals(con: duckdb.DuckDBPyConnection, ctx: FactContext) -> None:
    """Nothing to do: `build_business_hours` writes the three tables at once."""


BUSINESS_INTERVAL = Fact("f_business_interval", build=build_business_hours, keep=True)
BUSINESS_CHANNEL = Fact(
    "f_business_channel",
    requires=("f_business_interval",),
    build=_built_with_intervals,
    keep=True,
)
BUSINESS_CLOCK = Fact(
    "f_business_clock",
    requires=("f_business_interval",),
    build=_built_with_intervals,
    keep=True,
)

FACTS: tuple[Fact, ...] = (BUSINESS_INTERVAL, BUSINESS_CHANNEL, BUSINESS_CLOCK)
