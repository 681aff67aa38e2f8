"""`Service`: settings, the control database, the store, and the service functions."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from cxport.control.db import Control, ExportJob, Notification, User, Webhook, utcnow
from cxport.errors import (
    Conflict,
    CxportError,
    Gone,
    InvalidField,
    InvalidInput,
    NotFound,
    TooMany,
    UsageError,
)
from cxport.exports.request import ExportRequest
from cxport.jobs import states
from cxport.jobs.queue import Limits, claim, expired_leases, heartbeat, take_turn, transition
from cxport.notify.outbox import notify_end
from cxport.service import access
from cxport.service.access import Principal
from cxport.service.settings import Settings
from cxport.service.store_access import StoreAccess, StoreBusy

log = logging.getLogger("cxport.service")

STORE_GLANCE = 0.5  # seconds the API waits for a store that an ingest holds

OPTION_DEFAULTS: dict[str, Any] = {
    "lang": "en", "format": "csv", "bom": False, "excel": False,
    "delimiter": None, "decimal": None, "formula_guard": True,
}  # fmt: skip


@dataclass(frozen=True)
class ExportAsk:
    """What a caller asks for (`POST /exports`, the page's form, the CLI)."""

    export: str
    date_from: dt.date
    date_to: dt.date
    tz: str = "UTC"
    channels: tuple[str, ...] = ()
    as_of: dt.datetime | None = None  # aware; None: the instant it is accepted
    options: tuple[tuple[str, Any], ...] = ()  # lang, format, bom, excel, delimiter, decimal


@dataclass(frozen=True)
class Lease:
    job_id: str
    owner: str


def field_of(exc: UsageError) -> str | None:
    """The request field a core error names (`--tz: …`, `tz: …`, `--to is before --from`)."""
    if isinstance(exc, InvalidField):
        return exc.field
    m = re.match(r"^-{0,2}([a-z_-]+)(:| is )", str(exc))
    return m.group(1).replace("-", "_") if m else None


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.control = Control(settings.control_url)
        self.store = StoreAccess(settings.db, wait=settings.store_wait.total_seconds())
        self.files = settings.files_dir
        self.files.mkdir(parents=True, exist_ok=True)
        self.secret = self.control.secret(settings.secret_key)
        self._channels_seen: dict[str, tuple[object, list[tuple[str, str, str]]]] = {}
        self.wake = threading.Event()  # a job was queued here: this process's runners look now
        self.limits = Limits(
            settings.lease, settings.max_running_per_workspace, settings.max_attempts
        )

    def close(self) -> None:
        self.control.close()

    # -- access ---------------------------------------------------------------------

    def add_user(
        self, workspace: str, email: str, role: str, channels: tuple[str, ...] = (),
        password: str | None = None,
    ) -> Principal:  # fmt: skip
        return access.add_user(self.control, workspace, email, role, channels, password)

    def create_token(self, workspace: str, email: str, name: str = "") -> str:
        return access.create_token(self.control, workspace, email, name)

    def by_token(self, token: str) -> Principal:
        return access.by_token(self.control, token)

    def sign_in(self, email: str, password: str) -> tuple[Principal, str, str]:
        """(the user, the session cookie, its CSRF token)."""
        who = access.by_password(self.control, email, password)
        cookie, csrf = access.open_session(self.control, who)
        return who, cookie, csrf

    def by_session(self, cookie: str) -> tuple[Principal, str]:
        return access.by_session(self.control, cookie)

    def sign_out(self, cookie: str) -> None:
        access.close_session(self.control, cookie)

    # -- ingest ---------------------------------------------------------------------

    def ingest(
        self, workspace: str, run: Callable[[Any], Any], facts: bool = True
    ) -> tuple[Any, Any]:
        """Store batches (`run(connection)` → the summary), then refresh the kept facts
        (`service/ingest.py`); (summary, kept facts)."""
        from cxport.service.ingest import ingest

        return ingest(self.store, workspace, run, facts)

    def ingest_body(self, who: Principal, body: bytes) -> dict[str, Any]:
        """`POST /records`: one NDJSON body, one atomic batch, into the caller's workspace."""
        from cxport.ingest import ingest_bytes

        who.must_be_admin("ingest records")
        summary, _ = self.ingest(
            who.workspace, lambda con: ingest_bytes(con, body, workspace=who.workspace)
        )
        batch = summary.batches[-1] if summary.batches else None
        return {
            "stored": summary.total_stored,
            "duplicates": summary.duplicates,
            "rejected": summary.rejected,
            "batch_id": getattr(batch, "batch_id", None),
            "warnings": summary.warnings,
        }

    def _channel_rows(self, workspace: str) -> list[tuple[str, str, str]] | None:
        """(id, name, medium) of the workspace's channels, latest versions. Read again only
        when the store's files changed since; the last seen while an ingest holds the store
        for more than a moment (None if never seen): the API does not wait for the store."""
        version = _file_version(self.settings.db)
        seen = self._channels_seen.get(workspace)
        if seen is not None and seen[0] == version:
            return seen[1]
        try:
            with self.store.read(wait=STORE_GLANCE) as con:
                rows = con.execute(
                    'SELECT channel_id, arg_max(name, "at"), arg_max(medium, "at")'
                    " FROM r_channel WHERE workspace = ? GROUP BY channel_id ORDER BY channel_id",
                    [workspace],
                ).fetchall()
        except StoreBusy:
            return seen[1] if seen is not None else None
        found = [(str(a), str(b or a), str(c)) for a, b, c in rows]
        self._channels_seen[workspace] = (version, found)
        return found

    def known_channels(self, workspace: str) -> set[str]:
        """The ids of the workspace's channels (as last seen, while an ingest holds the store)."""
        return {r[0] for r in self._channel_rows(workspace) or []}

    def channels(self, who: Principal) -> list[dict[str, Any]]:
        """The channels `who` may export, with their names."""
        who.may_export()
        rows = self._channel_rows(who.workspace)
        if rows is None:
            raise StoreBusy("the store is being written; try again in a moment")
        allowed = None if who.is_admin else set(who.channels)
        return [
            {"id": cid, "name": name, "medium": medium}
            for cid, name, medium in rows
            if allowed is None or cid in allowed
        ]

    # -- export requests ------------------------------------------------------------

    def request_export(
        self, who: Principal, ask: ExportAsk, now: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Check and queue an export request; its object."""
        who.may_export()
        now = now or utcnow()
        options = {**OPTION_DEFAULTS, **dict(ask.options)}
        unknown = sorted(set(options) - set(OPTION_DEFAULTS))
        if unknown:
            raise InvalidField(unknown[0], "unknown option")
        channels = tuple(dict.fromkeys(ask.channels))
        rows = self._channel_rows(who.workspace)
        known = {r[0] for r in rows} if rows is not None else set(channels)  # else: the job checks
        missing = sorted(set(channels) - known)
        if missing:
            raise InvalidField(
                "channels",
                f"unknown channel {', '.join(missing)} (known: {', '.join(sorted(known)) or 'none yet'})",
            )
        channels = who.visible_channels(channels)
        as_of = ask.as_of.astimezone(dt.UTC).replace(tzinfo=None) if ask.as_of else now
        as_of = as_of.replace(microsecond=as_of.microsecond - as_of.microsecond % 1000)
        request = self._request(who.workspace, ask.export, ask.date_from, ask.date_to, ask.tz,
                                channels, as_of, options, "")  # fmt: skip
        from cxport.exports.runner import export_def

        try:
            export_def(request.export)
        except UsageError as exc:
            raise InvalidField("export", str(exc).removeprefix("unknown export ")) from None
        days = (ask.date_to - ask.date_from).days + 1
        if days > self.settings.max_range_days:
            raise InvalidField(
                "to",
                f"the range is {days} days; at most {self.settings.max_range_days} are allowed",
            )
        with self.control.session.begin() as s:
            pending = s.scalar(
                select(func.count())
                .select_from(ExportJob)
                .where(
                    ExportJob.workspace_id == who.workspace,
                    ExportJob.state.in_((states.QUEUED, states.RUNNING)),
                )
            )
            if (pending or 0) >= self.settings.max_pending_per_workspace:
                raise TooMany(
                    f"{pending} export requests are waiting or running in this workspace; try again when some are done"
                )
            job = ExportJob(
                workspace_id=who.workspace, requested_by=who.user_id, export=ask.export,
                date_from=ask.date_from, date_to=ask.date_to, tz=ask.tz,
                channels=list(channels), options=options, as_of=as_of, created_at=now,
            )  # fmt: skip
            s.add(job)
            s.flush()
            obj = self.job_object(job, who.email)
        self.wake.set()
        return obj

    @staticmethod
    def _request(
        workspace: str, export: str, date_from: dt.date, date_to: dt.date, tz: str,
        channels: tuple[str, ...], as_of: dt.datetime, options: dict[str, Any], request_id: str,
    ) -> ExportRequest:  # fmt: skip
        try:
            return ExportRequest(
                export=export, date_from=date_from, date_to=date_to, tz=tz, channels=channels,
                as_of=as_of.replace(tzinfo=dt.UTC), workspace=workspace, request_id=request_id,
                **options,
            )  # fmt: skip
        except InvalidField:
            raise
        except UsageError as exc:
            field = field_of(exc) or "request"
            reason = re.sub(r"^-{0,2}[a-z_-]+: ", "", str(exc))
            raise InvalidField(field, reason) from None

    def _visible(self, who: Principal, s: Any, job_id: str) -> ExportJob:
        job = s.get(ExportJob, job_id)
        if job is None or job.workspace_id != who.workspace:
            raise NotFound(f"no export request {job_id}")
        if not who.is_admin and job.requested_by != who.user_id:
            raise NotFound(f"no export request {job_id}")
        return job

    def get_export(self, who: Principal, job_id: str) -> dict[str, Any]:
        who.may_export()
        with self.control.session() as s:
            job = self._visible(who, s, job_id)
            return self.job_object(job, self._email(s, job.requested_by))

    def list_exports(
        self, who: Principal, state: str | None = None, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        """Newest first; `cursor` is the `next_cursor` of the page before."""
        who.may_export()
        if state is not None and state not in states.STATES:
            raise InvalidField("state", f"expected one of {', '.join(states.STATES)}")
        if not 1 <= limit <= 500:
            raise InvalidField("limit", "expected 1 to 500")
        q = select(ExportJob).where(ExportJob.workspace_id == who.workspace)
        if not who.is_admin:
            q = q.where(ExportJob.requested_by == who.user_id)
        if state:
            q = q.where(ExportJob.state == state)
        if cursor:
            try:
                at_text, last_id = cursor.split("~", 1)
                at = dt.datetime.fromisoformat(at_text)
            except ValueError:
                raise InvalidField("cursor", "not a cursor this service gave") from None
            q = q.where(
                (ExportJob.created_at < at)
                | ((ExportJob.created_at == at) & (ExportJob.id < last_id))
            )
        q = q.order_by(ExportJob.created_at.desc(), ExportJob.id.desc()).limit(limit + 1)
        with self.control.session() as s:
            jobs = list(s.scalars(q))
            emails = {
                u.id: u.email
                for u in s.scalars(select(User).where(User.workspace_id == who.workspace))
            }
        more = len(jobs) > limit
        jobs = jobs[:limit]
        items = [self.job_object(j, emails.get(j.requested_by, "")) for j in jobs]
        nxt = f"{jobs[-1].created_at.isoformat()}~{jobs[-1].id}" if more else None
        return {"items": items, "next_cursor": nxt}

    def cancel(self, who: Principal, job_id: str) -> dict[str, Any]:
        who.may_export()
        with self.control.session.begin() as s:
            job = self._visible(who, s, job_id)
            if not transition(s, job_id, states.CANCELLED, {"finished_at": utcnow()}):
                raise Conflict(
                    f"export request {job_id} is {job.state}: only a queued or running one can be cancelled"
                )
            s.refresh(job)
            return self.job_object(job, self._email(s, job.requested_by))

    def export_file(
        self, who: Principal | None, job_id: str, expires: str | None = None, sig: str | None = None
    ) -> tuple[Path, str, str]:
        """(path, file name, SHA-256) of a succeeded request's file: for `who`, or for
        anyone holding a signed link (`expires`, `sig`) that has not expired."""
        with self.control.session() as s:
            if who is not None:
                who.may_export()
                job = self._visible(who, s, job_id)
            else:
                found = s.get(ExportJob, job_id)
                if found is None or not self._link_valid(job_id, expires, sig):
                    raise NotFound(f"no export request {job_id}, or the link expired")
                job = found
            if job.state == states.EXPIRED:
                raise Gone(
                    f"the file of export request {job_id} expired on {job.expires_at:%Y-%m-%d %H:%M} UTC and was deleted"
                )
            if job.state != states.SUCCEEDED or not job.file_path:
                raise Conflict(
                    f"export request {job_id} is {job.state}: its file is ready once it has succeeded"
                )
            return self.files / job.file_path, str(job.file_name), str(job.sha256)

    # -- signed links ---------------------------------------------------------------

    def download_link(self, job_id: str, now: dt.datetime | None = None) -> str:
        expires = int(
            ((now or utcnow()) + self.settings.link_ttl).replace(tzinfo=dt.UTC).timestamp()
        )
        sig = access.sign(self.secret, f"file:{job_id}:{expires}")
        query = urlencode({"expires": expires, "sig": sig})
        return f"{self.settings.base_url.rstrip('/')}/api/v1/exports/{job_id}/file?{query}"

    def _link_valid(self, job_id: str, expires: str | None, sig: str | None) -> bool:
        if not expires or not sig or not expires.isdigit():
            return False
        if int(expires) < utcnow().replace(tzinfo=dt.UTC).timestamp():
            return False
        return access.verify_signature(self.secret, f"file:{job_id}:{expires}", sig)

    # -- objects --------------------------------------------------------------------

    @staticmethod
    def _email(s: Any, user_id: str) -> str:
        user = s.get(User, user_id)
        return user.email if user is not None else ""

    def job_object(self, job: ExportJob, requested_by: str) -> dict[str, Any]:
        """The export request object of `service.md`."""
        options = {**OPTION_DEFAULTS, **(job.options or {})}
        return {
            "id": job.id,
            "export": job.export,
            "from": job.date_from.isoformat(),
            "to": job.date_to.isoformat(),
            "tz": job.tz,
            "channels": list(job.channels or []),
            **{k: options[k] for k in ("lang", "format", "bom", "excel", "delimiter", "decimal")},
            "as_of": _instant(job.as_of),
            "state": job.state,
            "progress": round(job.progress or 0.0, 4),
            "rows": job.rows,
            "bytes": job.bytes,
            "sha256": job.sha256,
            "error": job.error,
            "requested_by": requested_by,
            "created_at": _instant(job.created_at),
            "started_at": _instant(job.started_at),
            "finished_at": _instant(job.finished_at),
            "expires_at": _instant(job.expires_at),
            "attempts": job.attempts,
            "file_name": job.file_name,
            "download_url": self.download_link(job.id) if job.state == states.SUCCEEDED else None,
        }

    # -- running jobs ---------------------------------------------------------------

    def claim(self, owner: str) -> Lease | None:
        job = claim(self.control, owner, self.limits)
        return None if job is None or job.lease_owner is None else Lease(job.id, job.lease_owner)

    def heartbeat(self, lease: Lease, progress: float) -> bool:
        return heartbeat(self.control, lease.job_id, lease.owner, self.settings.lease, progress)

    def run_export_job(
        self, lease: Lease, progress: Callable[[float], None], on_cursor: Callable[[Any], None]
    ) -> None:
        """Compute a claimed job's file: written under a temporary name, renamed when
        complete, and only then the job marked succeeded (by its lease holder only)."""
        from cxport.exports import run_export

        with self.control.session() as s:
            job = s.get(ExportJob, lease.job_id)
            assert job is not None
            attempt = job.attempts
            options = {**OPTION_DEFAULTS, **(job.options or {})}
            request = self._request(job.workspace_id, job.export, job.date_from, job.date_to, job.tz,
                                    tuple(job.channels or ()), job.as_of, options, job.id)  # fmt: skip
        folder = self.files / _safe(job.workspace_id)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob(f".{job.id}.*.part"):
            stale.unlink(missing_ok=True)  # a dead runner's
        ext = "parquet" if request.format == "parquet" else "csv"
        part = folder / f".{job.id}.{attempt}.part"
        final = folder / f"{job.id}.{attempt}.{ext}"
        try:
            with self.store.read() as con:
                result = run_export(con, request, part, progress=progress, on_cursor=on_cursor)
            digest = _sha256(part)
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        values: dict[str, Any] = {
            "rows": result.rows, "bytes": result.bytes, "sha256": digest, "progress": 1.0,
            "file_name": request.file_name(job.id), "file_path": f"{_safe(job.workspace_id)}/{final.name}",
            "error": None, "lease_owner": None, "lease_until": None,
        }  # fmt: skip
        with self.control.session.begin() as s:
            take_turn(s, self.control)  # the instants of starts and ends in their order
            now = utcnow()
            values |= {"finished_at": now, "expires_at": now + self.settings.retention}
            if transition(s, job.id, states.SUCCEEDED, values, owner=lease.owner):
                self._notify(s, job.id)
                return
        final.unlink(missing_ok=True)  # cancelled, or the lease went to another runner

    def job_failed(self, lease: Lease, exc: BaseException) -> None:
        """A job's run raised: retried while it has attempts left and the error may pass;
        failed (and its requester told) otherwise."""
        permanent = isinstance(exc, CxportError) and not isinstance(exc, StoreBusy)
        message = str(exc) if isinstance(exc, CxportError) else f"{type(exc).__name__}: {exc}"
        with self.control.session.begin() as s:
            job = s.get(ExportJob, lease.job_id)
            if job is None:
                return
            if not permanent and job.attempts < self.settings.max_attempts:
                transition(
                    s,
                    job.id,
                    states.QUEUED,
                    {"lease_owner": None, "lease_until": None, "error": message},
                    owner=lease.owner,
                )
                return
            if transition(
                s,
                job.id,
                states.FAILED,
                {
                    "error": message,
                    "finished_at": utcnow(),
                    "lease_owner": None,
                    "lease_until": None,
                },
                owner=lease.owner,
            ):
                self._notify(s, job.id)

    def release(self, lease: Lease) -> None:
        """A runner that stops before its job is done gives it back to the queue."""
        with self.control.session.begin() as s:
            transition(
                s,
                lease.job_id,
                states.QUEUED,
                {"lease_owner": None, "lease_until": None, "attempts": ExportJob.attempts - 1},
                owner=lease.owner,
            )

    def interrupt(self) -> None:
        """Runners are stopping: jobs waiting for the store stop waiting."""
        self.store.abort.set()

    def reap(self) -> int:
        """Fail the jobs whose runners died on every attempt; expire old files."""
        n = 0
        with self.control.session.begin() as s:
            for job in expired_leases(s, self.settings.max_attempts):
                error = f"its runner stopped {job.attempts} times before finishing"
                if transition(
                    s,
                    job.id,
                    states.FAILED,
                    {
                        "error": error,
                        "finished_at": utcnow(),
                        "lease_owner": None,
                        "lease_until": None,
                    },
                ):
                    self._notify(s, job.id)
                    n += 1
        return n + self.expire_files()

    def expire_files(self, now: dt.datetime | None = None) -> int:
        """Delete the files past their retention; their requests become expired."""
        now = now or utcnow()
        with self.control.session.begin() as s:
            old = list(
                s.scalars(
                    select(ExportJob).where(
                        ExportJob.state == states.SUCCEEDED, ExportJob.expires_at < now
                    )
                )
            )
            for job in old:
                if job.file_path:
                    (self.files / job.file_path).unlink(missing_ok=True)
                transition(s, job.id, states.EXPIRED)
        return len(old)

    def _notify(self, s: Any, job_id: str) -> None:
        job = s.get(ExportJob, job_id)
        s.refresh(job)
        user = s.get(User, job.requested_by)
        obj = self.job_object(job, user.email if user else "")
        ok = job.state == states.SUCCEEDED
        event = "export.succeeded" if ok else "export.failed"
        span = f"{job.date_from:%Y-%m-%d} to {job.date_to:%Y-%m-%d}"
        if ok:
            message = f"Your {job.export} export ({span}, {job.tz}) is ready: {job.rows} rows."
        else:
            message = f"Your {job.export} export ({span}, {job.tz}) failed: {job.error}"
        mail = None
        if self.settings.smtp_host:
            body = message + "\n\n"
            if ok:
                body += (f"Download it (the link works for {self.settings.link_ttl}; afterwards sign in to get a new one):\n"
                         f"{obj['download_url']}\n")  # fmt: skip
            mail = {
                "subject": f"cxport: {job.export} export {span} {'ready' if ok else 'failed'}",
                "body": body,
            }
        notify_end(
            s, workspace=job.workspace_id, user_id=job.requested_by, email=user.email if user else None,
            event=event, job_id=job.id, message=message, mail=mail,
            hook_body={"event": event, "export_request": obj},
        )  # fmt: skip
        from cxport.service import schedules  # a schedule's run goes to its destination (issue 20)

        schedules.deliver_run(s, job)

    # -- notifications and webhooks -------------------------------------------------

    def notifications(
        self, who: Principal, unread: bool = False, limit: int = 100
    ) -> list[dict[str, Any]]:
        q = select(Notification).where(
            Notification.workspace_id == who.workspace, Notification.user_id == who.user_id
        )
        if unread:
            q = q.where(Notification.read_at.is_(None))
        q = q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
        with self.control.session() as s:
            return [_notification(n) for n in s.scalars(q)]

    def read_notification(self, who: Principal, notification_id: str) -> dict[str, Any]:
        with self.control.session.begin() as s:
            n = s.get(Notification, notification_id)
            if n is None or n.workspace_id != who.workspace or n.user_id != who.user_id:
                raise NotFound(f"no notification {notification_id}")
            n.read_at = n.read_at or utcnow()
            return _notification(n)

    def add_webhook(self, who: Principal, url: str, secret: str | None = None) -> dict[str, Any]:
        who.must_be_admin("manage webhooks")
        if not re.match(r"^https?://", url):
            raise InvalidField("url", "expected an http:// or https:// address")
        import secrets as _secrets

        with self.control.session.begin() as s:
            hook = Webhook(
                workspace_id=who.workspace, url=url, secret=secret or _secrets.token_hex(24)
            )
            s.add(hook)
            s.flush()
            return {
                "id": hook.id,
                "url": hook.url,
                "secret": hook.secret,
                "created_at": _instant(hook.created_at),
            }

    def webhooks(self, who: Principal) -> list[dict[str, Any]]:
        who.must_be_admin("manage webhooks")
        with self.control.session() as s:
            hooks = s.scalars(select(Webhook).where(Webhook.workspace_id == who.workspace))
            return [{"id": h.id, "url": h.url, "created_at": _instant(h.created_at)} for h in hooks]

    def remove_webhook(self, who: Principal, hook_id: str) -> None:
        who.must_be_admin("manage webhooks")
        with self.control.session.begin() as s:
            hook = s.get(Webhook, hook_id)
            if hook is None or hook.workspace_id != who.workspace:
                raise NotFound(f"no webhook {hook_id}")
            s.delete(hook)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _instant(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    return t.isoformat(timespec="milliseconds") + "Z"


def _notification(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id, "event": n.event, "export_request_id": n.export_request_id,
        "message": n.message, "created_at": _instant(n.created_at), "read": n.read_at is not None,
    }  # fmt: skip


def _file_version(db: Path) -> object:
    """What changes whenever the store is written: its file's and its log's size and time."""
    out: list[tuple[int, int, int] | None] = []
    for path in (db, Path(f"{db}.wal")):
        try:
            st = path.stat()
        except FileNotFoundError:
            out.append(None)
            continue
        out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def invalid_input_problems(exc: InvalidInput) -> list[dict[str, Any]]:
    """`{"line", "reason"}` of each problem of a rejected body (`source:line: reason`)."""
    out: list[dict[str, Any]] = []
    for p in exc.problems:
        m = re.match(r"^.*?:(\d+): (.*)$", p, re.S)
        out.append(
            {"line": int(m.group(1)), "reason": m.group(2)} if m else {"line": None, "reason": p}
        )
    return out
