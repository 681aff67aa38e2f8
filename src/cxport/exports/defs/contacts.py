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
    facts=("f_range_contact", "f_contact_entity", "f_contact_attribute_value"),
    # The latest contact version is also the latest `at` of its versions.
    sql="""
    WITH attribute_updates AS (
        SELECT x.contact_profile_id, max(x.last_at) AS last_at
        FROM f_contact_attribute_value AS x
        WHERE x.contact_profile_id IN (SELECT contact_profile_id FROM f_range_contact)
        GROUP BY x.contact_profile_id
    )
    SELECT rc.contact_profile_id, ct.medium, ct.primary_identifier, ct.secondary_identifier,
           rc.first_at AS created_at, rc.conversations, rc.inbound, rc.outbound,
           greatest(ct."at", up.last_at) AS last_updated
    FROM f_range_contact AS rc
    LEFT JOIN f_contact_entity AS ct ON ct.contact_profile_id = rc.contact_profile_id
    LEFT JOIN attribute_updates AS up ON up.contact_profile_id = rc.contact_profile_id
    ORDER BY rc.first_at, rc.contact_profile_id
    """,
)
