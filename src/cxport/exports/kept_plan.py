"""What the batches since the kept facts were built touched, and how to refresh them.

A batch's records name conversations, messages, contacts and agents; what
depends on those is found from the records themselves (the snapshot views
`s_*`), never from a second version of a fact. The result is four tables of
ids on the build's connection, which each kept fact's `Fact.touched`
condition reads:

- `t_message`: the messages the batches name (their `message`,
  `message_deleted` and tag records), the messages carrying a renamed tag,
  and every message of a touched conversation;
- `t_conversation`: the conversations the batches *name* (directly, or
  through one of their messages); those with a renamed topic or a message
  with a renamed tag; those whose lock sessions an agent's new lock or
  presence change may end (the agent's locks from its lock before that
  record on: "next lock" and "presence" end the session before); and those
  whose first response a `business_hours` version may change (below);
- `t_contact`: the contacts the batches name (versions, attribute values),
  those with an attribute whose definition changed, and every contact any
  version of a *named* conversation names (its old contact and its new). A
  conversation touched only through a renamed topic or tag, an agent's lock
  stream or a calendar keeps its records, so its contact's facts stand;
- `t_contact_conversation`: the touched conversations and every
  conversation of a touched contact: a contact's message span reads all its
  conversations' messages and entities (their other facts stand);
- `t_agent`: the agents of the batches' locks and presence changes, and of
  every lock on a *named* conversation (their utilization reads their
  sessions; the sessions of the other touched conversations change only for
  the agents of the batches' locks and presence changes).

Business calendars: only the first response reads business time (and the
summary, its `first_response_ms`); no contact or agent fact does. A
`business_hours` version changes, per calendar key (a channel some version
names, or `''` for the others), the calendar followed in some spans of time
(`calendar_changes`: the versions seen before against those seen now,
compared by what business time depends on). A first response's business
time is its key's calendar between its start and its end, so the touched
conversations are read off the kept first responses: those whose span
meets a changed span of their key. A version for one channel touches that
channel's conversations only, from its `at` on; a default-calendar version,
those of the channels following the default then; a channel switching
calendars, those of the spans in which the calendar it follows (the default
when none names it) differs.

A batch touching more than a quarter of the conversations rebuilds
everything (`Plan.full`): a full build costs no more.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from cxport.exports.facts import BY_CONVERSATION, BY_MESSAGE
from cxport.exports.facts.business_hours import (
    DEFAULT_KEY,
    CalendarVersion,
    choose,
    read_versions,
)
from cxport.exports.facts.first_response import FIRST_RESPONSE
from cxport.records import RECORD_TYPES

# What a batch touched: tables of ids (`id`), and the conditions on a kept
# fact's rows naming them (`keep.KEEP`).
TOUCHED_CONVERSATION = "conversation_id IN (SELECT id FROM t_conversation)"
TOUCHED_MESSAGE = "message_id IN (SELECT id FROM t_message)"
TOUCHED_CONTACT = "contact_profile_id IN (SELECT id FROM t_contact)"
TOUCHED_AGENT = "agent_id IN (SELECT id FROM t_agent)"
# The touched conversations and every conversation of a touched contact (whose
# message span reads them all): their entities and messages are read.
TOUCHED_CONTACT_CONVERSATION = "conversation_id IN (SELECT id FROM t_contact_conversation)"
# A tag's row follows its message (the message may arrive after the tag, or
# never); every other row its conversation (`kind` is never null).
TOUCHED_BY_KIND = (
    f"kind = 'tag' AND {TOUCHED_MESSAGE}",
    f"kind <> 'tag' AND {TOUCHED_CONVERSATION}",
)

# Past this share of the conversations, a full build costs no more.
WIDE_SHARE = 0.25

# The record types naming a conversation, and those naming a message.
_BY_CONVERSATION = BY_CONVERSATION
_BY_MESSAGE = ("message", *BY_MESSAGE)
TOUCHED_TABLES = ("t_conversation", "t_message", "t_contact", "t_agent")
# Also left on the connection: `t_contact_conversation` (`TOUCHED_CONTACT_CONVERSATION`).


@dataclass(frozen=True)
class Plan:
    """How to bring kept facts up to date: whole (`full`, and why) or by what was touched."""

    full: bool
    reason: str = ""
    conversations: int = 0
    messages: int = 0
    contacts: int = 0
    agents: int = 0

    @property
    def nothing(self) -> bool:
        """No kept row can change (entity versions no kept fact shows, say)."""
        return not self.full and not (
            self.conversations or self.messages or self.contacts or self.agents
        )


def _new(workspace: str, since: int, type_name: str) -> str:
    """The records of `type_name` stored by the batches after `since`."""
    table = next(rt.table for rt in RECORD_TYPES if rt.name == type_name)
    ws = workspace.replace("'", "''")
    # Zone maps on batch_id skip the older row groups (records go in by batch).
    return f"(SELECT * FROM {table} WHERE workspace = '{ws}' AND batch_id > {int(since)})"


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def plan(con: duckdb.DuckDBPyConnection, workspace: str, since: int, schema: str) -> Plan:
    """Plan the refresh of the kept facts in `schema`, which saw the batches up to `since`.

    `con` has the snapshot views at the new horizon (`s_*`, `e_*`); the touched
    tables are left on it (TEMP) for the facts' `touched` conditions.
    """

    def new(t: str) -> str:
        return _new(workspace, since, t)

    run = con.execute
    # Messages named by the batches (their records changed), and those carrying
    # a renamed tag; the conversations of either (any version), in one scan.
    named = " UNION ".join(f"SELECT message_id AS id FROM {new(t)}" for t in _BY_MESSAGE)
    run(f"CREATE OR REPLACE TEMP TABLE t_message AS {named}")
    run(
        "CREATE OR REPLACE TEMP TABLE t_retagged AS SELECT DISTINCT message_id AS id"
        f" FROM s_tag_applied WHERE tag_id IN (SELECT tag_id FROM {new('tag')})"
        " AND message_id NOT IN (SELECT id FROM t_message)"
    )
    run(
        "CREATE OR REPLACE TEMP TABLE t_message_conversation AS"
        " SELECT DISTINCT message_id, conversation_id FROM s_message"
        " WHERE message_id IN (SELECT id FROM t_message UNION ALL SELECT id FROM t_retagged)"
    )
    # Conversations named by the batches, directly or through their messages:
    # their records changed, so may their contact's facts (`t_named`).
    direct = " UNION ".join(f"SELECT conversation_id AS id FROM {new(t)}" for t in _BY_CONVERSATION)
    run(
        f"CREATE OR REPLACE TEMP TABLE t_named AS {direct}"
        " UNION SELECT conversation_id FROM t_message_conversation"
        " WHERE message_id IN (SELECT id FROM t_message)"
    )
    # Renamed tags and topics change the rows of the messages and conversations
    # carrying them, and nothing of their contacts or agents.
    run("INSERT INTO t_message SELECT id FROM t_retagged")
    run(
        "CREATE OR REPLACE TEMP TABLE t_conversation AS SELECT id FROM t_named"
        " UNION SELECT conversation_id FROM t_message_conversation"
        " UNION SELECT conversation_id FROM s_topic_applied"
        f" WHERE topic_id IN (SELECT topic_id FROM {new('topic')})"
    )
    # An agent's new lock or presence change ends the session of its lock
    # before it (any conversation): its locks from that one on.
    run(
        'CREATE OR REPLACE TEMP TABLE t_agent_first AS SELECT agent_id, min("at") AS first_at FROM ('
        f' SELECT agent_id, "at" FROM {new("lock")} WHERE agent_id IS NOT NULL'
        f' UNION ALL SELECT agent_id, "at" FROM {new("presence")}) AS a GROUP BY agent_id'
    )
    stream_from = _stream_starts(con)
    if stream_from is not None:
        run(
            "INSERT INTO t_conversation SELECT DISTINCT l.conversation_id FROM s_lock AS l"
            f' JOIN t_stream_start AS b USING (agent_id) WHERE l."at" >= {stream_from}'
            ' AND l."at" >= b.from_at AND l.conversation_id NOT IN (SELECT id FROM t_conversation)'
        )
    if _count(con, f"SELECT count(*) FROM {new('business_hours')}"):
        _calendar_reach(con, schema, new("business_hours"))
    # Contacts: named, with a redefined attribute, or of a named conversation
    # (any version of it: its old contact and its new).
    run(
        f"CREATE OR REPLACE TEMP TABLE t_contact AS SELECT contact_profile_id AS id FROM {new('contact')}"
        f" UNION SELECT contact_profile_id FROM {new('contact_attribute')}"
        " UNION SELECT contact_profile_id FROM s_contact_attribute WHERE attribute_id IN"
        f" (SELECT attribute_id FROM {new('contact_attribute_definition')})"
        " UNION SELECT contact_profile_id FROM s_conversation"
        " WHERE conversation_id IN (SELECT id FROM t_named)"
    )
    # A touched contact's message span reads all its conversations' messages
    # and entities (those only: their other facts stand).
    run(
        "CREATE OR REPLACE TEMP TABLE t_contact_conversation AS SELECT id FROM t_conversation"
        " UNION SELECT conversation_id FROM s_conversation"
        " WHERE contact_profile_id IN (SELECT id FROM t_contact)"
    )
    # Their messages, kept for the refresh (`define_touched_scope`): one scan.
    run(
        "CREATE OR REPLACE TEMP TABLE n_message AS SELECT * FROM s_message"
        f" WHERE {TOUCHED_CONTACT_CONVERSATION}"
    )
    run(
        "INSERT INTO t_message SELECT DISTINCT message_id FROM n_message"
        " WHERE conversation_id IN (SELECT id FROM t_conversation)"
        " AND message_id NOT IN (SELECT id FROM t_message)"
    )
    # The locks of the touched conversations, kept for the refresh.
    run(
        'CREATE OR REPLACE TEMP TABLE t_lock AS SELECT conversation_id, agent_id, "at" FROM s_lock'
        f" WHERE {TOUCHED_CONVERSATION}"
    )
    # Agents whose sessions may have changed: the new locks' and presence
    # changes', and those of every lock on a named conversation (the other
    # touched conversations' sessions are as they were, but for the agents
    # of `t_agent_first`).
    run(
        "CREATE OR REPLACE TEMP TABLE t_agent AS SELECT agent_id AS id FROM t_agent_first"
        " UNION SELECT agent_id FROM t_lock"
        " WHERE agent_id IS NOT NULL AND conversation_id IN (SELECT id FROM t_named)"
    )
    for table in (
        "t_agent_first",
        "t_stream_start",
        "t_named",
        "t_retagged",
        "t_message_conversation",
    ):
        run(f"DROP TABLE {table}")
    counts = [_count(con, f"SELECT count(*) FROM {t}") for t in TOUCHED_TABLES]
    read = _count(con, "SELECT count(*) FROM t_contact_conversation")
    # Conversation versions: about the conversations (a threshold, not a count).
    every = _count(con, "SELECT count(*) FROM s_conversation")
    if read > max(WIDE_SHARE * every, 1000):
        return Plan(True, f"{read} of {every} conversations touched", *counts)
    return Plan(False, "", *counts)


def _calendar_reach(con: duckdb.DuckDBPyConnection, schema: str, new_hours: str) -> None:
    """Add to `t_conversation` the conversations whose first response the calendar
    versions `new_hours` may change, read off the kept first responses (`schema`).

    A first response's business time is that of its key's calendar between its
    start and its end: unchanged unless that span meets a time in which that
    calendar changed; one without a start has none. A channel a version now
    names for the first time had the default's key before: its own key's
    calendar then was the default too (`choose` falls back to it), so comparing
    per key finds its switch, and a switch to a calendar with the same business
    time touches nothing (the key is not kept).
    """
    seen = read_versions(
        con,
        "(SELECT * FROM s_business_hours WHERE record_id NOT IN"
        f" (SELECT record_id FROM {new_hours})) AS seen",
    )
    now = read_versions(con)
    changes = [(key, a, b) for key, spans in calendar_changes(seen, now).items() for a, b in spans]
    if not changes:
        return
    named = sorted({c for v in now if v.channel_ids for c in v.channel_ids})
    run = con.execute
    run(
        "CREATE OR REPLACE TEMP TABLE t_business_channel AS"
        " SELECT unnest(?::VARCHAR[]) AS channel_id",
        [named],
    )
    epoch = "TIMESTAMP '1970-01-01 00:00:00'"
    run(
        "CREATE OR REPLACE TEMP TABLE t_calendar_change AS SELECT unnest(?::VARCHAR[]) AS"
        f" calendar_key, {epoch} + to_milliseconds(unnest(?::BIGINT[])) AS from_at,"
        f" {epoch} + to_milliseconds(unnest(?::BIGINT[])) AS to_at",
        [[c[0] for c in changes], [c[1] for c in changes], [c[2] for c in changes]],
    )
    run(
        "INSERT INTO t_conversation SELECT DISTINCT fr.conversation_id"
        f" FROM {schema}.{FIRST_RESPONSE.name} AS fr"
        " LEFT JOIN t_business_channel AS bc ON bc.channel_id = fr.channel_id"
        " JOIN t_calendar_change AS cc ON cc.calendar_key = coalesce(bc.channel_id, '')"
        " AND fr.end_at >= cc.from_at AND (cc.to_at IS NULL OR fr.start_at < cc.to_at)"
        " WHERE fr.start_at IS NOT NULL"
        " AND fr.conversation_id NOT IN (SELECT id FROM t_conversation)"
    )
    run("DROP TABLE t_business_channel")
    run("DROP TABLE t_calendar_change")


def calendar_changes(
    seen: list[CalendarVersion], now: list[CalendarVersion]
) -> dict[str, list[tuple[int, int | None]]]:
    """Per calendar key of `now`, the spans `[from, to)` (epoch ms; `to` None: on)
    in which its calendar under `now` is not the one under `seen`; keys whose
    calendar never differs are left out.

    Calendars in force change only at a version's `at`, so the calendars are
    compared from each of those instants to the next. A key's calendar is what
    its business time depends on (zone, week, holidays; None for 24x7), not
    which version carries it. `now` holds `seen`'s versions (records are only
    added), so its keys are every key `seen` had; a key it adds followed the
    default under `seen`, as `choose` finds.
    """
    keys = [DEFAULT_KEY, *sorted({c for v in now if v.channel_ids for c in v.channel_ids})]
    instants = sorted({v.at_ms for v in (*seen, *now)})
    out: dict[str, list[tuple[int, int | None]]] = {}
    for at, until in zip(instants, [*instants[1:], None], strict=True):
        before, after = _in_force(seen, at), _in_force(now, at)
        for key in keys:
            if _calendar(choose(before, key)) == _calendar(choose(after, key)):
                continue
            spans = out.setdefault(key, [])
            if spans and spans[-1][1] == at:  # continues the span before
                spans[-1] = (spans[-1][0], until)
            else:
                spans.append((at, until))
    return out


def _in_force(versions: list[CalendarVersion], at_ms: int) -> list[CalendarVersion]:
    """Each calendar's latest version at `at_ms` (as `business_hours.key_intervals` orders them)."""
    latest: dict[str, CalendarVersion] = {}
    for v in sorted(versions, key=lambda v: (v.at_ms, v.record_id)):
        if v.at_ms <= at_ms:
            latest[v.calendar_id] = v
    return list(latest.values())


def _calendar(v: CalendarVersion | None) -> object:
    return None if v is None else (v.zone, v.weekly, v.holidays)


# How far back the agents' locks are first looked for, before the whole stream.
_STREAM_WINDOWS = (dt.timedelta(days=1), dt.timedelta(days=8))


def _literal(t: dt.datetime) -> str:
    """A timestamp as SQL: a constant, so zone maps skip the row groups before it."""
    return f"TIMESTAMP '{t.isoformat(sep=' ')}'"


def _stream_starts(con: duckdb.DuckDBPyConnection) -> str | None:
    """`t_stream_start` (agent_id, from_at): for each agent of `t_agent_first`, its
    last lock before its first new record (else that record's instant); the
    earliest of them as SQL, or None when no agent has a new record.

    Locks go in by time, mostly: the last one before is looked for in the day
    before first, then the week, then the whole stream (the agents not found yet)."""
    run = con.execute
    run("CREATE OR REPLACE TEMP TABLE t_stream_start (agent_id VARCHAR, from_at TIMESTAMP)")
    row = run("SELECT min(first_at) FROM t_agent_first").fetchone()
    if row is None or row[0] is None:
        return None
    first: dt.datetime = row[0]
    for window in (*_STREAM_WINDOWS, None):
        bound = "" if window is None else f' AND l."at" >= {_literal(first - window)}'
        run(
            'INSERT INTO t_stream_start SELECT f.agent_id, max(l."at") FROM s_lock AS l'
            ' JOIN t_agent_first AS f ON f.agent_id = l.agent_id AND l."at" < f.first_at'
            f" WHERE f.agent_id NOT IN (SELECT agent_id FROM t_stream_start){bound}"
            " GROUP BY f.agent_id"
        )
        if not _count(
            con,
            "SELECT count(*) FROM t_agent_first"
            " WHERE agent_id NOT IN (SELECT agent_id FROM t_stream_start)",
        ):
            break
    # No lock before it: the agent's stream from its first new record on.
    run(
        "INSERT INTO t_stream_start SELECT agent_id, first_at FROM t_agent_first"
        " WHERE agent_id NOT IN (SELECT agent_id FROM t_stream_start)"
    )
    row = run("SELECT min(from_at) FROM t_stream_start").fetchone()
    return None if row is None or row[0] is None else _literal(row[0])


def define_touched_scope(con: duckdb.DuckDBPyConnection) -> None:
    """Narrow the snapshot's records to what the touched rows read, once.

    Each record type's touched records are copied into a temporary table
    (`n_<type>`, one scan of its table), and the `s_*` views (so the `e_*`
    views over them) and the `c_*` views read those instead: every kept fact
    then runs its own SQL over a few records, not over the store. Exact for
    the rows a fact's `touched` condition keeps, which depend only on records
    of their own keys:

    - records of conversations (`c_*`, and `s_*`/`e_*` of their type): the
      touched conversations'; conversation versions and messages: those of
      `t_contact_conversation` too (a superset: the facts keyed by
      conversation keep the touched ones); messages' records: the touched
      messages';
    - contact versions and attribute values: the touched contacts';
    - locks: the touched conversations', and the locks of the agents of
      those locks and of `t_agent` (`t_stream_agent`: an agent's stream of
      locks and presence changes ends its sessions anywhere) from the
      touched conversations' first lock on (a session reads its agent's
      stream after its lock only); presence changes: those agents'.

    Entity versions other than contacts (channels, topics, calendars...) are
    few and stay whole. Kept facts are the only readers while this is defined.
    """
    run = con.execute
    run(
        "CREATE OR REPLACE TEMP TABLE t_stream_agent AS SELECT id FROM t_agent"
        " UNION SELECT agent_id FROM t_lock WHERE agent_id IS NOT NULL"
    )
    narrowed: dict[str, str] = {name: TOUCHED_CONVERSATION for name in BY_CONVERSATION}
    narrowed["conversation"] = narrowed["message"] = TOUCHED_CONTACT_CONVERSATION
    narrowed.update({name: TOUCHED_MESSAGE for name in BY_MESSAGE})
    narrowed["contact"] = narrowed["contact_attribute"] = TOUCHED_CONTACT
    streams = "agent_id IN (SELECT id FROM t_stream_agent)"
    narrowed["presence"] = streams
    for name, condition in narrowed.items():
        if name not in ("message", "lock"):  # the messages are the plan's
            run(
                f"CREATE OR REPLACE TEMP TABLE n_{name} AS SELECT * FROM s_{name} WHERE {condition}"
            )
    # The streams' locks from the touched conversations' first lock with an
    # agent on (a lock session reads its agent's stream after its lock), and
    # the touched conversations' locks without an agent (those with one are
    # in the streams): two semi-joins, not an OR.
    row = run('SELECT min("at") FROM t_lock WHERE agent_id IS NOT NULL').fetchone()
    since = "false" if row is None or row[0] is None else f'"at" >= {_literal(row[0])}'
    run(
        f"CREATE OR REPLACE TEMP TABLE n_lock AS SELECT * FROM s_lock WHERE {streams} AND {since}"
        f" UNION ALL SELECT * FROM s_lock WHERE agent_id IS NULL AND {TOUCHED_CONVERSATION}"
    )
    for name in narrowed:
        run(f"CREATE OR REPLACE TEMP VIEW s_{name} AS SELECT * FROM n_{name}")
        if name in BY_CONVERSATION or name in BY_MESSAGE:
            where = f" WHERE {TOUCHED_CONVERSATION}" if name == "lock" else ""
            run(f"CREATE OR REPLACE TEMP VIEW c_{name} AS SELECT * FROM n_{name}{where}")
