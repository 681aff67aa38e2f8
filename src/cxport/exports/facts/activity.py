"""Messages in the request's range, and the contacts they make active.

`f_range_message` (a view): the visible messages created in `[start, end)`
on the selected channels, each with its conversation's `channel_id`,
`contact_profile_id` and `url` from the `conversation` entity (NULL when
the entity is unknown at the snapshot: such a message has no channel, so
it is kept only when no channel filter is given, and belongs to no
contact). Every message column is carried; the name `created_at` is the
message's `at`.

`f_range_contact`: the contacts with at least one such message, with what
the Contacts export counts of them (`first_at`: the first inbound message,
or the first message when none is inbound). The Contacts and Contact
Attributes exports both read it, so their Contact Profile IDs agree. It
counts per conversation first, so that one row per conversation (not per
message) meets the conversation entity.

`f_range_contact` takes the conversation entity from `f_conversation_entity`
(kept), which holds the conversations in scope: the exports that read it have
no scope, so it is every conversation's latest version (`e_conversation`).
`f_range_message` keeps `e_conversation`: the messages export reading the kept
conversation and contact entities instead ran out of its 3 GB at 1 M.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# A conversation entity is on the selected channels (every one without a filter).
_ON_CHANNELS = "(NOT r.filtered OR c.channel_id IN (SELECT channel_id FROM req_channel))"

RANGE_MESSAGE = Fact(
    name="f_range_message",
    materialize=False,
    sql=f"""
    SELECT m.*, m."at" AS created_at,
           c.channel_id, c.contact_profile_id, c.url AS conversation_url
    FROM s_message AS m
    CROSS JOIN req AS r
    LEFT JOIN e_conversation AS c ON c.conversation_id = m.conversation_id
    WHERE m."at" >= r.start_at AND m."at" < r.end_at AND {_ON_CHANNELS}
    """,
)

# The messages of `f_range_message`, counted per conversation first (so that
# only one row per conversation meets the conversation entity), then per contact.
RANGE_CONTACT = Fact(
    name="f_range_contact",
    requires=("f_conversation_entity",),
    sql=f"""
    WITH per_conversation AS (
        SELECT m.conversation_id,
               min(m."at") FILTER (WHERE m.direction = 'INBOUND') AS first_inbound_at,
               min(m."at") AS first_at,
               count(*) FILTER (WHERE m.direction = 'INBOUND') AS inbound,
               count(*) FILTER (WHERE m.direction = 'OUTBOUND') AS outbound
        FROM s_message AS m
        CROSS JOIN req AS r
        WHERE m."at" >= r.start_at AND m."at" < r.end_at
        GROUP BY m.conversation_id
    )
    SELECT c.contact_profile_id,
           coalesce(min(p.first_inbound_at), min(p.first_at)) AS first_at,
           count(*) AS conversations,
           sum(p.inbound) AS inbound,
           sum(p.outbound) AS outbound
    FROM per_conversation AS p
    CROSS JOIN req AS r
    JOIN f_conversation_entity AS c ON c.conversation_id = p.conversation_id
    WHERE c.contact_profile_id IS NOT NULL AND {_ON_CHANNELS}
    GROUP BY c.contact_profile_id
    """,
)

FACTS: tuple[Fact, ...] = (RANGE_MESSAGE, RANGE_CONTACT)
