"""`tags` (exports.md §7): one row per (tag, channel) applied in range.

The channel is that of the tagged message's conversation entity (unknown:
one row under an empty channel, only without a filter). Total Messages:
distinct messages tagged in range on that channel; Total Contacts: their
distinct (known) contacts; Total Current Messages: of those messages, the
ones that carry the tag at the snapshot.
"""

from __future__ import annotations

from cxport.exports.catalogue import ExportDef, columns

TAGS = ExportDef(
    name="tags",
    title="Tags",
    columns=columns(
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
           ch.display_name AS channel_display_name
    FROM per_channel AS p
    LEFT JOIN e_tag AS t ON t.tag_id = p.tag_id
    LEFT JOIN e_channel AS ch ON ch.channel_id = p.channel_id
    ORDER BY nullif(t.name, '') NULLS LAST, nullif(ch.name, '') NULLS LAST,
             p.tag_id, p.channel_id NULLS LAST
    """,
)
