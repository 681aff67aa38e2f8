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
    facts=("f_range_contact", "f_contact_attribute_value"),
    sql="""
    SELECT v.contact_profile_id, v.contact_primary, v.contact_secondary, v.attribute_id,
           v.attribute_name, v.value AS attribute_value, v.attribute_type
    FROM f_contact_attribute_value AS v
    WHERE v.contact_profile_id IN (SELECT contact_profile_id FROM f_range_contact)
      AND v.value IS NOT NULL AND v.value <> ''
    ORDER BY v.contact_profile_id, nullif(v.attribute_name, '') NULLS LAST, v.attribute_id
    """,
)
