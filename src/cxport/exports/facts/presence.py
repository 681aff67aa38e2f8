"""Presence intervals (`metrics.md`, "Presence intervals").

Each agent's `presence` events, in the order of records, cut time into
intervals: an `AVAILABLE` or `AWAY` event starts one, which ends at the
agent's next `presence` event; `OFFLINE` starts none. The last interval of
an agent is open: `ended_at` is NULL and its duration runs to `as_of`.

`f_presence_interval`: `agent_id`, `record_id` (of the presence event that
starts the interval), `status` (`AVAILABLE` / `AWAY`), `away_state`,
`started_at`, `ended_at` (NULL when open), `until_at` (`ended_at`, or
`as_of` when open: the end "for every purpose"), `duration_ms`.

Presence records all share one type, so the order of records among them is
by `at`, then record id.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

PRESENCE_INTERVAL = Fact(
    name="f_presence_interval",
    sql="""
    WITH cut AS (
        SELECT p.agent_id, p.record_id, p.status, p.away_state, p.at AS started_at,
               lead(p.at) OVER (PARTITION BY p.agent_id ORDER BY p.at, p.record_id) AS ended_at
        FROM s_presence AS p
    )
    SELECT c.agent_id, c.record_id, c.status, c.away_state, c.started_at, c.ended_at,
           coalesce(c.ended_at, r.as_of) AS until_at,
           cx_ms(c.started_at, coalesce(c.ended_at, r.as_of)) AS duration_ms
    FROM cut AS c CROSS JOIN req AS r
    WHERE c.status IN ('AVAILABLE', 'AWAY')
    """,
)

FACTS: tuple[Fact, ...] = (PRESENCE_INTERVAL,)
