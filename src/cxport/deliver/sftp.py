"""An SFTP destination (`sftp://user@host:port/folder`, paramiko): a password or a
private key; the server's host key pinned on first use and checked on every later
connection; each file uploaded under a temporary name and renamed when complete."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import posixpath
import secrets
import socket
import stat
from pathlib import Path
from typing import Any

import paramiko

from cxport.deliver import Address, DeliveryError, is_temporary_of, temporary_name


class HostKeyMismatch(DeliveryError):
    """The server's host key is not the one pinned: someone may be in between."""


def fingerprint(host_key: str) -> str:
    """`SHA256:…` of a pinned key (`type base64`), as `ssh-keygen -l` shows it."""
    blob = base64.b64decode(host_key.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def load_private_key(text: str) -> paramiko.PKey:
    """An OpenSSH or PEM private key (Ed25519, ECDSA, RSA), without a passphrase."""
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            key: paramiko.PKey = kind.from_private_key(io.StringIO(text))
            return key
        except (paramiko.SSHException, ValueError):
            continue
    raise ValueError("not a private key this service reads (Ed25519, ECDSA or RSA, no passphrase)")


class SftpDestination:
    """One connection; `host_key` is the server's (`type base64`) once connected."""

    def __init__(
        self,
        address: Address,
        password: str | None = None,
        private_key: str | None = None,
        pinned: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.address = address
        self.password = password
        self.private_key = private_key
        self.pinned = pinned
        self.timeout = timeout
        self.host_key: str | None = None
        self._transport: paramiko.Transport | None = None
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> SftpDestination:
        a = self.address
        try:
            sock = socket.create_connection((a.host, a.port), timeout=self.timeout)
        except OSError as exc:
            raise DeliveryError(f"cannot connect to {a.host}:{a.port}: {exc}") from None
        transport = paramiko.Transport(sock)
        self._transport = transport
        try:
            transport.banner_timeout = self.timeout
            transport.auth_timeout = self.timeout
            transport.start_client(timeout=self.timeout)
            key = transport.get_remote_server_key()
            self.host_key = f"{key.get_name()} {key.get_base64()}"
            if self.pinned and self.pinned != self.host_key:
                raise HostKeyMismatch(
                    f"the host key of {a.host}:{a.port} changed: pinned {fingerprint(self.pinned)},"
                    f" offered {fingerprint(self.host_key)}; nothing was sent"
                )
            if self.private_key:
                transport.auth_publickey(a.user, load_private_key(self.private_key))
            elif self.password is not None:
                transport.auth_password(a.user, self.password)
            else:
                transport.auth_none(a.user)
            sftp = paramiko.SFTPClient.from_transport(transport)
            if sftp is None:
                raise DeliveryError(f"{a.host}:{a.port} opened no SFTP session")
            sftp.get_channel().settimeout(self.timeout)
            self._sftp = sftp
        except DeliveryError:
            self.__exit__()
            raise
        except (paramiko.SSHException, OSError, EOFError) as exc:
            self.__exit__()
            # paramiko's messages name no secret; the password is never in them.
            raise DeliveryError(f"{a.host}:{a.port}: {type(exc).__name__}: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sftp is not None:
            self._sftp.close()
            self._sftp = None
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def put_file(self, source: Path, relative: str) -> str:
        return self._put(relative, lambda sftp, tmp: sftp.put(str(source), tmp, confirm=True))

    def put_bytes(self, data: bytes, relative: str) -> str:
        return self._put(relative, lambda sftp, tmp: sftp.putfo(io.BytesIO(data), tmp))

    def _put(self, relative: str, upload: Any) -> str:
        sftp = self._sftp
        assert sftp is not None, "use SftpDestination as a context manager"
        final = posixpath.join(self.address.folder, relative)
        folder, name = posixpath.split(final)
        try:
            _makedirs(sftp, folder)
            for entry in sftp.listdir(folder):
                if is_temporary_of(name, entry):  # an interrupted earlier try
                    sftp.remove(posixpath.join(folder, entry))
            part = posixpath.join(folder, temporary_name(name, secrets.token_hex(4)))
            try:
                upload(sftp, part)
                sftp.posix_rename(part, final)  # replaces an earlier copy atomically
            except BaseException:
                with contextlib.suppress(OSError, paramiko.SSHException):
                    sftp.remove(part)
                raise
        except (OSError, paramiko.SSHException, EOFError) as exc:
            raise DeliveryError(f"{final}: {type(exc).__name__}: {exc}") from None
        return final


def _makedirs(sftp: paramiko.SFTPClient, folder: str) -> None:
    path = "/"
    for part in folder.strip("/").split("/"):
        if not part:
            continue
        path = posixpath.join(path, part)
        try:
            if not stat.S_ISDIR(sftp.stat(path).st_mode or 0):
                raise DeliveryError(f"{path} is not a folder")
        except FileNotFoundError:
            sftp.mkdir(path)
