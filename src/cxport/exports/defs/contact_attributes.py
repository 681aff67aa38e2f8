"""`contact-attributes` (exports.md §12): one row per (contact, attribute).

For the contacts of the Contacts export (`f_range_contact`), each attribute
whose value at the snapshot is non-empty: the latest `contact_attribute`
event of the pair decides, and a `null` value clears it. Order: Contact
Profile ID, Attribute Name (unknown names last), then Attribute ID.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All stored contact attributes, filled in manually by agents or bots or collected from
          a CRM, of the contacts with a message in the selected date range (those of the
          Contacts export): one row per contact and attribute with a non-empty value at the time
          of the export.
        pt: Todos os atributos de contato armazenados que foram preenchidos manualmente por
          agentes ou bots ou coletados de um CRM, dos contatos com mensagens no intervalo de
          tempo selecionado (os da exportação Contatos): uma linha por contato e atributo com
          valor não vazio no momento da exportação.
    anchor
        en: The creation time of the contact's messages (as in Contacts); the attribute's value
          is that at the time of the export, whenever it was set.
        pt: O momento de criação das mensagens do contato (como em Contatos); o valor do
          atributo é o do momento da exportação, seja quando for que foi definido.
    channels
        en: Keeps the contacts with a message in conversations on the selected channels; their
          attributes are not filtered.
        pt: Mantém os contatos com mensagens em conversas dos canais selecionados; os seus
          atributos não são filtrados.
    order
        en: Contact Profile ID, then Attribute Name (unknown names last), then Attribute ID.
        pt: ID do perfil do contato, depois Nome do atributo (nomes desconhecidos por último),
          depois ID do atributo.
    """
)

ABOUT = """
contact_profile_id
    en: The unique identifier of the contact.
    pt: O identificador exclusivo para o contato.
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
attribute_id
    en: The unique identifier of the contact attribute.
    pt: O identificador exclusivo para o atributo de contato.
attribute_name
    en: The name of the contact attribute.
    pt: O nome do atributo de contato.
attribute_value
    en: The value the contact attribute is set to at the time of the export (its latest change).
    pt: O valor do atributo de contato definido no momento da exportação (a sua última
      alteração).
attribute_type
    en: The type of the contact attribute (DEFAULT, CUSTOM, MEDIUM or CRM).
    pt: O tipo de atributo de contato (DEFAULT, CUSTOM, MEDIUM ou CRM).
"""

CONTACT_ATTRIBUTES = ExportDef(
    name="contact-attributes",
    title="Contact Attributes",
    title_pt="Atributos de contato",
    rule=RULE,
    columns=described(
        columns(
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
        ABOUT,
    ),
    facts=("f_range_contact", "f_contact_attribute_value"),
    sql="""
    SELECT v.contact_profile_id, v.contact_primary, v.contact_secondary, v.attribute_id,
           v.attribute_name, v.value AS attribute_value, v.attribute_type
    FROM f_contact_attribute_value AS v
    WHERE v.contact_profile_id IN (SELECT contact_profile_id FROM f_range_contact)
      AND v.value IS NOT NULL AND v.value <> ''
    """,
    order="contact_profile_id, nullif(attribute_name, '') NULLS LAST, attribute_id",
)
