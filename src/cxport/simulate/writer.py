"""Turns simulated facts into NDJSON records of `ingest.md`, fast.

Speed matters here (millions of records): each record is one dict literal
serialised by orjson into one growing `bytearray`, flushed in blocks of about
1 MiB. Keeping millions of small `bytes` objects alive instead is an order of
magnitude slower. Timestamps come from lookup tables instead of `datetime`.
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
_BLOCK = 1 << 20
_NEWLINE = orjson.OPT_APPEND_NEWLINE
_MINUTES_KEPT = 200_000  # prefix cache entries (~4 months of minutes) before it restarts


class RecordWriter:
    """One method per record type; record ids are `r1`, `r2`, … in write order."""

    def __init__(self, sink: Sink, end: int, utc_offset_minutes: int = -180) -> None:
        self._sink = sink
        self.end = end  # records at or after this instant (UTC ms) are dropped
        self._buf = bytearray()
        self._n = 0
        self.counts: dict[str, int] = {}
        self._offset_ms = utc_offset_minutes * _MINUTE_MS
        sign = "-" if utc_offset_minutes < 0 else "+"
        hh, mm = divmod(abs(utc_offset_minutes), 60)
        # A timestamp is a cached "YYYY-MM-DDTHH:MM:" of its minute + "SS.mmm<offset>".
        seconds = [f"{ms // 1000:02d}.{ms % 1000:03d}" for ms in range(_MINUTE_MS)]
        self._tail_local = [f"{x}{sign}{hh:02d}:{mm:02d}" for x in seconds]
        self._tail_utc = [f"{x}Z" for x in seconds]
        self._minutes_local: dict[int, str] = {}
        self._minutes_utc: dict[int, str] = {}

    # -- plumbing -------------------------------------------------------------

    def ts(self, at: int, utc: bool = False) -> str:
        """RFC 3339 with milliseconds, in the operation's offset or in `Z`."""
        if utc:
            minutes, tails = self._minutes_utc, self._tail_utc
        else:
            minutes, tails = self._minutes_local, self._tail_local
            at += self._offset_ms
        minute, rest = divmod(at, _MINUTE_MS)
        prefix = minutes.get(minute)
        if prefix is None:
            prefix = self._minute_prefix(minutes, minute)
        return prefix + tails[rest]

    def _minute_prefix(self, cache: dict[int, str], minute: int) -> str:
        if len(cache) >= _MINUTES_KEPT:
            cache.clear()
        when = dt.datetime.fromtimestamp(minute * 60, dt.UTC)  # already shifted to local
        prefix = cache[minute] = when.strftime("%Y-%m-%dT%H:%M:")
        return prefix

    def _put(self, rec: dict[str, Any], utc: bool = False) -> None:
        """Write one record built with `id` None and `at` in UTC ms.

        The hot path of the simulator: one call per record, so id, timestamp,
        count and serialisation are done here inline.
        """
        self._n += 1
        rec["id"] = "r" + str(self._n)
        if utc:
            minutes, tails, at = self._minutes_utc, self._tail_utc, rec["at"]
        else:
            minutes, tails, at = self._minutes_local, self._tail_local, rec["at"] + self._offset_ms
        minute, rest = divmod(at, _MINUTE_MS)
        prefix = minutes.get(minute)
        if prefix is None:
            prefix = self._minute_prefix(minutes, minute)
        rec["at"] = prefix + tails[rest]
        kind = rec["type"]
        counts = self.counts
        counts[kind] = counts.get(kind, 0) + 1
        buf = self._buf
        buf += orjson.dumps(rec, option=_NEWLINE)
        if len(buf) >= _BLOCK:
            self._sink.write(buf)
            del buf[:]  # unlike clear(), keeps the buffer's memory for the next block

    def flush(self) -> None:
        if self._buf:
            self._sink.write(self._buf)
            self._buf.clear()

    # -- entities -------------------------------------------------------------

    def channel(
        self, at: int, channel_id: str, medium: str, name: str, display: str | None
    ) -> None:
        rec: dict[str, Any] = {"type": "channel", "id": None, "at": at}
        rec.update(channel_id=channel_id, medium=medium, name=name)
        if display is not None:
            rec["display_name"] = display
        self._put(rec)

    def team(self, at: int, team_id: str, name: str) -> None:
        rec: dict[str, Any] = {"type": "team", "id": None, "at": at}
        rec.update(team_id=team_id, name=name)
        self._put(rec)

    def agent(
        self, at: int, agent_id: str, name: str, email: str | None, reference: str | None
    ) -> None:
        rec: dict[str, Any] = {"type": "agent", "id": None, "at": at}
        rec.update(agent_id=agent_id, name=name)
        if email is not None:
            rec["email"] = email
        if reference is not None:
            rec["reference"] = reference
        self._put(rec)

    def virtual_agent(self, at: int, virtual_agent_id: str, name: str) -> None:
        rec: dict[str, Any] = {"type": "virtual_agent", "id": None, "at": at}
        rec.update(virtual_agent_id=virtual_agent_id, name=name)
        self._put(rec)

    def topic(self, at: int, topic_id: str, name: str, active: bool) -> None:
        rec: dict[str, Any] = {"type": "topic", "id": None, "at": at}
        rec.update(topic_id=topic_id, name=name, active=active)
        self._put(rec)

    def tag(self, at: int, tag_id: str, name: str, active: bool) -> None:
        rec: dict[str, Any] = {"type": "tag", "id": None, "at": at}
        rec.update(tag_id=tag_id, name=name, active=active)
        self._put(rec)

    def attribute_definition(self, at: int, attribute_id: str, name: str, kind: str) -> None:
        rec: dict[str, Any] = {"type": "contact_attribute_definition", "id": None, "at": at}
        rec.update(attribute_id=attribute_id, name=name, attribute_type=kind)
        self._put(rec)

    def business_hours(
        self,
        at: int,
        calendar_id: str,
        timezone: str,
        weekly: dict[str, list[list[str]]],
        holidays: list[str] | None,
        channel_ids: list[str] | None,
    ) -> None:
        rec: dict[str, Any] = {"type": "business_hours", "id": None, "at": at}
        rec.update(calendar_id=calendar_id, timezone=timezone, weekly=weekly)
        if holidays is not None:
            rec["holidays"] = holidays
        if channel_ids is not None:
            rec["channel_ids"] = channel_ids
        self._put(rec)

    def contact(
        self, at: int, contact_id: str, medium: str, primary: str | None, secondary: str | None
    ) -> None:
        if at >= self.end:
            return
        rec: dict[str, Any] = {"type": "contact", "id": None, "at": at}
        rec.update(contact_profile_id=contact_id, medium=medium)
        if primary is not None:
            rec["primary_identifier"] = primary
        if secondary is not None:
            rec["secondary_identifier"] = secondary
        self._put(rec)

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
        rec: dict[str, Any] = {"type": "conversation", "id": None, "at": at}
        rec.update(conversation_id=conversation_id, channel_id=channel_id)
        rec["contact_profile_id"] = contact_id
        if url is not None:
            rec["url"] = url
        if language is not None:
            rec["language"] = language
        self._put(rec)

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
        rec: dict[str, Any] = {"type": "message", "id": None, "at": at}
        rec["message_id"] = message_id
        rec["conversation_id"] = conversation_id
        rec["direction"] = direction
        rec["source"] = source
        rec["message_type"] = message_type
        if outbound_type is not None:
            rec["outbound_message_type"] = outbound_type
        if system_type is not None:
            rec["system_user_type"] = system_type
        if agent_id is not None:
            rec["agent_id"] = agent_id
        if virtual_agent_id is not None:
            rec["virtual_agent_id"] = virtual_agent_id
        if team_id is not None:
            rec["team_id"] = team_id
        if content is not None:
            rec["content"] = content
        if post_url is not None:
            rec["post_url"] = post_url
        self._put(rec, utc)

    def message_deleted(self, at: int, message_id: str) -> None:
        if at >= self.end:
            return
        rec: dict[str, Any] = {"type": "message_deleted", "id": None, "at": at}
        rec["message_id"] = message_id
        self._put(rec)

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
        rec: dict[str, Any] = {"type": "status_change", "id": None, "at": at}
        rec["conversation_id"] = conversation_id
        rec["status"] = status
        if agent_id is not None:
            rec["agent_id"] = agent_id
        elif virtual_agent_id is not None:
            rec["virtual_agent_id"] = virtual_agent_id
        else:
            rec["system"] = True
        if team_id is not None:
            rec["team_id"] = team_id
        if initiated_by is not None:
            rec["initiated_by"] = initiated_by
        if handover_reason is not None:
            rec["handover_reason"] = handover_reason
        if resolved_by is not None:
            rec["resolved_by"] = resolved_by
            rec["resolve_trigger"] = resolve_trigger
        if reason is not None:
            rec["resolve_reason"] = reason
        if comment is not None:
            rec["resolve_comment"] = comment
        self._put(rec)

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
        rec: dict[str, Any] = {"type": kind, "id": None, "at": at}
        rec["conversation_id"] = conversation_id
        if agent_id is not None:
            rec["agent_id"] = agent_id
        else:
            rec["virtual_agent_id"] = virtual_agent_id
        if team_id is not None:
            rec["team_id"] = team_id
        self._put(rec)

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
        rec: dict[str, Any] = {"type": kind, "id": None, "at": at}
        if kind[1] == "o":  # topic_*
            rec["conversation_id"] = target
            rec["topic_id"] = label_id
        else:
            rec["message_id"] = target
            rec["tag_id"] = label_id
        if agent_id is not None:
            rec["agent_id"] = agent_id
        if virtual_agent_id is not None:
            rec["virtual_agent_id"] = virtual_agent_id
        if team_id is not None:
            rec["team_id"] = team_id
        self._put(rec)

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
        rec: dict[str, Any] = {"type": "csat", "id": None, "at": at}
        rec["conversation_id"] = conversation_id
        rec["event"] = event
        if score is not None:
            rec["score"] = score
        if question is not None:
            rec["follow_up_question"] = question
        if answer is not None:
            rec["follow_up_answer"] = answer
        self._put(rec)

    def presence(self, at: int, agent_id: str, status: str, away_state: str | None) -> None:
        """Presence comes from the platform's clock service, in UTC (`Z`)."""
        if at >= self.end:
            return
        rec: dict[str, Any] = {"type": "presence", "id": None, "at": at}
        rec["agent_id"] = agent_id
        rec["status"] = status
        if away_state is not None:
            rec["away_state"] = away_state
        self._put(rec, True)

    def contact_attribute(
        self, at: int, contact_id: str, attribute_id: str, value: str | None
    ) -> None:
        """`value` None is written as JSON null: the attribute is cleared."""
        if at >= self.end:
            return
        rec: dict[str, Any] = {"type": "contact_attribute", "id": None, "at": at}
        rec.update(contact_profile_id=contact_id, attribute_id=attribute_id, value=value)
        self._put(rec)
