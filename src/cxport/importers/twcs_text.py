"""What a tweet's text says beyond its words: decoded content and agent sign-offs.

Both are installed as SQL functions on the working connection (`install`),
so the bulk steps call them column-wise.
"""

from __future__ import annotations

import html

import duckdb
from duckdb import sqltypes

# Trailing parts that may follow an agent's sign-off: links (`^DC https://t.co/…`),
# part markers (`- Chris 2/2`, `..1/2`) and spaces.
_TRAILERS = r"(\s+|https?://\S*|\(?\.{0,3}\d{1,2}/\d{1,2}\)?\.?)+$"

# A sign-off ends the text (once trailers are cut): a marker, an optional
# space, a name or initials. `^` may follow anything (`dispatches.^GA`); the
# other markers must start a word, so `and/or` or `2-3` are not sign-offs.
_SIGNATURE = r"(?:\^|(?:^|[\s.!?,;:)])[-–—~*/]{1,2})\s?([A-Za-z](?:[A-Za-z.]{0,18}[A-Za-z])?)\.?$"

# Lower-case sign-offs count only as initials (`^ab`, at most 3 letters), so
# a trailing path such as `/help` is no agent; `unknown` names the brand's
# unknown agent, so it cannot be a sign-off.
_MACROS = (
    f"""CREATE OR REPLACE MACRO twcs_sign_off(t) AS
        regexp_extract(regexp_replace(t, '{_TRAILERS}', ''), '{_SIGNATURE}', 1)""",
    """CREATE OR REPLACE MACRO agent_signature(t) AS (
        SELECT CASE WHEN s = '' OR lower(s) = 'unknown' THEN NULL
                    WHEN regexp_full_match(s, '[a-z].*') AND NOT regexp_full_match(s, '[a-z]{1,3}')
                      THEN NULL
                    ELSE s END
        FROM (SELECT twcs_sign_off(t) AS s))""",
)


def decode_content(text: str) -> str:
    """The tweet as a person reads it: Twitter's HTML entities decoded (`&amp;` → `&`)."""
    return html.unescape(text) if "&" in text else text


def install(con: duckdb.DuckDBPyConnection) -> None:
    """Define `agent_signature(text)` and `decode_content(text)` on `con`."""
    for macro in _MACROS:
        con.execute(macro)
    con.create_function(
        "decode_content",
        decode_content,
        [sqltypes.VARCHAR],
        sqltypes.VARCHAR,
        side_effects=False,
    )
