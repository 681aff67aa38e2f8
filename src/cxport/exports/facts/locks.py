"""Lock sessions (`metrics.md`, "Lock sessions (agent time)").

`f_lock_session`: one row per `lock` by a human agent:
agent_id, conversation_id, channel_id (of the conversation; NULL when
unknown), team_id (of the lock), lock_record_id, started_at, ended_at,
end_rule, class ('handle' | 'no_reply' | 'cherry_picking'), duration_ms.

`end_rule` names the first record (in record order) that ended the session:
'unlock' (1), 'next_lock' (2: the agent's next lock, any conversation),
'stolen' (3: another agent's lock on the conversation), 'status_change'
(4: to PENDING or RESOLVED), 'presence' (5: AWAY or OFFLINE), 'as_of' (6).

Each candidate end is the next record of one stream, found with `lead`:

- the agent's stream: its locks and its AWAY/OFFLINE presence changes —
  every record in it ends the sessions before it (rules 2 and 5);
- the conversation's stream: human locks on it and its PENDING/RESOLVED
  status changes (rules 3 and 4; a next lock by the same agent is rule 2);
- the (conversation, agent) stream: the agent's locks and unlocks there; an
  unlock next ends the session (rule 1), a lock next is already rule 2. Only
  the pairs with an unlock are sorted: for the others this stream ends nothing.

Sessions are those of the conversations in scope (`c_lock`); the agent's
stream reads every lock (`s_lock`), since a lock elsewhere ends a session.

`f_conversation_lock_time`: per conversation with sessions, the summed
durations by class of its sessions that ended before the snapshot (handle_ms,
no_reply_ms, cherry_picking_ms), and the session still open at the snapshot,
if any (open_class, open_since: its class and start; it runs to `as_of`, and
a conversation has at most one, since another agent's lock ends it). Kept
apart, the open session's time is added by the reader (`OPEN_TIME`): so the
fact does not change with `as_of` past the last record, and can be kept.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# Kept at the horizon (no record after it), `kept.py`: read from the kept rows
# (`kept_rows`: the planner binds the name, `keep.at_as_of_text`), a session
# still open ends at the request's `as_of` instead, and its class stands (no reply or
# resolution can come between the horizon and `as_of`).
LOCK_SESSION_AT_AS_OF = """
SELECT k.agent_id, k.conversation_id, k.channel_id, k.team_id, k.lock_record_id, k.started_at,
       CASE WHEN k.end_rule = 'as_of' THEN r.as_of ELSE k.ended_at END AS ended_at,
       k.end_rule, k.class,
       CASE WHEN k.end_rule = 'as_of' THEN cx_ms(k.started_at, r.as_of) ELSE k.duration_ms END
           AS duration_ms
FROM kept_rows AS k CROSS JOIN req AS r
"""

# The earlier of two candidate ends (structs ordered like records), the other
# when one is NULL. Not `least`, which says the same: on structs, DuckDB 2.0.1's
# `least` holds memory outside its limit (0.9 GB more at 12.5 M locks, the
# build's peak at 10 M conversations; issue 23), where `<` does not.
_EARLIER = "CASE WHEN {1} IS NULL OR {0} < {1} THEN {0} ELSE {1} END"

# Ranks of `records.TYPE_RANK`: lock 1, unlock 2, status_change 3, presence 4. In each
# stream the rank also says what a record is (its kind), so the sorts carry no more.
LOCK_SESSION = Fact(
    "f_lock_session",
    requires=("f_conversation_entity",),
    sql=f"""
WITH lk AS (
    SELECT record_id, "at", conversation_id, agent_id, team_id
    FROM c_lock WHERE agent_id IS NOT NULL
),
-- What ends a session comes after its lock: the agents' streams from the
-- first lock in scope on.
by_agent AS (
    SELECT agent_id, record_id, "at", 1 AS rk
    FROM s_lock WHERE agent_id IS NOT NULL AND "at" >= (SELECT min("at") FROM lk)
    UNION ALL
    SELECT agent_id, record_id, "at", 4 AS rk
    FROM s_presence
    WHERE status IN ('AWAY', 'OFFLINE') AND "at" >= (SELECT min("at") FROM lk)
),
by_conversation AS (
    SELECT conversation_id, record_id, "at", 1 AS rk, agent_id, team_id FROM lk
    UNION ALL
    SELECT conversation_id, record_id, "at", 3 AS rk, NULL AS agent_id, NULL AS team_id
    FROM c_status_change WHERE status IN ('PENDING', 'RESOLVED')
),
unlocks AS (
    SELECT conversation_id, agent_id, record_id, "at" FROM c_unlock WHERE agent_id IS NOT NULL
),
-- Only the pairs with an unlock can end a session by rule 1: the others stay out of the sort.
by_pair AS (
    SELECT conversation_id, agent_id, record_id, "at", 1 AS rk FROM lk
    WHERE (conversation_id, agent_id) IN (SELECT conversation_id, agent_id FROM unlocks)
    UNION ALL
    SELECT conversation_id, agent_id, record_id, "at", 2 AS rk FROM unlocks
),
-- Each stream's candidate end of each lock, as a struct ordered like records:
-- (at, rank, id), then the rule it stands for.
next_by_agent AS (
    SELECT record_id,
           CASE WHEN n_at IS NOT NULL THEN
               {{'at': n_at, 'rk': n_rk, 'id': n_id,
                'rule': CASE n_rk WHEN 1 THEN 'next_lock' ELSE 'presence' END}} END AS k
    FROM (
        SELECT record_id, rk,
               lead("at") OVER w AS n_at, lead(rk) OVER w AS n_rk,
               lead(record_id) OVER w AS n_id
        FROM by_agent
        WINDOW w AS (PARTITION BY agent_id ORDER BY "at", rk, record_id)
    ) AS a
    WHERE rk = 1
),
-- The locks themselves come out of this window (every lock is in the
-- conversation's stream), so they need no join back to `lk`.
next_by_conversation AS (
    SELECT record_id, "at", conversation_id, agent_id, team_id,
           CASE WHEN n_at IS NOT NULL THEN
               {{'at': n_at, 'rk': n_rk, 'id': n_id,
                'rule': CASE WHEN n_rk = 3 THEN 'status_change'
                             WHEN n_agent = agent_id THEN 'next_lock' ELSE 'stolen' END}} END AS k
    FROM (
        SELECT record_id, "at", conversation_id, agent_id, team_id, rk,
               lead("at") OVER w AS n_at, lead(rk) OVER w AS n_rk,
               lead(record_id) OVER w AS n_id,
               lead(agent_id) OVER w AS n_agent
        FROM by_conversation
        WINDOW w AS (PARTITION BY conversation_id ORDER BY "at", rk, record_id)
    ) AS c
    WHERE rk = 1
),
next_by_pair AS (
    SELECT record_id, {{'at': n_at, 'rk': n_rk, 'id': n_id, 'rule': 'unlock'}} AS k
    FROM (
        SELECT record_id, rk,
               lead("at") OVER w AS n_at, lead(rk) OVER w AS n_rk,
               lead(record_id) OVER w AS n_id
        FROM by_pair
        WINDOW w AS (PARTITION BY conversation_id, agent_id ORDER BY "at", rk, record_id)
    ) AS p
    WHERE rk = 1 AND n_rk = 2
),
sessions AS (
    SELECT fe.agent_id, fe.conversation_id, fe.team_id, fe.record_id AS lock_record_id,
           fe."at" AS started_at,
           coalesce(fe.k.at, r.as_of) AS ended_at,
           coalesce(fe.k.rule, 'as_of') AS end_rule
    FROM (
        -- The first candidate in the order of records, skipping NULLs (`_EARLIER`).
        SELECT record_id, "at", conversation_id, agent_id, team_id,
               {_EARLIER.format("ca", "p_k")} AS k
        FROM (
            SELECT c.record_id, c."at", c.conversation_id, c.agent_id, c.team_id,
                   {_EARLIER.format("c.k", "a.k")} AS ca, p.k AS p_k
            FROM next_by_conversation AS c
            LEFT JOIN next_by_agent AS a ON a.record_id = c.record_id
            LEFT JOIN next_by_pair AS p ON p.record_id = c.record_id
        ) AS candidates
    ) AS fe
    CROSS JOIN req AS r
),
handled AS (
    SELECT DISTINCT s.lock_record_id
    FROM sessions AS s
    JOIN c_message AS m
      ON m.conversation_id = s.conversation_id AND m.agent_id = s.agent_id
    WHERE m.direction = 'OUTBOUND' AND m.source = 'AGENT'
      AND m.at >= s.started_at AND m.at <= s.ended_at
),
resolved_at_end AS (
    SELECT DISTINCT s.lock_record_id
    FROM sessions AS s
    JOIN c_status_change AS sc
      ON sc.conversation_id = s.conversation_id AND sc.agent_id = s.agent_id
     AND sc.at = s.ended_at
    WHERE sc.status = 'RESOLVED'
)
SELECT s.agent_id, s.conversation_id, e.channel_id, s.team_id, s.lock_record_id,
       s.started_at, s.ended_at, s.end_rule,
       CASE WHEN h.lock_record_id IS NOT NULL THEN 'handle'
            WHEN r.lock_record_id IS NOT NULL THEN 'no_reply'
            ELSE 'cherry_picking' END AS class,
       cx_ms(s.started_at, s.ended_at) AS duration_ms
FROM sessions AS s
LEFT JOIN handled AS h ON h.lock_record_id = s.lock_record_id
LEFT JOIN resolved_at_end AS r ON r.lock_record_id = s.lock_record_id
LEFT JOIN f_conversation_entity AS e ON e.conversation_id = s.conversation_id
""",
)

_ENDED = "end_rule <> 'as_of'"

CONVERSATION_LOCK_TIME = Fact(
    "f_conversation_lock_time",
    requires=("f_lock_session",),
    sql=f"""
SELECT conversation_id,
       CAST(coalesce(sum(duration_ms) FILTER (WHERE class = 'handle' AND {_ENDED}), 0) AS BIGINT)
           AS handle_ms,
       CAST(coalesce(sum(duration_ms) FILTER (WHERE class = 'no_reply' AND {_ENDED}), 0) AS BIGINT)
           AS no_reply_ms,
       CAST(coalesce(sum(duration_ms) FILTER (WHERE class = 'cherry_picking' AND {_ENDED}), 0)
           AS BIGINT) AS cherry_picking_ms,
       max(class) FILTER (WHERE NOT {_ENDED}) AS open_class,
       max(started_at) FILTER (WHERE NOT {_ENDED}) AS open_since
FROM f_lock_session
GROUP BY conversation_id
""",
)


def open_time(row: str, lock_class: str) -> str:
    """SQL: the `lock_class` time of `row`'s open session at the request's `as_of` (`r`)."""
    return (
        f"CASE WHEN {row}.open_class = '{lock_class}'"
        f" THEN cx_ms({row}.open_since, r.as_of) ELSE 0 END"
    )


FACTS: tuple[Fact, ...] = (LOCK_SESSION, CONVERSATION_LOCK_TIME)
