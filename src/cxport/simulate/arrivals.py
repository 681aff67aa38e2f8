"""When conversations arrive: a daily and weekly rhythm, drawn a day at a time.

The total is fixed (the `conversations` asked for); it is spread over the
days by their weight (quiet weekends and holidays), then over the hours of
each day by a São Paulo retail curve, and each arrival gets a channel by the
channels' shares (a channel opening mid-period gets none before). Draws are
numpy batches, one day at a time, so memory does not grow with the total.
"""

from __future__ import annotations

import numpy as np

from cxport.simulate.options import SimOptions
from cxport.simulate.workspace import Workspace

_HOUR_MS = 3_600_000
# Relative arrivals per local hour, 00h … 23h.
_WEEKDAY = (
    0.15, 0.08, 0.05, 0.04, 0.05, 0.10, 0.30, 0.70, 1.30, 1.90, 2.20, 2.10,
    1.70, 1.80, 2.00, 2.00, 1.90, 1.70, 1.40, 1.20, 1.10, 0.90, 0.60, 0.30,
)  # fmt: skip
_WEEKEND = (
    0.25, 0.15, 0.08, 0.05, 0.05, 0.06, 0.12, 0.30, 0.60, 1.00, 1.40, 1.60,
    1.60, 1.50, 1.50, 1.50, 1.40, 1.30, 1.20, 1.20, 1.10, 0.90, 0.70, 0.40,
)  # fmt: skip
_DAY_OF_WEEK = (1.15, 1.05, 1.0, 1.0, 0.95, 0.6, 0.45)
_HOLIDAY = 0.5


def _blend(curve: tuple[float, ...], strength: float) -> np.ndarray:
    raw = np.asarray(curve, dtype=float)
    mixed = 1.0 + strength * (raw / raw.mean() - 1.0)
    return mixed / mixed.sum()


class Arrivals:
    def __init__(self, workspace: Workspace, options: SimOptions, seed: int, total: int) -> None:
        self._ws = workspace
        self._rng = np.random.Generator(np.random.PCG64([seed, 0x5EED]))
        period = workspace.period
        holidays = workspace.holidays
        weights = []
        self._quiet = []
        for d in range(period.days):
            date = period.date(d)
            quiet = date.weekday() >= 5 or date.isoformat() in holidays
            w = _DAY_OF_WEEK[date.weekday()] * (_HOLIDAY if date.isoformat() in holidays else 1.0)
            weights.append(1.0 + options.weekly_rhythm * (w - 1.0))
            self._quiet.append(quiet)
        p = np.asarray(weights) / sum(weights)
        self._per_day = self._rng.multinomial(total, p).tolist()
        self._hours = {
            False: _blend(_WEEKDAY, options.daily_rhythm),
            True: _blend(_WEEKEND, options.daily_rhythm),
        }

    def day(self, d: int) -> tuple[list[int], list[int]]:
        """Sorted arrival instants (UTC ms) of day d, and the channel index of each."""
        n = self._per_day[d]
        if n == 0:
            return [], []
        rng = self._rng
        period = self._ws.period
        hours = rng.choice(24, size=n, p=self._hours[self._quiet[d]])
        times = period.midnights[d] + hours * _HOUR_MS + rng.integers(0, _HOUR_MS, size=n)
        times.sort()
        channels = self._ws.channels
        share = np.asarray([ch.share if d >= ch.opens_day else 0.0 for ch in channels])
        picks = rng.choice(len(channels), size=n, p=share / share.sum())
        return times.tolist(), picks.tolist()
