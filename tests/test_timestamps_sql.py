"""Timestamps written in SQL (`cx_ts`) are exactly what `zoneinfo` says.

`cx_ts` formats instants inside 1970-2100 with a tree of CASEs over the
zone's transitions (found with `zoneinfo`), and hands others to Python; both
must agree with `format_instants` at every transition, one second either
side, and anywhere else.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest

from cxport.exports import engine
from cxport.exports.zones import (
    SQL_WINDOW,
    Window,
    _offset_at,
    format_instants,
    offset_periods,
    request_window,
)

ZONES = [
    "UTC",
    "America/Sao_Paulo",
    "America/New_York",
    "Europe/Paris",
    "Africa/Casablanca",  # Ramadan suspensions of DST
    "Africa/Sao_Tome",
    "Australia/Lord_Howe",  # half-hour DST
    "Asia/Kathmandu",
    "Pacific/Apia",  # skipped a whole day
]


def instants(zone: ZoneInfo) -> list[dt.datetime]:
    lo, hi = (int(w.replace(tzinfo=dt.UTC).timestamp()) for w in SQL_WINDOW)
    cuts = [p[0] for p in offset_periods(zone, lo, hi, 86_400)]
    rng = random.Random(zone.key)
    seconds = [c + d for c in cuts for d in (-1, 0, 1)]
    seconds += [rng.randrange(lo, hi) for _ in range(300)]
    seconds += [lo - 1, hi, -2_208_988_800, 5_000_000_000]  # outside the window: Python
    epoch = dt.datetime(1970, 1, 1)
    return [epoch + dt.timedelta(seconds=s, milliseconds=rng.randrange(1000)) for s in seconds]


def assert_sql_matches_python(zone: ZoneInfo, values: list[dt.datetime], window: Window) -> None:
    """`cx_ts` (installed over `window`) writes each instant as `format_instants` does."""
    con = duckdb.connect()
    try:
        engine.install(con, zone, window=window)
        con.execute("CREATE TABLE t (i INTEGER, ts TIMESTAMP)")
        con.executemany("INSERT INTO t VALUES (?, ?)", list(enumerate(values)))
        got = [r[0] for r in con.execute("SELECT cx_ts(ts) FROM t ORDER BY i").fetchall()]
    finally:
        con.close()
    want = format_instants(pa.array(values, type=pa.timestamp("ms")), zone).to_pylist()
    assert got == want


@pytest.mark.parametrize("name", ZONES)
def test_sql_offsets_match_zoneinfo(name: str) -> None:
    zone = ZoneInfo(name)
    assert_sql_matches_python(zone, instants(zone), SQL_WINDOW)


def test_periods_start_exactly_at_transitions() -> None:
    zone = ZoneInfo("America/New_York")
    lo = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())
    hi = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
    for step in (3_600, 6 * 3_600, 86_400):
        periods = offset_periods(zone, lo, hi, step)
        # 2024-03-10 07:00Z and 2024-11-03 06:00Z: the second one on a step boundary.
        assert [p[0] for p in periods[1:]] == [1_710_054_000, 1_730_613_600]
        for start, end, offset in periods:
            assert _offset_at(zone, start) == offset == _offset_at(zone, end - 1)


@pytest.mark.parametrize("name", ["America/Sao_Paulo", "Africa/Casablanca", "Pacific/Apia"])
def test_a_request_window_writes_the_same_text_inside_and_outside_it(name: str) -> None:
    """An export installs `cx_ts` over a few years around its request; instants
    before or after them (the Python path) come out the same."""
    zone = ZoneInfo(name)
    window = request_window(dt.datetime(2011, 12, 31, 22), dt.datetime(2012, 1, 1, 3))
    assert window == (dt.datetime(2009, 1, 1), dt.datetime(2015, 1, 1))
    edges = [window[0] - dt.timedelta(milliseconds=1), window[0], window[1]]
    assert_sql_matches_python(zone, instants(zone) + edges, window)


def test_the_request_window_stays_inside_the_widest() -> None:
    assert request_window(dt.datetime(1969, 6, 1), dt.datetime(2024, 1, 1)) == (
        dt.datetime(1970, 1, 1),
        dt.datetime(2027, 1, 1),
    )
    assert request_window(dt.datetime(2024, 6, 1), dt.datetime(2099, 12, 1))[1] == SQL_WINDOW[1]
