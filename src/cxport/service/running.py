"""Running export jobs: claimed, computed into a file, ended (and told), retried,
reaped, expired."""

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

from sqlalchemy import select

from cxport.control.db import ExportJob, User, utcnow
from cxport.errors import CxportError
from cxport.jobs import states
from cxport.jobs.queue import claim, expired_leases, heartbeat, take_turn, transition
from cxport.notify.outbox import notify_end
from cxport.service.requests import OPTION_DEFAULTS, ExportRequests
from cxport.service.store_access import StoreBusy

log = logging.getLogger("cxport.service")


@dataclass(frozen=True)
class Lease:
    job_id: str
    owner: str


class JobRunning(ExportRequests):
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
                # Never writes: it may read through the connection of an ingest.
                result = run_export(
                    con, request, part, progress=progress, on_cursor=on_cursor, refresh=False,
                    storing=self.store.storing_batch,
                )  # fmt: skip
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


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name) or "_"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()
