"""The conversation timeline (`metrics.md`, "Conversation timeline").

Facts, each one table:

- `f_status_change`: every visible status change (record_id, at,
  conversation_id, status, initiated_by), with its place in the record order
  of its conversation (`seq`), the status before it (`prev_status`) and the
  flags the first-response rules test (`is_reopening`, `is_handover`).
- `f_conversation_messages`: one row per conversation with messages: counts,
  first inbound message, first human outbound message (the first-response
  end), latest message instant.
- `f_conversation`: one row per conversation of the snapshot (named by a
  visible `conversation`, `message` or `status_change`): entity fields,
  `created_at`, current status, first and last resolution, last status
  change, message counts, resolution time, CSAT state, last update.

`least`/`greatest` skip NULLs (DuckDB, Spark and PostgreSQL agree).

Record order inside one type is (`at`, `record_id`); messages come before
status changes at the same instant (`records.TYPE_RANK`), which the rules
below rely on where they compare a message with a status change.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# The latest version of each conversation in scope (`e_conversation`, scoped and
# computed once: the facts below join it several times). Refreshed for every
# conversation of a touched contact too: the contact's message span reads them.
CONVERSATION_ENTITY = Fact(
    "f_conversation_entity",
    sql="""
SELECT * FROM c_conversation
QUALIFY row_number() OVER (PARTITION BY conversation_id ORDER BY "at" DESC, record_id DESC) = 1
""",
)

# Narrow on purpose: a window sorts every column it carries, and only the
# first-response rules read these rows (`f_conversation` aggregates
# `c_status_change` itself).
STATUS_CHANGE = Fact(
    "f_status_change",
    sql="""
SELECT record_id, "at", conversation_id, status, initiated_by, seq, prev_status,
       coalesce(status IN ('NEW', 'PENDING') AND prev_status = 'RESOLVED', false) AS is_reopening,
       coalesce(status = 'NEW' AND initiated_by = 'VA_HANDED_OVER_CONVERSATION', false)
           AS is_handover
FROM (
    SELECT record_id, "at", conversation_id, status, initiated_by,
           row_number() OVER w AS seq, lag(status) OVER w AS prev_status
    FROM c_status_change
    WINDOW w AS (PARTITION BY conversation_id ORDER BY "at", record_id)
) AS sc
""",
)

# The first message of a kind: the least struct led by (at, record_id), the
# order of records (ids are unique), its other fields carried along. A plain
# `min` of the struct costs less than `arg_min` with a separate key.
_FIRST = "min({{'at': \"at\", 'record_id': record_id, {fields}}}) FILTER (WHERE {where})"
_INBOUND = "direction = 'INBOUND'"
_REPLY = "direction = 'OUTBOUND' AND source = 'AGENT'"
_FIRST_INBOUND = _FIRST.format(fields="'message_id': message_id", where=_INBOUND)
_FIRST_REPLY = _FIRST.format(
    fields="'message_id': message_id, 'agent_id': agent_id, 'team_id': team_id", where=_REPLY
)

CONVERSATION_MESSAGES = Fact(
    "f_conversation_messages",
    sql=f"""
SELECT conversation_id, inbound_count, outbound_count, human_outbound_count,
       first_message_at, last_message_at,
       fi.at AS first_inbound_at, fi.record_id AS first_inbound_record_id,
       fi.message_id AS first_inbound_message_id,
       fr.at AS first_reply_at, fr.record_id AS first_reply_record_id,
       fr.message_id AS first_reply_message_id, fr.agent_id AS first_reply_agent_id,
       fr.team_id AS first_reply_team_id
FROM (
    SELECT conversation_id,
           count(*) FILTER (WHERE {_INBOUND}) AS inbound_count,
           count(*) FILTER (WHERE direction = 'OUTBOUND') AS outbound_count,
           count(*) FILTER (WHERE {_REPLY}) AS human_outbound_count,
           min("at") AS first_message_at,
           max("at") AS last_message_at,
           {_FIRST_INBOUND} AS fi,
           {_FIRST_REPLY} AS fr
    FROM c_message
    GROUP BY conversation_id
) AS m
""",
)

# Per conversation, from its status changes; first and last in the order of
# records as the least and greatest struct led by (at, record_id), like `_FIRST`.
_STATUS = """
SELECT conversation_id,
       min("at") AS first_at,
       max("at") AS last_at,
       max({'at': "at", 'record_id': record_id, 'status': status}).status AS current_status,
       min({'at': "at", 'record_id': record_id, 'agent_id': agent_id, 'team_id': team_id})
           FILTER (WHERE status = 'RESOLVED') AS first_res,
       max({'at': "at", 'record_id': record_id, 'agent_id': agent_id,
            'virtual_agent_id': virtual_agent_id, 'team_id': team_id,
            'resolved_by': resolved_by, 'resolve_reason': resolve_reason,
            'resolve_comment': resolve_comment, 'resolve_trigger': resolve_trigger})
           FILTER (WHERE status = 'RESOLVED') AS last_res,
       max({'at': "at", 'record_id': record_id, 'status': status, 'agent_id': agent_id,
            'virtual_agent_id': virtual_agent_id, 'team_id': team_id})
           FILTER (WHERE status IN ('PENDING', 'RESOLVED')) AS last_sc
FROM c_status_change
GROUP BY conversation_id
"""

_CSAT = """
SELECT conversation_id,
       max("at") AS last_at,
       (max({'at': "at", 'record_id': record_id, 'score': score})
           FILTER (WHERE event = 'ANSWERED')).score AS csat_score,
       max({'at': "at", 'record_id': record_id, 'event': event}).event AS last_event,
       (max({'at': "at", 'record_id': record_id, 'q': follow_up_question})
           FILTER (WHERE follow_up_question IS NOT NULL)).q AS csat_follow_up_question,
       (max({'at': "at", 'record_id': record_id, 'a': follow_up_answer})
           FILTER (WHERE follow_up_answer IS NOT NULL)).a AS csat_follow_up_answer
FROM c_csat
GROUP BY conversation_id
"""

# Last Updated: every record naming the conversation or one of its messages,
# except lock/unlock (messages and status changes come from their own
# aggregates). Message events are scoped by the join with `c_message`.
_TOUCHED = """
SELECT conversation_id, max("at") AS last_at
FROM (
    SELECT conversation_id, "at" FROM c_conversation
    UNION ALL SELECT conversation_id, "at" FROM c_topic_applied
    UNION ALL SELECT conversation_id, "at" FROM c_topic_removed
    UNION ALL
    SELECT m.conversation_id, x.at
    FROM (
        SELECT message_id, "at" FROM s_message_deleted
        UNION ALL SELECT message_id, "at" FROM s_tag_applied
        UNION ALL SELECT message_id, "at" FROM s_tag_removed
    ) AS x
    JOIN c_message AS m ON m.message_id = x.message_id
) AS t
GROUP BY conversation_id
"""

# The parts' columns (`f_conversation`'s `parts`), one value each per conversation.
_PART_COLUMNS = [
    "channel_id",
    "contact_profile_id",
    "url",
    "language",
    "cv_first_at",
    "first_message_at",
    "last_message_at",
    "inbound_count",
    "outbound_count",
    "human_outbound_count",
    "first_inbound_at",
    "first_inbound_message_id",
    "st_known_at",
    "csat_last_at",
    "csat_score",
    "csat_last_event",
    "csat_follow_up_question",
    "csat_follow_up_answer",
    "touched_last_at",
]
_ONE_VALUE_EACH = ",\n           ".join(f"any_value({c}) AS {c}" for c in _PART_COLUMNS)

CONVERSATION = Fact(
    "f_conversation",
    # The kept facts' build makes it by shares of the conversations once its
    # groupings outgrow the memory limit (`kept.build_shares`, 10 M: eight).
    by_conversation=True,
    requires=("f_conversation_entity", "f_conversation_messages"),
    sql=f"""
WITH cv AS MATERIALIZED (SELECT conversation_id, min("at") AS first_at FROM c_conversation GROUP BY conversation_id),
st AS MATERIALIZED (
    SELECT conversation_id, first_at AS st_first_at, last_at AS st_last_at, current_status,
           first_res.at AS first_resolution_at,
           first_res.record_id AS first_resolution_record_id,
           first_res.agent_id AS first_resolution_agent_id,
           first_res.team_id AS first_resolution_team_id,
           last_res.record_id AS last_resolution_record_id,
           last_res.at AS last_resolution_at,
           last_res.agent_id AS last_resolution_agent_id,
           last_res.virtual_agent_id AS last_resolution_virtual_agent_id,
           last_res.team_id AS last_resolution_team_id,
           last_res.resolved_by AS resolved_by,
           last_res.resolve_reason AS resolve_reason,
           last_res.resolve_comment AS resolve_comment,
           last_res.resolve_trigger AS resolve_trigger,
           last_sc.record_id AS last_status_change_record_id,
           last_sc.at AS last_status_change_at,
           last_sc.status AS last_status_change_status,
           last_sc.agent_id AS last_status_change_agent_id,
           last_sc.virtual_agent_id AS last_status_change_virtual_agent_id,
           last_sc.team_id AS last_status_change_team_id
    FROM ({_STATUS}) AS grouped
),
csat AS MATERIALIZED ({_CSAT}),
touched AS MATERIALIZED ({_TOUCHED}),
-- The parts of a conversation brought together by grouping, not by a chain of
-- joins: at 10 M conversations the joins' six hash tables, built in one
-- pipeline, outgrew the memory limit together (each spills unaware of the
-- others, docs/decisions.md "Memory"); a grouping spills alone. Each part
-- brings its own columns, flat (NULL in the other parts' rows), and the group
-- takes each column's one value: flat values aggregate in the grouping's own
-- rows, where a part's row as a struct was an object per group and part, and
-- took a minute at 3 M conversations. The status changes' 22 columns stay
-- out of it (their part only says a status change exists) and come back by
-- one join after it: a grouping of 41 columns could not start under 128 MB.
-- For the same reason the parts' own groupings are MATERIALIZED, each
-- computed apart: run together under the final grouping they ran out of
-- memory at 3 M conversations in 35 days.
parts AS (
    SELECT conversation_id, channel_id, contact_profile_id, url, language
    FROM f_conversation_entity
    UNION ALL BY NAME
    SELECT conversation_id, first_at AS cv_first_at FROM cv
    UNION ALL BY NAME
    SELECT conversation_id, first_message_at, last_message_at, inbound_count, outbound_count,
           human_outbound_count, first_inbound_at, first_inbound_message_id
    FROM f_conversation_messages
    UNION ALL BY NAME
    SELECT conversation_id, st_first_at AS st_known_at FROM st
    UNION ALL BY NAME
    SELECT conversation_id, last_at AS csat_last_at, csat_score, last_event AS csat_last_event,
           csat_follow_up_question, csat_follow_up_answer
    FROM csat
    UNION ALL BY NAME
    SELECT conversation_id, last_at AS touched_last_at FROM touched
),
c AS (
    SELECT conversation_id, {_ONE_VALUE_EACH}
    FROM parts
    GROUP BY conversation_id
    -- A conversation is known by a record of it, a message or a status change
    -- (each part's first column is never NULL in its own rows).
    HAVING any_value(cv_first_at) IS NOT NULL OR any_value(inbound_count) IS NOT NULL
        OR any_value(st_known_at) IS NOT NULL
)
SELECT conversation_id, channel_id, contact_profile_id, url, language,
       least(cv_first_at, first_message_at, st_first_at) AS created_at,
       coalesce(current_status, 'NEW') AS current_status,
       first_resolution_at, first_resolution_record_id, first_resolution_agent_id,
       first_resolution_team_id, last_resolution_record_id, last_resolution_at,
       last_resolution_agent_id, last_resolution_virtual_agent_id, last_resolution_team_id,
       resolved_by, resolve_reason, resolve_comment, resolve_trigger,
       last_status_change_record_id, last_status_change_at, last_status_change_status,
       last_status_change_agent_id, last_status_change_virtual_agent_id,
       last_status_change_team_id,
       coalesce(inbound_count, 0) AS inbound_count,
       coalesce(outbound_count, 0) AS outbound_count,
       coalesce(human_outbound_count, 0) AS human_outbound_count,
       first_inbound_at, first_inbound_message_id,
       CASE WHEN first_resolution_at >= first_inbound_at
            THEN cx_ms(first_inbound_at, first_resolution_at) END AS resolution_ms,
       csat_score,
       CASE csat_last_event WHEN 'SENT' THEN 'SENT' WHEN 'ANSWERED' THEN 'ANSWERED'
            WHEN 'FOLLOW_UP_ANSWERED' THEN 'COMPLETED' END AS csat_status,
       csat_follow_up_question, csat_follow_up_answer,
       greatest(last_message_at, st_last_at, csat_last_at, touched_last_at) AS last_updated
FROM c
LEFT JOIN st USING (conversation_id)
""",
)

FACTS: tuple[Fact, ...] = (CONVERSATION_ENTITY, STATUS_CHANGE, CONVERSATION_MESSAGES, CONVERSATION)
