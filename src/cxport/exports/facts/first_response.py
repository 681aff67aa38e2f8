"""First response time in business hours (`metrics.md`).

`f_first_response`: one row per conversation with a human outbound message:
conversation_id, channel_id, start_at (NULL when no inbound message comes
before the end), end_at, end_record_id, end_message_id, end_agent_id,
end_team_id, business_ms (NULL when start_at is).

- End: the conversation's first human outbound message (record order).
- Start: the latest of the first inbound message, the latest reopening and
  the latest handover to NEW (`VA_HANDED_OVER_CONVERSATION`), each before
  the end. A status change at the end's instant comes after it (messages
  rank first), so "before" is `at < end_at` for status changes.
- business_ms = B(end) − B(start), with B read from `f_business_clock` for
  the channel's calendar key. The key is not kept: a row changes only when
  its business time does (a channel moving to a calendar of its own with the
  same hours changes nothing), which is what a calendar version's refresh
  follows (`kept_plan._calendar_reach`).
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# Business time from the clock origin to instant `t` on the segment `c` holding it.
_B = "({c}.cum_ms + CASE WHEN {c}.business THEN cx_ms({c}.seg_start, {t}) ELSE 0 END)"

FIRST_RESPONSE = Fact(
    "f_first_response",
    requires=(
        "f_conversation_entity",
        "f_conversation_messages",
        "f_status_change",
        "f_business_channel",
        "f_business_clock",
    ),
    sql=f"""
WITH ends AS (
    SELECT conversation_id,
           first_reply_at AS end_at, first_reply_record_id AS end_record_id,
           first_reply_message_id AS end_message_id, first_reply_agent_id AS end_agent_id,
           first_reply_team_id AS end_team_id,
           CASE WHEN first_inbound_at < first_reply_at
                  OR (first_inbound_at = first_reply_at
                      AND first_inbound_record_id < first_reply_record_id)
                THEN first_inbound_at END AS inbound_at
    FROM f_conversation_messages
    WHERE first_reply_at IS NOT NULL
),
marks AS (
    SELECT sc.conversation_id,
           max(sc.at) FILTER (WHERE sc.is_reopening) AS reopened_at,
           max(sc.at) FILTER (WHERE sc.is_handover) AS handed_over_at
    FROM f_status_change AS sc
    JOIN ends ON ends.conversation_id = sc.conversation_id
    WHERE (sc.is_reopening OR sc.is_handover) AND sc.at < ends.end_at
    GROUP BY sc.conversation_id
),
spans AS (
    SELECT ends.*, e.channel_id,
           CASE WHEN ends.inbound_at IS NOT NULL
                THEN greatest(ends.inbound_at, mk.reopened_at, mk.handed_over_at) END AS start_at,
           coalesce(bc.channel_id, '') AS calendar_key
    FROM ends
    LEFT JOIN marks AS mk ON mk.conversation_id = ends.conversation_id
    LEFT JOIN f_conversation_entity AS e ON e.conversation_id = ends.conversation_id
    LEFT JOIN f_business_channel AS bc ON bc.channel_id = e.channel_id
)
SELECT s.conversation_id, s.channel_id, s.start_at, s.end_at,
       s.end_record_id, s.end_message_id, s.end_agent_id, s.end_team_id,
       {_B.format(c="ce", t="s.end_at")} - {_B.format(c="cs", t="s.start_at")} AS business_ms
FROM spans AS s
LEFT JOIN f_business_clock AS ce
  ON ce.calendar_key = s.calendar_key AND ce.day = CAST(s.end_at AS DATE)
 AND ce.seg_start <= s.end_at AND s.end_at < ce.seg_end
LEFT JOIN f_business_clock AS cs
  ON cs.calendar_key = s.calendar_key AND cs.day = CAST(s.start_at AS DATE)
 AND cs.seg_start <= s.start_at AND s.start_at < cs.seg_end
""",
)

FACTS: tuple[Fact, ...] = (FIRST_RESPONSE,)
