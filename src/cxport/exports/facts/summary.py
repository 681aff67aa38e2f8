"""The conversation summary: one row per conversation with what the conversation exports show.

`f_conversation_summary`: every column of `f_conversation`, and

- `first_response_ms`: the business first response time (`f_first_response`);
- `handle_ms`, `no_reply_ms`, `cherry_picking_ms`, `open_class`,
  `open_since`: the lock time of its ended sessions and its open session
  (`f_conversation_lock_time`; readers add the open one with
  `locks.open_time`);
- `topic_ids`, `topic_names`: the topics on it at the snapshot, `|`-joined in
  the order they were applied (then by id), names as at the snapshot.

None of it changes with `as_of` past the workspace's last record, so it is
kept (`kept.py`): `resolved-conversations` and `open-conversations` are then
a filter, a few joins with entities and a sort.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

CONVERSATION_SUMMARY = Fact(
    "f_conversation_summary",
    requires=(
        "f_conversation",
        "f_first_response",
        "f_conversation_lock_time",
        "f_conversation_topic",
    ),
    sql="""
WITH applied AS (
    SELECT t.conversation_id, t.topic_id, t.applied_at, tp.name
    FROM f_conversation_topic AS t
    LEFT JOIN e_topic AS tp ON tp.topic_id = t.topic_id
),
-- Most conversations have one topic: only the others need an ordered list.
topic_count AS (
    SELECT conversation_id, count(*) AS n,
           min(cx_elem(topic_id)) AS one_id, min(cx_elem(name)) AS one_name
    FROM applied GROUP BY conversation_id
),
topic_lists AS (
    SELECT a.conversation_id,
           string_agg(cx_elem(a.topic_id), '|' ORDER BY a.applied_at, a.topic_id) AS topic_ids,
           string_agg(cx_elem(a.name), '|' ORDER BY a.applied_at, a.topic_id) AS topic_names
    FROM applied AS a
    JOIN topic_count AS k ON k.conversation_id = a.conversation_id AND k.n > 1
    GROUP BY a.conversation_id
),
topics AS (
    SELECT k.conversation_id,
           CASE WHEN k.n = 1 THEN k.one_id ELSE l.topic_ids END AS topic_ids,
           CASE WHEN k.n = 1 THEN k.one_name ELSE l.topic_names END AS topic_names
    FROM topic_count AS k
    LEFT JOIN topic_lists AS l ON l.conversation_id = k.conversation_id
)
SELECT c.*,
       fr.business_ms AS first_response_ms,
       lk.handle_ms, lk.no_reply_ms, lk.cherry_picking_ms, lk.open_class, lk.open_since,
       tp.topic_ids, tp.topic_names
FROM f_conversation AS c
LEFT JOIN f_first_response AS fr ON fr.conversation_id = c.conversation_id
LEFT JOIN f_conversation_lock_time AS lk ON lk.conversation_id = c.conversation_id
LEFT JOIN topics AS tp ON tp.conversation_id = c.conversation_id
""",
)

FACTS: tuple[Fact, ...] = (CONVERSATION_SUMMARY,)
