"""Webhooks: a POST of `{"event", "export_request"}` signed with the webhook's secret:
`X-Cxport-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{raw body}">`."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import httpx
from sqlalchemy.orm import Session

from cxport.control.db import Delivery, Webhook


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class WebhookNotifier:
    timeout: float = 10.0

    def __call__(self, s: Session, delivery: Delivery) -> None:
        hook = s.get(Webhook, delivery.target)
        if hook is None:
            return  # removed since: nothing to send
        body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
        timestamp = str(int(time.time()))
        response = httpx.post(
            hook.url,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "cxport-webhook",
                "X-Cxport-Timestamp": timestamp,
                "X-Cxport-Signature": signature(hook.secret, timestamp, body),
            },
            timeout=self.timeout,
        )
        if response.status_code >= 300:
            raise RuntimeError(f"{hook.url} answered {response.status_code}")
