"""`agent-metrics` (exports.md §9): one row per human agent active in the range.

An agent is active with a presence interval overlapping the range or any
credited activity in range (`f_agent_credit`). The channel filter restricts
the credited activity, never the presence time.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

AGENT_METRICS = ExportDef(
    name="agent-metrics",
    title="Agent Metrics",
    columns=columns(
        """
        user_id                | User ID                  | ID do usuário                         | id
        user_name              | User Name                | Nome do usuário                       | text
        user_email             | User Email Address       | Endereço de e-mail do usuário         | text
        user_reference         | User Reference           | Referência do usuário                 | text
        available_ms           | Available Time (s)       | Tempo (s) disponível (is)             | duration
        away_ms                | Away Time (s)            | Tempo (s) ausente (s)                 | duration
        contacts_helped        | Contacts Helped          | Contatos ajudados                     | count
        avg_handle_s           | Avg. Handle Time (s)     | Média. Tempo (s) de manuseio          | decimal2
        handle_ms              | Handle Time (s)          | Tempo (s) de manuseio                 | duration
        no_reply_ms            | No Reply Time (s)        | Tempo (s) sem resposta                | duration
        cherry_picking_ms      | Cherry Picking Time (s)  | Tempo (s) de colheita da cereja       | duration
        replies                | Replies                  | Respostas                             | count
        resolves_with_reply    | Resolves - With Reply    | Resolve - Com resposta                | count
        resolves_without_reply | Resolves - Without Reply | Resolve - Sem resposta                | count
        tags_added             | Tags Added               | Tags adicionadas                      | count
        topics_added           | Topics Added             | Tópicos adicionados                   | count
        utilization            | Utilization (%)          | Utilização (%)                        | decimal2
        csat_1                 | CSAT Score 1             | CSAT com pontuação 1                  | count
        csat_2                 | CSAT Score 2             | CSAT com pontuação 2                  | count
        csat_3                 | CSAT Score 3             | CSAT com pontuação 3                  | count
        csat_4                 | CSAT Score 4             | CSAT com pontuação 4                  | count
        csat_5                 | CSAT Score 5             | CSAT com pontuação 5                  | count
        """
    ),
    facts=("f_agent_credit", "f_agent_presence_time"),
    sql="""
    WITH agents AS (
        SELECT agent_id FROM f_agent_credit
        UNION
        SELECT agent_id FROM f_agent_presence_time
    )
    SELECT g.agent_id AS user_id, a.name AS user_name, a.email AS user_email,
           a.reference AS user_reference,
           coalesce(t.available_ms, 0) AS available_ms,
           coalesce(t.away_ms, 0) AS away_ms,
           coalesce(c.contacts_helped, 0) AS contacts_helped,
           CASE WHEN c.handled_conversations > 0
                THEN c.handle_ms / 1000.0 / c.handled_conversations END AS avg_handle_s,
           coalesce(c.handle_ms, 0) AS handle_ms,
           coalesce(c.no_reply_ms, 0) AS no_reply_ms,
           coalesce(c.cherry_picking_ms, 0) AS cherry_picking_ms,
           coalesce(c.replies, 0) AS replies,
           coalesce(c.resolves_with_reply, 0) AS resolves_with_reply,
           coalesce(c.resolves_without_reply, 0) AS resolves_without_reply,
           coalesce(c.tags_added, 0) AS tags_added,
           coalesce(c.topics_added, 0) AS topics_added,
           CASE WHEN t.available_ms > 0
                THEN t.utilized_ms * 100.0 / t.available_ms END AS utilization,
           coalesce(c.csat_1, 0) AS csat_1,
           coalesce(c.csat_2, 0) AS csat_2,
           coalesce(c.csat_3, 0) AS csat_3,
           coalesce(c.csat_4, 0) AS csat_4,
           coalesce(c.csat_5, 0) AS csat_5
    FROM agents AS g
    LEFT JOIN e_agent AS a ON a.agent_id = g.agent_id
    LEFT JOIN f_agent_credit AS c ON c.agent_id = g.agent_id
    LEFT JOIN f_agent_presence_time AS t ON t.agent_id = g.agent_id
    ORDER BY nullif(a.name, '') NULLS LAST, g.agent_id
    """,
)
