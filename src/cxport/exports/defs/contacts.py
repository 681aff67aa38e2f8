"""`contacts` (exports.md §5): contacts with a message in range on the selected channels.

Created at: the contact's first inbound message in range (its first
message in range if it sent none). Counts are over those messages. Last
Updated: latest `at` of its `contact` versions and `contact_attribute`
events. A contact known only from its conversations shows its id with
empty entity fields.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All contacts that have at least one message (either direction) in the selected date
          range: one row per contact.
        pt: Todos os contatos que têm pelo menos uma mensagem (em qualquer direção) no intervalo
          de tempo selecionado: uma linha por contato.
    anchor
        en: The creation time of the contact's messages.
        pt: O momento de criação das mensagens do contato.
    channels
        en: Only messages in conversations on the selected channels count, for the rows and for
          every count and Created at.
        pt: Só contam as mensagens em conversas dos canais selecionados, para as linhas e para
          todas as contagens e o Criado em.
    order
        en: Created at, then Contact Profile ID.
        pt: Criado em, depois ID do perfil do contato.
    """
)

ABOUT = """
contact_profile_id
    en: The unique identifier of the contact.
    pt: O identificador exclusivo para o contato.
medium
    en: The social media or messaging platform of the contact (the medium of its contact record).
    pt: A plataforma de mídia social ou serviço de mensagens do contato (o meio do seu registro de
      contato).
primary_identifier
    en: One of the two identifiers of contacts. Depending on the platform, this can be a name, a
      phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
secondary_identifier
    en: One of the two identifiers of contacts. Depending on the platform, this can be a name, a
      phone number, an alias, etc.
    pt: Um dos dois identificadores para contatos. Dependendo da plataforma, isso pode ser nome,
      número de telefone, alias etc.
created_at
    en: The date and time the contact sent its first message within the selected date range (its
      first message in range if it sent none).
    pt: A data e a hora em que o contato enviou a primeira mensagem dentro do intervalo de tempo
      selecionado (a sua primeira mensagem no intervalo, se não enviou nenhuma).
conversations
    en: The number of conversations with the contact that have a message in range.
    pt: O número de conversas com o contato que têm mensagens no intervalo.
inbound
    en: The number of messages sent by the contact in range.
    pt: O número de mensagens enviadas pelo contato no intervalo.
outbound
    en: The number of messages sent to the contact in range.
    pt: O número de mensagens enviadas para o contato no intervalo.
last_updated
    en: The date and time of the contact's last update: the latest of its contact records and
      attribute changes, whatever the range.
    pt: Data e hora da última atualização do contato: o último dos seus registros de contato e
      alterações de atributos, em qualquer data.
"""

CONTACTS = ExportDef(
    name="contacts",
    title="Contacts",
    title_pt="Contatos",
    rule=RULE,
    columns=described(
        columns(
            """
        contact_profile_id   | Contact Profile ID          | ID do perfil do contato        | id
        medium               | Medium                      | Médio                          | code
        primary_identifier   | Primary Identifier          | Identificador primário         | text
        secondary_identifier | Secondary Identifier        | Identificador secundário       | text
        created_at           | Created at                  | Criado em                      | timestamp
        conversations        | Number of Conversations     | Número de conversas            | count
        inbound              | Number of Inbound Messages  | Número de mensagens recebidas  | count
        outbound             | Number of Outbound Messages | Número de mensagens enviadas   | count
        last_updated         | Last Updated                | Última atualização             | timestamp
        """
        ),
        ABOUT,
    ),
    facts=("f_range_contact",),
    sql="""
    SELECT rc.contact_profile_id, rc.medium, rc.primary_identifier, rc.secondary_identifier,
           rc.first_at AS created_at, rc.conversations, rc.inbound, rc.outbound,
           rc.last_updated
    FROM f_range_contact AS rc
    """,
    order="created_at, contact_profile_id",
)
