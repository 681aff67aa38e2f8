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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pyarrow as pa

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


# The rows the facts are computed from: any engine runs these (instants as
# epoch milliseconds), and the facts' rows come back as Arrow for it to load.
_EPOCH_SQL = "TIMESTAMP '1970-01-01 00:00:00'"
VERSIONS_SQL = (
    f'SELECT record_id, cx_ms({_EPOCH_SQL}, "at") AS at_ms, calendar_id, timezone,'
    ' weekly, holidays, channel_ids FROM {source} ORDER BY "at", record_id'
)
# The UTC days holding the visible messages in scope (`data_span`).
SPAN_SQL = (
    f'SELECT cx_ms({_EPOCH_SQL}, min("at")) AS lo, cx_ms({_EPOCH_SQL}, max("at")) AS hi'
    " FROM c_message"
)
_INPUTS = (("versions", VERSIONS_SQL.format(source="s_business_hours")), ("span", SPAN_SQL))


def versions_of(rows: Iterable[dict[str, Any]]) -> list[CalendarVersion]:
    """Calendar versions from the rows of `VERSIONS_SQL` (the visible ones; the
    kept facts' planner reads those it saw before a batch too)."""
    out = []
    for row in rows:
        try:
            _zone(row["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            continue  # ingest rejects these; a store written elsewhere may not have
        channels = row["channel_ids"]
        out.append(
            CalendarVersion(
                row["record_id"],
                int(row["at_ms"]),
                row["calendar_id"],
                row["timezone"],
                parse_weekly(row["weekly"]),
                frozenset(dt.date.fromisoformat(d) for d in row["holidays"] or ()),
                None if channels is None else frozenset(channels),
            )
        )
    return out


def read_versions(
    con: duckdb.DuckDBPyConnection, source: str = "s_business_hours"
) -> list[CalendarVersion]:
    """The calendar versions of `source`, read on `con`."""
    cursor = con.execute(VERSIONS_SQL.format(source=source))
    names = [d[0] for d in cursor.description or ()]
    return versions_of(dict(zip(names, row, strict=True)) for row in cursor.fetchall())


def data_span(span: pa.Table) -> Interval | None:
    """The UTC days of `SPAN_SQL`'s row, as epoch milliseconds.

    A first response starts and ends between two messages of its conversation,
    so the days of the conversations in scope suffice; and business time is
    read as a difference of two clock readings, which no other span changes.
    """
    lo, hi = span.column("lo")[0].as_py(), span.column("hi")[0].as_py()
    if lo is None:
        return None
    return int(lo) - int(lo) % DAY_MS, int(hi) - int(hi) % DAY_MS + DAY_MS


def _versions(inputs: Mapping[str, pa.Table]) -> list[CalendarVersion]:
    return versions_of(inputs["versions"].to_pylist())


def _per_key(
    inputs: Mapping[str, pa.Table],
) -> tuple[list[str], Interval | None, dict[str, list[tuple[int, int, str | None]]]]:
    versions = _versions(inputs)
    named = sorted({c for v in versions if v.channel_ids for c in v.channel_ids})
    span = data_span(inputs["span"])
    return named, span, key_intervals(versions, [DEFAULT_KEY, *named], span) if span else {}


_MS = pa.timestamp("ms")


def business_channel_rows(inputs: Mapping[str, pa.Table], ctx: FactContext) -> pa.Table:
    """`f_business_channel`: the channels some calendar version names."""
    named = sorted({c for v in _versions(inputs) if v.channel_ids for c in v.channel_ids})
    return pa.table({"channel_id": pa.array(named, pa.string())})


def business_interval_rows(inputs: Mapping[str, pa.Table], ctx: FactContext) -> pa.Table:
    """`f_business_interval`: per calendar key, its business intervals over the span."""
    _, _, per_key = _per_key(inputs)
    rows = [(key, cal, s, e) for key, ivs in per_key.items() for s, e, cal in ivs]
    keys, cals, starts, ends = (list(c) for c in zip(*rows, strict=True)) if rows else ([],) * 4
    return pa.table(
        {
            "calendar_key": pa.array(keys, pa.string()),
            "calendar_id": pa.array(cals, pa.string()),
            "start_at": pa.array(starts, pa.int64()).cast(_MS),
            "end_at": pa.array(ends, pa.int64()).cast(_MS),
        }
    )


def business_clock_rows(inputs: Mapping[str, pa.Table], ctx: FactContext) -> pa.Table:
    """`f_business_clock`: per calendar key, the span cut at its interval ends and
    UTC midnights, with the business time before each cut."""
    _, span, per_key = _per_key(inputs)
    parts: dict[str, list[np.ndarray]] = {
        k: [] for k in ("seg_start", "seg_end", "business", "cum_ms")
    }
    keys: list[str] = []
    for key, ivs in per_key.items():
        assert span is not None
        c = clock(ivs, span)
        keys.extend([key] * len(c["seg_start"]))
        for name, values in parts.items():
            values.append(c[name])

    def column(name: str, dtype: type) -> np.ndarray:
        return np.concatenate(parts[name]) if parts[name] else np.array([], dtype=dtype)

    starts = column("seg_start", np.int64)
    return pa.table(
        {
            "calendar_key": pa.array(keys, pa.string()),
            "day": pa.array(starts // DAY_MS, pa.int32()).cast(pa.date32()),
            "seg_start": pa.array(starts, pa.int64()).cast(_MS),
            "seg_end": pa.array(column("seg_end", np.int64), pa.int64()).cast(_MS),
            "business": pa.array(column("business", bool), pa.bool_()),
            "cum_ms": pa.array(column("cum_ms", np.int64), pa.int64()),
        }
    )


# Built in Python from the same two queries; none reads another, so each is
# computed on its own (the calendars are few: computing the intervals twice
# costs less than a table between them would).
BUSINESS_INTERVAL = Fact("f_business_interval", inputs=_INPUTS, rows=business_interval_rows)
BUSINESS_CHANNEL = Fact("f_business_channel", inputs=_INPUTS[:1], rows=business_channel_rows)
BUSINESS_CLOCK = Fact("f_business_clock", inputs=_INPUTS, rows=business_clock_rows)

FACTS: tuple[Fact, ...] = (BUSINESS_INTERVAL, BUSINESS_CHANNEL, BUSINESS_CLOCK)
