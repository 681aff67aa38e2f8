"""The DuckDB side of the constructs that differ between engines.

Export queries call these by name; a Spark engine provides its own
implementation of each:

- `cx_elem(x)`: one element of a `|`-joined list (`\\` → `\\\\`, `|` → `\\|`,
  unknown → empty), aggregated with `string_agg(cx_elem(x), '|' ORDER BY …)`;
- `cx_ms(a, b)`: milliseconds from instant `a` to instant `b` (BIGINT);
- `cx_guard(v)`: the formula-injection guard of `exports.md`;
- `cx_ts(t)`: an instant written in the request's zone (see `zones.py`).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from cxport.exports.zones import format_instants

_NUMBER = r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_PHONE = r"\+[0-9 ().-]*"

MACROS = (
    r"CREATE OR REPLACE TEMP MACRO cx_elem(x) AS"
    r" replace(replace(coalesce(x, ''), '\', '\\'), '|', '\|')",
    "CREATE OR REPLACE TEMP MACRO cx_ms(a, b) AS date_diff('microsecond', a, b) // 1000",
    "CREATE OR REPLACE TEMP MACRO cx_guard(v) AS CASE"
    " WHEN v IS NULL OR v = '' THEN NULL"
    " WHEN left(v, 1) IN ('=', '@', chr(9), chr(13)) THEN '''' || v"
    " WHEN left(v, 1) IN ('+', '-')"
    f"  AND NOT regexp_full_match(v, '{_NUMBER}')"
    f"  AND NOT (regexp_full_match(v, '{_PHONE}')"
    "        AND length(regexp_replace(v, '[^0-9]', '', 'g')) BETWEEN 7 AND 15)"
    " THEN '''' || v"
    " ELSE v END",
)


def install(con: duckdb.DuckDBPyConnection, tz: ZoneInfo) -> None:
    """Define the helpers on `con` (a connection of its own: temp objects)."""
    for sql in MACROS:
        con.execute(sql)

    def cx_ts(values: pa.Array) -> pa.Array:
        return format_instants(values, tz)

    try:
        con.remove_function("cx_ts")
    except duckdb.Error:
        pass
    con.create_function(
        "cx_ts",
        cx_ts,
        [duckdb.sqltype("TIMESTAMP")],
        duckdb.sqltype("VARCHAR"),
        type="arrow",
        null_handling="special",
        side_effects=False,
    )
