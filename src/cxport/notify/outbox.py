"""The outbox: deliveries written with the job's end, sent later, retried with backoff."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cxport.control.db import Control, Delivery, Notification, Webhook, utcnow

log = logging.getLogger("cxport.notify")

SEND_LEASE = dt.timedelta(seconds=120)  # a delivery being sent is not taken by another process


def notify_end(
    s: Session,
    *,
    workspace: str,
    user_id: str,
    email: str | None,
    event: str,
    job_id: str,
    message: str,
    mail: Mapping[str, str] | None,
    hook_body: Mapping[str, Any],
) -> None:
    """Record every notification of a job's end, in the session that ends it."""
    s.add(
        Notification(
            workspace_id=workspace,
            user_id=user_id,
            event=event,
            export_request_id=job_id,
            message=message,
        )
    )
    if mail is not None and email:
        s.add(Delivery(workspace_id=workspace, kind="email", target=email, payload=dict(mail)))
    for hook in s.scalars(select(Webhook).where(Webhook.workspace_id == workspace)):
        s.add(
            Delivery(
                workspace_id=workspace, kind="webhook", target=hook.id, payload=dict(hook_body)
            )
        )


Sender = Callable[[Session, Delivery], None]


class Dispatcher:
    """Sends due deliveries until stopped; each try that fails waits `backoff` × 2^(n-1)."""

    def __init__(
        self,
        control: Control,
        senders: Mapping[str, Sender],
        attempts: int,
        backoff: dt.timedelta,
        poll: float = 0.2,
    ) -> None:
        self.control = control
        self.senders = senders
        self.attempts = attempts
        self.backoff = backoff
        self.poll = poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cxport-notify", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.send_due()
            except Exception:  # the control database went away for a moment: try again
                log.exception("notification dispatch failed")
                busy = False
            if not busy:
                self._stop.wait(self.poll)

    def _take(self) -> str | None:
        now = utcnow()
        with self.control.session.begin() as s:
            due = (
                select(Delivery.id)
                .where(Delivery.state == "pending", Delivery.next_at <= now)
                .order_by(Delivery.next_at)
                .limit(1)
            )
            if self.control.is_postgres:
                due = due.with_for_update(skip_locked=True)
            taken: str | None = s.execute(
                update(Delivery)
                .where(Delivery.id == due.scalar_subquery(), Delivery.state == "pending")
                .values(next_at=now + SEND_LEASE)
                .returning(Delivery.id)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
            return taken

    def send_due(self) -> bool:
        """Send one due delivery; True if there was one."""
        taken = self._take()
        if taken is None:
            return False
        with self.control.session.begin() as s:
            delivery = s.get(Delivery, taken)
            assert delivery is not None
            delivery.attempts += 1
            try:
                self.senders[delivery.kind](s, delivery)
            except Exception as exc:
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                if delivery.attempts >= self.attempts:
                    delivery.state = "failed"
                    log.warning("giving up %s delivery %s: %s", delivery.kind, delivery.id, exc)
                else:
                    wait = self.backoff * (2 ** (delivery.attempts - 1))
                    delivery.next_at = utcnow() + wait
            else:
                delivery.state, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
        return True
