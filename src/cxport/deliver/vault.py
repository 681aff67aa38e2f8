"""Destination secrets (SFTP passwords and private keys) encrypted at rest with Fernet,
under the key of the settings (`CXPORT_DESTINATION_KEY`); never logged, never shown."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from cxport.deliver import DeliveryError


def _fernet(key: str) -> Fernet:
    """A Fernet key as given, or one derived from any other secret text."""
    try:
        return Fernet(key.encode())
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


class SecretBox:
    """Seals and opens secrets; with several keys the first seals and any opens (rotation)."""

    def __init__(self, keys: str) -> None:
        fernets = [_fernet(k.strip()) for k in keys.split(",") if k.strip()]
        self._box = MultiFernet(fernets) if fernets else None

    @property
    def ready(self) -> bool:
        return self._box is not None

    def seal(self, secret: dict[str, Any]) -> str:
        assert self._box is not None, "no destination key"
        return self._box.encrypt(json.dumps(secret).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        if self._box is None:
            raise DeliveryError(
                "CXPORT_DESTINATION_KEY is not set: the destination's secret cannot be read"
            )
        try:
            value: dict[str, Any] = json.loads(self._box.decrypt(token.encode()))
        except InvalidToken:
            raise DeliveryError(
                "the destination's secret does not open with CXPORT_DESTINATION_KEY (was the key changed?)"
            ) from None
        return value
