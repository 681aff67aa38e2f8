"""An export request and the instants it stands for."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cxport.errors import InvalidField, UsageError

UTC = dt.UTC

# The CSV field delimiters and decimal marks a request may ask for.
DELIMITERS = (",", ";", "\t", "|")
DECIMAL_MARKS = (".", ",")


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"tz: unknown time zone {name!r}") from exc


def first_instant_on_or_after(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The first instant whose local date in `tz` is on or after `day` (naive UTC).

    Handles a skipped midnight (the day starts at 01:00) and a skipped day
    (the first instant of the next day that exists).
    """
    # Local midnight of `day` may not exist; search the UTC instants around it.
    guess = dt.datetime.combine(day, dt.time(), tzinfo=UTC) - dt.timedelta(days=2)
    lo, hi = guess, guess + dt.timedelta(days=4)
    # Local date is non-decreasing in UTC time: bisect to the second.
    while (hi - lo) > dt.timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        mid = mid.replace(microsecond=0)
        if mid.astimezone(tz).date() >= day:
            hi = mid
        else:
            lo = mid
            if hi - lo <= dt.timedelta(seconds=1):
                break
    if lo.astimezone(tz).date() >= day:
        hi = lo
    return hi.replace(tzinfo=None)


@dataclass(frozen=True)
class ExportRequest:
    export: str
    date_from: dt.date
    date_to: dt.date
    tz: str = "UTC"
    channels: tuple[str, ...] = ()
    as_of: dt.datetime | None = None  # aware; None = now
    lang: str = "en"
    format: str = "csv"
    bom: bool = False
    formula_guard: bool = True
    workspace: str = "default"
    scheduled: bool = False  # scheduled exports leave Content empty unless enabled
    include_content: bool = True
    request_id: str = field(default="")
    # CSV only (issue 22). `excel`: as Excel in `lang`'s locale opens it on a
    # double-click (BOM, CRLF, its delimiter and decimal mark; `writer.py`).
    # `delimiter` / `decimal` override the delimiter and decimal mark (None:
    # the default, `,` and `.` or the Excel locale's).
    excel: bool = False
    delimiter: str | None = None
    decimal: str | None = None
    # A window shorter than a day (a schedule's hour, issue 20): its instants, naive UTC
    # (ISO text accepted), within the dates above. None: the dates' local midnights.
    start_at: dt.datetime | None = None
    end_at: dt.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("start_at", "end_at"):
            if isinstance(value := getattr(self, name), str):
                object.__setattr__(self, name, dt.datetime.fromisoformat(value))
        if self.date_to < self.date_from:
            raise InvalidField(
                "to", f"{self.date_to} is before the first day of the range, {self.date_from}"
            )
        if self.lang not in ("en", "pt-BR", "id"):  # id: the column ids as headers
            raise UsageError(f"lang: expected en, pt-BR or id, got {self.lang!r}")
        if self.format not in ("csv", "parquet"):
            raise InvalidField("format", f"expected csv or parquet, got {self.format!r}")
        self._check_csv_options()
        zone(self.tz)

    def _check_csv_options(self) -> None:
        if self.delimiter is not None and self.delimiter not in DELIMITERS:
            raise UsageError(
                f"delimiter: expected one of {', '.join(map(repr, DELIMITERS))}, "
                f"got {self.delimiter!r}"
            )
        if self.decimal is not None and self.decimal not in DECIMAL_MARKS:
            raise UsageError(f"decimal: expected '.' or ',', got {self.decimal!r}")
        if self.format != "csv":
            given = {"excel": self.excel, "delimiter": self.delimiter, "decimal": self.decimal}
            for name, value in given.items():
                if value:
                    raise UsageError(f"{name}: only for CSV, not format {self.format!r}")

    @property
    def zoneinfo(self) -> ZoneInfo:
        return zone(self.tz)

    @property
    def start(self) -> dt.datetime:
        """Range start as naive UTC."""
        if self.start_at is not None:
            return self.start_at
        return first_instant_on_or_after(self.date_from, self.zoneinfo)

    @property
    def end(self) -> dt.datetime:
        """Range end (exclusive) as naive UTC."""
        if self.end_at is not None:
            return self.end_at
        return first_instant_on_or_after(self.date_to + dt.timedelta(days=1), self.zoneinfo)

    def as_of_utc(self, now: dt.datetime | None = None) -> dt.datetime:
        t = self.as_of or now or dt.datetime.now(UTC)
        t = t.astimezone(UTC).replace(tzinfo=None)
        return t.replace(microsecond=t.microsecond - t.microsecond % 1000)

    def file_name(self, request_id: str | None = None) -> str:
        """`{workspace}_{export}_{from:yyyyMMdd}_{to:yyyyMMdd}_{id}.{csv|parquet}` (`service.md`)."""
        rid = request_id or self.request_id
        ext = "parquet" if self.format == "parquet" else "csv"
        span = f"{self.date_from:%Y%m%d}_{self.date_to:%Y%m%d}"
        return f"{self.workspace}_{self.export}_{span}_{rid}.{ext}"
