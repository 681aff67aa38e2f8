"""Who may do what: users, tokens, passwords, sessions, and the channels a caller may see.

Roles: admin (every channel of the workspace; manages users, tokens, webhooks),
supervisor (the channels listed for them), agent (no exports). Only hashes of
tokens and session cookies are kept; passwords are hashed with argon2.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from cxport.control.db import Control, Token, User, WebSession, Workspace, utcnow
from cxport.errors import Forbidden, InvalidField, NotFound, Unauthorized

ROLES = ("admin", "supervisor", "agent")
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Principal:
    """The caller of a service function."""

    user_id: str
    email: str
    workspace: str
    role: str
    channels: tuple[str, ...]  # a supervisor's

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_export(self) -> None:
        if self.role == "agent":
            raise Forbidden("agents cannot request exports")

    def must_be_admin(self, what: str) -> None:
        if not self.is_admin:
            raise Forbidden(f"only an admin may {what}")

    def visible_channels(self, asked: tuple[str, ...]) -> tuple[str, ...]:
        """The channels an export of `asked` covers (empty: every channel, for an admin)."""
        if self.is_admin:
            return asked
        if not asked:
            if not self.channels:
                raise Forbidden("no channels are assigned to you")
            return self.channels
        denied = sorted(set(asked) - set(self.channels))
        if denied:
            raise Forbidden(f"channels: you may not see {', '.join(denied)}")
        return asked


def _principal(user: User) -> Principal:
    return Principal(user.id, user.email, user.workspace_id, user.role, tuple(user.channels or ()))


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    control: Control,
    workspace: str,
    email: str,
    role: str,
    channels: tuple[str, ...] = (),
    password: str | None = None,
) -> Principal:
    """Add (or update) a user; the first user of a workspace creates it."""
    if role not in ROLES:
        raise InvalidField("role", f"expected one of {', '.join(ROLES)}, got {role!r}")
    if "@" not in email:
        raise InvalidField("email", f"not an e-mail address: {email!r}")
    if role == "supervisor" and not channels:
        raise InvalidField("channel", "a supervisor needs at least one channel")
    if role != "supervisor" and channels:
        raise InvalidField("channel", f"channels are listed for supervisors only, not {role}s")
    with control.session.begin() as s:
        if s.get(Workspace, workspace) is None:
            s.add(Workspace(id=workspace))
            s.flush()
        user = s.scalar(select(User).where(User.workspace_id == workspace, User.email == email))
        if user is None:
            user = User(workspace_id=workspace, email=email, role=role, channels=list(channels))
            s.add(user)
        else:
            user.role, user.channels = role, list(channels)
        if password is not None:
            user.password_hash = _hasher.hash(password)
        s.flush()
        return _principal(user)


def find_user(control: Control, workspace: str, email: str) -> Principal:
    with control.session() as s:
        user = s.scalar(select(User).where(User.workspace_id == workspace, User.email == email))
        if user is None:
            raise NotFound(f"no user {email} in workspace {workspace}")
        return _principal(user)


def create_token(control: Control, workspace: str, email: str, name: str = "") -> str:
    """A new API token for the user; only its hash is kept, so it is shown once."""
    user = find_user(control, workspace, email)
    token = "cx_" + secrets.token_urlsafe(32)
    with control.session.begin() as s:
        s.add(Token(user_id=user.user_id, token_hash=token_hash(token), name=name))
    return token


def by_token(control: Control, token: str) -> Principal:
    with control.session.begin() as s:
        found = s.scalar(select(Token).where(Token.token_hash == token_hash(token)))
        if found is None:
            raise Unauthorized("unknown or revoked token")
        found.last_used_at = utcnow()
        user = s.get(User, found.user_id)
        assert user is not None
        return _principal(user)


def by_password(
    control: Control, email: str, password: str, workspace: str | None = None
) -> Principal:
    """The user with this e-mail and password (in `workspace`, or the only one with it)."""
    with control.session() as s:
        q = select(User).where(User.email == email)
        if workspace:
            q = q.where(User.workspace_id == workspace)
        users = list(s.scalars(q))
    for user in users:
        if user.password_hash is None:
            continue
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            continue
        return _principal(user)
    raise Unauthorized("wrong e-mail or password")


SESSION_TTL = dt.timedelta(hours=12)


def open_session(control: Control, principal: Principal) -> tuple[str, str]:
    """A new signed-in session: (the cookie's value, its CSRF token)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    with control.session.begin() as s:
        s.add(
            WebSession(
                id=token_hash(cookie),
                user_id=principal.user_id,
                csrf=csrf,
                expires_at=utcnow() + SESSION_TTL,
            )
        )
    return cookie, csrf


def by_session(control: Control, cookie: str) -> tuple[Principal, str]:
    """The session's user and CSRF token."""
    with control.session() as s:
        found = s.get(WebSession, token_hash(cookie))
        if found is None or found.expires_at < utcnow():
            raise Unauthorized("not signed in, or the session ended")
        user = s.get(User, found.user_id)
        assert user is not None
        return _principal(user), found.csrf


def close_session(control: Control, cookie: str) -> None:
    with control.session.begin() as s:
        found = s.get(WebSession, token_hash(cookie))
        if found is not None:
            s.delete(found)


def sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def verify_signature(secret: bytes, message: str, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, message), signature)
