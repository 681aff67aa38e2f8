"""`tags` (exports.md §7): one row per (tag, channel) applied in range.

The channel is that of the tagged message's conversation entity (unknown:
one row under an empty channel, only without a filter). Total Messages:
distinct messages tagged in range on that channel; Total Contacts: their
distinct (known) contacts; Total Current Messages: of those messages, the
ones that carry the tag at the snapshot.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns, described, row_rule

RULE = row_rule(
    """
    rows
        en: All tags that have at least one application in the selected date range: one row per
          tag and channel.
        pt: Todas as tags que têm pelo menos uma aplicação no intervalo de tempo selecionado: uma
          linha por tag e canal.
    anchor
        en: The tag's application (tag applied) to a message.
        pt: A aplicação da tag (tag aplicada) a uma mensagem.
    channels
        en: Keeps the rows of the selected channels (the channel of the tagged message's
          conversation); the row of an unknown channel appears only without a filter.
        pt: Mantém as linhas dos canais selecionados (o canal da conversa da mensagem marcada); a
          linha de canal desconhecido aparece só sem filtro de canal.
    order
        en: Tag Name, then Channel (unknown names last), then Tag ID.
        pt: Nome da etiqueta, depois Canal (nomes desconhecidos por último), depois ID da
          etiqueta.
    """
)

ABOUT = """
tag_id
    en: The unique identifier of the tag.
    pt: O identificador exclusivo da tag.
tag_name
    en: The name of the tag.
    pt: O nome da tag.
active
    en: Whether the tag is active (its tag record at the time of the export).
    pt: Se a tag está ativa (o seu registro de tag no momento da exportação).
total_contacts
    en: The number of (known) contacts that had a tag applied to one of their messages on this
      channel in range.
    pt: O número de contatos (conhecidos) que tiveram uma tag aplicada em uma de suas mensagens
      deste canal no intervalo.
total_messages
    en: The number of distinct messages on this channel that had the tag applied during the
      selected date range.
    pt: O número de mensagens distintas deste canal que tiveram a tag aplicada durante o
      intervalo de tempo selecionado.
current_messages
    en: Of those messages, the number that have the tag applied at the time of the export.
    pt: Dessas mensagens, o número das que têm a tag aplicada no momento da exportação.
medium
    en: The social network or messaging platform of the message the tag was applied to.
    pt: A rede social ou plataforma de serviço de mensagens da mensagem à qual a tag foi
      aplicada.
channel
    en: The channel of the message the tag was applied to.
    pt: O canal da mensagem ao qual a tag foi aplicada.
channel_display_name
    en: The custom display name of the channel.
    pt: O nome de exibição personalizado do canal.
"""

TAGS = ExportDef(
    name="tags",
    title="Tags",
    title_pt="Tags",
    rule=RULE,
    columns=described(
        columns(
            """
        tag_id               | Tag ID                  | ID da etiqueta             | id
        tag_name             | Tag Name                | Nome da etiqueta           | text
        active               | Active                  | Ativo                      | bool
        total_contacts       | Total Contacts          | Total de contatos          | count
        total_messages       | Total Messages          | Total de mensagens         | count
        current_messages     | Total Current Messages  | Total de mensagens atuais  | count
        medium               | Medium                  | Médio                      | code
        channel              | Channel                 | Canal                      | text
        channel_display_name | Channel Display Name    | Nome de exibição do canal  | text
        """
        ),
        ABOUT,
    ),
    facts=("f_tag_application",),
    sql="""
    WITH applied AS (
        SELECT DISTINCT a.tag_id, a.message_id, a.channel_id, a.contact_profile_id, a.current
        FROM f_tag_application AS a
        CROSS JOIN req AS r
        WHERE a.applied_at >= r.start_at AND a.applied_at < r.end_at
          AND (NOT r.filtered OR a.channel_id IN (SELECT channel_id FROM req_channel))
    ),
    per_channel AS (
        SELECT tag_id, channel_id, count(DISTINCT contact_profile_id) AS total_contacts,
               count(*) AS total_messages, count(*) FILTER (WHERE current) AS current_messages
        FROM applied
        GROUP BY tag_id, channel_id
    )
    SELECT p.tag_id, t.name AS tag_name, t.active, p.total_contacts, p.total_messages,
           p.current_messages, ch.medium, ch.name AS channel,
           ch.display_name AS channel_display_name,
           p.channel_id AS sort_channel_id
    FROM per_channel AS p
    LEFT JOIN e_tag AS t ON t.tag_id = p.tag_id
    LEFT JOIN e_channel AS ch ON ch.channel_id = p.channel_id
    """,
    order="nullif(tag_name, '') NULLS LAST, nullif(channel, '') NULLS LAST, tag_id, sort_channel_id NULLS LAST",
)
