"""`response-times` (exports.md §10): one row per response episode.

Episodes (`f_response_episode`) whose outbound message is in range, on the
selected channels (the conversation entity's channel; unknown channel: only
without a filter). Order: To, then Outbound Message ID.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All responses for which a human agent's outbound message was created in the selected
          date range: one row per response episode, from an inbound message or a virtual agent
          handover to the human reply that answers it.
        pt: Todas as respostas para as quais uma mensagem de saída de agente humano foi criada no
          intervalo de tempo selecionado: uma linha por episódio de resposta, de uma mensagem de
          entrada ou transferência do agente virtual até a resposta humana que a atende.
    anchor
        en: The reply (To, the outbound message); From may be before the range.
        pt: A resposta (Para, a mensagem de saída); De pode ser anterior ao período.
    channels
        en: Keeps the episodes of conversations on the selected channels; a conversation whose
          channel is unknown appears only without a filter.
        pt: Mantém os episódios de conversas dos canais selecionados; uma conversa de canal
          desconhecido aparece só sem filtro de canal.
    order
        en: To, then Outbound Message ID.
        pt: Para, depois ID da mensagem de saída.
    """
)

ABOUT = """
conversation_id
    en: The unique identifier of the conversation.
    pt: O identificador exclusivo para a conversa.
medium
    en: The social media or messaging platform where the conversation took place.
    pt: A plataforma de mídia social ou serviço de mensagens em que a conversa ocorreu.
channel
    en: The name of the channel in which the contact's message was received (the conversation's
      channel).
    pt: O nome do canal em que a mensagem do contato foi recebida (o canal da conversa).
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
contact_profile_id
    en: The unique identifier of the contact.
    pt: O identificador exclusivo para o contato.
initiated_by
    en: The reason the conversation became visible in the New queue (INBOUND_MESSAGE or
      VA_HANDED_OVER_CONVERSATION).
    pt: O motivo pelo qual a conversa ficou visível na fila Nova (INBOUND_MESSAGE ou
      VA_HANDED_OVER_CONVERSATION).
handover_reason
    en: If "Initiated By" is "VA_HANDED_OVER_CONVERSATION", the reason there was a handover.
    pt: Se “Iniciado por” for “VA_HANDED_OVER_CONVERSATION”, esse é o motivo pelo qual houve uma
      entrega.
from_at
    en: The timestamp of the "Initiated By" event (the actual timestamp is used to compute the
      response time); it may be before the range.
    pt: O carimbo de data/hora do evento “Iniciado por” (o carimbo de data/hora real é usado para
      calcular o Tempo de Resposta); pode ser anterior ao período.
to_at
    en: The timestamp of the outbound message (the human agent's reply).
    pt: O carimbo de data/hora da mensagem de saída (a resposta do agente humano).
response_ms
    en: The difference between "From" and "To" in calendar time (the time an agent took to
      respond to the contact).
    pt: A diferença entre “De” e “Para”, em tempo de calendário (o tempo que um agente levou para
      responder ao contato).
agent_id
    en: The unique identifier of the agent who sent the outbound message.
    pt: O identificador exclusivo do agente que enviou a mensagem de saída.
agent_name
    en: The name of the agent who sent the outbound message.
    pt: O nome do agente que enviou a mensagem de saída.
agent_reference
    en: The internal ID of the agent.
    pt: O ID interno do agente.
inbound_message_id
    en: The unique identifier of the inbound message (the one that opened the episode; after a
      handover, the latest inbound message so far, possibly none).
    pt: O identificador exclusivo para a mensagem recebida (a que abriu o episódio; após uma
      transferência, a última recebida até então, podendo não haver).
outbound_message_id
    en: The unique identifier of the outbound message.
    pt: O identificador exclusivo para a mensagem de saída.
conversation_url
    en: The URL of this conversation.
    pt: O URL desta conversa.
"""

RESPONSE_TIMES = ExportDef(
    name="response-times",
    title="Response Times",
    title_pt="Tempos de resposta",
    rule=RULE,
    columns=described(
        columns(
            """
        conversation_id      | Conversation ID             | ID da conversa                          | id
        medium               | Medium                      | Médio                                   | code
        channel              | Sender Channel              | Canal do remetente                      | text
        channel_display_name | Sender Channel Display Name | Nome de exibição do canal do remetente  | text
        contact_profile_id   | Contact Profile ID          | ID do perfil do contato                 | id
        initiated_by         | Initiated By                | Iniciado por                            | code
        handover_reason      | Handover Reason             | Motivo da entrega                       | code
        from_at              | From                        | De                                      | timestamp
        to_at                | To                          | Para                                    | timestamp
        response_ms          | Agent Response Time (s)     | Tempo (s) de resposta do agente         | duration
        agent_id             | Response Agent ID           | ID do agente de resposta                | id
        agent_name           | Response Agent Name         | Nome do agente de resposta              | text
        agent_reference      | Response Agent Reference    | Referência do agente de resposta        | text
        inbound_message_id   | Inbound Message ID          | ID da mensagem de entrada               | id
        outbound_message_id  | Outbound Message ID         | ID da mensagem de saída                 | id
        conversation_url     | Conversation URL            | URL da conversa                         | text
        """
        ),
        ABOUT,
    ),
    facts=("f_response_episode",),
    # Only conversations with a human reply in range can have a row.
    scope="""
    SELECT DISTINCT m.conversation_id
    FROM s_message AS m
    CROSS JOIN req AS r
    WHERE m.direction = 'OUTBOUND' AND m.source = 'AGENT'
      AND m."at" >= r.start_at AND m."at" < r.end_at
    """,
    sql="""
    SELECT e.conversation_id, ch.medium, ch.name AS channel, ch.display_name AS channel_display_name,
           e.contact_profile_id, e.initiated_by, e.handover_reason, e.from_at, e.to_at,
           e.response_ms, e.agent_id, a.name AS agent_name, a.reference AS agent_reference,
           e.inbound_message_id, e.outbound_message_id, e.conversation_url
    FROM f_response_episode AS e
    CROSS JOIN req AS r
    LEFT JOIN e_channel AS ch ON ch.channel_id = e.channel_id
    LEFT JOIN e_agent AS a ON a.agent_id = e.agent_id
    WHERE e.to_at >= r.start_at AND e.to_at < r.end_at
      AND (NOT r.filtered OR e.channel_id IN (SELECT channel_id FROM req_channel))
    """,
    order="to_at, outbound_message_id",
)
