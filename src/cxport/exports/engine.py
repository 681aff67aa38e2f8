"""The DuckDB side of the constructs that differ between engines.

Export queries call these by name; a Spark engine provides its own
implementation of each:

- `cx_elem(x)`: one element of a `|`-joined list (`\\` → `\\\\`, `|` → `\\|`,
  unknown → empty), aggregated with `string_agg(cx_elem(x), '|' ORDER BY …)`;
- `cx_ms(a, b)`: milliseconds from instant `a` to instant `b` (BIGINT);
- `cx_guard(v)`: the formula-injection guard of `exports.md`;
- `cx_ts(t)`: an instant written in the request's zone (see `zones.py`);
  `cx_local(t, off)`: `t` shifted by `off` seconds, written with that offset.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable, Iterable, Iterator
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from duckdb import sqltypes
from duckdb.func import FunctionNullHandling, PythonUDFType

from cxport.exports.zones import SQL_WINDOW, Window, format_instants, offset_sql

_NUMBER = r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_PHONE = r"\+[0-9 ().-]*"

MACROS = (
    r"CREATE OR REPLACE TEMP MACRO cx_elem(x) AS"
    r" replace(replace(coalesce(x, ''), '\', '\\'), '|', '\|')",
    "CREATE OR REPLACE TEMP MACRO cx_ms(a, b) AS date_diff('microsecond', a, b) // 1000",
    # The first code point settles almost every cell with one integer test; only
    # cells starting with + or - reach the regular expressions.
    # (61 '=', 64 '@', 9 tab, 13 carriage return, 43 '+', 45 '-'.)
    "CREATE OR REPLACE TEMP MACRO cx_guard(v) AS CASE"
    " WHEN v IS NULL OR v = '' THEN NULL"
    " WHEN ascii(v) NOT IN (61, 64, 9, 13, 43, 45) THEN v"
    " WHEN ascii(v) IN (61, 64, 9, 13) THEN '''' || v"
    f" WHEN regexp_full_match(v, '{_NUMBER}') THEN v"
    f" WHEN regexp_full_match(v, '{_PHONE}')"
    "  AND length(regexp_replace(v, '[^0-9]', '', 'g')) BETWEEN 7 AND 15 THEN v"
    " ELSE '''' || v END",
)


# A query, or a query and its parameters.
Query = str | tuple[str, list[object]]


def create_table(
    con: duckdb.DuckDBPyConnection, table: str, queries: Iterable[Query], order: str | None
) -> None:
    """Create `table` (`TEMP` unless schema-qualified) holding the rows of
    `queries` together, each asked for once the rows of the one before are in
    (a build by shares narrows its views in between, `kept.py`); in `order`
    (an ORDER BY list over what they select) when given.

    Sorted in two steps, each of which spills to disk past the memory limit
    (`limits.py`): the rows materialized unsorted, then sorted into `table`.
    In DuckDB 2.0 a sort fed by hash joins in the same pipeline does not spill,
    nor does a COPY whose query ends in a sort (issue 23), so a query ending in
    its ORDER BY fails once its rows outgrow the limit.

    Safe on cursors of one database at once (two job runners): the staging
    table's name is this call's own, and no setting of the database changes.
    `preserve_insertion_order` is the database's: a `SET` of it on one cursor
    holds for all, and a COPY another cursor plans meanwhile writes its sorted
    rows out of order. So it is off for this cursor only (`SET SESSION`).
    """
    kind = "TABLE" if "." in table else "TEMP TABLE"
    if order is None:
        _fill(con, f"CREATE OR REPLACE {kind} {table}", table, queries)
        return
    staging = f"cx_unsorted_{uuid.uuid4().hex}"
    with run_after(con, f"DROP TABLE IF EXISTS {staging}"):
        create_unsorted(con, staging, queries)
        con.execute(f"CREATE OR REPLACE {kind} {table} AS SELECT * FROM {staging} ORDER BY {order}")


def create_unsorted(con: duckdb.DuckDBPyConnection, table: str, queries: Iterable[Query]) -> None:
    """Create the temporary `table` holding the rows of `queries`, in no order
    (`create_table`'s first step when it sorts)."""
    # No order to keep, so no buffering to keep it.
    con.execute("SET SESSION preserve_insertion_order = false")
    with run_after(con, "RESET SESSION preserve_insertion_order"):
        _fill(con, f"CREATE TEMP TABLE {table}", table, queries)


def _fill(
    con: duckdb.DuckDBPyConnection, create: str, table: str, queries: Iterable[Query]
) -> None:
    """`create` (a CREATE … TABLE statement's start) with the first query's rows,
    then the other queries' rows inserted, in turn."""
    for n, item in enumerate(queries):
        query, params = (item, []) if isinstance(item, str) else item
        sql = f"{create} AS {query}" if n == 0 else f"INSERT INTO {table} {query}"
        con.execute(sql, params)


@contextlib.contextmanager
def run_after(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[None]:
    """Execute `sql` (a clean-up) on `con` when the block ends, however it ends.

    If the block raised, its error is the one that propagates: in a transaction
    (an export's, `runner.py`) a failed statement aborts it, and DuckDB then
    refuses `sql` until the owner rolls back, which also undoes what `sql`
    would have cleaned up.
    """
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute(sql)
        raise
    con.execute(sql)


@functools.cache
def _formatter(tz: ZoneInfo) -> Callable[[pa.Array], pa.Array]:
    """`cx_ts`'s Python path for `tz`: one function per zone, referenced here for
    the life of the process (`install` says why)."""

    def cx_ts(values: pa.Array) -> pa.Array:
        return format_instants(values, tz)

    return cx_ts


def install(
    con: duckdb.DuckDBPyConnection,
    tz: ZoneInfo,
    base: duckdb.DuckDBPyConnection | None = None,
    window: Window = SQL_WINDOW,
) -> None:
    """Define the helpers on `con` (a connection of its own: temp objects).

    `cx_ts` is SQL: the zone's offset is a tree of CASEs over its transitions
    in `window` (computed once per zone and window with `zoneinfo`, see
    `zones.offset_sql`), so no row goes through Python. Instants outside
    `window` (at most `zones.SQL_WINDOW`, 1970-2100) go to a Python
    function, `cx_ts_<zone>`, registered once per zone on `base` (the
    connection `con` is a cursor of; `con` itself when None).

    DuckDB keeps a Python function in the database's catalogue (every cursor
    finds it) but only the registering connection references the Python
    object: once that connection closes, a call from any other cursor jumps
    to freed memory and the process dies (SIGSEGV). `base` is not always
    long-lived (a service job's cursor closes when the job ends, while the
    other runner's job keeps the database open and finds the function
    registered), so the function is `_formatter`'s, alive as long as the
    process. The call may come at planning, not only for rows outside
    `window`: the optimizer folds it when a column's statistics make its
    input constant (an all-NULL column of a temporary table).
    """
    for sql in MACROS:
        con.execute(sql)

    name = "cx_ts_" + str(tz.key or tz).encode().hex()
    target = base or con
    # DuckDB 2 refuses to register while a result of `execute` is unread.
    target.execute("SELECT 1").fetchall()
    with contextlib.suppress(duckdb.NotImplementedException, duckdb.CatalogException):
        # Already registered (for the same zone) when this raises.
        target.create_function(
            name,
            _formatter(tz),
            [sqltypes.TIMESTAMP],  # constants: `duckdb.sqltype` parses (18 ms the first time)
            sqltypes.VARCHAR,
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
    offset, offset_text = offset_sql(tz, window)
    lo, hi = (w.isoformat(sep=" ") for w in window)
    con.execute(
        "CREATE OR REPLACE TEMP MACRO cx_local(t, off) AS"
        f" strftime(t + to_seconds(off), '%Y-%m-%dT%H:%M:%S') || {offset_text}"
    )
    con.execute(
        "CREATE OR REPLACE TEMP MACRO cx_ts(t) AS CASE WHEN t IS NULL THEN NULL"
        f" WHEN t >= TIMESTAMP '{lo}' AND t < TIMESTAMP '{hi}' THEN cx_local(t, {offset})"
        f" ELSE {name}(t) END"
    )
