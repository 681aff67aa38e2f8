"""Attribution: who gets the credit for an activity (`metrics.md`, "Attribution").

The units the agent and team exports count, each with the agent and team it
is attributed to and the channel of its conversation (NULL when that
conversation is not visible at the snapshot):

- `f_reply`: human outbound messages (`OUTBOUND`, source `AGENT`), credited
  to their `agent_id` / `team_id`, with the conversation's contact (NULL:
  no known contact);
- `f_resolution`: every `RESOLVED` status change, credited to its
  `agent_id` / `team_id`, with `ordinal` (1 = the first resolution of the
  conversation) and `with_reply`: some human outbound message of the
  conversation lies after the previous resolution (or the start) and before
  this one;
- `f_csat_answer`: `ANSWERED` CSAT events, credited to the agent and team of
  the conversation's latest resolution at or before the answer (none: no
  credit);
- `f_label_added`: `tag_applied` / `topic_applied` events (`kind` `tag` /
  `topic`), credited to their actor and `team_id`;
- `f_va_activity`: what a virtual agent did (`kind`: `message`, `handover`,
  `handover_error`, `resolved`, `topic`, `tag`), with its conversation, the
  tagged message, `act_at` and the conversation's channel;
- `f_first_resolution`: per resolved conversation, its first resolution
  (`resolved_at`, agent, team, channel) and its resolution time
  (`metrics.md`, "Resolution time": from the first `INBOUND` message to the
  first resolution; NULL when either is missing or the resolution is
  first), without building the whole conversation row.

Like every fact about conversations they read the `c_*` views (the
conversations of the export's scope; all of them without one: the
virtual-agents export, which reads `f_va_activity`, has none). None reads the
request: all are kept (`kept.py`), in the order of their instant, so that a
filter on the range reads only the row groups it needs.

"Before" is the order of records: a message sorts before a status change at
the same instant, and a status change before a CSAT event, so at equal `at`
a message counts as before the resolution and the resolution as before the
answer.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

REPLY = Fact(
    name="f_reply",
    requires=("f_conversation_entity",),
    materialize=False,  # a filter on the range pushes down into the message scan
    sql="""
    SELECT m.record_id, m.message_id, m.at AS sent_at, m.conversation_id, m.agent_id, m.team_id,
           c.channel_id, c.contact_profile_id
    FROM c_message AS m
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = m.conversation_id
    WHERE m.direction = 'OUTBOUND' AND m.source = 'AGENT'
    """,
)

RESOLUTION = Fact(
    name="f_resolution",
    requires=("f_conversation_entity",),
    sql="""
    WITH resolution AS (
        SELECT s.record_id, s.at AS resolved_at, s.conversation_id, s.agent_id,
               s.virtual_agent_id, s.team_id,
               lag(s.at) OVER w AS previous_at,
               row_number() OVER w AS ordinal
        FROM c_status_change AS s
        WHERE s.status = 'RESOLVED'
        WINDOW w AS (PARTITION BY s.conversation_id ORDER BY s.at, s.record_id)
    ),
    replied AS (
        SELECT DISTINCT r.record_id
        FROM resolution AS r
        JOIN c_message AS m ON m.conversation_id = r.conversation_id
        WHERE m.direction = 'OUTBOUND' AND m.source = 'AGENT'
          AND m.at <= r.resolved_at AND (r.previous_at IS NULL OR m.at > r.previous_at)
    )
    SELECT r.record_id, r.resolved_at, r.conversation_id, r.agent_id, r.virtual_agent_id,
           r.team_id, r.ordinal, c.channel_id, p.record_id IS NOT NULL AS with_reply
    FROM resolution AS r
    LEFT JOIN replied AS p ON p.record_id = r.record_id
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = r.conversation_id
    """,
)

CSAT_ANSWER = Fact(
    name="f_csat_answer",
    requires=("f_resolution", "f_conversation_entity"),
    sql="""
    SELECT a.record_id, a.at AS answered_at, a.conversation_id, a.score,
           r.record_id AS resolution_record_id, r.agent_id, r.team_id, c.channel_id
    FROM c_csat AS a
    LEFT JOIN f_resolution AS r
           ON r.conversation_id = a.conversation_id AND r.resolved_at <= a.at
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = a.conversation_id
    WHERE a.event = 'ANSWERED'
    QUALIFY row_number() OVER (
        PARTITION BY a.record_id ORDER BY r.resolved_at DESC NULLS LAST, r.record_id DESC NULLS LAST
    ) = 1
    """,
)

LABEL_ADDED = Fact(
    name="f_label_added",
    requires=("f_conversation_entity",),
    materialize=False,
    sql="""
    WITH added AS (
        SELECT 'topic' AS kind, t.record_id, t.at AS added_at, t.conversation_id,
               NULL AS message_id, t.agent_id, t.virtual_agent_id, t.team_id
        FROM c_topic_applied AS t
        UNION ALL
        SELECT 'tag', g.record_id, g.at, m.conversation_id, g.message_id, g.agent_id,
               g.virtual_agent_id, g.team_id
        FROM c_tag_applied AS g
        LEFT JOIN c_message AS m ON m.message_id = g.message_id
    )
    SELECT a.*, c.channel_id
    FROM added AS a
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = a.conversation_id
    """,
)

FIRST_RESOLUTION = Fact(
    name="f_first_resolution",
    requires=("f_resolution", "f_conversation_messages"),
    sql="""
    SELECT r.conversation_id, r.record_id, r.resolved_at, r.agent_id, r.virtual_agent_id,
           r.team_id, r.channel_id,
           CASE WHEN r.resolved_at >= m.first_inbound_at
                THEN cx_ms(m.first_inbound_at, r.resolved_at) END AS resolution_ms
    FROM f_resolution AS r
    LEFT JOIN f_conversation_messages AS m ON m.conversation_id = r.conversation_id
    WHERE r.ordinal = 1
    """,
)

# A virtual agent's activity: each message it sent, handover or resolution it
# made, topic or tag it applied (`kind`), with the channel of the conversation
# (of the tagged message; NULL when that conversation is not visible).
VA_ACTIVITY = Fact(
    name="f_va_activity",
    sql="""
    WITH activity AS (
        SELECT m.virtual_agent_id AS va_id, m.conversation_id, 'message' AS kind,
               NULL AS message_id, m.at AS act_at
        FROM c_message AS m
        WHERE m.source = 'VIRTUAL_AGENT' AND m.virtual_agent_id IS NOT NULL
        UNION ALL
        SELECT s.virtual_agent_id, s.conversation_id,
               CASE WHEN s.status = 'RESOLVED' THEN 'resolved' ELSE 'handover' END, NULL, s.at
        FROM c_status_change AS s
        WHERE s.virtual_agent_id IS NOT NULL
          AND (s.status = 'RESOLVED'
               OR (s.status = 'NEW' AND s.initiated_by = 'VA_HANDED_OVER_CONVERSATION'))
        UNION ALL
        SELECT s.virtual_agent_id, s.conversation_id, 'handover_error', NULL, s.at
        FROM c_status_change AS s
        WHERE s.virtual_agent_id IS NOT NULL AND s.status = 'NEW'
          AND s.initiated_by = 'VA_HANDED_OVER_CONVERSATION' AND s.handover_reason = 'ERROR'
        UNION ALL
        SELECT t.virtual_agent_id, t.conversation_id, 'topic', NULL, t.at
        FROM c_topic_applied AS t
        WHERE t.virtual_agent_id IS NOT NULL
        UNION ALL
        SELECT g.virtual_agent_id, m.conversation_id, 'tag', g.message_id, g.at
        FROM c_tag_applied AS g
        LEFT JOIN c_message AS m ON m.message_id = g.message_id
        WHERE g.virtual_agent_id IS NOT NULL
    )
    SELECT a.*, c.channel_id
    FROM activity AS a
    LEFT JOIN e_conversation AS c ON c.conversation_id = a.conversation_id
    """,
)

FACTS: tuple[Fact, ...] = (
    REPLY,
    RESOLUTION,
    CSAT_ANSWER,
    LABEL_ADDED,
    FIRST_RESOLUTION,
    VA_ACTIVITY,
)
