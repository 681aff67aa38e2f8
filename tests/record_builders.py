"""Terse builders of ingest records for scenario tests (one dict per record).

Times are given as `"MM-DD HH:MM[:SS]"` in 2024, UTC, to keep scenarios
readable; record ids are passed explicitly because they decide ties.
"""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]


def ts(when: str) -> str:
    date, _, time = when.partition(" ")
    if time.count(":") == 1:
        time += ":00"
    return f"2024-{date}T{time}Z"


def _drop_none(r: Record) -> Record:
    return {k: v for k, v in r.items() if v is not None}


def channel(rid: str, channel_id: str, medium: str = "whatsapp", name: str | None = None) -> Record:
    return {
        "type": "channel",
        "id": rid,
        "at": ts("01-01 00:00"),
        "channel_id": channel_id,
        "medium": medium,
        "name": name or channel_id.upper(),
        "display_name": f"{channel_id} display",
    }


def team(rid: str, team_id: str, name: str, at: str = "01-01 00:00") -> Record:
    return {"type": "team", "id": rid, "at": ts(at), "team_id": team_id, "name": name}


def agent(rid: str, agent_id: str, name: str, email: str | None = None) -> Record:
    return _drop_none(
        {
            "type": "agent",
            "id": rid,
            "at": ts("01-01 00:00"),
            "agent_id": agent_id,
            "name": name,
            "email": email,
        }
    )


def virtual_agent(rid: str, va_id: str, name: str) -> Record:
    return {
        "type": "virtual_agent",
        "id": rid,
        "at": ts("01-01 00:00"),
        "virtual_agent_id": va_id,
        "name": name,
    }


def conversation(rid: str, conversation_id: str, channel_id: str, contact: str, at: str) -> Record:
    return {
        "type": "conversation",
        "id": rid,
        "at": ts(at),
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "contact_profile_id": contact,
    }


def inbound(rid: str, at: str, conversation_id: str, message_id: str | None = None) -> Record:
    return {
        "type": "message",
        "id": rid,
        "at": ts(at),
        "message_id": message_id or f"m-{rid}",
        "conversation_id": conversation_id,
        "direction": "INBOUND",
        "source": "CONTACT",
        "message_type": "PRIVATE_MESSAGE",
    }


def reply(
    rid: str,
    at: str,
    conversation_id: str,
    agent_id: str,
    team_id: str | None = None,
    message_id: str | None = None,
) -> Record:
    return _drop_none(
        {
            "type": "message",
            "id": rid,
            "at": ts(at),
            "message_id": message_id or f"m-{rid}",
            "conversation_id": conversation_id,
            "direction": "OUTBOUND",
            "source": "AGENT",
            "message_type": "PRIVATE_MESSAGE",
            "outbound_message_type": "INBOX",
            "agent_id": agent_id,
            "team_id": team_id,
        }
    )


def bot_message(rid: str, at: str, conversation_id: str, va_id: str) -> Record:
    return {
        "type": "message",
        "id": rid,
        "at": ts(at),
        "message_id": f"m-{rid}",
        "conversation_id": conversation_id,
        "direction": "OUTBOUND",
        "source": "VIRTUAL_AGENT",
        "message_type": "PRIVATE_MESSAGE",
        "outbound_message_type": "INBOX",
        "virtual_agent_id": va_id,
    }


def status(
    rid: str,
    at: str,
    conversation_id: str,
    status: str,
    *,
    agent_id: str | None = None,
    va_id: str | None = None,
    team_id: str | None = None,
    **extra: str,
) -> Record:
    r: Record = {
        "type": "status_change",
        "id": rid,
        "at": ts(at),
        "conversation_id": conversation_id,
        "status": status,
        "agent_id": agent_id,
        "virtual_agent_id": va_id,
        "team_id": team_id,
    }
    if agent_id is None and va_id is None:
        r["system"] = True
    if status == "RESOLVED":
        r.setdefault("resolved_by", "AGENT" if agent_id else "VIRTUAL_AGENT" if va_id else "SYSTEM")
        r.setdefault(
            "resolve_trigger",
            "HUMAN_AGENT" if agent_id else "VIRTUAL_AGENT" if va_id else "AUTOMATION",
        )
    r.update(extra)
    return _drop_none(r)


def lock(
    rid: str, at: str, conversation_id: str, agent_id: str, team_id: str | None = None
) -> Record:
    return _drop_none(
        {
            "type": "lock",
            "id": rid,
            "at": ts(at),
            "conversation_id": conversation_id,
            "agent_id": agent_id,
            "team_id": team_id,
        }
    )


def unlock(rid: str, at: str, conversation_id: str, agent_id: str) -> Record:
    return {
        "type": "unlock",
        "id": rid,
        "at": ts(at),
        "conversation_id": conversation_id,
        "agent_id": agent_id,
    }


def presence(
    rid: str, at: str, agent_id: str, status: str, away_state: str | None = None
) -> Record:
    return _drop_none(
        {
            "type": "presence",
            "id": rid,
            "at": ts(at),
            "agent_id": agent_id,
            "status": status,
            "away_state": away_state,
        }
    )


def csat(rid: str, at: str, conversation_id: str, event: str, score: int | None = None) -> Record:
    return _drop_none(
        {
            "type": "csat",
            "id": rid,
            "at": ts(at),
            "conversation_id": conversation_id,
            "event": event,
            "score": score,
        }
    )


def topic_applied(
    rid: str,
    at: str,
    conversation_id: str,
    topic_id: str,
    *,
    agent_id: str | None = None,
    va_id: str | None = None,
    team_id: str | None = None,
) -> Record:
    return _drop_none(
        {
            "type": "topic_applied",
            "id": rid,
            "at": ts(at),
            "conversation_id": conversation_id,
            "topic_id": topic_id,
            "agent_id": agent_id,
            "virtual_agent_id": va_id,
            "team_id": team_id,
        }
    )


def tag_applied(
    rid: str,
    at: str,
    message_id: str,
    tag_id: str,
    *,
    agent_id: str | None = None,
    va_id: str | None = None,
    team_id: str | None = None,
) -> Record:
    return _drop_none(
        {
            "type": "tag_applied",
            "id": rid,
            "at": ts(at),
            "message_id": message_id,
            "tag_id": tag_id,
            "agent_id": agent_id,
            "virtual_agent_id": va_id,
            "team_id": team_id,
        }
    )
