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
for an I, for an H the latest inbound so far (possibly none). A second
ordered pass, over the rows that matter (openers, handovers, responses) and
within each (conversation, seg), carries to each response its opener's
`from` and inbound message and its segment's latest handover. (They used to
meet by two joins on (conversation, seg), the first pass's rows kept and read
three times: at 10 M conversations those rows were 6.7 GB, and the fact's
peak took the build past 4 GB of memory; `docs/performance.md`.)

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
        SELECT w.conversation_id, w.kind, w.at_, w.type_rank, w.record_id, w.message_id,
               w.agent_id, w.team_id, w.handover_reason,
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
    -- The rows a response reads: openers, handovers and responses. A
    -- segment's first row here is its opener whenever it ends in a response.
    marked AS (
        SELECT * FROM walked
        WHERE kind = 'H'
           OR (kind = 'I' AND (previous_kind IS NULL OR previous_kind IN ('O', 'R')))
           OR (kind = 'O' AND previous_kind IN ('I', 'H'))
    ),
    segments AS (
        SELECT conversation_id, kind, at_ AS to_at, message_id, agent_id, team_id,
               first_value(at_) OVER seg_ AS opened_at,
               first_value(latest_inbound) OVER seg_ AS inbound_message_id,
               last_value(CASE WHEN kind = 'H'
                               THEN {'at': at_, 'reason': handover_reason} END IGNORE NULLS)
                   OVER seg_ AS handover
        FROM marked
        WINDOW seg_ AS (
            PARTITION BY conversation_id, seg ORDER BY at_, type_rank, record_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
    )
    SELECT p.conversation_id,
           p.message_id AS outbound_message_id,
           p.agent_id,
           p.team_id,
           CASE WHEN p.handover IS NULL THEN 'INBOUND_MESSAGE'
                ELSE 'VA_HANDED_OVER_CONVERSATION' END AS initiated_by,
           p.handover.reason AS handover_reason,
           coalesce(p.handover.at, p.opened_at) AS from_at,
           p.to_at,
           cx_ms(coalesce(p.handover.at, p.opened_at), p.to_at) AS response_ms,
           p.inbound_message_id,
           c.channel_id, c.contact_profile_id, c.url AS conversation_url
    FROM segments AS p
    LEFT JOIN f_conversation_entity AS c ON c.conversation_id = p.conversation_id
    WHERE p.kind = 'O'
    """,
)

FACTS: tuple[Fact, ...] = (RESPONSE_EPISODE,)
