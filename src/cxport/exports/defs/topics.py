"""`topics` (exports.md §6): one row per (topic, channel) applied in range.

The channel is the conversation entity's (unknown: one row under an empty
channel, only without a filter). Total Conversations: distinct
conversations the topic was applied to in range on that channel; Total
Current: of those, the ones that have it at the snapshot.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All topics that have at least one application in the selected date range: one row per
          topic and channel.
        pt: Todos os tópicos que têm pelo menos uma aplicação no intervalo de tempo selecionado:
          uma linha por tópico e canal.
    anchor
        en: The topic's application (topic applied) to a conversation.
        pt: A aplicação do tópico (tópico aplicado) a uma conversa.
    channels
        en: Keeps the rows of the selected channels (the channel of the conversation the topic was
          applied to); the row of an unknown channel appears only without a filter.
        pt: Mantém as linhas dos canais selecionados (o canal da conversa à qual o tópico foi
          aplicado); a linha de canal desconhecido aparece só sem filtro de canal.
    order
        en: Topic Name, then Channel (unknown names last), then Topic ID.
        pt: Nome do tópico, depois Canal (nomes desconhecidos por último), depois ID do tópico.
    """
)

ABOUT = """
topic_id
    en: The unique identifier of the topic.
    pt: O identificador exclusivo para o tópico.
topic_name
    en: The name of the topic.
    pt: O nome do tópico.
active
    en: Whether the topic is active (its topic record at the time of the export).
    pt: Se o tópico está ativo (o seu registro de tópico no momento da exportação).
total_conversations
    en: The number of distinct conversations on this channel the topic was applied to in range.
    pt: O número de conversas distintas deste canal às quais o tópico foi aplicado no intervalo.
current_conversations
    en: Of those conversations, the count of the ones that have the topic applied at the time of
      the export.
    pt: Dessas conversas, a contagem das que têm o tópico aplicado no momento da exportação.
medium
    en: The social network or messaging platform of the conversation a topic was applied to.
    pt: A rede social ou plataforma de serviço de mensagens da conversa à qual um tópico foi
      aplicado.
channel
    en: The channel of the conversation the topic was applied to.
    pt: O canal da conversa ao qual o tópico foi aplicado.
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
"""

TOPICS = ExportDef(
    name="topics",
    title="Topics",
    title_pt="Tópicos",
    rule=RULE,
    columns=described(
        columns(
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
        ABOUT,
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
           ch.display_name AS channel_display_name,
           p.channel_id AS sort_channel_id
    FROM per_channel AS p
    LEFT JOIN e_topic AS t ON t.topic_id = p.topic_id
    LEFT JOIN e_channel AS ch ON ch.channel_id = p.channel_id
    """,
    order="nullif(topic_name, '') NULLS LAST, nullif(channel, '') NULLS LAST, topic_id, sort_channel_id NULLS LAST",
)
