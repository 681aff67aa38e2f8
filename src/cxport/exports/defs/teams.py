"""`teams` (exports.md §4): one row per team credited with activity in the range.

Credit comes from `f_team_credit` (replies, lock sessions, resolutions, tags,
topics, CSAT answers, each by its `team_id`). The two averages are over
conversations: first response time where the first-response end message is
in range and carries the team, resolution time where the first resolution
is in range and carries the team.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

TEAMS = ExportDef(
    name="teams",
    title="Teams",
    columns=columns(
        """
        created_at             | Created at                      | Criado em                          | timestamp
        team_id                | Team ID                         | ID da equipe                       | id
        team_name              | Team Name                       | Nome da equipe                     | text
        resolves_with_reply    | Resolves With Reply             | Resolve com resposta               | count
        resolves_without_reply | Resolves Without Reply          | Resolve sem resposta               | count
        avg_first_response_s   | Average First Response Time (s) | Tempo médio da primeira resposta   | decimal2
        avg_resolution_s       | Average Resolution Time (s)     | Tempo médio de resolução           | decimal2
        handle_ms              | Total Handle Time (s)           | Tempo total de manuseio            | duration
        no_reply_ms            | Total No Reply Time (s)         | Tempo total sem resposta           | duration
        cherry_picking_ms      | Total Cherry Picking Time (s)   | Tempo total de colheita de cerejas | duration
        avg_handle_s           | Average Handle Time (s)         | Tempo médio de manuseio            | decimal2
        contacts_helped        | Contacts Helped                 | Contatos ajudados                  | count
        csat_1                 | CSAT Score 1                    | CSAT com pontuação 1               | count
        csat_2                 | CSAT Score 2                    | CSAT com pontuação 2               | count
        csat_3                 | CSAT Score 3                    | CSAT com pontuação 3               | count
        csat_4                 | CSAT Score 4                    | CSAT com pontuação 4               | count
        csat_5                 | CSAT Score 5                    | CSAT com pontuação 5               | count
        tags_added             | Tags Added                      | Tags adicionadas                   | count
        topics_added           | Topics Added                    | Tópicos adicionados                | count
        replies                | Replies                         | Respostas                          | count
        """
    ),
    facts=("f_team_credit", "f_first_response", "f_first_resolution"),
    sql="""
    WITH first_response AS (
        SELECT f.end_team_id AS team_id, avg(f.business_ms) AS avg_ms
        FROM f_first_response AS f CROSS JOIN req AS r
        WHERE f.end_team_id IS NOT NULL AND f.end_at >= r.start_at AND f.end_at < r.end_at
          AND (NOT r.filtered OR f.channel_id IN (SELECT channel_id FROM req_channel))
        GROUP BY f.end_team_id
    ),
    resolution AS (
        SELECT c.team_id, avg(c.resolution_ms) AS avg_ms
        FROM f_first_resolution AS c CROSS JOIN req AS r
        WHERE c.team_id IS NOT NULL AND c.resolved_at >= r.start_at AND c.resolved_at < r.end_at
          AND (NOT r.filtered OR c.channel_id IN (SELECT channel_id FROM req_channel))
        GROUP BY c.team_id
    ),
    created AS (
        SELECT s.team_id, min(s.at) AS created_at FROM s_team AS s GROUP BY s.team_id
    )
    SELECT k.created_at, c.team_id, t.name AS team_name,
           c.resolves_with_reply, c.resolves_without_reply,
           f.avg_ms / 1000.0 AS avg_first_response_s,
           v.avg_ms / 1000.0 AS avg_resolution_s,
           c.handle_ms, c.no_reply_ms, c.cherry_picking_ms,
           CASE WHEN c.handled_conversations > 0
                THEN c.handle_ms / 1000.0 / c.handled_conversations END AS avg_handle_s,
           c.contacts_helped, c.csat_1, c.csat_2, c.csat_3, c.csat_4, c.csat_5,
           c.tags_added, c.topics_added, c.replies
    FROM f_team_credit AS c
    LEFT JOIN e_team AS t ON t.team_id = c.team_id
    LEFT JOIN created AS k ON k.team_id = c.team_id
    LEFT JOIN first_response AS f ON f.team_id = c.team_id
    LEFT JOIN resolution AS v ON v.team_id = c.team_id
    ORDER BY nullif(t.name, '') NULLS LAST, c.team_id
    """,
)
