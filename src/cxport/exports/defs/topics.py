"""`topics` (exports.md §6): one row per (topic, channel) applied in range.

The channel is the conversation entity's (unknown: one row under an empty
channel, only without a filter). Total Conversations: distinct
conversations the topic was applied to in range on that channel; Total
Current: of those, the ones that have it at the snapshot.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

TOPICS = ExportDef(
    name="topics",
    title="Topics",
    columns=columns(
        """
        topic_id              | Topic ID                    | ID do tópico               | id
        topic_name            | Topic Name                  | Nome do tópico             | text
        active                | Active                      | Ativo                      | bool
        total_conversations   | Total Conversations         | Total de conversas         | count
        current_conversations | Total Current Conversations | Total de conversas atuais  | count
        medium                | Medium                      | Médio                      | code
        channel               | Channel                     | Canal                      | text
        channel_display_name  | Channel Display Name        | Nome de exibição do canal  | text
        """
    ),
    facts=("f_topic_application",),
    # Topics at the snapshot are needed only for conversations given one in range.
    scope="""
    SELECT DISTINCT a.conversation_id
    FROM s_topic_applied AS a
    CROSS JOIN req AS r
    WHERE a."at" >= r.start_at AND a."at" < r.end_at
    """,
    sql="""
    WITH applied AS (
        SELECT DISTINCT a.topic_id, a.conversation_id, a.channel_id, a.current
        FROM f_topic_application AS a
        CROSS JOIN req AS r
        WHERE a.applied_at >= r.start_at AND a.applied_at < r.end_at
          AND (NOT r.filtered OR a.channel_id IN (SELECT channel_id FROM req_channel))
    ),
    per_channel AS (
        SELECT topic_id, channel_id, count(*) AS total_conversations,
               count(*) FILTER (WHERE current) AS current_conversations
        FROM applied
        GROUP BY topic_id, channel_id
    )
    SELECT p.topic_id, t.name AS topic_name, t.active, p.total_conversations,
           p.current_conversations, ch.medium, ch.name AS channel,
           ch.display_name AS channel_display_name
    FROM per_channel AS p
    LEFT JOIN e_topic AS t ON t.topic_id = p.topic_id
    LEFT JOIN e_channel AS ch ON ch.channel_id = p.channel_id
    ORDER BY nullif(t.name, '') NULLS LAST, nullif(ch.name, '') NULLS LAST,
             p.topic_id, p.channel_id NULLS LAST
    """,
)
