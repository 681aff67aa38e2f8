"""The control database: workspaces, users, tokens, export requests (the jobs),
notifications, webhooks and their deliveries. SQLite next to the store by
default, PostgreSQL by URL; the schema is Alembic's (`migrations/`)."""

from __future__ import annotations

import datetime as dt
import secrets
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


def utcnow() -> dt.datetime:
    """Now, as the control database keeps instants: naive UTC, to the microsecond."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def new_id() -> str:
    return secrets.token_hex(8)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: DateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Meta(Base):
    __tablename__ = "cx_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Workspace(Base):
    __tablename__ = "cx_workspaces"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "cx_users"
    __table_args__ = (UniqueConstraint("workspace_id", "email"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))  # admin | supervisor | agent
    channels: Mapped[list[str]] = mapped_column(default=list)  # a supervisor's
    password_hash: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Token(Base):
    __tablename__ = "cx_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(ForeignKey("cx_users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 hex
    name: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class ExportJob(Base):
    """An export request: its row is the truth (`jobs/states.py`)."""

    __tablename__ = "cx_export_requests"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    requested_by: Mapped[str] = mapped_column(ForeignKey("cx_users.id"), index=True)
    export: Mapped[str] = mapped_column(String(64))
    date_from: Mapped[dt.date] = mapped_column()
    date_to: Mapped[dt.date] = mapped_column()
    tz: Mapped[str] = mapped_column(String(64))
    channels: Mapped[list[str]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # lang, format, bom, excel, …
    as_of: Mapped[dt.datetime] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), index=True, default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    rows: Mapped[int | None] = mapped_column(Integer, default=None)
    bytes: Mapped[int | None] = mapped_column(Integer, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    file_name: Mapped[str | None] = mapped_column(String(400), default=None)
    file_path: Mapped[str | None] = mapped_column(Text, default=None)  # under the files folder
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[dt.datetime | None] = mapped_column(default=None)
    # A schedule's run (issue 20): one job per (schedule, period), by a unique index.
    schedule_id: Mapped[str | None] = mapped_column(String(32), default=None)
    period_start: Mapped[dt.datetime | None] = mapped_column(default=None)  # naive UTC
    __table_args__ = (
        Index("ux_cx_export_requests_schedule_period", "schedule_id", "period_start", unique=True),
    )


class Schedule(Base):
    """A named scheduled export, delivered to a destination (`jobs/schedules.py`)."""

    __tablename__ = "cx_schedules"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("cx_users.id"))
    name: Mapped[str] = mapped_column(String(200))
    export: Mapped[str] = mapped_column(String(64))
    every: Mapped[str] = mapped_column(String(8))  # hour | day | week
    tz: Mapped[str] = mapped_column(String(64))
    channels: Mapped[list[str]] = mapped_column(default=list)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)  # lang, format, include_content
    lateness: Mapped[int] = mapped_column(Integer, default=300)  # seconds
    since: Mapped[dt.datetime] = mapped_column()  # naive UTC: the first period's start
    destination: Mapped[str] = mapped_column(Text)  # sftp://user@host:port/folder | file:///folder
    secret: Mapped[str | None] = mapped_column(Text, default=None)  # Fernet token
    host_key: Mapped[str | None] = mapped_column(Text, default=None)  # pinned on first use
    state: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """In-app: what the page's bell and `GET /notifications` show."""

    __tablename__ = "cx_notifications"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("cx_users.id"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    export_request_id: Mapped[str | None] = mapped_column(String(32), default=None)
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Webhook(Base):
    __tablename__ = "cx_webhooks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Delivery(Base):
    """One e-mail or webhook POST to send, retried with backoff (the outbox)."""

    __tablename__ = "cx_deliveries"
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    workspace_id: Mapped[str] = mapped_column(ForeignKey("cx_workspaces.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # email | webhook
    target: Mapped[str] = mapped_column(Text)  # an address, or a webhook id
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(
        String(16), default="pending", index=True
    )  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class WebSession(Base):
    """A signed-in person (the web page's cookie holds the token; only its hash is kept)."""

    __tablename__ = "cx_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the cookie
    user_id: Mapped[str] = mapped_column(ForeignKey("cx_users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()


class Control:
    """A connected, migrated control database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        self.engine = _engine(url)
        migrate(self.engine)
        self.session = sessionmaker(self.engine, expire_on_commit=False)

    def secret(self, configured: str = "") -> bytes:
        """The key that signs links and sessions: the configured one, else one kept here
        (generated once, shared by every process of this control database)."""
        if configured:
            return configured.encode()
        with self.session.begin() as s:
            found = s.get(Meta, "secret_key")
            if found is None:
                s.add(Meta(key="secret_key", value=secrets.token_hex(32)))
        with self.session() as s:
            value = s.scalar(select(Meta.value).where(Meta.key == "secret_key"))
        return str(value).encode()

    def close(self) -> None:
        self.engine.dispose()


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con: Any, _: Any) -> None:
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the control database to Alembic's head."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def session_of(control: Control) -> Session:
    return control.session()
