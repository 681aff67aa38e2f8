"""What the page shows of export requests and notifications: the service's objects
turned into rows with dates, numbers and sizes in the page's locale (the words are
the templates')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cxport.jobs import states
from cxport.web.i18n import Formats

ACTIVE = (states.QUEUED, states.RUNNING)


@dataclass(frozen=True)
class RequestRow:
    id: str
    export: str
    title: str
    date_from: str
    date_to: str
    tz: str
    channels: list[str]
    lang: str
    format: str  # csv, excel or parquet, as the form names them
    state: str
    percent: int
    requested: str
    requested_by: str
    mine: bool
    rows: str
    size: str
    took: str
    error: str
    file_name: str

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


@dataclass(frozen=True)
class NotificationRow:
    id: str
    ok: bool
    read: bool
    at: str
    request: RequestRow | None


def request_row(obj: dict[str, Any], titles: dict[str, str], me: str, fmt: Formats) -> RequestRow:
    form_format = "excel" if obj.get("excel") else obj["format"]
    return RequestRow(
        id=obj["id"],
        export=obj["export"],
        title=titles.get(obj["export"], obj["export"]),
        date_from=fmt.date(obj["from"]),
        date_to=fmt.date(obj["to"]),
        tz=obj["tz"],
        channels=list(obj["channels"]),
        lang=obj["lang"],
        format=form_format,
        state=obj["state"],
        percent=round(100 * float(obj["progress"] or 0)),
        requested=fmt.instant(obj["created_at"]),
        requested_by=obj["requested_by"],
        mine=obj["requested_by"] == me,
        rows=fmt.number(obj["rows"]),
        size=fmt.size(obj["bytes"]),
        took=fmt.took(obj["started_at"], obj["finished_at"]),
        error=obj["error"] or "",
        file_name=obj["file_name"] or "",
    )


def notification_rows(
    items: list[dict[str, Any]], requests: dict[str, RequestRow], fmt: Formats
) -> list[NotificationRow]:
    return [
        NotificationRow(
            id=n["id"],
            ok=n["event"] == "export.succeeded",
            read=bool(n["read"]),
            at=fmt.instant(n["created_at"]),
            request=requests.get(n.get("export_request_id") or ""),
        )
        for n in items
    ]
