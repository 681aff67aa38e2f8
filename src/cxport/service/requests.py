"""Export requests: asked, checked, queued, listed, cancelled, downloaded; their objects
(`service.md`) and signed links."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from cxport.control.db import ExportJob, User, utcnow
from cxport.errors import (
    Conflict,
    Gone,
    InvalidField,
    NotFound,
    TooMany,
    UsageError,
)
from cxport.exports.request import ExportRequest
from cxport.jobs import states
from cxport.jobs.queue import transition
from cxport.service import access
from cxport.service.access import Principal
from cxport.service.base import ServiceBase

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


def field_of(exc: UsageError) -> str | None:
    """The request field a core error names (`--tz: …`, `tz: …`, `--to is before --from`)."""
    if isinstance(exc, InvalidField):
        return exc.field
    m = re.match(r"^-{0,2}([a-z_-]+)(:| is )", str(exc))
    return m.group(1).replace("-", "_") if m else None


class ExportRequests(ServiceBase):
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


def _instant(t: dt.datetime | None) -> str | None:
    if t is None:
        return None
    return t.isoformat(timespec="milliseconds") + "Z"
