"""What the two conversation exports share (exports.md §1 and §2).

One row per conversation of the snapshot, from its summary
(`f_conversation_summary`: the timeline, the first response, the lock time
and the topics at the snapshot). `resolved-conversations` and `open-conversations` differ only
in which rows they keep, their order and a few columns.
"""

from __future__ import annotations

from cxport.exports.catalogue import Column, columns
from cxport.exports.facts.locks import open_time

FACTS = ("f_conversation_summary",)

HEAD = columns(
    """
    conversation_id            | Conversation ID                    | ID da conversa                                    | id
    medium                     | Medium                             | Médio                                             | text
    channel                    | Channel                            | Canal                                             | text
    channel_display_name       | Channel Display Name               | Nome de exibição do canal                         | text
    contact_profile_id         | Contact Profile ID                 | ID do perfil do contato                           | id
    contact_primary            | Contact Primary Identifier         | Identificador primário do contato                 | text
    contact_secondary          | Contact Secondary Identifier       | Identificador secundário de contato               | text
    created_at                 | Created at                         | Criado em                                         | timestamp
    last_status_agent_id       | Last Status Change Agent ID        | ID do agente da última alteração de status        | id
    last_status_agent_name     | Last Status Change Agent Name      | Último nome do agente de alteração de status      | text
    last_status_agent_reference| Last Status Change Agent Reference | Referência do último agente de alteração de status| text
    last_status_team_id        | Last Status Change Team ID         | ID da equipe da última alteração de status        | id
    last_status_team_name      | Last Status Change Team Name       | Último nome da equipe de alteração de status      | text
    current_status             | Current Status                     | Status atual                                      | text
    resolved_by                | Resolved By                        | Resolvido por                                     | text
    """
)

RESOLVE = columns(
    """
    resolve_reason  | Resolve Reason  | Resolver o motivo    | text
    resolve_comment | Resolve Comment | Resolver comentário  | text
    resolve_trigger | Resolve Trigger | Resolver acionador   | text
    """
)

RESOLVED_AND_METRICS = columns(
    """
    resolved_at               | Resolved at               | Resolvido em                         | timestamp
    resolved_agent_id         | Resolved Agent ID         | ID do agente resolvida               | id
    resolved_agent_name       | Resolved Agent Name       | Nome do agente resolvido             | text
    resolved_agent_reference  | Resolved Agent Reference  | Referência do agente resolvida       | text
    inbound_messages          | Number of Inbound Messages  | Número de mensagens recebidas      | count
    outbound_messages         | Number of Outbound Messages | Número de mensagens enviadas       | count
    first_response_time       | First Response Time (s)   | Tempo (s) da primeira resposta       | duration
    handle_time               | Handle Time (s)           | Tempo (s) de manuseio                | duration
    no_reply_time             | No Reply Time (s)         | Tempo (s) sem resposta               | duration
    cherry_picking_time       | Cherry Picking Time (s)   | Tempo (s) de colheita da cereja      | duration
    resolution_time           | Resolution Time (s)       | Tempo (s) de resolução               | duration
    topic_ids                 | Topic IDs                 | IDs de tópico                        | ids
    topic_names               | Topic Names               | Nomes de tópicos                     | texts
    conversation_url          | Conversation URL          | URL da conversa                      | text
    last_updated              | Last Updated              | Última atualização                   | timestamp
    language                  | Language                  | Idioma                               | text
    """
)

CSAT = columns(
    """
    csat_score               | CSAT Score               | Pontuação CSAT                          | count
    csat_status              | CSAT Completed Status    | Status do CSAT concluído                | text
    csat_follow_up_question  | CSAT Follow-up Question  | Pergunta de acompanhamento do CSAT      | text
    csat_follow_up_answer    | CSAT Follow-up Answer    | Resposta de acompanhamento do CSAT      | text
    """
)

RESOLVED_COLUMNS: tuple[Column, ...] = (*HEAD, *RESOLVE, *RESOLVED_AND_METRICS, *CSAT)
OPEN_COLUMNS: tuple[Column, ...] = (*HEAD, *RESOLVED_AND_METRICS)


# The conversations of the selected channels (all without a filter); a
# superset (any version on a selected channel), which is all a scope needs.
_ON_CHANNELS = """
(NOT (SELECT filtered FROM req) OR conversation_id IN (
    SELECT v.conversation_id FROM s_conversation AS v
    JOIN req_channel AS rc ON rc.channel_id = v.channel_id))
"""

# Scopes: the conversations the rows can come from, found cheaply from
# status changes alone, so that the facts are computed for these only.
FIRST_RESOLVED_IN_RANGE = f"""
SELECT conversation_id FROM s_status_change
WHERE status = 'RESOLVED'
GROUP BY conversation_id
HAVING min("at") >= (SELECT start_at FROM req) AND min("at") < (SELECT end_at FROM req)
   AND {_ON_CHANNELS}
"""

OPEN_AT_SNAPSHOT = f"""
WITH latest AS (
    SELECT conversation_id, arg_max(status, ("at", record_id)) AS status
    FROM s_status_change GROUP BY conversation_id
),
-- Conversations without any status change are NEW: the few named only by
-- their entity or messages.
unchanged AS (
    SELECT DISTINCT conversation_id FROM (
        SELECT conversation_id FROM s_conversation
        UNION ALL SELECT conversation_id FROM s_message
    ) AS named
    WHERE NOT EXISTS (SELECT 1 FROM latest WHERE latest.conversation_id = named.conversation_id)
)
SELECT conversation_id FROM (
    SELECT conversation_id FROM latest WHERE status <> 'RESOLVED'
    UNION ALL SELECT conversation_id FROM unchanged
) AS open_
WHERE {_ON_CHANNELS}
"""


def query(where: str, order_by: str) -> str:
    """Every column of both exports, for the conversations `where` keeps, in order."""
    return f"""
    WITH rows_ AS (
        SELECT c.* FROM f_conversation_summary AS c CROSS JOIN req AS r
        WHERE ({where})
          AND (NOT r.filtered OR c.channel_id IN (SELECT channel_id FROM req_channel))
    ),
    -- The latest version of the rows' contacts only (there are many contacts).
    contacts AS (
        SELECT * FROM s_contact
        WHERE contact_profile_id IN (SELECT contact_profile_id FROM rows_)
        QUALIFY row_number() OVER (
            PARTITION BY contact_profile_id ORDER BY "at" DESC, record_id DESC) = 1
    )
    SELECT c.conversation_id,
           ch.medium, ch.name AS channel, ch.display_name AS channel_display_name,
           c.contact_profile_id, ct.primary_identifier AS contact_primary,
           ct.secondary_identifier AS contact_secondary,
           c.created_at,
           c.last_status_change_agent_id AS last_status_agent_id,
           la.name AS last_status_agent_name, la.reference AS last_status_agent_reference,
           c.last_status_change_team_id AS last_status_team_id, lt.name AS last_status_team_name,
           c.current_status, c.resolved_by, c.resolve_reason, c.resolve_comment, c.resolve_trigger,
           c.last_resolution_at AS resolved_at,
           c.last_resolution_agent_id AS resolved_agent_id,
           ra.name AS resolved_agent_name, ra.reference AS resolved_agent_reference,
           c.inbound_count AS inbound_messages, c.outbound_count AS outbound_messages,
           c.first_response_ms AS first_response_time,
           -- An open lock session's time runs to `as_of`.
           coalesce(c.handle_ms, 0) + {open_time("c", "handle")} AS handle_time,
           coalesce(c.no_reply_ms, 0) + {open_time("c", "no_reply")} AS no_reply_time,
           coalesce(c.cherry_picking_ms, 0) + {open_time("c", "cherry_picking")}
               AS cherry_picking_time,
           c.resolution_ms AS resolution_time,
           c.topic_ids, c.topic_names,
           c.url AS conversation_url, c.last_updated, c.language,
           c.csat_score, c.csat_status, c.csat_follow_up_question, c.csat_follow_up_answer
    FROM rows_ AS c
    CROSS JOIN req AS r
    LEFT JOIN e_channel AS ch ON ch.channel_id = c.channel_id
    LEFT JOIN contacts AS ct ON ct.contact_profile_id = c.contact_profile_id
    LEFT JOIN e_agent AS la ON la.agent_id = c.last_status_change_agent_id
    LEFT JOIN e_team AS lt ON lt.team_id = c.last_status_change_team_id
    LEFT JOIN e_agent AS ra ON ra.agent_id = c.last_resolution_agent_id
    ORDER BY {order_by}
    """
