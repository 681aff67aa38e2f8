"""The simulated days and the units of simulated time (UTC milliseconds)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

ZONE = "America/Sao_Paulo"
SECOND_MS = 1000
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Period:
    """The simulated days, as local midnights in São Paulo (UTC ms)."""

    first: dt.date
    days: int
    midnights: tuple[int, ...]  # days + 1 values

    @classmethod
    def of(cls, first: dt.date, days: int) -> Period:
        zone = ZoneInfo(ZONE)
        mids = tuple(
            int(dt.datetime.combine(first + dt.timedelta(days=d), dt.time(), zone).timestamp())
            * 1000
            for d in range(days + 1)
        )
        return cls(first, days, mids)

    @property
    def start(self) -> int:
        return self.midnights[0]

    @property
    def end(self) -> int:
        return self.midnights[-1]

    def date(self, d: int) -> dt.date:
        return self.first + dt.timedelta(days=d)

    def day_of(self, t: int) -> int:
        """Index of the local day holding instant t (clamped to the period)."""
        d = min(max((t - self.start) // DAY_MS, 0), self.days - 1)
        while d > 0 and self.midnights[d] > t:
            d -= 1
        while d < self.days - 1 and self.midnights[d + 1] <= t:
            d += 1
        return d
