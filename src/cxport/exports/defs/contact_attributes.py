"""`contact-attributes` (exports.md §12): one row per (contact, attribute).

For the contacts of the Contacts export (`f_range_contact`), each attribute
whose value at the snapshot is non-empty: the latest `contact_attribute`
event of the pair decides, and a `null` value clears it. Order: Contact
Profile ID, Attribute Name (unknown names last), then Attribute ID.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

CONTACT_ATTRIBUTES = ExportDef(
    name="contact-attributes",
    title="Contact Attributes",
    columns=columns(
        """
        contact_profile_id | Contact Profile ID           | ID do perfil do contato              | id
        contact_primary    | Contact Primary Identifier   | Identificador primário do contato    | text
        contact_secondary  | Contact Secondary Identifier | Identificador secundário de contato  | text
        attribute_id       | Attribute ID                 | ID do atributo                       | id
        attribute_name     | Attribute Name               | Nome do atributo                     | text
        attribute_value    | Attribute Value              | Valor do atributo                    | text
        attribute_type     | Attribute Type               | Tipo de atributo                     | code
        """
    ),
    facts=("f_range_contact", "f_contact_entity", "f_contact_attribute_value"),
    sql="""
    WITH current_value AS (
        SELECT x.contact_profile_id, x.attribute_id, x.value
        FROM f_contact_attribute_value AS x
        WHERE x.contact_profile_id IN (SELECT contact_profile_id FROM f_range_contact)
    )
    SELECT v.contact_profile_id, ct.primary_identifier AS contact_primary,
           ct.secondary_identifier AS contact_secondary, v.attribute_id,
           d.name AS attribute_name, v.value AS attribute_value, d.attribute_type
    FROM current_value AS v
    LEFT JOIN f_contact_entity AS ct ON ct.contact_profile_id = v.contact_profile_id
    LEFT JOIN e_contact_attribute_definition AS d ON d.attribute_id = v.attribute_id
    WHERE v.value IS NOT NULL AND v.value <> ''
    ORDER BY v.contact_profile_id, nullif(d.name, '') NULLS LAST, v.attribute_id
    """,
)
