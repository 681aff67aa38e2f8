"""Response episodes (`metrics.md`, "Response episodes").

Each conversation's records are walked in the order of records with one
"open episode" slot. Only four kinds of record move the slot: an `INBOUND`
message (I), a status change to `NEW` initiated by
`VA_HANDED_OVER_CONVERSATION` (H), a human outbound message (O: `OUTBOUND`
from source `AGENT`) and a `RESOLVED` status change (R). Deleted messages
keep their place.

Set-based: O and R empty the slot, so they cut the walk into segments
(`seg` = the number of O/R before a record). A segment is zero or more I/H
then, unless it is the last, one O or R. Its first record, when an I or H,
opens the episode; each H re-sets `from`, `initiated_by` and the handover
reason; a closing O yields one response, a closing R none. The inbound
message is the opener's: itself for an I, for an H the latest inbound so
far (possibly none).

`f_response_episode`: `conversation_id`, `outbound_message_id`,
`outbound_record_id`, `agent_id` (the responder), `team_id` (of the reply),
`initiated_by`, `handover_reason`, `from_at`, `to_at`, `response_ms`,
`inbound_message_id`.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

RESPONSE_EPISODE = Fact(
    name="f_response_episode",
    sql="""
    WITH walk AS (
        SELECT m.conversation_id, m."at" AS at_, 0 AS type_rank, m.record_id,
               CASE WHEN m.direction = 'INBOUND' THEN 'I' ELSE 'O' END AS kind,
               m.message_id, m.agent_id, m.team_id, CAST(NULL AS VARCHAR) AS handover_reason
        FROM s_message AS m
        WHERE m.direction = 'INBOUND' OR (m.direction = 'OUTBOUND' AND m.source = 'AGENT')
        UNION ALL
        SELECT s.conversation_id, s."at", 3, s.record_id,
               CASE WHEN s.status = 'RESOLVED' THEN 'R' ELSE 'H' END,
               NULL, NULL, NULL, s.handover_reason
        FROM s_status_change AS s
        WHERE s.status = 'RESOLVED'
           OR (s.status = 'NEW' AND s.initiated_by = 'VA_HANDED_OVER_CONVERSATION')
    ),
    segmented AS (
        SELECT w.*,
               count(*) FILTER (WHERE w.kind IN ('O', 'R')) OVER conv
                   - CASE WHEN w.kind IN ('O', 'R') THEN 1 ELSE 0 END AS seg,
               last_value(CASE WHEN w.kind = 'I' THEN w.message_id END IGNORE NULLS)
                   OVER conv AS latest_inbound
        FROM walk AS w
        WINDOW conv AS (
            PARTITION BY w.conversation_id ORDER BY w.at_, w.type_rank, w.record_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
    ),
    episodes AS (
        SELECT g.*,
               first_value(g.kind) OVER segment AS opener_kind,
               first_value(g.at_) OVER segment AS opened_at,
               first_value(g.latest_inbound) OVER segment AS opener_inbound,
               last_value(CASE WHEN g.kind = 'H' THEN g.at_ END IGNORE NULLS)
                   OVER segment AS handover_at,
               -- '' stands for "no reason" so that a later H without one still wins.
               last_value(CASE WHEN g.kind = 'H' THEN coalesce(g.handover_reason, '') END
                   IGNORE NULLS) OVER segment AS handover_reason_or_empty
        FROM segmented AS g
        WINDOW segment AS (
            PARTITION BY g.conversation_id, g.seg ORDER BY g.at_, g.type_rank, g.record_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        )
    )
    SELECT e.conversation_id,
           e.message_id AS outbound_message_id,
           e.record_id AS outbound_record_id,
           e.agent_id,
           e.team_id,
           CASE WHEN e.handover_at IS NULL THEN 'INBOUND_MESSAGE'
                ELSE 'VA_HANDED_OVER_CONVERSATION' END AS initiated_by,
           nullif(e.handover_reason_or_empty, '') AS handover_reason,
           coalesce(e.handover_at, e.opened_at) AS from_at,
           e.at_ AS to_at,
           cx_ms(coalesce(e.handover_at, e.opened_at), e.at_) AS response_ms,
           e.opener_inbound AS inbound_message_id
    FROM episodes AS e
    WHERE e.kind = 'O' AND e.opener_kind IN ('I', 'H')
    """,
)

FACTS: tuple[Fact, ...] = (RESPONSE_EPISODE,)
