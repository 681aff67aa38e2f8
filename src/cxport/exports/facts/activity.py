"""Messages in the request's range, and the contacts they make active.

`f_range_message` (a view): the visible messages created in `[start, end)`
on the selected channels, each with its conversation's `channel_id`,
`contact_profile_id` and `url` from the `conversation` entity (NULL when
the entity is unknown at the snapshot: such a message has no channel, so
it is kept only when no channel filter is given, and belongs to no
contact), and that contact's identifiers (`contact_primary`,
`contact_secondary`). Every message column is carried; the name
`created_at` is the message's `at`. The contact is joined to the
conversations before they are joined to the messages: joined to the
messages apart, its table and the conversations' both had to be held while
the messages passed, and at 10 M conversations the second spilled every
message of the range with it (`docs/decisions.md`, "Memory").

`f_range_contact` (a view): the contacts with at least one such message,
with what the Contacts export counts of them (`first_at`: the first inbound
message, or the first message when none is inbound) and shows of them (from
`f_contact_card`). The Contacts and Contact Attributes exports both read it,
so their Contact Profile IDs agree.

It stands on two kept facts: `f_conversation_message_span` (per conversation
with a contact: its messages' span and counts, and its contact's span) and
`f_contact_activity` (per contact: the same over all its messages, with its
card, stored in the Contacts export's order). A contact whose messages all
lie in the range is its kept row when no channel filter is given; the others
are counted per conversation, and only conversations that cross an edge of
the range are counted from their messages.

`f_conversation_message_span` takes the conversation entity from
`f_conversation_entity` (kept), which holds the conversations in scope: the
exports that read it have no scope, so it is every conversation's latest
version (`e_conversation`). `f_range_message` keeps `e_conversation`: the
messages export reading the kept conversation and contact entities instead
ran out of its 3 GB at 1 M.
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
           c.channel_id, c.contact_profile_id, c.url AS conversation_url,
           c.contact_primary, c.contact_secondary
    FROM s_message AS m
    CROSS JOIN req AS r
    LEFT JOIN (
        SELECT cv.conversation_id, cv.channel_id, cv.contact_profile_id, cv.url,
               ct.primary_identifier AS contact_primary,
               ct.secondary_identifier AS contact_secondary
        FROM e_conversation AS cv
        LEFT JOIN e_contact AS ct ON ct.contact_profile_id = cv.contact_profile_id
    ) AS c ON c.conversation_id = m.conversation_id
    WHERE m."at" >= r.start_at AND m."at" < r.end_at AND {_ON_CHANNELS}
    """,
)

# What the Contacts export counts of a conversation's messages `m`.
_COUNTS = """min(m."at") AS first_at,
               min(m."at") FILTER (WHERE m.direction = 'INBOUND') AS first_inbound_at,
               count(*) FILTER (WHERE m.direction = 'INBOUND') AS inbound,
               count(*) FILTER (WHERE m.direction = 'OUTBOUND') AS outbound"""

# What it shows of a contact from its conversations' counts (`_COUNTS`):
# Created at is its first inbound message, or its first message without one.
_PER_CONTACT = """coalesce(min(first_inbound_at), min(first_at)) AS created_at,
               count(*) AS conversations,
               sum(inbound) AS inbound,
               sum(outbound) AS outbound"""

# Per conversation with a contact, over all its messages (kept): the span of
# its messages, what `f_range_contact` counts of them, and the span of its
# contact's messages (every conversation, every channel).
CONVERSATION_MESSAGE_SPAN = Fact(
    name="f_conversation_message_span",
    requires=("f_conversation_entity",),
    sql=f"""
    WITH per_conversation AS (
        SELECT m.conversation_id,
               max(m."at") AS last_at,
               {_COUNTS}
        FROM c_message AS m
        GROUP BY m.conversation_id
    )
    SELECT p.*, c.contact_profile_id, c.channel_id,
           min(p.first_at) OVER contact AS contact_first_at,
           max(p.last_at) OVER contact AS contact_last_at
    FROM per_conversation AS p
    JOIN f_conversation_entity AS c ON c.conversation_id = p.conversation_id
    WHERE c.contact_profile_id IS NOT NULL
    WINDOW contact AS (PARTITION BY c.contact_profile_id)
    """,
)

# What the Contacts export shows of each contact with a message (kept), as if
# the range held all its messages: true of the range of a request without a
# channel filter that does (`f_range_contact`). Stored in that export's order.
CONTACT_ACTIVITY = Fact(
    name="f_contact_activity",
    requires=("f_conversation_message_span", "f_contact_card"),
    sql=f"""
    WITH per_contact AS (
        SELECT contact_profile_id,
               min(first_at) AS first_at,
               max(last_at) AS last_at,
               {_PER_CONTACT}
        FROM f_conversation_message_span
        GROUP BY contact_profile_id
    )
    SELECT p.*, cc.medium, cc.primary_identifier, cc.secondary_identifier, cc.last_updated
    FROM per_contact AS p
    LEFT JOIN f_contact_card AS cc ON cc.contact_profile_id = p.contact_profile_id
    """,
)

# A contact whose messages all lie in the range (and no channel filter) is
# its kept row. The others are counted from their conversations in range: a
# conversation whose messages all lie in the range with its span's figures,
# one crossing an edge of the range from its messages in range (a few
# thousand of a month's conversations).
RANGE_CONTACT = Fact(
    name="f_range_contact",
    requires=("f_conversation_message_span", "f_contact_activity"),
    materialize=False,
    sql=f"""
    WITH spans AS (
        SELECT c.*, c.first_at >= r.start_at AND c.last_at < r.end_at AS inside
        FROM f_conversation_message_span AS c
        CROSS JOIN req AS r
        WHERE c.first_at < r.end_at AND c.last_at >= r.start_at AND {_ON_CHANNELS}
          AND (r.filtered OR c.contact_first_at < r.start_at OR c.contact_last_at >= r.end_at)
    ),
    crossing AS (
        SELECT m.conversation_id,
               {_COUNTS}
        FROM s_message AS m
        CROSS JOIN req AS r
        WHERE m."at" >= r.start_at AND m."at" < r.end_at
          AND m.conversation_id IN (SELECT conversation_id FROM spans WHERE NOT inside)
        GROUP BY m.conversation_id
    ),
    per_conversation AS (
        SELECT contact_profile_id, first_inbound_at, first_at, inbound, outbound
        FROM spans WHERE inside
        UNION ALL
        SELECT s.contact_profile_id, x.first_inbound_at, x.first_at, x.inbound, x.outbound
        FROM crossing AS x
        JOIN spans AS s ON s.conversation_id = x.conversation_id
    ),
    partial AS (
        SELECT contact_profile_id,
               {_PER_CONTACT}
        FROM per_conversation
        GROUP BY contact_profile_id
    )
    SELECT k.contact_profile_id, k.created_at AS first_at, k.conversations, k.inbound,
           k.outbound, k.medium, k.primary_identifier, k.secondary_identifier, k.last_updated
    FROM f_contact_activity AS k
    CROSS JOIN req AS r
    WHERE NOT r.filtered AND k.first_at >= r.start_at AND k.last_at < r.end_at
    UNION ALL
    SELECT p.*, k.medium, k.primary_identifier, k.secondary_identifier, k.last_updated
    FROM partial AS p
    JOIN f_contact_activity AS k ON k.contact_profile_id = p.contact_profile_id
    """,
)

FACTS: tuple[Fact, ...] = (
    RANGE_MESSAGE,
    CONVERSATION_MESSAGE_SPAN,
    CONTACT_ACTIVITY,
    RANGE_CONTACT,
)
