"""The conversation timeline (`metrics.md`, "Conversation timeline").

Facts, each one table:

- `f_status_change`: every visible status change, in record order per
  conversation, with the status before it (`prev_status`) and the flags the
  rules test (`is_reopening`, `is_handover`).
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

STATUS_CHANGE = Fact(
    "f_status_change",
    sql="""
SELECT record_id, "at", conversation_id, status, agent_id, virtual_agent_id,
       coalesce(system, false) AS system, team_id, initiated_by, handover_reason,
       resolved_by, resolve_trigger, resolve_reason, resolve_comment,
       prev_status,
       coalesce(status IN ('NEW', 'PENDING') AND prev_status = 'RESOLVED', false) AS is_reopening,
       coalesce(status = 'NEW' AND initiated_by = 'VA_HANDED_OVER_CONVERSATION', false)
           AS is_handover
FROM (
    SELECT *, lag(status) OVER (PARTITION BY conversation_id ORDER BY "at", record_id) AS prev_status
    FROM s_status_change
) AS sc
""",
)

CONVERSATION_MESSAGES = Fact(
    "f_conversation_messages",
    sql="""
SELECT conversation_id,
       count(*) FILTER (WHERE direction = 'INBOUND') AS inbound_count,
       count(*) FILTER (WHERE direction = 'OUTBOUND') AS outbound_count,
       count(*) FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT') AS human_outbound_count,
       min("at") AS first_message_at,
       max("at") AS last_message_at,
       min("at") FILTER (WHERE direction = 'INBOUND') AS first_inbound_at,
       arg_min(record_id, ("at", record_id)) FILTER (WHERE direction = 'INBOUND')
           AS first_inbound_record_id,
       arg_min(message_id, ("at", record_id)) FILTER (WHERE direction = 'INBOUND')
           AS first_inbound_message_id,
       min("at") FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT') AS first_reply_at,
       arg_min(record_id, ("at", record_id)) FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT')
           AS first_reply_record_id,
       arg_min(message_id, ("at", record_id)) FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT')
           AS first_reply_message_id,
       arg_min(agent_id, ("at", record_id)) FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT')
           AS first_reply_agent_id,
       arg_min(team_id, ("at", record_id)) FILTER (WHERE direction = 'OUTBOUND' AND source = 'AGENT')
           AS first_reply_team_id
FROM s_message
GROUP BY conversation_id
""",
)

# Per conversation, from its status changes. `arg_*` over (at, record_id) is
# "first"/"latest" in record order.
_STATUS = """
SELECT conversation_id,
       min("at") AS first_at,
       max("at") AS last_at,
       arg_max(status, ("at", record_id)) AS current_status,
       min("at") FILTER (WHERE status = 'RESOLVED') AS first_resolution_at,
       arg_min(record_id, ("at", record_id)) FILTER (WHERE status = 'RESOLVED')
           AS first_resolution_record_id,
       arg_min(agent_id, ("at", record_id)) FILTER (WHERE status = 'RESOLVED')
           AS first_resolution_agent_id,
       arg_min(team_id, ("at", record_id)) FILTER (WHERE status = 'RESOLVED')
           AS first_resolution_team_id,
       arg_max({'record_id': record_id, 'at': "at", 'agent_id': agent_id,
                'virtual_agent_id': virtual_agent_id, 'team_id': team_id,
                'resolved_by': resolved_by, 'resolve_reason': resolve_reason,
                'resolve_comment': resolve_comment, 'resolve_trigger': resolve_trigger},
               ("at", record_id)) FILTER (WHERE status = 'RESOLVED') AS last_res,
       arg_max({'record_id': record_id, 'at': "at", 'status': status, 'agent_id': agent_id,
                'virtual_agent_id': virtual_agent_id, 'team_id': team_id},
               ("at", record_id)) FILTER (WHERE status IN ('PENDING', 'RESOLVED')) AS last_sc
FROM s_status_change
GROUP BY conversation_id
"""

_CSAT = """
SELECT conversation_id,
       max("at") AS last_at,
       arg_max(score, ("at", record_id)) FILTER (WHERE event = 'ANSWERED') AS csat_score,
       arg_max(event, ("at", record_id)) AS last_event,
       arg_max(follow_up_question, ("at", record_id)) FILTER (WHERE follow_up_question IS NOT NULL)
           AS csat_follow_up_question,
       arg_max(follow_up_answer, ("at", record_id)) FILTER (WHERE follow_up_answer IS NOT NULL)
           AS csat_follow_up_answer
FROM s_csat
GROUP BY conversation_id
"""

# Last Updated: every record naming the conversation or one of its messages,
# except lock/unlock (messages and status changes come from their own
# aggregates).
_TOUCHED = """
SELECT conversation_id, max("at") AS last_at
FROM (
    SELECT conversation_id, "at" FROM s_conversation
    UNION ALL SELECT conversation_id, "at" FROM s_topic_applied
    UNION ALL SELECT conversation_id, "at" FROM s_topic_removed
    UNION ALL
    SELECT m.conversation_id, x.at
    FROM (
        SELECT message_id, "at" FROM s_message_deleted
        UNION ALL SELECT message_id, "at" FROM s_tag_applied
        UNION ALL SELECT message_id, "at" FROM s_tag_removed
    ) AS x
    JOIN s_message AS m ON m.message_id = x.message_id
) AS t
GROUP BY conversation_id
"""

CONVERSATION = Fact(
    "f_conversation",
    requires=("f_conversation_messages",),
    sql=f"""
WITH cv AS (SELECT conversation_id, min("at") AS first_at FROM s_conversation GROUP BY conversation_id),
st AS ({_STATUS}),
csat AS ({_CSAT}),
touched AS ({_TOUCHED}),
ids AS (
    SELECT conversation_id FROM cv
    UNION SELECT conversation_id FROM f_conversation_messages
    UNION SELECT conversation_id FROM st
)
SELECT ids.conversation_id,
       e.channel_id, e.contact_profile_id, e.url, e.language,
       least(cv.first_at, m.first_message_at, st.first_at) AS created_at,
       coalesce(st.current_status, 'NEW') AS current_status,
       st.first_resolution_at, st.first_resolution_record_id,
       st.first_resolution_agent_id, st.first_resolution_team_id,
       st.last_res.record_id AS last_resolution_record_id,
       st.last_res.at AS last_resolution_at,
       st.last_res.agent_id AS last_resolution_agent_id,
       st.last_res.virtual_agent_id AS last_resolution_virtual_agent_id,
       st.last_res.team_id AS last_resolution_team_id,
       st.last_res.resolved_by AS resolved_by,
       st.last_res.resolve_reason AS resolve_reason,
       st.last_res.resolve_comment AS resolve_comment,
       st.last_res.resolve_trigger AS resolve_trigger,
       st.last_sc.record_id AS last_status_change_record_id,
       st.last_sc.at AS last_status_change_at,
       st.last_sc.status AS last_status_change_status,
       st.last_sc.agent_id AS last_status_change_agent_id,
       st.last_sc.virtual_agent_id AS last_status_change_virtual_agent_id,
       st.last_sc.team_id AS last_status_change_team_id,
       coalesce(m.inbound_count, 0) AS inbound_count,
       coalesce(m.outbound_count, 0) AS outbound_count,
       coalesce(m.human_outbound_count, 0) AS human_outbound_count,
       m.first_inbound_at, m.first_inbound_message_id,
       CASE WHEN st.first_resolution_at >= m.first_inbound_at
            THEN cx_ms(m.first_inbound_at, st.first_resolution_at) END AS resolution_ms,
       csat.csat_score,
       CASE csat.last_event WHEN 'SENT' THEN 'SENT' WHEN 'ANSWERED' THEN 'ANSWERED'
            WHEN 'FOLLOW_UP_ANSWERED' THEN 'COMPLETED' END AS csat_status,
       csat.csat_follow_up_question, csat.csat_follow_up_answer,
       greatest(m.last_message_at, st.last_at, csat.last_at, touched.last_at) AS last_updated
FROM ids
LEFT JOIN e_conversation AS e ON e.conversation_id = ids.conversation_id
LEFT JOIN cv ON cv.conversation_id = ids.conversation_id
LEFT JOIN f_conversation_messages AS m ON m.conversation_id = ids.conversation_id
LEFT JOIN st ON st.conversation_id = ids.conversation_id
LEFT JOIN csat ON csat.conversation_id = ids.conversation_id
LEFT JOIN touched ON touched.conversation_id = ids.conversation_id
""",
)

FACTS: tuple[Fact, ...] = (STATUS_CHANGE, CONVERSATION_MESSAGES, CONVERSATION)
