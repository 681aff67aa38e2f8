"""`messages` (exports.md §3): one row per message created in range.

Channel and contact come from the message's conversation entity; a message
of an unknown conversation has neither (and shows only without a channel
filter). Agent ID/Name are the human agent's, else the virtual agent's.
Content is empty for a deleted message, and in a scheduled export unless
the schedule enables content. Last Updated: latest `at` of the message, its
tag events and its deletions; Deleted at: its earliest deletion.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

MESSAGES = ExportDef(
    name="messages",
    title="Messages",
    columns=columns(
        """
        message_id            | Message ID                   | ID da mensagem                       | id
        created_at            | Created at                   | Criado em                            | timestamp
        conversation_id       | Conversation ID              | ID da conversa                       | id
        medium                | Medium                       | Médio                                | code
        channel               | Channel                      | Canal                                | text
        channel_display_name  | Channel Display Name         | Nome de exibição do canal            | text
        contact_profile_id    | Contact Profile ID           | ID do perfil do contato              | id
        contact_primary       | Contact Primary Identifier   | Identificador primário do contato    | text
        contact_secondary     | Contact Secondary Identifier | Identificador secundário do contato  | text
        message_type          | Message Type                 | Tipo de mensagem                     | code
        source                | Source                       | Origem                               | code
        outbound_message_type | Outbound Message Type        | Tipo de mensagem de saída            | code
        direction             | Direction                    | Direção                              | code
        agent_id              | Agent ID                     | ID do agente                         | id
        agent_name            | Agent Name                   | Nome do agente                       | text
        agent_reference       | Agent Reference              | Referência do agente                 | text
        team_id               | Team ID                      | ID da equipe                         | id
        team_name             | Team Name                    | Nome da equipe                       | text
        tag_ids               | Tag IDs                      | IDs de tag                           | ids
        tag_names             | Tag Names                    | Nomes das tags                       | texts
        content               | Content                      | Conteúdo                             | text
        conversation_url      | Conversation URL             | URL da conversa                      | text
        post_url              | Post URL                     | URL da postagem                      | text
        last_updated          | Last Updated                 | Última atualização                   | timestamp
        deleted_at            | Deleted at                   | Excluído em                          | timestamp
        system_user_type      | System User Type             | Tipo de usuário do sistema           | code
        """
    ),
    facts=("f_range_message", "f_message_tag_list"),
    sql="""
    WITH deletions AS (
        SELECT d.message_id, min(d."at") AS first_at, max(d."at") AS last_at
        FROM s_message_deleted AS d
        GROUP BY d.message_id
    )
    SELECT m.message_id, m.created_at, m.conversation_id,
           ch.medium, ch.name AS channel, ch.display_name AS channel_display_name,
           m.contact_profile_id, ct.primary_identifier AS contact_primary,
           ct.secondary_identifier AS contact_secondary,
           m.message_type, m.source, m.outbound_message_type, m.direction,
           coalesce(m.agent_id, m.virtual_agent_id) AS agent_id,
           CASE WHEN m.agent_id IS NOT NULL THEN a.name ELSE va.name END AS agent_name,
           CASE WHEN m.agent_id IS NOT NULL THEN a.reference END AS agent_reference,
           m.team_id, tm.name AS team_name,
           tg.tag_ids, tg.tag_names,
           CASE WHEN dl.message_id IS NOT NULL OR (r.scheduled AND NOT r.include_content)
                THEN NULL ELSE m.content END AS content,
           m.conversation_url, m.post_url,
           greatest(m.created_at, tg.tags_updated_at, dl.last_at) AS last_updated,
           dl.first_at AS deleted_at,
           m.system_user_type
    FROM f_range_message AS m
    CROSS JOIN req AS r
    LEFT JOIN e_channel AS ch ON ch.channel_id = m.channel_id
    LEFT JOIN e_contact AS ct ON ct.contact_profile_id = m.contact_profile_id
    LEFT JOIN e_agent AS a ON a.agent_id = m.agent_id
    LEFT JOIN e_virtual_agent AS va ON va.virtual_agent_id = m.virtual_agent_id
    LEFT JOIN e_team AS tm ON tm.team_id = m.team_id
    LEFT JOIN f_message_tag_list AS tg ON tg.message_id = m.message_id
    LEFT JOIN deletions AS dl ON dl.message_id = m.message_id
    ORDER BY m.created_at, m.message_id
    """,
)
