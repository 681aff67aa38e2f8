"""What the agent and team exports credit over the request's range.

Everything here is restricted to the request: activity in `[start, end)` on
the selected channels (activity of an unknown channel only without a
channel filter), credited as `attribution.py` says.

- `f_range_session`: lock sessions overlapping the range (`metrics.md`,
  "Intervals and the range"), clipped to it, keeping the class of the whole
  session: agent_id, team_id, conversation_id, class, clipped_from,
  clipped_to, clipped_ms.
- `f_agent_credit` / `f_team_credit`: one row per agent (team) with any
  credited activity: `replies`, `contacts_helped`, `resolves_with_reply`,
  `resolves_without_reply` (each conversation once per agent/team, decided
  by its latest resolution in range), `tags_added`, `topics_added`,
  `csat_1` … `csat_5`, `handle_ms`, `no_reply_ms`, `cherry_picking_ms`
  (clipped session time by class) and `handled_conversations` (distinct
  conversations with a handle session overlapping the range). Both come
  from one template, so agents and teams are counted alike.
"""

from __future__ import annotations

from cxport.exports.facts import Fact

# A row's channel passes the request's channel filter.
ON_CHANNELS = "(NOT r.filtered OR {alias}.channel_id IN (SELECT channel_id FROM req_channel))"


def _in_range(column: str) -> str:
    return f"{column} >= r.start_at AND {column} < r.end_at"


RANGE_SESSION = Fact(
    name="f_range_session",
    materialize=False,
    requires=("f_lock_session",),
    sql=f"""
    SELECT l.agent_id, l.team_id, l.conversation_id, l.lock_record_id, l.class,
           greatest(l.started_at, r.start_at) AS clipped_from,
           least(l.ended_at, r.end_at) AS clipped_to,
           cx_ms(greatest(l.started_at, r.start_at), least(l.ended_at, r.end_at)) AS clipped_ms
    FROM f_lock_session AS l
    CROSS JOIN req AS r
    WHERE l.started_at < r.end_at AND (l.ended_at > r.start_at OR l.started_at >= r.start_at)
      AND {ON_CHANNELS.format(alias="l")}
    """,
)


def _credit(unit: str) -> str:
    """Per `unit` (`agent_id` or `team_id`): what it is credited with in the range."""
    return f"""
    WITH replies AS (
        SELECT x.{unit} AS unit_id, count(*) AS replies,
               count(DISTINCT x.contact_profile_id) AS contacts_helped
        FROM f_reply AS x CROSS JOIN req AS r
        WHERE x.{unit} IS NOT NULL AND {_in_range("x.sent_at")} AND {ON_CHANNELS.format(alias="x")}
        GROUP BY x.{unit}
    ),
    resolves AS (
        SELECT unit_id,
               count(*) FILTER (WHERE with_reply) AS resolves_with_reply,
               count(*) FILTER (WHERE NOT with_reply) AS resolves_without_reply
        FROM (
            SELECT x.{unit} AS unit_id,
                   arg_max(x.with_reply, (x.resolved_at, x.record_id)) AS with_reply
            FROM f_resolution AS x CROSS JOIN req AS r
            WHERE x.{unit} IS NOT NULL AND {_in_range("x.resolved_at")}
              AND {ON_CHANNELS.format(alias="x")}
            GROUP BY x.{unit}, x.conversation_id
        ) AS latest
        GROUP BY unit_id
    ),
    labels AS (
        SELECT x.{unit} AS unit_id,
               count(*) FILTER (WHERE x.kind = 'tag') AS tags_added,
               count(*) FILTER (WHERE x.kind = 'topic') AS topics_added
        FROM f_label_added AS x CROSS JOIN req AS r
        WHERE x.{unit} IS NOT NULL AND {_in_range("x.added_at")} AND {ON_CHANNELS.format(alias="x")}
        GROUP BY x.{unit}
    ),
    answers AS (
        SELECT x.{unit} AS unit_id,
               count(*) FILTER (WHERE x.score = 1) AS csat_1,
               count(*) FILTER (WHERE x.score = 2) AS csat_2,
               count(*) FILTER (WHERE x.score = 3) AS csat_3,
               count(*) FILTER (WHERE x.score = 4) AS csat_4,
               count(*) FILTER (WHERE x.score = 5) AS csat_5
        FROM f_csat_answer AS x CROSS JOIN req AS r
        WHERE x.{unit} IS NOT NULL AND {_in_range("x.answered_at")}
          AND {ON_CHANNELS.format(alias="x")}
        GROUP BY x.{unit}
    ),
    sessions AS (
        SELECT x.{unit} AS unit_id,
               sum(x.clipped_ms) FILTER (WHERE x.class = 'handle') AS handle_ms,
               sum(x.clipped_ms) FILTER (WHERE x.class = 'no_reply') AS no_reply_ms,
               sum(x.clipped_ms) FILTER (WHERE x.class = 'cherry_picking') AS cherry_picking_ms,
               count(DISTINCT x.conversation_id) FILTER (WHERE x.class = 'handle')
                   AS handled_conversations
        FROM f_range_session AS x
        WHERE x.{unit} IS NOT NULL
        GROUP BY x.{unit}
    ),
    units AS (
        SELECT unit_id FROM replies
        UNION SELECT unit_id FROM resolves
        UNION SELECT unit_id FROM labels
        UNION SELECT unit_id FROM answers
        UNION SELECT unit_id FROM sessions
    )
    SELECT u.unit_id AS {unit},
           coalesce(p.replies, 0) AS replies,
           coalesce(p.contacts_helped, 0) AS contacts_helped,
           coalesce(v.resolves_with_reply, 0) AS resolves_with_reply,
           coalesce(v.resolves_without_reply, 0) AS resolves_without_reply,
           coalesce(l.tags_added, 0) AS tags_added,
           coalesce(l.topics_added, 0) AS topics_added,
           coalesce(a.csat_1, 0) AS csat_1,
           coalesce(a.csat_2, 0) AS csat_2,
           coalesce(a.csat_3, 0) AS csat_3,
           coalesce(a.csat_4, 0) AS csat_4,
           coalesce(a.csat_5, 0) AS csat_5,
           CAST(coalesce(s.handle_ms, 0) AS BIGINT) AS handle_ms,
           CAST(coalesce(s.no_reply_ms, 0) AS BIGINT) AS no_reply_ms,
           CAST(coalesce(s.cherry_picking_ms, 0) AS BIGINT) AS cherry_picking_ms,
           coalesce(s.handled_conversations, 0) AS handled_conversations
    FROM units AS u
    LEFT JOIN replies AS p ON p.unit_id = u.unit_id
    LEFT JOIN resolves AS v ON v.unit_id = u.unit_id
    LEFT JOIN labels AS l ON l.unit_id = u.unit_id
    LEFT JOIN answers AS a ON a.unit_id = u.unit_id
    LEFT JOIN sessions AS s ON s.unit_id = u.unit_id
    """


_CREDIT_REQUIRES = ("f_reply", "f_resolution", "f_label_added", "f_csat_answer", "f_range_session")

AGENT_CREDIT = Fact(name="f_agent_credit", requires=_CREDIT_REQUIRES, sql=_credit("agent_id"))
TEAM_CREDIT = Fact(name="f_team_credit", requires=_CREDIT_REQUIRES, sql=_credit("team_id"))

FACTS: tuple[Fact, ...] = (RANGE_SESSION, AGENT_CREDIT, TEAM_CREDIT)
