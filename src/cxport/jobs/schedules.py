"""Schedules' windows and the tick that turns due periods into export jobs.

A period is an hour, a day or an ISO week (Monday to Sunday) of the schedule's time
zone, named by its first instant (naive UTC). Local days are whole local days
(23 or 25 hours across a DST change, and a day whose midnight is skipped starts at
its first instant); local hours are the instants where the local clock shows a whole
hour, so a DST day has 23 or 25 of them.

A period is due once it is complete and its lateness margin has passed (late records
land). `tick` inserts one job per due period, oldest first, with the unique
(schedule_id, period_start) key: an INSERT that ignores a conflict, so two ticking
processes (or a tick after a restart) never make a period twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cxport.control.db import Control, ExportJob, Schedule, new_id
from cxport.exports.request import first_instant_on_or_after, zone

EVERY = ("hour", "day", "week")
CATCH_UP = 200  # periods of one schedule made by one tick; the next tick goes on
UTC = dt.UTC
JOB_OPTIONS = ("lang", "format", "include_content")  # a schedule's options its runs take


@dataclass(frozen=True)
class Window:
    """One period of a schedule: [start, end) as naive UTC, and its local dates."""

    every: str
    tz: str
    start: dt.datetime
    end: dt.datetime

    @property
    def local_start(self) -> dt.datetime:
        return self.start.replace(tzinfo=UTC).astimezone(zone(self.tz))

    @property
    def local_end(self) -> dt.datetime:
        return self.end.replace(tzinfo=UTC).astimezone(zone(self.tz))

    @property
    def first_day(self) -> dt.date:
        return self.local_start.date()

    @property
    def last_day(self) -> dt.date:
        """The local date of the period's last instant."""
        return (
            (self.end - dt.timedelta(microseconds=1))
            .replace(tzinfo=UTC)
            .astimezone(zone(self.tz))
            .date()
        )

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def request_fields(self) -> dict[str, Any]:
        """What an ExportRequest needs for this window: its dates, and for an hour its
        instants (ISO text, as a job's options keep them)."""
        fields: dict[str, Any] = {"date_from": self.first_day, "date_to": self.last_day}
        if self.every == "hour":
            fields |= {"start_at": self.start.isoformat(), "end_at": self.end.isoformat()}
        return fields


def _check(every: str) -> None:
    if every not in EVERY:
        raise ValueError(f"every: expected hour, day or week, got {every!r}")


def period_of(every: str, tz: str, instant: dt.datetime) -> Window:
    """The period that holds `instant` (naive UTC)."""
    _check(every)
    z = zone(tz)
    local = instant.replace(tzinfo=UTC).astimezone(z)
    if every == "hour":
        # The local clock's whole hour, in the same fold (the repeated hour of a fall-back
        # is its own period).
        start_local = local.replace(minute=0, second=0, microsecond=0)
        start = start_local.astimezone(UTC).replace(tzinfo=None)
        if start > instant:  # a zone whose offset changed within the hour
            start = instant.replace(minute=0, second=0, microsecond=0)
        nxt = start + dt.timedelta(hours=1)
        after = nxt.replace(tzinfo=UTC).astimezone(z)
        end = after.replace(minute=0, second=0, microsecond=0).astimezone(UTC).replace(tzinfo=None)
        if end <= start:
            end = nxt
        return Window(every, tz, start, end)
    day = local.date()
    if first_instant_on_or_after(day, z) > instant:  # before a day's first instant
        day -= dt.timedelta(days=1)
    if every == "week":
        day -= dt.timedelta(days=day.weekday())
        last = day + dt.timedelta(days=7)
    else:
        last = day + dt.timedelta(days=1)
    return Window(every, tz, first_instant_on_or_after(day, z), first_instant_on_or_after(last, z))


def next_period(window: Window) -> Window:
    return period_of(window.every, window.tz, window.end)


def period_at(every: str, tz: str, start: dt.datetime) -> Window:
    """The period that starts at `start` (a value of `period_start`)."""
    return period_of(every, tz, start)


def first_period_of_day(every: str, tz: str, day: dt.date) -> Window:
    """The first period whose start is on or after local `day` (`--since`)."""
    start = first_instant_on_or_after(day, zone(tz))
    window = period_of(every, tz, start)
    return window if window.start >= start else next_period(window)


def due_periods(
    every: str,
    tz: str,
    first: dt.datetime,
    now: dt.datetime,
    lateness: dt.timedelta,
    limit: int = CATCH_UP,
) -> list[Window]:
    """The periods from the one starting at or after `first` that are complete by
    `now - lateness`, oldest first (at most `limit`)."""
    window = period_of(every, tz, first)
    if window.start < first:
        window = next_period(window)
    out: list[Window] = []
    while window.end + lateness <= now and len(out) < limit:
        out.append(window)
        window = next_period(window)
    return out


def last_complete(every: str, tz: str, now: dt.datetime, lateness: dt.timedelta) -> Window:
    """The last period whose end (plus lateness) has passed by `now`."""
    window = period_of(every, tz, now - lateness)
    return period_of(every, tz, window.start - dt.timedelta(microseconds=1))


def tick(control: Control, now: dt.datetime) -> list[str]:
    """Make the jobs of every active schedule's due periods (oldest first); the ids of
    the jobs made by this call. `now` is naive UTC and becomes the jobs' `as_of`."""
    made: list[str] = []
    with control.session.begin() as s:
        schedules = list(
            s.scalars(select(Schedule).where(Schedule.state == "active").order_by(Schedule.id))
        )
        for schedule in schedules:
            made += _tick_one(s, control, schedule, now)
    return made


def _tick_one(s: Session, control: Control, schedule: Schedule, now: dt.datetime) -> list[str]:
    last = s.scalar(
        select(func.max(ExportJob.period_start)).where(ExportJob.schedule_id == schedule.id)
    )
    first = schedule.since
    if last is not None:
        first = max(first, period_at(schedule.every, schedule.tz, last).end)
    windows = due_periods(
        schedule.every, schedule.tz, first, now, dt.timedelta(seconds=schedule.lateness)
    )
    made = []
    for i, window in enumerate(windows):
        fields = window.request_fields()
        options = {
            **{k: v for k, v in schedule.options.items() if k in JOB_OPTIONS},
            "scheduled": True,
            **{k: v for k, v in fields.items() if k in ("start_at", "end_at")},
        }
        row = {
            "id": new_id(), "workspace_id": schedule.workspace_id,
            "requested_by": schedule.created_by, "export": schedule.export,
            "date_from": fields["date_from"], "date_to": fields["date_to"], "tz": schedule.tz,
            "channels": list(schedule.channels or []), "options": options, "as_of": now,
            "state": "queued", "progress": 0.0, "attempts": 0,
            "created_at": now + dt.timedelta(microseconds=i),  # claimed oldest period first
            "schedule_id": schedule.id, "period_start": window.start,
        }  # fmt: skip
        dialect = postgresql if control.is_postgres else sqlite
        statement = (
            dialect.insert(ExportJob)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["schedule_id", "period_start"])
            .returning(ExportJob.id)
        )
        inserted = s.execute(statement).scalar_one_or_none()  # None: another tick made it
        if inserted is not None:
            made.append(inserted)
    return made
