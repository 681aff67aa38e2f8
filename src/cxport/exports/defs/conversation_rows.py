"""What the two conversation exports share (exports.md §1 and §2).

One row per conversation of the snapshot, from its summary
(`f_conversation_summary`: the timeline, the first response, the lock time
and the topics at the snapshot). `resolved-conversations` and `open-conversations` differ only
in which rows they keep, their order and a few columns.
"""

from __future__ import annotations

from cxport.exports.catalogue import Column, columns, described
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

# What each column holds: the seed's definitions, corrected where the spec
# differs (docs/decisions.md, "The data dictionary").
ABOUT = """
conversation_id
    en: The unique identifier of the conversation.
    pt: O identificador exclusivo para a conversa.
medium
    en: The social network or messaging platform where the conversation took place (the
      channel's medium).
    pt: A rede social ou plataforma de serviço de mensagens onde a conversa ocorreu (o meio do
      canal).
channel
    en: The channel where the conversation took place (its name). Empty when the conversation's
      channel is unknown at the snapshot.
    pt: O canal onde a conversa aconteceu (o seu nome). Vazio quando o canal da conversa é
      desconhecido no momento da exportação.
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
contact_profile_id
    en: The unique identifier of the contact.
    pt: O identificador exclusivo para o contato.
contact_primary
    en: One of the two identifiers of contacts. Depending on the platform, this can be a name, a
      phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
contact_secondary
    en: One of the two identifiers of contacts. Depending on the platform, this can be a
      name, a phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
created_at
    en: When the conversation was created: the earliest of its conversation records, messages and
      status changes.
    pt: A data de criação da conversa: o primeiro dos seus registros de conversa, mensagens e
      alterações de status.
last_status_agent_id
    en: The unique identifier of the agent who made the last status change in the conversation
      (moved it to Resolved or Pending); empty when that change was not made by a human agent.
    pt: O identificador exclusivo do agente que fez a última alteração de status na conversa
      (movido para Resolvido ou Pendente); vazio quando a alteração não foi feita por um agente
      humano.
last_status_agent_name
    en: The agent who made the last status change in the conversation (moved it to Resolved or
      Pending).
    pt: O agente que fez a última alteração de status na conversa (moveu-a para Resolvida ou
      Pendente).
last_status_agent_reference
    en: The internal ID of the agent (the organisation's reference for them).
    pt: O ID interno do agente.
last_status_team_id
    en: The unique identifier of the team that made the last status change in the conversation
      (moved it to Resolved or Pending), whoever made it.
    pt: O identificador exclusivo da equipe que fez a última alteração de status na conversa
      (movido para Resolvido ou Pendente), quem quer que a tenha feito.
last_status_team_name
    en: The team that made the last status change in the conversation (moved it to Resolved or
      Pending).
    pt: A equipe que fez a última alteração de status na conversa (moveu-a para Resolvida ou
      Pendente).
current_status
    en: The latest status of the conversation at the time of the export (NEW, PENDING or
      RESOLVED; NEW when it never changed).
    pt: O último status da conversa no momento da exportação (NEW, PENDING ou RESOLVED; NEW
      quando nunca mudou).
resolved_by
    en: Whether the conversation was resolved by an agent, a virtual agent, a bulk resolve event
      or the system (AGENT, VIRTUAL_AGENT, BULK_RESOLVE, SYSTEM), at its last resolution.
    pt: Se a conversa foi resolvida por um agente, um agente virtual, um evento de resolução em
      massa ou o sistema (AGENT, VIRTUAL_AGENT, BULK_RESOLVE, SYSTEM), na sua última resolução.
resolve_reason
    en: The resolve reason selected by the agent, at the last resolution.
    pt: O motivo da resolução selecionado pelo agente, na última resolução.
resolve_comment
    en: Any comment on the resolve reason added by the agent, at the last resolution.
    pt: Qualquer comentário sobre o motivo da resolução adicionado pelo agente, na última
      resolução.
resolve_trigger
    en: Whether the conversation was resolved by a human agent, a virtual agent, automation or
      auto-resolve (HUMAN_AGENT, VIRTUAL_AGENT, AUTOMATION, AUTO_RESOLVE), at its last
      resolution.
    pt: Se a conversa foi resolvida por um agente humano, um agente virtual, automação ou
      resolução automática (HUMAN_AGENT, VIRTUAL_AGENT, AUTOMATION, AUTO_RESOLVE), na sua
      última resolução.
resolved_at
    en: When the conversation was last resolved (a conversation resolved again keeps this row and
      shows its latest resolution).
    pt: Quando a conversa foi resolvida pela última vez (uma conversa resolvida de novo mantém a
      linha e mostra a sua última resolução).
resolved_agent_id
    en: The unique identifier of the agent who resolved the conversation (its last resolution);
      empty when a virtual agent, a bulk resolve or the system resolved it.
    pt: O identificador exclusivo do agente que resolveu a conversa (na última resolução); vazio
      quando um agente virtual, uma resolução em massa ou o sistema a resolveu.
resolved_agent_name
    en: The agent who resolved the conversation (its last resolution).
    pt: O agente que resolveu a conversa (na última resolução).
resolved_agent_reference
    en: The internal ID of the agent (the organisation's reference for them).
    pt: O ID interno do agente.
inbound_messages
    en: The total number of messages received from the contact during the conversation, deleted
      ones included.
    pt: O número total de mensagens recebidas do contato durante a conversa, incluindo as
      excluídas.
outbound_messages
    en: The total number of messages sent to the contact during the conversation, by agents,
      virtual agents and the system, deleted ones included.
    pt: O número total de mensagens enviadas para o contato durante a conversa, por agentes,
      agentes virtuais e o sistema, incluindo as excluídas.
first_response_time
    en: The business-hours time until the first human agent message, counted from the latest
      of the first inbound message, the latest reopening and the latest virtual agent handover
      to the New queue before that message. Empty with no inbound message before it or no
      human reply.
    pt: O tempo, em horário comercial, até a primeira mensagem de saída de um agente humano,
      contado a partir do último destes momentos anteriores a ela: a primeira mensagem de
      entrada, a última reabertura e a última transferência do agente virtual para a fila Nova.
      Vazio sem mensagem de entrada antes dela ou sem resposta humana.
handle_time
    en: The time agents were actively working on the conversation (lock): its lock sessions in
      which the agent sent a reply. An open session counts up to the time of the export.
    pt: O período de tempo que um agente estava trabalhando ativamente na conversa (bloqueio):
      as sessões de bloqueio em que o agente enviou uma resposta. Uma sessão aberta conta até o
      momento da exportação.
no_reply_time
    en: The time agents were looking at the conversation (lock) and resolved it without a
      reply: lock sessions without a reply that ended with the agent resolving it.
    pt: O período de tempo que um agente estava olhando para a conversa (bloqueio) e a resolveu
      sem uma resposta: as sessões de bloqueio sem resposta que terminaram com a resolução pelo
      agente.
cherry_picking_time
    en: The time agents were looking at the conversation (lock) and neither sent a reply nor
      resolved it at the end of the lock.
    pt: O período de tempo que um agente estava olhando para a conversa (cadeado) e não enviou
      uma resposta nem a resolveu ao fim do bloqueio.
resolution_time
    en: The calendar time between the first inbound message and the first change of status to
      Resolved. Empty when either is missing or the resolution came first.
    pt: O período de tempo (de calendário) entre a primeira mensagem recebida e a primeira
      alteração de status para Resolvido. Vazio quando falta uma delas ou a resolução veio antes.
topic_ids
    en: The unique identifiers of the topics applied to the conversation (and not removed) at
      the time of the export.
    pt: Os identificadores exclusivos para tópicos aplicados à conversa (e não removidos) no
      momento da exportação.
topic_names
    en: The topics applied to the conversation at the time of the export, in the order of Topic
      IDs.
    pt: Os tópicos aplicados à conversa no momento da exportação, na ordem dos IDs de tópico.
conversation_url
    en: The URL of the conversation.
    pt: O URL para a conversa.
last_updated
    en: When the last change was made to the conversation: the latest record naming it or one of
      its messages, locks and unlocks aside.
    pt: Quando a última alteração foi feita na conversa: o último registro que cita a conversa ou
      uma de suas mensagens, exceto bloqueios e desbloqueios.
language
    en: The language detected or set in the conversation.
    pt: O idioma detectado ou definido na conversa.
csat_score
    en: The contact's rating sent through the CSAT survey (1 to 5; the latest answer).
    pt: A classificação do contato enviada por meio da pesquisa CSAT (de 1 a 5; a última
      resposta).
csat_status
    en: The contact's response status after a CSAT survey was sent, from the latest CSAT event:
      SENT, ANSWERED or COMPLETED (follow-up answered).
    pt: O status de resposta do contato após o envio de uma pesquisa CSAT, pelo último evento
      CSAT: SENT, ANSWERED ou COMPLETED (acompanhamento respondido).
csat_follow_up_question
    en: Any follow-up survey question sent to the contact (the latest).
    pt: Qualquer pergunta da pesquisa de acompanhamento enviada ao contato (a última).
csat_follow_up_answer
    en: Any follow-up answer received from the contact (the latest).
    pt: Qualquer resposta de acompanhamento recebida do contato (a última).
"""

# What the channel filter does to both exports.
CHANNELS = """
channels
    en: Keeps the conversations on the selected channels (the channel of the conversation record
      at the snapshot); a conversation whose channel is unknown appears only without a filter.
    pt: Mantém as conversas dos canais selecionados (o canal do registro da conversa no momento
      da exportação); uma conversa de canal desconhecido aparece só sem filtro de canal.
"""

RESOLVED_COLUMNS: tuple[Column, ...] = described(
    (*HEAD, *RESOLVE, *RESOLVED_AND_METRICS, *CSAT), ABOUT
)
# The same columns without those of the resolution's reason and of CSAT.
_RESOLVED_ONLY = {c.id for c in (*RESOLVE, *CSAT)}
OPEN_COLUMNS: tuple[Column, ...] = tuple(c for c in RESOLVED_COLUMNS if c.id not in _RESOLVED_ONLY)


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


def query(where: str) -> str:
    """Every column of both exports, for the conversations `where` keeps."""
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
    """
