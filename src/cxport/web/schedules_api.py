"""The schedules' routes (issue 20), under `/api/v1/schedules`: each parses, calls one
function of `service/schedules.py`, renders. Admin only; secrets go in, never out."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from cxport.service import schedules
from cxport.service.app import Service
from cxport.web.api import Caller

router = APIRouter(tags=["schedules"])


class ScheduleFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, description="Unique in the workspace.")
    export: str | None = Field(None, description="One of the twelve export names.")
    every: Literal["hour", "day", "week"] | None = Field(
        None, description="The period: an hour, a day or an ISO week of `tz`."
    )
    to: str | None = Field(None, description="sftp://user@host:port/folder or file:///folder")
    tz: str | None = Field(None, description="IANA time zone of the periods and the file.")
    channels: list[str] | None = Field(None, description="Empty: every channel.")
    lang: Literal["en", "pt-BR", "id"] | None = None
    format: Literal["csv", "parquet"] | None = None
    include_content: bool | None = Field(None, description="Include message text.")
    lateness: str | int | None = Field(
        None, description="Wait this long after a period ends (5m, 1h, or seconds)."
    )
    since: dt.date | None = Field(
        None, description="First local day delivered; default: the period in progress."
    )
    password: SecretStr | None = Field(None, description="SFTP password (kept encrypted).")
    private_key: SecretStr | None = Field(
        None, description="SFTP private key, OpenSSH or PEM (kept encrypted)."
    )

    def ask(self) -> schedules.ScheduleAsk:
        lateness = None
        if self.lateness is not None:
            lateness = schedules.parse_duration(str(self.lateness))
        return schedules.ScheduleAsk(
            name=self.name, export=self.export, every=self.every, to=self.to, tz=self.tz,
            channels=tuple(self.channels) if self.channels is not None else None,
            lang=self.lang, format=self.format, include_content=self.include_content,
            lateness=lateness, since=self.since,
            password=self.password.get_secret_value() if self.password else None,
            private_key=self.private_key.get_secret_value() if self.private_key else None,
        )  # fmt: skip


class NewSchedule(ScheduleFields):
    name: str = Field(description="Unique in the workspace.")
    export: str = Field(description="One of the twelve export names.")
    every: Literal["hour", "day", "week"] = Field(description="hour, day or week.")
    to: str = Field(description="sftp://user@host:port/folder or file:///folder")


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


@router.post("/schedules", status_code=201)
def add_schedule(body: NewSchedule, who: Caller, request: Request) -> dict[str, Any]:
    """Make a schedule (admin): its runs export each complete period and deliver it."""
    return schedules.add_schedule(_service(request), who, body.ask())


@router.get("/schedules")
def list_schedules(who: Caller, request: Request) -> dict[str, Any]:
    return {"items": schedules.list_schedules(_service(request), who)}


@router.get("/schedules/{schedule}")
def get_schedule(schedule: str, who: Caller, request: Request) -> dict[str, Any]:
    """One schedule, by id or name."""
    return schedules.get_schedule(_service(request), who, schedule)


@router.patch("/schedules/{schedule}")
def edit_schedule(
    schedule: str, body: ScheduleFields, who: Caller, request: Request
) -> dict[str, Any]:
    """Change the fields given; periods already made are not made again."""
    return schedules.edit_schedule(_service(request), who, schedule, body.ask())


@router.post("/schedules/{schedule}/pause")
def pause_schedule(schedule: str, who: Caller, request: Request) -> dict[str, Any]:
    return schedules.set_state(_service(request), who, schedule, "paused")


@router.post("/schedules/{schedule}/resume")
def resume_schedule(schedule: str, who: Caller, request: Request) -> dict[str, Any]:
    """Go on from the period in progress."""
    return schedules.set_state(_service(request), who, schedule, "active")


@router.delete("/schedules/{schedule}", status_code=204)
def delete_schedule(schedule: str, who: Caller, request: Request) -> None:
    schedules.delete_schedule(_service(request), who, schedule)


@router.get("/schedules/{schedule}/runs")
def list_runs(schedule: str, who: Caller, request: Request, limit: int = 50) -> dict[str, Any]:
    """The runs, newest period first: state, attempts and last error of the export and
    of its delivery."""
    return {"items": schedules.list_runs(_service(request), who, schedule, limit)}


@router.post("/schedules/{schedule}/runs/{run_id}/retry")
def retry_run(schedule: str, run_id: str, who: Caller, request: Request) -> dict[str, Any]:
    """Send a run whose delivery failed again."""
    return schedules.retry_run(_service(request), who, schedule, run_id)
