"""Response episodes (`metrics.md`, "Response episodes").

Each conversation's records are walked in the order of records with one
"open episode" slot. Only four kinds of record move the slot: an `INBOUND`
message (I), a status change to `NEW` initiated by
`VA_HANDED_OVER_CONVERSATION` (H), a human outbound message (O: `OUTBOUND`
from source `AGENT`) and a `RESOLVED` status change (R). Deleted messages
keep their place.

Set-based, in one ordered pass: O and R empty the slot, so they cut the
walk into segments (`seg` = the number of O/R before a record). A segment
is zero or more I/H then, unless it is the last, one O or R. Its first
record, when an I or H (the *opener*), opens the episode; every H re-sets
`from`, `initiated_by` and the handover reason; a closing O yields one
response (its segment has an opener exactly when the record before it is
an I or H), a closing R none. The inbound message is the opener's: itself
for an I, for an H the latest inbound so far (possibly none). Responses,
openers and last handovers then meet on (conversation, seg).

`f_response_episode` holds every response of the conversations in the
export's scope (the `c_*` views; the Response Times export scopes to the
conversations with a human reply in range, and keeps the responses in
range). It reads no request table, and a record after a response cannot
change it, so it is kept (`kept.py`). Columns:
`conversation_id`, `outbound_message_id`, `agent_id` (the responder),
`team_id` (of the reply), `initiated_by`, `handover_reason`, `from_at`,
`to_at`, `response_ms`, `inbound_message_id`, and the conversation's
`channel_id`, `contact_profile_id` and `conversation_url` (its latest
version: `f_conversation_entity`; NULL when unknown), which the export
shows and filters on.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

RESPONSE_EPISODE = Fact(
    name="f_response_episode",
    # A table, though one export reads it once: inlined as a view into the
    # export's own statement, its joins and the export's shared one pipeline,
    # and at 3 M conversations that statement ran out of memory under the
    # default limit (issue 23); alone it spills.
    materialize=True,
    requires=("f_conversation_entity",),
    sql="""
    WITH walk AS (
        SELECT m.conversation_id, m."at" AS at_, 0 AS type_rank, m.record_id,
               CASE WHEN m.direction = 'INBOUND' THEN 'I' ELSE 'O' END AS kind,
               m.message_id, m.agent_id, m.team_id, CAST(NULL AS VARCHAR) AS handover_reason
        FROM c_message AS m
        WHERE m.direction = 'INBOUND' OR (m.direction = 'OUTBOUND' AND m.source = 'AGENT')
        UNION ALL
        SELECT s.conversation_id, s."at", 3, s.record_id,
               CASE WHEN s.status = 'RESOLVED' THEN 'R' ELSE 'H' END, NULL, NULL, NULL,
               s.handover_reason
        FROM c_status_change AS s
        WHERE s.status = 'RESOLVED'
           OR (s.status = 'NEW' AND s.initiated_by = 'VA_HANDED_OVER_CONVERSATION')
    ),
    walked AS (
        SELECT w.conversation_id, w.kind, w.at_, w.record_id, w.message_id, w.agent_id,
               w.team_id, w.handover_reason,
               count(*) FILTER (WHERE w.kind IN ('O', 'R')) OVER conv
                   - CASE WHEN w.kind IN ('O', 'R') THEN 1 ELSE 0 END AS seg,
               lag(w.kind) OVER conv AS previous_kind,
               last_value(CASE WHEN w.kind = 'I' THEN w.message_id END IGNORE NULLS)
                   OVER conv AS latest_inbound
        FROM walk AS w
        WINDOW conv AS (
            PARTITION BY w.conversation_id ORDER BY w.at_, w.type_rank, w.record_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
    ),
    openers AS (
        SELECT o.conversation_id, o.seg, o.at_ AS opened_at, o.latest_inbound
        FROM walked AS o
        WHERE o.kind IN ('I', 'H') AND (o.previous_kind IS NULL OR o.previous_kind IN ('O', 'R'))
    ),
    responses AS (
        SELECT p.conversation_id, p.seg, p.at_ AS to_at, p.message_id, p.agent_id, p.team_id
        FROM walked AS p
        WHERE p.kind = 'O' AND p.previous_kind IN ('I', 'H')
    ),
    last_handovers AS (
        SELECT h.conversation_id, h.seg, h.at_ AS handover_at, h.handover_reason
        FROM walked AS h
        WHERE h.kind = 'H'
        QUALIFY row_number() OVER (
            PARTITION BY h.conversation_id, h.seg ORDER BY h.at_ DESC, h.record_id DESC
        ) = 1
    )
    SELECT p.conversation_id,
           p.message_id AS outbound_message_id,
           p.agent_id,
           p.team_id,
           CASE WHEN h.handover_at IS NULL THEN 'INBOUND_MESSAGE'
                ELSE 'VA_HANDED_OVER_CONVERSATION' END AS initiated_by,
           h.handover_reason,
           coalesce(h.handover_at, o.opened_at) AS from_at,
           p.to_at,
           cx_ms(coalesce(h.handover_at, o.opened_at), p.to_at) AS response_ms,
           o.latest_inbound AS inbound_message_id,
           c.channel_id, c.contact_profile_id, c.url AS conversation_url
    FROM responses AS p
    JOIN openers AS o ON o.conversation_id = p.conversation_id AND o.seg = p.seg
    LEFT JOIN last_handovers AS h ON h.conversation_id = p.conversation_id AND h.seg = p.seg
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = p.conversation_id
    """,
)

FACTS: tuple[Fact, ...] = (RESPONSE_EPISODE,)
