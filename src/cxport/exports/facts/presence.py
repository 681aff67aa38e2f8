"""Presence intervals (`metrics.md`, "Presence intervals").

Each agent's `presence` events, in the order of records, cut time into
intervals: an `AVAILABLE` or `AWAY` event starts one, which ends at the
agent's next `presence` event; `OFFLINE` starts none. The last interval of
an agent is open: `ended_at` is NULL and its duration runs to `as_of`.

`f_presence_interval`: `agent_id`, `record_id` (of the presence event that
starts the interval), `status` (`AVAILABLE` / `AWAY`), `away_state`,
`started_at`, `ended_at` (NULL when open), `until_at` (`ended_at`, or
`as_of` when open: the end "for every purpose"), `duration_ms`.

`f_agent_presence_time`: per agent with a presence interval overlapping the
range, `available_ms` and `away_ms` (interval time clipped to the range and
`as_of`) and `utilized_ms`, the part of the available time during which a
lock session (clipped, on the selected channels: `f_range_session`) was open.

`f_agent_utilized` (kept): the pieces of each agent's available time with a
lock session open (agent_id, from_at, to_at), over all its time and every
channel; a piece still open at the snapshot ends at 'infinity'. Without a
channel filter, `utilized_ms` is these pieces clipped to the range and `as_of`.

Presence records all share one type, so the order of records among them is
by `at`, then record id.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# Kept at the horizon, where an agent's last interval is open: it runs to the
# request's `as_of` instead (`at_as_of`).
_UNTIL = "coalesce({p}.ended_at, r.as_of)"

# The kept rows (`kept_rows`: the planner binds the name to the kept copy,
# `keep.at_as_of_text`) at the request's `as_of`.
PRESENCE_AT_AS_OF = f"""
    SELECT k.agent_id, k.record_id, k.status, k.away_state, k.started_at, k.ended_at,
           {_UNTIL.format(p="k")} AS until_at,
           cx_ms(k.started_at, {_UNTIL.format(p="k")}) AS duration_ms
    FROM kept_rows AS k CROSS JOIN req AS r
    """

PRESENCE_INTERVAL = Fact(
    name="f_presence_interval",
    materialize=False,  # each export reads it once: a view spares writing a table
    sql=f"""
    WITH cut AS (
        SELECT p.agent_id, p.record_id, p.status, p.away_state, p.at AS started_at,
               lead(p.at) OVER (PARTITION BY p.agent_id ORDER BY p.at, p.record_id) AS ended_at
        FROM s_presence AS p
    )
    SELECT c.agent_id, c.record_id, c.status, c.away_state, c.started_at, c.ended_at,
           {_UNTIL.format(p="c")} AS until_at,
           cx_ms(c.started_at, {_UNTIL.format(p="c")}) AS duration_ms
    FROM cut AS c CROSS JOIN req AS r
    WHERE c.status IN ('AVAILABLE', 'AWAY')
    """,
)

# Utilization is a sweep over each agent's timeline: +1/-1 at the edges of
# available intervals and of lock sessions (CTEs `available` and `sessions`:
# agent_id, from_at, to_at); the time where both running counts are positive
# is available time with a session open (`utilized_pieces`). Overlapping
# sessions therefore count once (their union), whatever the data holds.
# One running sum carries both counts, the locked one in the high bits (both
# are small and never negative): a windowed sum is the costly part.
_SWEEP = """
    edges AS (
        SELECT agent_id, from_at AS t, 1 AS d FROM available
        UNION ALL
        SELECT agent_id, to_at, -1 FROM available
        UNION ALL
        SELECT agent_id, from_at, 4294967296 FROM sessions
        WHERE agent_id IN (SELECT agent_id FROM available)
        UNION ALL
        SELECT agent_id, to_at, -4294967296 FROM sessions
        WHERE agent_id IN (SELECT agent_id FROM available)
    ),
    steps AS (
        -- Edges at one instant need no grouping: the segments between them are empty.
        SELECT agent_id, t, lead(t) OVER w AS next_t, sum(d) OVER w AS open_counts
        FROM edges
        WINDOW w AS (PARTITION BY agent_id ORDER BY t ROWS UNBOUNDED PRECEDING)
    ),
    utilized_pieces AS (
        SELECT agent_id, t AS from_at, next_t AS to_at
        FROM steps
        WHERE open_counts % 4294967296 > 0 AND open_counts >= 4294967296 AND next_t > t
    )"""

# The sweep over all of each agent's time and every session (kept). An end
# still open at the snapshot is 'infinity' (it runs to the request's `as_of`),
# so no piece that starts at the horizon is lost.
_OPEN = "CAST('infinity' AS TIMESTAMP)"
AGENT_UTILIZED = Fact(
    name="f_agent_utilized",
    requires=("f_presence_interval", "f_lock_session"),
    sql=f"""
    WITH available AS (
        SELECT agent_id, started_at AS from_at, coalesce(ended_at, {_OPEN}) AS to_at
        FROM f_presence_interval WHERE status = 'AVAILABLE'
    ),
    sessions AS (
        SELECT agent_id, started_at AS from_at,
               CASE WHEN end_rule = 'as_of' THEN {_OPEN} ELSE ended_at END AS to_at
        FROM f_lock_session
    ),
    {_SWEEP}
    SELECT * FROM utilized_pieces
    """,
)

# Over the range: without a channel filter, the kept pieces clipped to it;
# with one, the sweep over the range's available time and the sessions on the
# selected channels (`f_range_session`).
AGENT_PRESENCE_TIME = Fact(
    name="f_agent_presence_time",
    requires=("f_presence_interval", "f_range_session", "f_agent_utilized"),
    sql=f"""
    WITH clipped AS (
        SELECT p.agent_id, p.status,
               greatest(p.started_at, r.start_at) AS clipped_from,
               least(p.until_at, r.end_at) AS clipped_to
        FROM f_presence_interval AS p CROSS JOIN req AS r
        WHERE p.started_at < r.end_at AND (p.until_at > r.start_at OR p.started_at >= r.start_at)
    ),
    available AS (
        SELECT c.agent_id, c.clipped_from AS from_at, c.clipped_to AS to_at
        FROM clipped AS c CROSS JOIN req AS r
        WHERE r.filtered AND c.status = 'AVAILABLE' AND c.clipped_to > c.clipped_from
    ),
    sessions AS (
        SELECT agent_id, clipped_from AS from_at, clipped_to AS to_at FROM f_range_session
        WHERE clipped_to > clipped_from
    ),
    {_SWEEP},
    pieces AS (
        SELECT u.agent_id,
               cx_ms(greatest(u.from_at, r.start_at), least(u.to_at, r.as_of, r.end_at)) AS ms
        FROM f_agent_utilized AS u CROSS JOIN req AS r
        WHERE NOT r.filtered AND u.from_at < least(r.end_at, r.as_of) AND u.to_at > r.start_at
        UNION ALL
        SELECT agent_id, cx_ms(from_at, to_at) FROM utilized_pieces
    ),
    utilized AS (
        SELECT agent_id, sum(ms) AS utilized_ms FROM pieces GROUP BY agent_id
    ),
    totals AS (
        SELECT agent_id,
               sum(cx_ms(clipped_from, clipped_to)) FILTER (WHERE status = 'AVAILABLE')
                   AS available_ms,
               sum(cx_ms(clipped_from, clipped_to)) FILTER (WHERE status = 'AWAY') AS away_ms
        FROM clipped GROUP BY agent_id
    )
    SELECT t.agent_id,
           CAST(coalesce(t.available_ms, 0) AS BIGINT) AS available_ms,
           CAST(coalesce(t.away_ms, 0) AS BIGINT) AS away_ms,
           CAST(coalesce(u.utilized_ms, 0) AS BIGINT) AS utilized_ms
    FROM totals AS t
    LEFT JOIN utilized AS u ON u.agent_id = t.agent_id
    """,
)

FACTS: tuple[Fact, ...] = (PRESENCE_INTERVAL, AGENT_UTILIZED, AGENT_PRESENCE_TIME)
