"""Brazilian holidays and business-hours calendars, as records and as a clock.

The simulator needs to know whether a channel is open at an instant (the
auto-responder answers out of hours) and to write the same calendars as
`business_hours` records, so both come from one `Calendar` value.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekly = dict[str, list[list[str]]]


def easter(year: int) -> dt.date:
    """Gregorian Easter Sunday (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def national_holidays(year: int) -> list[dt.date]:
    """Brazilian national holidays, with carnival and Corpus Christi (observed by
    most businesses although officially optional days)."""
    fixed = [(1, 1), (4, 21), (5, 1), (9, 7), (10, 12), (11, 2), (11, 15), (12, 25)]
    if year >= 2024:
        fixed.append((11, 20))  # Consciência Negra, national since 2024
    sunday = easter(year)
    moving = [sunday + dt.timedelta(days=n) for n in (-48, -47, -2, 60)]
    return sorted([dt.date(year, m, d) for m, d in fixed] + moving)


def sao_paulo_holidays(year: int) -> list[dt.date]:
    """National holidays plus the city's anniversary and the state's date."""
    return sorted([*national_holidays(year), dt.date(year, 1, 25), dt.date(year, 7, 9)])


def holidays_between(first: dt.date, last: dt.date, local: bool = False) -> list[str]:
    rule = sao_paulo_holidays if local else national_holidays
    days = [d for y in range(first.year, last.year + 1) for d in rule(y)]
    return [d.isoformat() for d in days if first <= d <= last]


@dataclass(frozen=True)
class Calendar:
    """One version of a business-hours calendar."""

    calendar_id: str
    timezone: str
    weekly: Weekly
    holidays: tuple[str, ...] | None = None  # None: the field is absent
    channel_ids: tuple[str, ...] | None = None  # None: the workspace default

    def record_fields(self) -> tuple[Weekly, list[str] | None, list[str] | None]:
        holidays = None if self.holidays is None else list(self.holidays)
        channels = None if self.channel_ids is None else list(self.channel_ids)
        return self.weekly, holidays, channels


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


class BusinessClock:
    """Answers "is this calendar open at instant t (UTC ms)?", one local day at a time.

    `versions` are (effective at, calendar) sorted by time: an edit changes
    business time from its `at` on, as `metrics.md` says.
    """

    def __init__(self, versions: list[tuple[int, Calendar]]) -> None:
        self._versions = versions
        self._zone = ZoneInfo(versions[0][1].timezone)
        self._day_cache: dict[tuple[int, dt.date], list[tuple[int, int]]] = {}

    def _version_at(self, t: int) -> tuple[int, Calendar]:
        chosen = 0
        for i, (at, _) in enumerate(self._versions):
            if at <= t:
                chosen = i
        return chosen, self._versions[chosen][1]

    def is_open(self, t: int) -> bool:
        index, cal = self._version_at(t)
        local = dt.datetime.fromtimestamp(t / 1000, self._zone).date()
        key = (index, local)
        spans = self._day_cache.get(key)
        if spans is None:
            spans = self._day_cache[key] = self._spans(cal, local)
        return any(s <= t < e for s, e in spans)

    def _spans(self, cal: Calendar, day: dt.date) -> list[tuple[int, int]]:
        if cal.holidays and day.isoformat() in cal.holidays:
            return []
        midnight = dt.datetime.combine(day, dt.time(), self._zone)
        out = []
        for start, end in cal.weekly.get(WEEKDAYS[day.weekday()], []):
            a = midnight + dt.timedelta(minutes=_minutes(start))
            b = midnight + dt.timedelta(minutes=_minutes(end))
            out.append((int(a.timestamp() * 1000), int(b.timestamp() * 1000)))
        return out
