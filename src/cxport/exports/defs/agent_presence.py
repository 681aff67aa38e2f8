"""`agent-presence` (exports.md §8): presence intervals overlapping the range, whole.

Channels do not filter: presence belongs to no conversation.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

AGENT_PRESENCE = ExportDef(
    name="agent-presence",
    title="Agent Presence",
    columns=columns(
        """
        user_id     | User ID                | ID do usuário                  | id
        user_name   | User Name              | Nome do usuário                | text
        user_email  | User Email Address     | Endereço de e-mail do usuário  | text
        status      | Type                   | Tipo                           | code
        away_state  | Away State             | Estado ausente                 | text
        from_at     | From                   | De                             | timestamp
        to_at       | To                     | Para                           | timestamp
        duration_ms | Duration (s)           | Duração (s)                    | duration
        """
    ),
    facts=("f_presence_interval",),
    sql="""
    SELECT p.agent_id AS user_id, a.name AS user_name, a.email AS user_email,
           p.status, p.away_state, p.started_at AS from_at, p.ended_at AS to_at, p.duration_ms
    FROM f_presence_interval AS p
    CROSS JOIN req AS r
    LEFT JOIN e_agent AS a ON a.agent_id = p.agent_id
    WHERE p.started_at < r.end_at AND (p.until_at > r.start_at OR p.started_at >= r.start_at)
    ORDER BY p.started_at, p.agent_id, p.record_id
    """,
)
