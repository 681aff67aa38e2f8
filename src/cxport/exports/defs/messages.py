"""`messages` (exports.md §3): one row per message created in range.

Channel and contact come from the message's conversation entity; a message
of an unknown conversation has neither (and shows only without a channel
filter). Agent ID/Name are the human agent's, else the virtual agent's.
Content is empty for a deleted message, and in a scheduled export unless
the schedule enables content. Last Updated: latest `at` of the message, its
tag events and its deletions; Deleted at: its earliest deletion.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All messages created in the selected date range: one row per message, with the data
          it had at the time of the export.
        pt: Todas as mensagens exclusivas criadas no intervalo de tempo selecionado: uma linha por
          mensagem, com dados que estavam disponíveis para essa mensagem no momento da
          exportação.
    anchor
        en: The message's creation time.
        pt: O momento de criação da mensagem.
    channels
        en: Keeps the messages whose conversation is on a selected channel; a message whose
          conversation is unknown has no channel and appears only without a filter.
        pt: Mantém as mensagens cuja conversa é de um canal selecionado; uma mensagem de conversa
          desconhecida não tem canal e aparece só sem filtro de canal.
    order
        en: Created at, then Message ID.
        pt: Criado em, depois ID da mensagem.
    """
)

ABOUT = """
message_id
    en: The unique identifier of the message.
    pt: O identificador exclusivo da mensagem.
created_at
    en: When the message was created.
    pt: Quando a mensagem foi criada.
conversation_id
    en: The unique identifier of each conversation.
    pt: O identificador exclusivo para cada conversa.
medium
    en: The social media or messaging platform on which the message was sent (the channel's
      medium).
    pt: A plataforma de mídia social ou serviço de mensagens na qual a mensagem foi enviada (o
      meio do canal).
channel
    en: The channel in which the message was sent (the channel of its conversation).
    pt: O canal no qual a mensagem foi enviada (o canal da sua conversa).
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
contact_profile_id
    en: The unique identifier of each contact (the contact of the message's conversation).
    pt: O identificador exclusivo para cada contato (o contato da conversa da mensagem).
contact_primary
    en: One of the two identifiers of contacts. Depending on the platform, this can be a name, a
      phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
contact_secondary
    en: One of the two identifiers of contacts. Depending on the platform, this can be a name, a
      phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
message_type
    en: The specific type of message (for example PRIVATE_MESSAGE, PUBLIC_POST,
      PUBLIC_COMMENT).
    pt: O tipo específico de mensagem (por exemplo PRIVATE_MESSAGE, PUBLIC_POST,
      PUBLIC_COMMENT).
source
    en: Where the message was sent from (CONTACT, AGENT, VIRTUAL_AGENT or SYSTEM).
    pt: De onde a mensagem foi enviada (CONTACT, AGENT, VIRTUAL_AGENT ou SYSTEM).
outbound_message_type
    en: Where the outbound message was sent from (INBOX, NATIVE or API); empty for inbound
      messages.
    pt: De onde a mensagem de saída foi enviada (INBOX, NATIVE ou API); vazio para mensagens de
      entrada.
direction
    en: Where the message came from (INBOUND from the contact, OUTBOUND to the contact).
    pt: De onde veio a mensagem (INBOUND do contato, OUTBOUND para o contato).
agent_id
    en: The unique identifier of the agent who sent the message: the human agent, else the
      virtual agent.
    pt: O identificador exclusivo do agente que enviou a mensagem: o agente humano, senão o
      agente virtual.
agent_name
    en: The agent who sent the message: the human agent, else the virtual agent.
    pt: O agente que enviou a mensagem: o agente humano, senão o agente virtual.
agent_reference
    en: The internal ID of the agent; empty for a virtual agent.
    pt: O ID interno do agente; vazio para um agente virtual.
team_id
    en: The unique identifier of the team the message carries.
    pt: O identificador exclusivo da equipe registrada na mensagem.
team_name
    en: The team the message carries (that of the agent who sent the outbound message).
    pt: A equipe registrada na mensagem (a do agente que enviou a mensagem de saída).
tag_ids
    en: The unique identifiers of the tags applied to the message (and not removed) at the time
      of the export.
    pt: Os identificadores exclusivos das tags aplicadas à mensagem (e não removidas) no momento
      da exportação.
tag_names
    en: The tags applied to the message at the time of the export, in the order of Tag IDs.
    pt: As tags aplicadas à mensagem no momento da exportação, na ordem dos IDs de tag.
content
    en: The content of the message, on every medium. Empty for a deleted message, and in a
      scheduled export unless the schedule includes content.
    pt: O conteúdo da mensagem, em qualquer meio. Vazio para uma mensagem excluída e, numa
      exportação agendada, a menos que o agendamento inclua o conteúdo.
conversation_url
    en: The URL of this conversation.
    pt: O URL desta conversa.
post_url
    en: The URL of the original post or message on the social network or messaging platform.
    pt: O URL da postagem ou mensagem original na rede social ou plataforma de mensagens.
last_updated
    en: When the message was last updated in the system: the latest of the message, its tag
      events and its deletions.
    pt: Quando a mensagem foi atualizada pela última vez no sistema: o último entre a mensagem,
      os seus eventos de tag e as suas exclusões.
deleted_at
    en: When the message was deleted from the system (its first deletion); empty if it was not.
    pt: Quando a mensagem foi excluída do sistema (a sua primeira exclusão); vazio se não foi.
system_user_type
    en: For a system message, the kind of message (AUTO_RESPONDER, CSAT_SURVEY, AUTOMATION or
      PROACTIVE); empty otherwise.
    pt: Para uma mensagem do sistema, o tipo de mensagem (AUTO_RESPONDER, CSAT_SURVEY, AUTOMATION
      ou PROACTIVE); vazio nas demais.
"""

MESSAGES = ExportDef(
    name="messages",
    title="Messages",
    title_pt="Mensagens",
    rule=RULE,
    columns=described(
        columns(
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
        ABOUT,
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
           m.contact_profile_id, m.contact_primary, m.contact_secondary,
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
    LEFT JOIN e_agent AS a ON a.agent_id = m.agent_id
    LEFT JOIN e_virtual_agent AS va ON va.virtual_agent_id = m.virtual_agent_id
    LEFT JOIN e_team AS tm ON tm.team_id = m.team_id
    LEFT JOIN f_message_tag_list AS tg ON tg.message_id = m.message_id
    LEFT JOIN deletions AS dl ON dl.message_id = m.message_id
    """,
    order="created_at, message_id",
)
