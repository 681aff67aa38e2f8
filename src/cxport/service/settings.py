"""One typed settings object, read once at start (`CXPORT_*` variables); the core never
reads `os.environ`."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cxport.errors import UsageError
from cxport.limits import Limits


class Settings(BaseSettings):
    """The service's settings. Flags of `cxport serve` fill `db`, `control`, `files`,
    `base_url`; the rest come from `CXPORT_<NAME>` (e.g. `CXPORT_SMTP_HOST`)."""

    model_config = SettingsConfigDict(env_prefix="CXPORT_", extra="ignore")

    db: Path = Field(Path("cxport.duckdb"), description="The store (DuckDB file).")
    control: str = Field(
        "", description="Control database URL; default: an SQLite file next to the store."
    )
    files: Path | None = Field(
        None, description="Where finished files are kept; default: next to the store."
    )
    base_url: str = Field("", description="Public address used in links (e-mails, webhooks).")
    secret_key: str = Field(
        "",
        description="Signs download links and sessions; default: one generated and kept in the control database.",
    )

    runners: int = Field(
        2, ge=0, description="Job runners in this process (0: `cxport serve` only answers the API)."
    )
    max_running_per_workspace: int = Field(
        2, ge=1, description="Running export jobs per workspace; the rest wait."
    )
    max_pending_per_workspace: int = Field(
        500, ge=1, description="Queued and running requests per workspace before 429."
    )
    max_range_days: int = Field(400, ge=1, description="Longest date range of one export.")
    max_body_bytes: int = Field(
        256 * 1024 * 1024, ge=1, description="Largest request body (POST /records), in bytes."
    )
    retention: dt.timedelta = Field(
        dt.timedelta(days=30),
        description="How long finished files are kept (seconds or ISO 8601, e.g. P30D).",
    )
    link_ttl: dt.timedelta = Field(
        dt.timedelta(minutes=15), description="How long a signed download link works."
    )
    lease: dt.timedelta = Field(
        dt.timedelta(seconds=30),
        description="A job runner's lease; a job whose runner died is claimed again after it.",
    )
    heartbeat: dt.timedelta = Field(
        dt.timedelta(seconds=2),
        description="How often a runner extends its lease and writes progress.",
    )
    poll: dt.timedelta = Field(
        dt.timedelta(milliseconds=500), description="How often an idle runner looks for jobs."
    )
    stop_wait: dt.timedelta = Field(
        dt.timedelta(seconds=30),
        description="On SIGINT/SIGTERM, how long running jobs may finish before they are re-queued.",
    )
    max_attempts: int = Field(3, ge=1, description="Claims of one job before it is marked failed.")
    store_wait: dt.timedelta = Field(
        dt.timedelta(minutes=30),
        description="How long a job waits for the store (held by an ingest) before it fails.",
    )

    smtp_host: str = Field("", description="SMTP server for e-mail notifications; none: no e-mail.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_user: str = Field("", description="SMTP login (optional).")
    smtp_password: str = Field("", description="SMTP password (optional).")
    smtp_starttls: bool = Field(False, description="Use STARTTLS.")
    smtp_from: str = Field("cxport@localhost", description="Sender of notification e-mails.")
    notify_attempts: int = Field(6, ge=1, description="Tries of one e-mail or webhook delivery.")
    notify_backoff: dt.timedelta = Field(
        dt.timedelta(seconds=2), description="First retry delay; doubles each try."
    )
    webhook_timeout: dt.timedelta = Field(
        dt.timedelta(seconds=10), description="Timeout of one webhook POST."
    )
    destination_key: str = Field(
        "",
        description="Encrypts SFTP passwords and keys of schedules at rest (a Fernet key, or"
        " any long secret; several, comma-separated: the first encrypts); none: no SFTP secrets.",
    )
    sftp_password: str = Field(
        "", description="SFTP password `cxport schedule add` uses when given none (kept encrypted)."
    )
    sftp_key_file: str = Field(
        "", description="SFTP private key file `cxport schedule add` uses when given none."
    )
    schedule_tick: dt.timedelta = Field(
        dt.timedelta(seconds=30), description="How often serve and worker look for due schedules."
    )
    destination_folders: str = Field(
        "",
        description="Folders that file:// destinations may write under (comma-separated);"
        " empty: any folder this service may write.",
    )
    destination_timeout: dt.timedelta = Field(
        dt.timedelta(seconds=30), description="Timeout of one SFTP connection or transfer."
    )
    memory_limit: str = Field(
        "",
        description="Memory DuckDB may use for an ingest, a build or an export (e.g. 200MB,"
        " 4GB); past it, work spills to disk. Empty: an eighth of this machine's memory.",
    )
    temp_directory: Path | None = Field(
        None, description="Where work past the memory limit spills; default: <store>.tmp."
    )

    @field_validator(
        "retention", "link_ttl", "lease", "heartbeat", "poll", "store_wait", "notify_backoff", "stop_wait",
        "webhook_timeout", "schedule_tick", "destination_timeout", mode="before",
    )  # fmt: skip
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        """A duration may be given in seconds (`2`, `0.5`) as well as in ISO 8601 (`P30D`)."""
        if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d*)?\s*", value):
            return dt.timedelta(seconds=float(value))
        return value

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        try:
            Limits(memory=value).memory_bytes  # noqa: B018 (read to check it)
        except UsageError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def limits(self) -> Limits:
        return Limits(self.memory_limit, self.temp_directory)

    @property
    def control_url(self) -> str:
        return self.control or f"sqlite:///{self.db}.control.sqlite"

    @property
    def files_dir(self) -> Path:
        return self.files or Path(f"{self.db}.files")


def describe_settings() -> str:
    """The `CXPORT_*` variables, one a line (for `cxport serve --help`)."""
    skip = {"db", "control", "files", "base_url"}
    lines = []
    for name, field in Settings.model_fields.items():
        if name in skip:
            continue
        lines.append(f"CXPORT_{name.upper()}: {field.description} (default {field.default})")
    return "\n".join(lines)
