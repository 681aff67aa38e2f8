"""`contacts` (exports.md §5): contacts with a message in range on the selected channels.

Created at: the contact's first inbound message in range (its first
message in range if it sent none). Counts are over those messages. Last
Updated: latest `at` of its `contact` versions and `contact_attribute`
events. A contact known only from its conversations shows its id with
empty entity fields.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

CONTACTS = ExportDef(
    name="contacts",
    title="Contacts",
    columns=columns(
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
    facts=("f_range_contact",),
    sql="""
    SELECT rc.contact_profile_id, rc.medium, rc.primary_identifier, rc.secondary_identifier,
           rc.first_at AS created_at, rc.conversations, rc.inbound, rc.outbound,
           rc.last_updated
    FROM f_range_contact AS rc
    ORDER BY rc.first_at, rc.contact_profile_id
    """,
)
