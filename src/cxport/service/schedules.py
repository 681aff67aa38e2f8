"""Scheduled exports (issue 20): the facade the API, the CLI and the page call to manage
schedules and see their runs; the tick that serve and worker run; the outbox sender
that delivers a run's file and manifest to its destination.

A schedule's run is an export job with the unique (schedule_id, period_start) key
(`jobs/schedules.py`). When it succeeds, `deliver_run` adds a `destination` delivery
to the outbox in the transaction that ends the job; the Dispatcher sends it with
`DestinationSender`, retried with backoff like every delivery.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cxport.control.db import Delivery, ExportJob, Schedule, User, utcnow
from cxport.deliver import Address, DeliveryError, parse_address
from cxport.deliver.folder import FolderDestination
from cxport.deliver.manifest import delivered_name, manifest, manifest_name
from cxport.deliver.sftp import SftpDestination, fingerprint, load_private_key
from cxport.deliver.vault import SecretBox
from cxport.errors import Conflict, InvalidField, NotFound, UsageError
from cxport.exports.request import first_instant_on_or_after, zone
from cxport.jobs import schedules as windows
from cxport.jobs import states
from cxport.service.access import Principal

if TYPE_CHECKING:
    from cxport.service.app import Service

log = logging.getLogger("cxport.schedules")

KIND = "destination"  # the outbox's kind of a run's delivery
MAX_LATENESS = dt.timedelta(days=7)
RUNS_SHOWN = 50


@dataclass(frozen=True)
class ScheduleAsk:
    """What a caller gives to make (or, with `None`s, to edit) a schedule."""

    name: str | None = None
    export: str | None = None
    every: str | None = None
    to: str | None = None
    tz: str | None = None
    channels: tuple[str, ...] | None = None
    lang: str | None = None
    format: str | None = None
    include_content: bool | None = None
    lateness: dt.timedelta | None = None
    since: dt.date | None = None
    password: str | None = None
    private_key: str | None = None


def parse_duration(text: str) -> dt.timedelta:
    """`5m`, `90s`, `1h`, `2d` or seconds (`300`)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m:
        raise InvalidField("lateness", f"expected a duration such as 5m, 90s or 1h, got {text!r}")
    unit = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return dt.timedelta(seconds=float(m.group(1)) * unit)


# -- managing schedules -------------------------------------------------------------


def add_schedule(
    service: Service, who: Principal, ask: ScheduleAsk, now: dt.datetime | None = None
) -> dict[str, Any]:
    who.must_be_admin("manage schedules")
    now = now or utcnow()
    for field in ("name", "export", "every", "to"):
        if not getattr(ask, field):
            raise InvalidField(field, "required")
    values = _checked(service, who, ask, creating=True)
    if "since" not in values:  # the period in progress
        values["since"] = windows.period_of(values["every"], values["tz"], now).start
    schedule = Schedule(
        workspace_id=who.workspace, created_by=who.user_id, created_at=now, updated_at=now,
        **values,
    )  # fmt: skip
    try:
        with service.control.session.begin() as s:
            s.add(schedule)
            s.flush()
            return _object(s, schedule)
    except IntegrityError:
        raise Conflict(f"a schedule named {ask.name!r} exists in this workspace") from None


def edit_schedule(service: Service, who: Principal, key: str, ask: ScheduleAsk) -> dict[str, Any]:
    who.must_be_admin("manage schedules")
    try:
        with service.control.session.begin() as s:
            schedule = _find(s, who, key)
            values = _checked(service, who, ask, creating=False, current=schedule)
            for k, v in values.items():
                setattr(schedule, k, v)
            schedule.updated_at = utcnow()
            s.flush()
            return _object(s, schedule)
    except IntegrityError:
        raise Conflict(f"a schedule named {ask.name!r} exists in this workspace") from None


def set_state(
    service: Service, who: Principal, key: str, state: str, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Pause, or resume: a resumed schedule goes on from the period in progress (the
    periods it was paused for are not made; `since` can be moved back to make them)."""
    who.must_be_admin("manage schedules")
    now = now or utcnow()
    with service.control.session.begin() as s:
        schedule = _find(s, who, key)
        if state == "active" and schedule.state != "active":
            current = windows.period_of(schedule.every, schedule.tz, now).start
            schedule.since = max(schedule.since, current)
        schedule.state = state
        schedule.updated_at = now
        s.flush()
        return _object(s, schedule)


def delete_schedule(service: Service, who: Principal, key: str) -> None:
    """Delete a schedule; its queued runs are cancelled and their deliveries dropped. The
    runs already made stay (history, their files until retention)."""
    who.must_be_admin("manage schedules")
    with service.control.session.begin() as s:
        schedule = _find(s, who, key)
        run_ids = select(ExportJob.id).where(ExportJob.schedule_id == schedule.id)
        s.execute(
            update(ExportJob)
            .where(ExportJob.schedule_id == schedule.id, ExportJob.state == states.QUEUED)
            .values(state=states.CANCELLED, finished_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        s.execute(
            update(Delivery)
            .where(Delivery.kind == KIND, Delivery.state == "pending", Delivery.target.in_(run_ids))
            .values(state="failed", last_error="its schedule was deleted")
            .execution_options(synchronize_session=False)
        )
        s.delete(schedule)


def list_schedules(service: Service, who: Principal) -> list[dict[str, Any]]:
    who.must_be_admin("manage schedules")
    with service.control.session() as s:
        found = s.scalars(
            select(Schedule).where(Schedule.workspace_id == who.workspace).order_by(Schedule.name)
        )
        return [_object(s, schedule) for schedule in found]


def get_schedule(service: Service, who: Principal, key: str) -> dict[str, Any]:
    who.must_be_admin("manage schedules")
    with service.control.session() as s:
        return _object(s, _find(s, who, key))


def list_runs(
    service: Service, who: Principal, key: str, limit: int = RUNS_SHOWN
) -> list[dict[str, Any]]:
    """The schedule's runs, newest period first: each one's export and delivery state,
    attempts and last error."""
    who.must_be_admin("manage schedules")
    if not 1 <= limit <= 500:
        raise InvalidField("limit", "expected 1 to 500")
    with service.control.session() as s:
        schedule = _find(s, who, key)
        jobs = list(
            s.scalars(
                select(ExportJob)
                .where(ExportJob.schedule_id == schedule.id)
                .order_by(ExportJob.period_start.desc())
                .limit(limit)
            )
        )
        return _runs(s, jobs)


def retry_run(service: Service, who: Principal, key: str, run_id: str) -> dict[str, Any]:
    """Send a run whose delivery failed again (with fresh attempts)."""
    who.must_be_admin("manage schedules")
    with service.control.session.begin() as s:
        schedule = _find(s, who, key)
        job = s.get(ExportJob, run_id)
        if job is None or job.schedule_id != schedule.id:
            raise NotFound(f"no run {run_id} of schedule {schedule.name}")
        delivery = s.scalar(
            select(Delivery).where(Delivery.kind == KIND, Delivery.target == job.id)
        )
        if delivery is None or delivery.state != "failed" or job.state != states.SUCCEEDED:
            raise Conflict(f"run {run_id}: only a run whose delivery failed can be sent again")
        delivery.state, delivery.attempts, delivery.next_at = "pending", 0, utcnow()
        s.flush()
        return _runs(s, [job])[0]


def workspace_admin(service: Service, workspace: str) -> Principal:
    """The workspace's first admin: whom the CLI acts as."""
    with service.control.session() as s:
        user = s.scalar(
            select(User)
            .where(User.workspace_id == workspace, User.role == "admin")
            .order_by(User.created_at, User.id)
            .limit(1)
        )
        if user is None:
            raise NotFound(
                f"workspace {workspace!r} has no admin: add one with cxport user add --role admin"
            )
        return Principal(user.id, user.email, user.workspace_id, user.role, ())


def run_states(service: Service, run_ids: list[str]) -> dict[str, int]:
    """How many of these runs are in each state (`delivered`, `delivery_failed`, …)."""
    counts: dict[str, int] = {}
    with service.control.session() as s:
        jobs = list(s.scalars(select(ExportJob).where(ExportJob.id.in_(run_ids))))
        for run in _runs(s, jobs):
            counts[run["state"]] = counts.get(run["state"], 0) + 1
    return counts


def _find(s: Session, who: Principal, key: str) -> Schedule:
    found = s.get(Schedule, key)
    if found is None or found.workspace_id != who.workspace:
        found = s.scalar(
            select(Schedule).where(Schedule.workspace_id == who.workspace, Schedule.name == key)
        )
    if found is None:
        raise NotFound(f"no schedule {key}")
    return found


def _checked(
    service: Service,
    who: Principal,
    ask: ScheduleAsk,
    creating: bool,
    current: Schedule | None = None,
) -> dict[str, Any]:
    """The columns `ask` sets, checked; each error names its field."""
    from cxport.exports.runner import export_def

    values: dict[str, Any] = {}
    if ask.name is not None:
        name = ask.name.strip()
        if not name or len(name) > 200 or "/" in name:
            raise InvalidField("name", "expected 1 to 200 characters, without '/'")
        values["name"] = name
    if ask.export is not None:
        try:
            export_def(ask.export)
        except UsageError as exc:
            raise InvalidField("export", str(exc).removeprefix("unknown export ")) from None
        values["export"] = ask.export
    if ask.every is not None:
        if ask.every not in windows.EVERY:
            raise InvalidField("every", f"expected hour, day or week, got {ask.every!r}")
        values["every"] = ask.every
    if ask.tz is not None or creating:
        tz = ask.tz or "UTC"
        try:
            zone(tz)
        except UsageError:
            raise InvalidField("tz", f"unknown time zone {tz!r}") from None
        values["tz"] = tz
    if ask.channels is not None:
        channels = list(dict.fromkeys(ask.channels))
        known = service.known_channels(who.workspace)
        missing = sorted(set(channels) - known)
        if known and missing:
            raise InvalidField(
                "channels",
                f"unknown channel {', '.join(missing)} (known: {', '.join(sorted(known))})",
            )
        values["channels"] = channels
    elif creating:
        values["channels"] = []
    options = dict(current.options) if current is not None else {}
    options.setdefault("lang", "en")
    options.setdefault("format", "csv")
    options.setdefault("include_content", False)
    if ask.lang is not None:
        if ask.lang not in ("en", "pt-BR", "id"):
            raise InvalidField("lang", f"expected en, pt-BR or id, got {ask.lang!r}")
        options["lang"] = ask.lang
    if ask.format is not None:
        if ask.format not in ("csv", "parquet"):
            raise InvalidField("format", f"expected csv or parquet, got {ask.format!r}")
        options["format"] = ask.format
    if ask.include_content is not None:
        options["include_content"] = bool(ask.include_content)
    values["options"] = options
    if ask.lateness is not None or creating:
        lateness = ask.lateness if ask.lateness is not None else dt.timedelta(minutes=5)
        if not dt.timedelta(0) <= lateness <= MAX_LATENESS:
            raise InvalidField("lateness", "expected 0 to 7 days")
        values["lateness"] = int(lateness.total_seconds())
    every = values.get("every") or (current.every if current else "day")
    tz = values.get("tz") or (current.tz if current else "UTC")
    if ask.since is not None:
        values["since"] = windows.first_period_of_day(every, tz, ask.since).start
    values |= _destination(service, ask, current)
    if "auth" in values:
        values["options"]["auth"] = values.pop("auth")
    return values


def _destination(service: Service, ask: ScheduleAsk, current: Schedule | None) -> dict[str, Any]:
    """The destination's columns: the address without secrets, the secret sealed."""
    if ask.to is None and ask.password is None and ask.private_key is None:
        return {}
    url = ask.to if ask.to is not None else str(current.destination if current else "")
    address, in_url = parse_address(url)
    values: dict[str, Any] = {"destination": str(address)}
    if current is None or str(address) != current.destination:
        values["host_key"] = None  # a new server: pinned again on first use
    password = ask.password if ask.password is not None else in_url
    if address.scheme == "file":
        _allowed_folder(service, address.folder)
        values |= {"secret": None, "auth": "none"}
        return values
    if ask.private_key:
        try:
            load_private_key(ask.private_key)
        except ValueError as exc:
            raise InvalidField("private_key", str(exc)) from None
    if password is None and not ask.private_key:
        if current is not None and current.secret:
            return values  # the secret it has
        raise InvalidField("password", "an SFTP destination needs a password or a private key")
    box = SecretBox(service.settings.destination_key)
    if not box.ready:
        raise InvalidField(
            "to",
            "set CXPORT_DESTINATION_KEY (it encrypts SFTP passwords and keys) to send to SFTP",
        )
    values["auth"] = "key" if ask.private_key else "password"
    values["secret"] = box.seal(
        {"password": password if not ask.private_key else None, "private_key": ask.private_key}
    )
    return values


def _allowed_folder(service: Service, folder: str) -> None:
    """A file:// destination must be under one of `CXPORT_DESTINATION_FOLDERS` (when set):
    an admin of a workspace does not choose where the server writes."""
    roots = [r.strip() for r in service.settings.destination_folders.split(",") if r.strip()]
    target = PurePosixPath(folder)
    if roots and not any(target.is_relative_to(PurePosixPath(root)) for root in roots):
        raise InvalidField("to", f"file:// destinations must be under {', '.join(roots)}")


# -- objects ------------------------------------------------------------------------


def _instant(t: dt.datetime | None) -> str | None:
    return None if t is None else t.isoformat(timespec="milliseconds") + "Z"


def _object(s: Session, schedule: Schedule) -> dict[str, Any]:
    """A schedule as the API shows it: never its secret."""
    address, _ = parse_address(schedule.destination)
    auth = schedule.options.get("auth", "none") if address.scheme == "sftp" else "none"
    user = s.get(User, schedule.created_by)
    last = s.scalar(
        select(ExportJob)
        .where(ExportJob.schedule_id == schedule.id)
        .order_by(ExportJob.period_start.desc())
        .limit(1)
    )
    runs = s.scalar(
        select(func.count()).select_from(ExportJob).where(ExportJob.schedule_id == schedule.id)
    )
    nxt = _next_window(schedule, last.period_start if last is not None else None)
    lateness = dt.timedelta(seconds=schedule.lateness)
    return {
        "id": schedule.id,
        "name": schedule.name,
        "export": schedule.export,
        "every": schedule.every,
        "tz": schedule.tz,
        "channels": list(schedule.channels or []),
        "lang": schedule.options.get("lang", "en"),
        "format": schedule.options.get("format", "csv"),
        "include_content": bool(schedule.options.get("include_content", False)),
        "lateness_seconds": schedule.lateness,
        "since": _instant(schedule.since),
        "to": schedule.destination,
        "auth": auth,
        "host_key": fingerprint(schedule.host_key) if schedule.host_key else None,
        "state": schedule.state,
        "created_by": user.email if user is not None else "",
        "created_at": _instant(schedule.created_at),
        "updated_at": _instant(schedule.updated_at),
        "runs": runs or 0,
        "last_run": _runs(s, [last])[0] if last is not None else None,
        "next_period": {
            "from": nxt.local_start.isoformat(),
            "to": nxt.local_end.isoformat(),
            "due_at": _instant(nxt.end + lateness),
        },
    }


def _next_window(schedule: Schedule, last: dt.datetime | None) -> windows.Window:
    first = schedule.since
    if last is not None:
        first = max(first, windows.period_at(schedule.every, schedule.tz, last).end)
    window = windows.period_of(schedule.every, schedule.tz, first)
    return window if window.start >= first else windows.next_period(window)


def run_window(job: ExportJob) -> tuple[dt.datetime, dt.datetime]:
    """The [start, end) of a run (naive UTC), from its job."""
    options = job.options or {}
    z = zone(job.tz)
    start = options.get("start_at") or first_instant_on_or_after(job.date_from, z)
    end = options.get("end_at") or first_instant_on_or_after(job.date_to + dt.timedelta(days=1), z)
    as_dt = [dt.datetime.fromisoformat(t) if isinstance(t, str) else t for t in (start, end)]
    return as_dt[0], as_dt[1]


def _runs(s: Session, jobs: list[ExportJob]) -> list[dict[str, Any]]:
    deliveries = {
        d.target: d
        for d in s.scalars(
            select(Delivery).where(Delivery.kind == KIND, Delivery.target.in_([j.id for j in jobs]))
        )
    }
    return [_run(job, deliveries.get(job.id)) for job in jobs]


def _run(job: ExportJob, delivery: Delivery | None) -> dict[str, Any]:
    start, end = run_window(job)
    z = zone(job.tz)
    state = job.state
    if job.state in (states.SUCCEEDED, states.EXPIRED) and delivery is not None:
        state = {"pending": "delivering", "sent": "delivered", "failed": "delivery_failed"}[
            delivery.state
        ]
    error = job.error if job.state != states.SUCCEEDED else None
    if delivery is not None and delivery.last_error:
        error = delivery.last_error
    return {
        "id": job.id,
        "schedule_id": job.schedule_id,
        "from": start.replace(tzinfo=dt.UTC).astimezone(z).isoformat(),
        "to": end.replace(tzinfo=dt.UTC).astimezone(z).isoformat(),
        "from_utc": _instant(start),
        "to_utc": _instant(end),
        "as_of": _instant(job.as_of),
        "state": state,  # queued running failed cancelled delivering delivered delivery_failed
        "export_state": job.state,
        "attempts": job.attempts,
        "delivery_state": delivery.state if delivery is not None else None,
        "delivery_attempts": delivery.attempts if delivery is not None else 0,
        "error": error,
        "rows": job.rows,
        "bytes": job.bytes,
        "sha256": job.sha256,
        "file": (delivery.payload or {}).get("path") if delivery is not None else None,
        "created_at": _instant(job.created_at),
        "delivered_at": _instant(delivery.sent_at) if delivery is not None else None,
    }


# -- ticking and delivering ---------------------------------------------------------


def tick(service: Service, now: dt.datetime | None = None) -> list[str]:
    """Make the jobs of the due periods of every active schedule; their ids."""
    made = windows.tick(service.control, now or utcnow())
    if made:
        service.wake.set()
    return made


def deliver_run(s: Session, job: ExportJob) -> None:
    """Called as a job ends, in its transaction: a schedule's run that succeeded goes to
    its destination through the outbox."""
    if job.schedule_id and job.state == states.SUCCEEDED:
        s.add(
            Delivery(
                workspace_id=job.workspace_id,
                kind=KIND,
                target=job.id,
                payload={"schedule_id": job.schedule_id},
            )
        )


def pending(service: Service) -> tuple[int, int]:
    """(scheduled jobs queued or running, destination deliveries pending)."""
    with service.control.session() as s:
        jobs = s.scalar(
            select(func.count())
            .select_from(ExportJob)
            .where(
                ExportJob.schedule_id.is_not(None),
                ExportJob.state.in_((states.QUEUED, states.RUNNING)),
            )
        )
        sends = s.scalar(
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.kind == KIND, Delivery.state == "pending")
        )
    return int(jobs or 0), int(sends or 0)


def wait_until_done(service: Service, timeout: float, poll: float = 0.2) -> tuple[int, int]:
    """Wait until no scheduled job runs and no delivery is pending (or `timeout`
    seconds); what is left."""
    deadline = time.monotonic() + timeout
    left = pending(service)
    while any(left) and time.monotonic() < deadline:
        time.sleep(poll)
        left = pending(service)
    return left


class DestinationSender:
    """The outbox's sender of `destination` deliveries: a run's file, then its manifest,
    each under a temporary name renamed when complete."""

    def __init__(self, files: Path, destination_key: str, timeout: float) -> None:
        self.files = files
        self.box = SecretBox(destination_key)
        self.timeout = timeout

    def __call__(self, s: Session, delivery: Delivery) -> None:
        from cxport.exports.kept import definitions_hash

        with s.no_autoflush:  # no write lock held while the file travels
            job = s.get(ExportJob, delivery.target)
            schedule = s.get(Schedule, job.schedule_id) if job and job.schedule_id else None
        if job is None or schedule is None:
            raise DeliveryError("its schedule was deleted")
        if job.state != states.SUCCEEDED or not job.file_path:
            raise DeliveryError(f"its export is {job.state}: no file to send")
        start, end = run_window(job)
        z = zone(job.tz)
        local_from = start.replace(tzinfo=dt.UTC).astimezone(z)
        local_to = end.replace(tzinfo=dt.UTC).astimezone(z)
        options = job.options or {}
        ext = "parquet" if options.get("format") == "parquet" else "csv"
        name = delivered_name(job.workspace_id, job.export, local_from, local_to, job.id, ext)
        body = manifest(
            file_name=name, workspace=job.workspace_id, schedule=schedule.name, run_id=job.id,
            export=job.export, every=schedule.every, tz=job.tz, start=start, end=end,
            local_from=local_from, local_to=local_to, channels=list(job.channels or []),
            as_of=job.as_of, rows=int(job.rows or 0), size=int(job.bytes or 0),
            sha256=str(job.sha256), options=options, definitions_hash=definitions_hash(),
        )  # fmt: skip
        address, _ = parse_address(schedule.destination)
        with self._open(schedule, address) as destination:
            if isinstance(destination, SftpDestination) and schedule.host_key is None:
                schedule.host_key = destination.host_key  # pinned on first use
            path = destination.put_file(self.files / job.file_path, f"{job.export}/{name}")
            destination.put_bytes(body, f"{job.export}/{manifest_name(name)}")
        delivery.payload = {**(delivery.payload or {}), "path": path}

    def _open(self, schedule: Schedule, address: Address) -> FolderDestination | SftpDestination:
        if address.scheme == "file":
            return FolderDestination(address.folder)
        secret = self.box.open(schedule.secret) if schedule.secret else {}
        return SftpDestination(
            address, secret.get("password"), secret.get("private_key"), schedule.host_key,
            self.timeout,
        )  # fmt: skip


def senders(service: Service) -> Mapping[str, Any]:
    """The outbox senders of scheduled exports, for the Dispatcher."""
    s = service.settings
    sender = DestinationSender(
        service.files, s.destination_key, s.destination_timeout.total_seconds()
    )
    return {KIND: sender}


class Ticker:
    """A thread that ticks every `CXPORT_SCHEDULE_TICK` (serve and worker); daemon: a tick
    only inserts rows, each period once, so stopping between ticks loses nothing."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="cxport-ticker", daemon=True)

    def start(self) -> Ticker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        every = self.service.settings.schedule_tick.total_seconds()
        while True:
            try:
                made = tick(self.service)
                if made:
                    log.info("made %d scheduled runs", len(made))
            except Exception:  # the control database went away for a moment
                log.exception("ticking the schedules failed")
            if self._stop.wait(every):
                return
