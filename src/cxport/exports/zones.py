"""Writing instants in a time zone, exactly as `zoneinfo` sees them.

`offset_periods` cuts a span of UTC time into the pieces where a zone's
offset is constant (the zone's transitions, found with `zoneinfo`), from
which `offset_sql` writes the offset as a SQL expression: the export engine
formats instants in SQL with it (no per-row Python).

`format_instants` turns an Arrow array of naive-UTC timestamps into
`YYYY-MM-DDTHH:MM:SS±HH:MM` strings (`±HH:MM:SS` for offsets with seconds),
vectorised: offsets are looked up once per distinct UTC hour. The engine
uses it for instants outside the window `offset_sql` covers.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    s = abs(seconds)
    hh, mm, ss = s // 3600, s % 3600 // 60, s % 60
    return f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if ss else "")


def _offset_uncached(tz: ZoneInfo, epoch_s: int) -> int:
    # `fromtimestamp` with a zone is `tz.fromutc` of the instant, as `astimezone` is,
    # in one C call: the scans below make tens of thousands of them per zone.
    off = dt.datetime.fromtimestamp(epoch_s, tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


_offset_at = lru_cache(maxsize=65536)(_offset_uncached)


def offset_periods(
    tz: ZoneInfo, lo_s: int, hi_s: int, step_s: int = 6 * 3600
) -> list[tuple[int, int, int]]:
    """The offset of `tz` over `[lo_s, hi_s)` (epoch seconds): `(start, end, offset)` pieces.

    Transitions are looked for every `step_s` and bisected to the second; two
    transitions closer than `step_s` that cancel out would be missed (no zone
    has had one).
    """
    periods: list[tuple[int, int, int]] = []
    start, current = lo_s, _offset_at(tz, lo_s)
    t = lo_s + 1  # invariant: the offset at t - 1 is `current`
    while t < hi_s:
        nxt = min(t + step_s, hi_s)
        if _offset_uncached(tz, nxt - 1) == current:
            t = nxt
            continue
        a, b = t - 1, nxt - 1  # offset(a) == current != offset(b)
        while b - a > 1:
            mid = (a + b) // 2
            if _offset_at(tz, mid) == current:
                a = mid
            else:
                b = mid
        periods.append((start, b, current))
        start, current, t = b, _offset_at(tz, b), b + 1
    periods.append((start, hi_s, current))
    return periods


# The widest span `offset_sql` covers; instants outside its window are
# formatted by `format_instants`.
SQL_WINDOW = (dt.datetime(1970, 1, 1), dt.datetime(2100, 1, 1))

Window = tuple[dt.datetime, dt.datetime]  # naive UTC, [start, end)


def request_window(start: dt.datetime, end: dt.datetime) -> Window:
    """The window `offset_sql` covers for a request over `[start, end)` (naive UTC):
    whole years, two on either side, inside `SQL_WINDOW`.

    A shorter window is a smaller CASE tree to build (one `zoneinfo` call per
    day of it) and to evaluate per instant; instants of a file outside it (a
    conversation created years before) are rare, and exact all the same.
    """
    lo = max(dt.datetime(start.year - 2, 1, 1), SQL_WINDOW[0])
    hi = min(dt.datetime(end.year + 3, 1, 1), SQL_WINDOW[1])
    return (lo, hi) if lo < hi else SQL_WINDOW


@lru_cache(maxsize=64)
def offset_sql(tz: ZoneInfo, window: Window = SQL_WINDOW, column: str = "t") -> tuple[str, str]:
    """SQL for the offset of `tz` at the naive-UTC TIMESTAMP `column` inside `window`.

    Returns (offset in seconds: a balanced tree of CASEs over the zone's
    transitions, `±HH:MM` text of an offset `off`: a CASE over the few
    offsets the window has).
    """
    lo, hi = (int(w.replace(tzinfo=dt.UTC).timestamp()) for w in window)
    periods = offset_periods(tz, lo, hi, step_s=86_400)

    def tree(i: int, j: int) -> str:
        if j - i == 1:
            return str(periods[i][2])
        mid = (i + j) // 2
        cut = (_EPOCH + dt.timedelta(seconds=periods[mid][0])).replace(tzinfo=None)
        return (
            f"CASE WHEN {column} < TIMESTAMP '{cut.isoformat(sep=' ')}'"
            f" THEN {tree(i, mid)} ELSE {tree(mid, j)} END"
        )

    texts = " ".join(f"WHEN {o} THEN '{offset_text(o)}'" for o in sorted({p[2] for p in periods}))
    return tree(0, len(periods)), f"CASE off {texts} END"


def offsets(tz: ZoneInfo, epoch_s: np.ndarray) -> np.ndarray:
    """UTC offset in seconds of `tz` at each instant (epoch seconds)."""
    hours = epoch_s // 3600
    uniq, inverse = np.unique(hours, return_inverse=True)
    at_start = np.array([_offset_at(tz, int(h) * 3600) for h in uniq], dtype=np.int64)
    at_end = np.array([_offset_at(tz, int(h) * 3600 + 3599) for h in uniq], dtype=np.int64)
    out = at_start[inverse]
    # A transition inside an hour (local mean time and other odd offsets): look each up.
    for i in np.flatnonzero((at_start != at_end)[inverse]):
        out[i] = _offset_at(tz, int(epoch_s[i]))
    return out


def format_instants(values: pa.Array, tz: ZoneInfo) -> pa.Array:
    """Naive-UTC timestamps → ISO 8601 local text with numeric offset; nulls stay null."""
    ts = values.cast(pa.timestamp("us"))
    valid = pc.is_valid(ts)
    micros = pc.fill_null(ts.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
    secs = np.floor_divide(micros, 1_000_000)
    off = offsets(tz, secs)
    local = (secs + off).astype("datetime64[s]")
    text = pa.array(np.datetime_as_string(local, unit="s"), type=pa.string())
    uniq, inverse = np.unique(off, return_inverse=True)
    suffix = pa.DictionaryArray.from_arrays(
        pa.array(inverse.astype(np.int32)), pa.array([offset_text(int(o)) for o in uniq])
    ).cast(pa.string())
    joined = pc.binary_join_element_wise(text, suffix, "")
    return pc.if_else(valid, joined, pa.scalar(None, pa.string()))
