"""`virtual-agents` (exports.md §11): one row per (virtual agent, channel) active in range.

Activity is a message the virtual agent sent, a handover or a resolution it
made, a topic or tag it applied; its channel is the channel of the
conversation (of the tagged message), unknown when that conversation is
not visible.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: The metrics collected per virtual agent for the selected date range: one row per
          virtual agent and channel with any activity of it there in range (a message, a
          handover, a resolution, a topic or tag applied).
        pt: As métricas coletadas por agente virtual para o intervalo de tempo selecionado: uma
          linha por agente virtual e canal com alguma atividade dele ali no período (uma
          mensagem, uma transferência, uma resolução, um tópico ou uma tag aplicada).
    anchor
        en: Each activity's own time: the message, the handover or resolution (status change),
          the topic or tag application.
        pt: O momento de cada atividade: a mensagem, a transferência ou a resolução (alteração de
          status), a aplicação do tópico ou da tag.
    channels
        en: Keeps the rows of the selected channels (the channel of the conversation, of the
          tagged message's conversation for tags); activity whose channel is unknown appears
          only without a filter.
        pt: Mantém as linhas dos canais selecionados (o canal da conversa; para tags, o da
          conversa da mensagem marcada); a atividade de canal desconhecido aparece só sem filtro
          de canal.
    order
        en: Agent Name, then Channel (unknown names last), then Agent ID.
        pt: Nome do agente, depois Canal (nomes desconhecidos por último), depois ID do agente.
    """
)

ABOUT = """
agent_id
    en: The unique identifier of the virtual agent.
    pt: O identificador exclusivo para o agente virtual.
agent_name
    en: The name of the virtual agent, as configured in the system.
    pt: O nome do agente virtual, conforme configurado no sistema.
medium
    en: The social media or messaging platform on which the virtual agent was part of a
      conversation.
    pt: A plataforma de mídia social ou serviço de mensagens na qual o agente virtual fazia parte
      de uma conversa.
channel
    en: The channel in which the virtual agent took part in a conversation.
    pt: O canal no qual o agente virtual participou de uma conversa.
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
total_conversations
    en: The total number of conversations in which the virtual agent sent at least one message
      in range.
    pt: O número total de conversas nas quais o agente virtual enviou pelo menos uma mensagem no
      intervalo.
handover_to_agent
    en: The number of conversations handed over from the virtual agent to a human agent in range
      (error handovers included).
    pt: O número de conversas transferidas do agente virtual para um agente humano no intervalo
      (incluindo as entregas por erro).
handover_due_to_error
    en: The number of conversations handed over in range because the virtual agent encountered
      an error (handover reason ERROR).
    pt: O número de conversas entregues no intervalo porque o agente virtual encontrou um erro
      (motivo da entrega ERROR).
resolved
    en: The number of conversations resolved by this virtual agent in range.
    pt: O número de conversas resolvidas por este agente virtual no intervalo.
conversations_with_topic
    en: The number of distinct conversations the virtual agent applied a topic to in range.
    pt: O número de conversas distintas às quais o agente virtual aplicou um tópico no intervalo.
messages_tagged
    en: The number of distinct messages the virtual agent tagged in range.
    pt: O número de mensagens distintas que o agente virtual marcou no intervalo.
tags_applied
    en: The number of tags the virtual agent applied in range (its tag applications).
    pt: O número de tags que o agente virtual aplicou no intervalo (as suas aplicações de tag).
"""

VIRTUAL_AGENTS = ExportDef(
    name="virtual-agents",
    title="Virtual Agents",
    title_pt="Agentes virtuais",
    rule=RULE,
    columns=described(
        columns(
            """
        agent_id                 | Agent ID                       | ID do agente                    | id
        agent_name               | Agent Name                     | Nome do agente                  | text
        medium                   | Medium                         | Médio                           | code
        channel                  | Channel                        | Canal                           | text
        channel_display_name     | Channel Display Name           | Nome de exibição do canal       | text
        total_conversations      | Total Conversations            | Total de conversas              | count
        handover_to_agent        | Handover to Agent              | Entrega para o agente           | count
        handover_due_to_error    | Handover Due to Error          | Entrega devido a erro           | count
        resolved                 | Resolved                       | Resolvido                       | count
        conversations_with_topic | Total Conversations with Topic | Total de conversas com o tópico | count
        messages_tagged          | Total Messages Tagged          | Total de mensagens marcadas     | count
        tags_applied             | Total Tags Applied             | Total de tags aplicadas         | count
        """
        ),
        ABOUT,
    ),
    facts=("f_va_activity",),
    sql="""
    WITH in_scope AS (
        SELECT a.va_id, a.conversation_id, a.kind, a.message_id, a.channel_id
        FROM f_va_activity AS a
        CROSS JOIN req AS r
        WHERE a.act_at >= r.start_at AND a.act_at < r.end_at
          AND (NOT r.filtered OR a.channel_id IN (SELECT channel_id FROM req_channel))
    ),
    -- Distinct conversations per kind, counted once each (one grouping, not one
    -- distinct count per column).
    conversations AS (
        SELECT va_id, channel_id, kind, count(*) AS n
        FROM (
            SELECT DISTINCT va_id, channel_id, kind, conversation_id
            FROM in_scope WHERE kind <> 'tag'
        ) AS d
        GROUP BY va_id, channel_id, kind
    ),
    tags AS (
        SELECT va_id, channel_id, count(DISTINCT message_id) AS messages_tagged,
               count(*) AS tags_applied
        FROM in_scope WHERE kind = 'tag'
        GROUP BY va_id, channel_id
    ),
    per_channel AS (
        SELECT coalesce(c.va_id, t.va_id) AS va_id, coalesce(c.channel_id, t.channel_id) AS channel_id,
               coalesce(c.total_conversations, 0) AS total_conversations,
               coalesce(c.handover_to_agent, 0) AS handover_to_agent,
               coalesce(c.handover_due_to_error, 0) AS handover_due_to_error,
               coalesce(c.resolved, 0) AS resolved,
               coalesce(c.conversations_with_topic, 0) AS conversations_with_topic,
               coalesce(t.messages_tagged, 0) AS messages_tagged,
               coalesce(t.tags_applied, 0) AS tags_applied
        FROM (
            SELECT va_id, channel_id,
                   sum(n) FILTER (WHERE kind = 'message') AS total_conversations,
                   sum(n) FILTER (WHERE kind = 'handover') AS handover_to_agent,
                   sum(n) FILTER (WHERE kind = 'handover_error') AS handover_due_to_error,
                   sum(n) FILTER (WHERE kind = 'resolved') AS resolved,
                   sum(n) FILTER (WHERE kind = 'topic') AS conversations_with_topic
            FROM conversations
            GROUP BY va_id, channel_id
        ) AS c
        FULL JOIN tags AS t
          ON t.va_id = c.va_id AND t.channel_id IS NOT DISTINCT FROM c.channel_id
    )
    SELECT p.va_id AS agent_id, v.name AS agent_name, ch.medium, ch.name AS channel,
           ch.display_name AS channel_display_name, p.total_conversations, p.handover_to_agent,
           p.handover_due_to_error, p.resolved, p.conversations_with_topic, p.messages_tagged,
           p.tags_applied,
           p.channel_id AS sort_channel_id
    FROM per_channel AS p
    LEFT JOIN e_virtual_agent AS v ON v.virtual_agent_id = p.va_id
    LEFT JOIN e_channel AS ch ON ch.channel_id = p.channel_id
    """,
    order="nullif(agent_name, '') NULLS LAST, nullif(channel, '') NULLS LAST, agent_id, sort_channel_id NULLS LAST",
)
