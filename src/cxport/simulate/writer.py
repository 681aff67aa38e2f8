"""Turns simulated facts into NDJSON records of `ingest.md`, fast.

Speed matters here (tens of millions of records), so each record is one
f-string line, collected in a list and encoded per block. Ids, enum codes and
numbers are written as they are: the simulator makes them, and they are plain
ASCII with no quote or backslash. Every free text (names, contents, urls,
away states, values) goes through `orjson` to be escaped. Timestamps are a
cached `YYYY-MM-DDT` + `HH:MM:` + `SS.` + `mmm±HH:MM` from small tables.

Every record's `at` is an integer of UTC milliseconds until written; records
at or after the end of the simulated period are dropped here, so the file is
exactly the part of the simulated world that happened before that end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from cxport.simulate.sink import Sink

_MINUTE_MS = 60_000
_BLOCK_LINES = 8192
_EPOCH = dt.date(1970, 1, 1)
# Small tables (they stay in the processor's cache): "HH:MM:", "SS.", "mmm±HH:MM".
_HOURS_MINUTES = [f"{m // 60:02d}:{m % 60:02d}:" for m in range(1440)]
_SECONDS = [f"{s:02d}." for s in range(60)]
_TEXTS_KEPT = 100_000  # escaped texts cached before a restart


def _fields(values: dict[str, Any]) -> str:
    """`,"k":v,…` for a record's fields, escaped by orjson (for rare record types)."""
    return "," + orjson.dumps(values).decode()[1:-1] if values else ""


def _actor(agent_id: str | None, virtual_agent_id: str | None, team_id: str | None) -> str:
    """The optional actor and team fields, in the order records write them."""
    out = ""
    if agent_id is not None:
        out += f',"agent_id":"{agent_id}"'
    if virtual_agent_id is not None:
        out += f',"virtual_agent_id":"{virtual_agent_id}"'
    if team_id is not None:
        out += f',"team_id":"{team_id}"'
    return out


class _Clock:
    """Writes instants in one UTC offset (None: `Z`), from small tables.

    Records come in bursts (one conversation's moments), so the last
    minute's `YYYY-MM-DDTHH:MM:` prefix is remembered.
    """

    __slots__ = ("days", "minute", "offset_ms", "prefix", "tails")

    def __init__(self, offset_minutes: int | None) -> None:
        if offset_minutes is None:
            self.offset_ms, suffix = 0, "Z"
        else:
            hh, mm = divmod(abs(offset_minutes), 60)
            sign = "-" if offset_minutes < 0 else "+"
            self.offset_ms, suffix = offset_minutes * _MINUTE_MS, f"{sign}{hh:02d}:{mm:02d}"
        self.tails = [f"{ms:03d}{suffix}" for ms in range(1000)]
        self.days: dict[int, str] = {}  # "YYYY-MM-DDT" by day number
        self.minute = -1
        self.prefix = ""

    def format(self, at: int) -> str:
        minute, ms = divmod(at + self.offset_ms, _MINUTE_MS)
        if minute != self.minute:
            day, hh_mm = divmod(minute, 1440)
            date = self.days.get(day)
            if date is None:
                date = self.days[day] = (_EPOCH + dt.timedelta(days=day)).isoformat() + "T"
            self.minute, self.prefix = minute, date + _HOURS_MINUTES[hh_mm]
        second, ms = divmod(ms, 1000)
        return self.prefix + _SECONDS[second] + self.tails[ms]


class RecordWriter:
    """One method per record type; record ids are `r1`, `r2`, … in write order."""

    def __init__(self, sink: Sink, end: int, utc_offset_minutes: int = -180) -> None:
        self._sink = sink
        self.end = end  # records at or after this instant (UTC ms) are dropped
        self._lines: list[str] = []
        self._n = 0
        self.counts: dict[str, int] = {}
        self._local = _Clock(utc_offset_minutes)
        self._utc = _Clock(None)
        self._texts: dict[str, str] = {}

    # -- plumbing -------------------------------------------------------------

    def ts(self, at: int, utc: bool = False) -> str:
        """RFC 3339 with milliseconds, in the operation's offset or in `Z`."""
        return (self._utc if utc else self._local).format(at)

    def text(self, value: str) -> str:
        """A JSON string literal of a free text (texts repeat: cached)."""
        quoted = self._texts.get(value)
        if quoted is None:
            if len(self._texts) >= _TEXTS_KEPT:
                self._texts.clear()
            quoted = self._texts[value] = orjson.dumps(value).decode()
        return quoted

    def _line(self, kind: str, at: int, body: str, utc: bool = False) -> None:
        """Write one record: `body` is its fields as `,"k":v,…`."""
        self._n += 1
        lines = self._lines
        when = (self._utc if utc else self._local).format(at)
        lines.append(f'{{"type":"{kind}","id":"r{self._n}","at":"{when}"{body}}}\n')
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        if len(lines) >= _BLOCK_LINES:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._sink.write("".join(self._lines).encode())
            self._lines.clear()

    # -- entities -------------------------------------------------------------

    def channel(
        self, at: int, channel_id: str, medium: str, name: str, display: str | None
    ) -> None:
        values = {"channel_id": channel_id, "medium": medium, "name": name}
        if display is not None:
            values["display_name"] = display
        self._line("channel", at, _fields(values))

    def team(self, at: int, team_id: str, name: str) -> None:
        self._line("team", at, _fields({"team_id": team_id, "name": name}))

    def agent(
        self, at: int, agent_id: str, name: str, email: str | None, reference: str | None
    ) -> None:
        values = {"agent_id": agent_id, "name": name, "email": email, "reference": reference}
        self._line("agent", at, _fields({k: v for k, v in values.items() if v is not None}))

    def virtual_agent(self, at: int, virtual_agent_id: str, name: str) -> None:
        self._line(
            "virtual_agent", at, _fields({"virtual_agent_id": virtual_agent_id, "name": name})
        )

    def topic(self, at: int, topic_id: str, name: str, active: bool) -> None:
        self._line("topic", at, _fields({"topic_id": topic_id, "name": name, "active": active}))

    def tag(self, at: int, tag_id: str, name: str, active: bool) -> None:
        self._line("tag", at, _fields({"tag_id": tag_id, "name": name, "active": active}))

    def attribute_definition(self, at: int, attribute_id: str, name: str, kind: str) -> None:
        values = {"attribute_id": attribute_id, "name": name, "attribute_type": kind}
        self._line("contact_attribute_definition", at, _fields(values))

    def business_hours(
        self,
        at: int,
        calendar_id: str,
        timezone: str,
        weekly: dict[str, list[list[str]]],
        holidays: list[str] | None,
        channel_ids: list[str] | None,
    ) -> None:
        values: dict[str, Any] = {
            "calendar_id": calendar_id,
            "timezone": timezone,
            "weekly": weekly,
        }
        if holidays is not None:
            values["holidays"] = holidays
        if channel_ids is not None:
            values["channel_ids"] = channel_ids
        self._line("business_hours", at, _fields(values))

    def contact(
        self, at: int, contact_id: str, medium: str, primary: str | None, secondary: str | None
    ) -> None:
        if at >= self.end:
            return
        body = f',"contact_profile_id":"{contact_id}","medium":"{medium}"'
        if primary is not None:
            body += ',"primary_identifier":' + self.text(primary)
        if secondary is not None:
            body += ',"secondary_identifier":' + self.text(secondary)
        self._line("contact", at, body)

    def conversation(
        self,
        at: int,
        conversation_id: str,
        channel_id: str,
        contact_id: str,
        url: str | None,
        language: str | None,
    ) -> None:
        if at >= self.end:
            return
        body = (
            f',"conversation_id":"{conversation_id}","channel_id":"{channel_id}"'
            f',"contact_profile_id":"{contact_id}"'
        )
        if url is not None:
            body += ',"url":' + self.text(url)
        if language is not None:
            body += f',"language":"{language}"'
        self._line("conversation", at, body)

    # -- events ---------------------------------------------------------------

    def message(
        self,
        at: int,
        message_id: str,
        conversation_id: str,
        direction: str,
        source: str,
        message_type: str,
        content: str | None,
        outbound_type: str | None = None,
        system_type: str | None = None,
        agent_id: str | None = None,
        virtual_agent_id: str | None = None,
        team_id: str | None = None,
        post_url: str | None = None,
        utc: bool = False,
    ) -> None:
        if at >= self.end:
            return
        body = (
            f',"message_id":"{message_id}","conversation_id":"{conversation_id}"'
            f',"direction":"{direction}","source":"{source}","message_type":"{message_type}"'
        )
        if outbound_type is not None:
            body += f',"outbound_message_type":"{outbound_type}"'
        if system_type is not None:
            body += f',"system_user_type":"{system_type}"'
        body += _actor(agent_id, virtual_agent_id, team_id)
        if content is not None:
            body += ',"content":' + self.text(content)
        if post_url is not None:
            body += ',"post_url":' + self.text(post_url)
        self._line("message", at, body, utc)

    def message_deleted(self, at: int, message_id: str) -> None:
        if at < self.end:
            self._line("message_deleted", at, f',"message_id":"{message_id}"')

    def status_change(
        self,
        at: int,
        conversation_id: str,
        status: str,
        agent_id: str | None = None,
        virtual_agent_id: str | None = None,
        team_id: str | None = None,
        initiated_by: str | None = None,
        handover_reason: str | None = None,
        resolved_by: str | None = None,
        resolve_trigger: str | None = None,
        reason: str | None = None,
        comment: str | None = None,
    ) -> None:
        """`system: true` is the actor when neither an agent nor a virtual agent is."""
        if at >= self.end:
            return
        body = f',"conversation_id":"{conversation_id}","status":"{status}"'
        body += _actor(agent_id, virtual_agent_id, None) or ',"system":true'
        if team_id is not None:
            body += f',"team_id":"{team_id}"'
        if initiated_by is not None:
            body += f',"initiated_by":"{initiated_by}"'
        if handover_reason is not None:
            body += f',"handover_reason":"{handover_reason}"'
        if resolved_by is not None:
            body += f',"resolved_by":"{resolved_by}","resolve_trigger":"{resolve_trigger}"'
        if reason is not None:
            body += ',"resolve_reason":' + self.text(reason)
        if comment is not None:
            body += ',"resolve_comment":' + self.text(comment)
        self._line("status_change", at, body)

    def lock(
        self,
        kind: str,
        at: int,
        conversation_id: str,
        agent_id: str | None,
        virtual_agent_id: str | None = None,
        team_id: str | None = None,
    ) -> None:
        """`kind` is `lock` or `unlock`; an unlock never carries a team."""
        if at >= self.end:
            return
        actor = _actor(agent_id, virtual_agent_id, team_id)
        self._line(kind, at, f',"conversation_id":"{conversation_id}"{actor}')

    def label(
        self,
        kind: str,
        at: int,
        target: str,
        label_id: str,
        agent_id: str | None = None,
        virtual_agent_id: str | None = None,
        team_id: str | None = None,
    ) -> None:
        """`topic_applied`/`topic_removed` (target: a conversation) or
        `tag_applied`/`tag_removed` (target: a message); no actor = automation."""
        if at >= self.end:
            return
        if kind[1] == "o":  # topic_*
            body = f',"conversation_id":"{target}","topic_id":"{label_id}"'
        else:
            body = f',"message_id":"{target}","tag_id":"{label_id}"'
        self._line(kind, at, body + _actor(agent_id, virtual_agent_id, team_id))

    def csat(
        self,
        at: int,
        conversation_id: str,
        event: str,
        score: int | None = None,
        question: str | None = None,
        answer: str | None = None,
    ) -> None:
        if at >= self.end:
            return
        body = f',"conversation_id":"{conversation_id}","event":"{event}"'
        if score is not None:
            body += f',"score":{score:d}'
        if question is not None:
            body += ',"follow_up_question":' + self.text(question)
        if answer is not None:
            body += ',"follow_up_answer":' + self.text(answer)
        self._line("csat", at, body)

    def presence(self, at: int, agent_id: str, status: str, away_state: str | None) -> None:
        """Presence comes from the platform's clock service, in UTC (`Z`)."""
        if at >= self.end:
            return
        body = f',"agent_id":"{agent_id}","status":"{status}"'
        if away_state is not None:
            body += ',"away_state":' + self.text(away_state)
        self._line("presence", at, body, True)

    def contact_attribute(
        self, at: int, contact_id: str, attribute_id: str, value: str | None
    ) -> None:
        """`value` None is written as JSON null: the attribute is cleared."""
        if at >= self.end:
            return
        quoted = "null" if value is None else self.text(value)
        body = (
            f',"contact_profile_id":"{contact_id}","attribute_id":"{attribute_id}","value":{quoted}'
        )
        self._line("contact_attribute", at, body)
