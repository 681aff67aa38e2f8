"""Destinations of scheduled exports: a folder (`folder.py`) or an SFTP server
(`sftp.py`). Each writes a file under a temporary name and renames it when it is
complete, so a reader never sees a partial file under its final name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from cxport.errors import InvalidField


class DeliveryError(Exception):
    """A delivery that failed; the outbox retries it with backoff."""


@dataclass(frozen=True)
class Address:
    """Where a schedule's files go: `sftp://user@host:port/folder` or `file:///folder`."""

    scheme: str  # sftp | file
    folder: str  # absolute, POSIX
    user: str = ""
    host: str = ""
    port: int = 22

    def __str__(self) -> str:
        if self.scheme == "file":
            return f"file://{self.folder}"
        return f"sftp://{self.user}@{self.host}:{self.port}{self.folder}"


def parse_address(url: str) -> tuple[Address, str | None]:
    """The address, and a password written in the URL (kept apart: never shown)."""
    parts = urlsplit(url.strip())
    path = unquote(parts.path or "")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise InvalidField("to", f"expected file:///folder (an absolute path), got {url!r}")
        return Address("file", _clean(path)), None
    if parts.scheme == "sftp":
        if not parts.hostname or not parts.username:
            raise InvalidField("to", f"expected sftp://user@host:port/folder, got {url!r}")
        try:
            port = parts.port or 22
        except ValueError:
            raise InvalidField("to", f"the port of {url!r} is not a number") from None
        address = Address(
            "sftp", _clean(path or "/"), unquote(parts.username), parts.hostname, port
        )
        return address, unquote(parts.password) if parts.password else None
    raise InvalidField(
        "to", f"expected sftp://user@host:port/folder or file:///folder, got {url!r}"
    )


def _clean(path: str) -> str:
    clean = str(PurePosixPath("/" + path.lstrip("/")))
    if ".." in PurePosixPath(clean).parts:
        raise InvalidField("to", "the folder may not contain '..'")
    return clean


def temporary_name(name: str, token: str) -> str:
    """`.{name}.{token}.part`: hidden, and never the final name."""
    return f".{name}.{token}.part"


def is_temporary_of(name: str, candidate: str) -> bool:
    return re.fullmatch(rf"\.{re.escape(name)}\.[0-9a-f]+\.part", candidate) is not None
