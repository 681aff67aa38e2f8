"""Writing instants in a time zone, exactly as `zoneinfo` sees them.

`format_instants` turns an Arrow array of naive-UTC timestamps into
`YYYY-MM-DDTHH:MM:SS±HH:MM` strings (`±HH:MM:SS` for offsets with seconds),
vectorised: offsets are looked up once per distinct UTC hour.
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


@lru_cache(maxsize=65536)
def _offset_at(tz: ZoneInfo, epoch_s: int) -> int:
    off = (_EPOCH + dt.timedelta(seconds=epoch_s)).astimezone(tz).utcoffset()
    return int(off.total_seconds()) if off is not None else 0


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
