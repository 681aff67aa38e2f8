"""The checks of `business_hours` records that SQL does not do well.

These records are few (a calendar per channel at most), so they are checked
here, in Python, after the SQL checks passed: the IANA time zone and the
weekly object. The weekly object is stored as canonical JSON text (days in
mon..sun order, minified), so its content hash does not depend on key order.
"""

from __future__ import annotations

import json
import re
import zoneinfo
from functools import cache
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name: str) -> str | None:
    """The reason `name` is not an IANA time zone, or None."""
    if name in _zones():
        return None
    return f"unknown IANA time zone {json.dumps(name)} (e.g. America/Sao_Paulo)"


def canonical_weekly(text: str) -> tuple[str | None, str | None]:
    """(canonical JSON, None) for a valid weekly object, else (None, reason)."""
    week: Any = json.loads(text)
    if not isinstance(week, dict):
        return None, "must be an object of days (mon..sun)"
    unknown = [k for k in week if k not in DAYS]
    if unknown:
        return None, f"unknown day {json.dumps(unknown[0])}: days are {', '.join(DAYS)}"
    canon: dict[str, list[list[str]]] = {}
    for day in DAYS:
        if day not in week:
            continue
        reason = _check_day(week[day])
        if reason:
            return None, f"{day}: {reason}"
        canon[day] = [list(iv) for iv in week[day]]
    return json.dumps(canon, separators=(",", ":"), ensure_ascii=False), None


def _check_day(intervals: Any) -> str | None:
    if not isinstance(intervals, list):
        return 'must be a list of ["HH:MM", "HH:MM"] intervals'
    previous_end = ""
    for n, iv in enumerate(intervals, start=1):
        if not isinstance(iv, list) or len(iv) != 2 or not all(isinstance(x, str) for x in iv):
            return f'interval {n}: must be ["HH:MM", "HH:MM"], got {json.dumps(iv)}'
        start, end = iv
        if not _TIME.fullmatch(start):
            return f"interval {n}: start {json.dumps(start)} is not a time HH:MM (00:00-23:59)"
        if not (_TIME.fullmatch(end) or end == "24:00"):
            return f"interval {n}: end {json.dumps(end)} is not a time HH:MM (00:00-24:00)"
        if start >= end:
            return f"interval {n}: start {start} must be before end {end}"
        if start < previous_end:
            return f"interval {n}: starts at {start}, before the previous interval ends ({previous_end})"
        previous_end = end
    return None
