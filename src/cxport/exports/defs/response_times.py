"""`response-times` (exports.md §10): one row per response episode.

Episodes (`f_response_episode`) whose outbound message is in range, on the
selected channels (the conversation entity's channel; unknown channel: only
without a filter). Order: To, then Outbound Message ID.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

RESPONSE_TIMES = ExportDef(
    name="response-times",
    title="Response Times",
    columns=columns(
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
    ORDER BY e.to_at, e.outbound_message_id
    """,
)
