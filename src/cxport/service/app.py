"""`Service`: the one facade every front end calls. Its layers: `base.py` (parts,
channels), `requests.py` (export requests), `running.py` (jobs); here access, ingest,
notifications and webhooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from cxport.control.db import Notification, Webhook, utcnow
from cxport.errors import (
    InvalidField,
    InvalidInput,
    NotFound,
)
from cxport.service import access
from cxport.service.access import Principal
from cxport.service.requests import OPTION_DEFAULTS, ExportAsk, _instant, field_of
from cxport.service.running import JobRunning, Lease, runner_name

__all__ = [
    "OPTION_DEFAULTS",
    "ExportAsk",
    "Lease",
    "Service",
    "field_of",
    "invalid_input_problems",
    "runner_name",
]


class Service(JobRunning):
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


def _notification(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id, "event": n.event, "export_request_id": n.export_request_id,
        "message": n.message, "created_at": _instant(n.created_at), "read": n.read_at is not None,
    }  # fmt: skip


def invalid_input_problems(exc: InvalidInput) -> list[dict[str, Any]]:
    """`{"line", "reason"}` of each problem of a rejected body (`source:line: reason`)."""
    out: list[dict[str, Any]] = []
    for p in exc.problems:
        m = re.match(r"^.*?:(\d+): (.*)$", p, re.S)
        out.append(
            {"line": int(m.group(1)), "reason": m.group(2)} if m else {"line": None, "reason": p}
        )
    return out
