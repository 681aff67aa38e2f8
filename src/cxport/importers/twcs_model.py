"""From loaded TWCS records to conversations, in SQL (DuckDB spills to disk: bounded memory).

The steps, each a table on the working connection (`csv_raw`, `line_of`
come from `twcs_reader`; `rec` is a record's ordinal in the file):

1. `parse`: `parsed` (typed fields, no text) and `problem` (every bad field);
2. `find_threads`: `link` (parent in the file) and `anc` (thread root),
   by pointer doubling: log2(depth) joins, whatever the thread sizes;
3. `assign_parties`: `tw`, each tweet's brand (the channel) and customer (the contact);
4. `split_conversations`: `msg` (each tweet in its conversation, with its
   agent) and `conv` (one row per conversation).

Tables stay narrow (the text is read once, when written); `docs/twcs-mapping.md`
explains every rule and why.
"""

from __future__ import annotations

import datetime as dt

import duckdb

Connection = duckdb.DuckDBPyConnection

UNKNOWN_CHANNEL = "(unknown brand)"
UNKNOWN_CONTACT = "(unknown customer)"
UNKNOWN_AGENT_SUFFIX = "(unsigned)"
MAX_ID_CHARS = 100  # ids built from author ids must stay far below the 200 of ingest.md
MAX_DOUBLINGS = 64  # a chain of 2**64 replies cannot exist: more means a loop

_ID = r"[0-9]+(\.0*)?"  # `3` or, as pandas writes floats, `3.0`
_TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"  # Tue Oct 31 22:10:47 +0000 2017
_ISO_TIME = r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:?\d\d)"
# An @-mention (an `x@y` inside a word counts too: TWCS masks e-mail addresses,
# and requiring a word start makes the extraction several times slower).
_MENTION = r"@(\w{1,50})"


def fetch_row(con: Connection, sql: str) -> tuple[int, ...]:
    """The one row of an aggregate query (or an UPDATE's count), as integers."""
    rows = con.execute(sql).fetchall()  # fetchall: leaves no unfinished result behind
    return tuple(int(v) for v in rows[0]) if rows else (0,)


def _id(col: str) -> str:
    return (
        f"CASE WHEN regexp_full_match(trim({col}), '{_ID}')"
        f" THEN try_cast(regexp_extract(trim({col}), '^[0-9]+') AS BIGINT) END"
    )


def _quoted(col: str) -> str:
    """The raw value as a problem message shows it: quoted, cut at 40 characters."""
    return f"'''' || left({col}, 40) || CASE WHEN length({col}) > 40 THEN '…' ELSE '' END || ''''"


def parse(con: Connection) -> None:
    """`csv_raw` → `parsed` (typed) and `problem` (rec, field, reason, ref) for each bad field."""
    con.execute(f"""
        CREATE OR REPLACE TABLE parsed AS
        SELECT rowid AS rec,
          {_id("tweet_id")} AS id,
          trim(author_id) AS author,
          CASE lower(trim(inbound)) WHEN 'true' THEN false WHEN 'false' THEN true END AS outbound,
          date_trunc('second', coalesce(
            try_strptime(trim(created_at), '{_TWITTER_TIME}'),
            CASE WHEN regexp_full_match(trim(created_at), '{_ISO_TIME}')
              THEN try_cast(trim(created_at) AS TIMESTAMPTZ) END
          )::TIMESTAMP) AS created,
          trim(in_response_to_tweet_id) <> '' AS has_parent,
          {_id("in_response_to_tweet_id")} AS parent_ref,
          regexp_full_match(response_tweet_id, '\\s*|\\s*{_ID}\\s*(,\\s*{_ID}\\s*)*') AS responses_ok,
          CASE WHEN lower(trim(inbound)) = 'false' THEN agent_signature(text) END AS signature
        FROM csv_raw
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE mention AS
        SELECT rec, unnest(ms) AS handle, unnest(range(len(ms))) AS pos
        FROM (
          SELECT rowid AS rec, regexp_extract_all(text, '{_MENTION}', 1) AS ms
          FROM csv_raw WHERE contains(text, '@')
        )
    """)
    con.execute(f"""
        CREATE OR REPLACE TABLE problem AS
        WITH p AS (
          SELECT p.*, r.tweet_id AS raw_id, r.inbound AS raw_inbound,
            r.created_at AS raw_created_at, r.in_response_to_tweet_id AS raw_parent,
            r.response_tweet_id AS raw_responses
          FROM parsed p JOIN csv_raw r ON r.rowid = p.rec
          WHERE p.id IS NULL OR p.author = '' OR length(p.author) > {MAX_ID_CHARS}
            OR p.outbound IS NULL OR p.created IS NULL OR (p.has_parent AND p.parent_ref IS NULL)
            OR p.parent_ref = p.id OR NOT p.responses_ok
        )
        SELECT rec, 'tweet_id' AS field,
          CASE WHEN trim(raw_id) = '' THEN 'empty' ELSE 'not a tweet id ' || {_quoted("raw_id")} END
            AS reason,
          NULL::BIGINT AS ref
        FROM p WHERE id IS NULL
        UNION ALL
        SELECT rec, 'author_id', CASE WHEN author = '' THEN 'empty'
          ELSE 'longer than {MAX_ID_CHARS} characters' END, NULL
        FROM p WHERE author = '' OR length(author) > {MAX_ID_CHARS}
        UNION ALL
        SELECT rec, 'inbound', 'expected True or False, got ' || {_quoted("raw_inbound")}, NULL
        FROM p WHERE outbound IS NULL
        UNION ALL
        SELECT rec, 'created_at', 'cannot parse ' || {_quoted("raw_created_at")}, NULL
        FROM p WHERE created IS NULL
        UNION ALL
        SELECT rec, 'in_response_to_tweet_id', 'not a tweet id ' || {_quoted("raw_parent")}, NULL
        FROM p WHERE has_parent AND parent_ref IS NULL
        UNION ALL
        SELECT rec, 'in_response_to_tweet_id', 'the tweet answers itself', NULL
        FROM p WHERE parent_ref = id
        UNION ALL
        SELECT rec, 'response_tweet_id', 'not a list of tweet ids ' || {_quoted("raw_responses")},
          NULL
        FROM p WHERE NOT responses_ok
        UNION ALL
        SELECT rec, 'tweet_id', 'duplicate of line ', first_rec FROM (
          SELECT rec, min(rec) OVER (PARTITION BY id) AS first_rec
          FROM parsed SEMI JOIN (SELECT id FROM parsed GROUP BY id HAVING count(*) > 1) USING (id)
        ) WHERE rec <> first_rec
    """)


def problem_count(con: Connection) -> tuple[int, int]:
    """(records with a problem, problems)."""
    rows, problems = fetch_row(con, "SELECT count(DISTINCT rec), count(*) FROM problem")
    return rows, problems


def first_problems(con: Connection, limit: int) -> list[tuple[int, str]]:
    """The first `limit` problems as (line, "field: reason"), by line."""
    rows = con.execute(
        """
        SELECT l.line, q.field || ': ' || q.reason || coalesce(r.line::VARCHAR, '')
        FROM problem q JOIN line_of l ON l.rec = q.rec LEFT JOIN line_of r ON r.rec = q.ref
        ORDER BY l.line, q.field, q.reason LIMIT ?
        """,
        [limit],
    ).fetchall()
    return [(int(line), str(text)) for line, text in rows]


def drop_invalid(con: Connection) -> None:
    """Leave only the records without a problem in `parsed`."""
    con.execute("DELETE FROM parsed WHERE rec IN (SELECT rec FROM problem)")


def _double(con: Connection, table: str) -> None:
    """Pointer doubling on `table(id, up)` until every `up` is outside the table's ids.

    A row's `up` is replaced by its `up`'s `up` while that one is in the table:
    each round halves the distance left, so log2(chain length) rounds.
    """
    for _ in range(MAX_DOUBLINGS):
        con.execute(f"""
            CREATE OR REPLACE TABLE {table}_next AS
            SELECT h.id, coalesce(n.up, h.up) AS up, n.id IS NOT NULL AS moved
            FROM {table} h LEFT JOIN {table} n ON n.id = h.up
        """)
        (moved,) = fetch_row(con, f"SELECT count(*) FROM {table}_next WHERE moved")
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT id, up FROM {table}_next")
        con.execute(f"DROP TABLE {table}_next")
        if not moved:
            return


def find_threads(con: Connection) -> int:
    """`link` (parent in the file) and `anc` (thread root) of every tweet.

    Records whose reply chain loops (a corrupt file: a reply cannot precede
    its parent) reach no root; they are added to `problem`, their count returned.
    """
    con.execute("""
        CREATE OR REPLACE TABLE link AS
        SELECT t.id, p.id AS parent FROM parsed t LEFT JOIN parsed p ON p.id = t.parent_ref
    """)
    con.execute(
        "CREATE OR REPLACE TABLE hop AS SELECT id, parent AS up FROM link WHERE parent IS NOT NULL"
    )
    _double(con, "hop")
    # `up` is now a root, except on a loop, where it still has a parent.
    con.execute("""
        CREATE OR REPLACE TABLE anc AS
        SELECT l.id, coalesce(h.up, l.id) AS root, u.parent IS NOT NULL AS looped
        FROM link l LEFT JOIN hop h ON h.id = l.id LEFT JOIN link u ON u.id = h.up
    """)
    con.execute("""
        INSERT INTO problem
        SELECT p.rec, 'in_response_to_tweet_id', 'its reply chain loops back on itself', NULL
        FROM parsed p SEMI JOIN anc a ON a.id = p.id AND a.looped
    """)
    return fetch_row(con, "SELECT count(*) FROM anc WHERE looped")[0]


def drop_looped(con: Connection) -> None:
    con.execute("DELETE FROM parsed WHERE id IN (SELECT id FROM anc WHERE looped)")
    find_threads(con)


def assign_parties(con: Connection) -> None:
    """`tw`: every tweet with its thread root, brand (channel) and customer (contact).

    A customer tweet addresses, in this order: the brand it answers; the
    brand that first answers it; the first brand it @-mentions; else the
    brand of the customer tweet it answers (climbing); else the thread's
    first brand. A brand tweet speaks to: the customer it answers; the first
    non-brand account it @-mentions; else, continuing its own brand's tweet
    (`2/2`), that tweet's customer (climbing); else nobody known.
    """
    con.execute("""
        CREATE OR REPLACE TABLE brand AS
        SELECT lower(author) AS key, min(author) AS brand FROM parsed WHERE outbound GROUP BY 1
    """)
    con.execute("""
        CREATE OR REPLACE TABLE tw0 AS
        WITH brand_reply AS (
          SELECT parent_ref AS id, arg_min(author, (created, id)) AS brand
          FROM parsed WHERE outbound AND parent_ref IS NOT NULL GROUP BY 1
        ), mentions AS (
          SELECT p.id, p.outbound, m.handle, m.pos, b.brand
          FROM mention m JOIN parsed p ON p.rec = m.rec LEFT JOIN brand b ON b.key = lower(m.handle)
        ), brand_mention AS (
          SELECT id, arg_min(brand, pos) AS brand FROM mentions
          WHERE NOT outbound AND brand IS NOT NULL GROUP BY 1
        ), customer_mention AS (
          SELECT id, arg_min(handle, pos) AS handle FROM mentions
          WHERE outbound AND brand IS NULL GROUP BY 1
        )
        SELECT t.id, t.rec, t.created, t.outbound, t.author, t.signature, l.parent, a.root,
          CASE WHEN t.outbound THEN t.author
               WHEN p.outbound THEN p.author
               ELSE coalesce(r.brand, bm.brand) END AS brand,
          NOT t.outbound AND NOT coalesce(p.outbound, true)
            AND r.brand IS NULL AND bm.brand IS NULL AS brand_climbs,
          CASE WHEN NOT t.outbound THEN t.author
               WHEN NOT p.outbound THEN p.author
               ELSE cm.handle END AS contact,
          t.outbound AND coalesce(p.outbound AND p.author = t.author, false)
            AND cm.handle IS NULL AS contact_climbs
        FROM parsed t JOIN link l ON l.id = t.id JOIN anc a ON a.id = t.id
        LEFT JOIN parsed p ON p.id = l.parent
        LEFT JOIN brand_reply r ON r.id = t.id
        LEFT JOIN brand_mention bm ON bm.id = t.id
        LEFT JOIN customer_mention cm ON cm.id = t.id
    """)
    for what in ("brand", "contact"):
        con.execute(f"""
            CREATE OR REPLACE TABLE {what}_hop AS
            SELECT id, parent AS up FROM tw0 WHERE {what}_climbs
        """)
        _double(con, f"{what}_hop")
    con.execute("""
        CREATE OR REPLACE TABLE tw AS
        WITH thread_brand AS (
          SELECT root, arg_min(author, (created, id)) AS brand FROM tw0 WHERE outbound GROUP BY 1
        )
        SELECT t.id, t.rec, t.created, t.outbound, t.signature, t.root,
          coalesce(CASE WHEN t.brand_climbs THEN ub.brand ELSE t.brand END, f.brand) AS brand,
          CASE WHEN t.contact_climbs THEN uc.contact ELSE t.contact END AS contact
        FROM tw0 t
        LEFT JOIN brand_hop bh ON bh.id = t.id LEFT JOIN tw0 ub ON ub.id = bh.up
        LEFT JOIN contact_hop ch ON ch.id = t.id LEFT JOIN tw0 uc ON uc.id = ch.up
        LEFT JOIN thread_brand f ON f.root = t.root
    """)


def split_conversations(con: Connection, gap: dt.timedelta) -> None:
    """`msg` (each tweet in its conversation) and `conv` (one row per conversation).

    A (thread, brand, customer) group is one conversation until a tweet comes
    `gap` or more after a brand tweet: the conversation was resolved
    automatically in between (`conv.resolved_at`) and the tweet starts the
    next one. A customer waiting for the brand is not inactivity: a late
    reply stays in the conversation it answers.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TABLE msg AS
        WITH k AS (
          SELECT *, coalesce(brand, '{UNKNOWN_CHANNEL}') AS channel_id,
            coalesce(contact, '{UNKNOWN_CONTACT}') AS contact_id
          FROM tw
        ), g AS (
          SELECT *,
            lag(created) OVER w AS prev_created, lag(outbound) OVER w AS prev_outbound
          FROM k WINDOW w AS (PARTITION BY root, channel_id, contact_id ORDER BY created, id)
        ), s AS (
          SELECT *,
            sum(CASE WHEN prev_created IS NULL OR (prev_outbound AND created - prev_created >= $gap)
              THEN 1 ELSE 0 END)
            OVER (PARTITION BY root, channel_id, contact_id ORDER BY created, id
                  ROWS UNBOUNDED PRECEDING) AS part
          FROM g
        ), c AS (
          SELECT *, first_value(id) OVER (PARTITION BY root, channel_id, contact_id, part
            ORDER BY created, id)::VARCHAR AS conversation_id
          FROM s
        )
        SELECT id, rec, created, outbound, channel_id, contact_id, conversation_id,
          CASE WHEN outbound
            THEN channel_id || ':' || coalesce(signature, '{UNKNOWN_AGENT_SUFFIX}') END AS agent_id,
          outbound IS DISTINCT FROM lag(outbound) OVER (PARTITION BY conversation_id
            ORDER BY created, id) AS status_changes
        FROM c
        """,
        {"gap": gap},
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE conv AS
        SELECT conversation_id, any_value(channel_id) AS channel_id,
          any_value(contact_id) AS contact_id, min(created) AS first_at,
          CASE WHEN arg_max(outbound, (created, id)) THEN max(created) + $gap END AS resolved_at
        FROM msg GROUP BY 1
        """,
        {"gap": gap},
    )


def brand_count(con: Connection) -> int:
    return fetch_row(con, "SELECT count(*) FROM brand")[0]
