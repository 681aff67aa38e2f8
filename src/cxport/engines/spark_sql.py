"""DuckDB SQL as Spark SQL (issue 19, item 3): one definition, translated by sqlglot.

`to_spark(sql, helpers)` parses a DuckDB text (a fact's SELECT, an export's
query, the snapshot views' DDL, the lake's `read_sql`), rewrites the
constructs that do not carry over as written (`REWRITES`, each a function of
the parsed tree), expands the helpers of `exports/engine.py` from their Spark
definitions (`spark_helpers`: parameter substitution in the tree, never text
replacement) and writes Spark SQL, every identifier quoted (`at`, `day`,
`current` are words Spark reads otherwise).

What each construct becomes is data (`CONSTRUCTS`): a rewrite here, a Spark
helper, or work done outside SQL (`spark_io.py`: Python-built facts, the
request tables, the file). `problems` finds, in a DuckDB text, the
constructs known to translate wrongly that nothing handles: the lint test
runs it over every fact and export.

The Spark session this assumes (`spark_session.py`): `spark.sql.timestampType`
TIMESTAMP_NTZ (instants are naive UTC, as in the store) and the session zone UTC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import cast
from zoneinfo import ZoneInfo

import sqlglot
from sqlglot import exp

from cxport.engines.spark_rewrites import (
    FRAMELESS,
    READ,
    REWRITES,
    UNSIGNED,
    WRITE,
    TranslationError,
)
from cxport.exports import engine
from cxport.exports.zones import SQL_WINDOW, Window, offset_sql

# ------------------------------------------------------------------ helpers


@dataclass(frozen=True)
class Helper:
    """A function of the export SQL, defined for Spark: `body` is Spark SQL over
    `params` (column names) and `constants` (names standing for string literals,
    so that no Spark escaping is written by hand)."""

    params: tuple[str, ...]
    body: str
    constants: Mapping[str, str] = field(default_factory=dict)

    @property
    def tree(self) -> exp.Expression:
        return _parse_body(self.body, tuple(sorted(self.constants.items())))


@lru_cache(maxsize=256)
def _parse_body(body: str, constants: tuple[tuple[str, str], ...]) -> exp.Expression:
    tree = sqlglot.parse_one(body, read=WRITE)
    values = dict(constants)

    def literal(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return exp.Literal.string(values[node.name])
        return node

    return tree.transform(literal)


def _full_match(pattern: str) -> str:
    """DuckDB's `regexp_full_match` as a Java pattern for RLIKE (a search): anchored at
    both ends of the input (`\\z`: `$` would also match before a final line end)."""
    return rf"\A(?:{pattern})\z"


# The helpers of `exports/engine.py`, as Spark writes them.
STATIC_HELPERS: dict[str, Helper] = {
    "cx_elem": Helper(
        ("x",),
        "replace(replace(coalesce(x, ''), bs, bs2), bar, bs_bar)",
        {"bs": "\\", "bs2": "\\\\", "bar": "|", "bs_bar": "\\|"},
    ),
    # DuckDB's `//` truncates toward zero, as Spark's DIV does.
    "cx_ms": Helper(("a", "b"), "timestampdiff(MICROSECOND, a, b) DIV 1000"),
    "cx_guard": Helper(
        ("v",),
        "CASE WHEN v IS NULL OR v = '' THEN NULL"
        " WHEN ascii(v) NOT IN (61, 64, 9, 13, 43, 45) THEN v"
        " WHEN ascii(v) IN (61, 64, 9, 13) THEN q || v"
        " WHEN v RLIKE number_re THEN v"
        " WHEN v RLIKE phone_re AND length(regexp_replace(v, non_digit, '')) BETWEEN 7 AND 15"
        " THEN v ELSE q || v END",
        {
            "q": "'",
            "number_re": _full_match(engine._NUMBER),
            "phone_re": _full_match(engine._PHONE),
            "non_digit": "[^0-9]",
        },
    ),
}


@lru_cache(maxsize=64)
def spark_helpers(tz: ZoneInfo, window: Window = SQL_WINDOW) -> dict[str, Helper]:
    """Every helper for a request in zone `tz`.

    `cx_ts` is the CASE tree over the zone's transitions that DuckDB uses
    (`zones.offset_sql`, from `zoneinfo`), so both engines write the same
    offsets whatever Java's zone rules say. DuckDB formats an instant outside
    `window` in Python (an Arrow function); Spark stops the query with a clear
    error instead (`raise_error`), so the window is the widest, `SQL_WINDOW`
    (1970-2100), by default.
    """
    offset, offset_text = offset_sql(tz, window)
    lo, hi = (w.isoformat(sep=" ") for w in window)
    local = (
        "concat(date_format(timestampadd(SECOND, off, t), pattern), " + _spark(offset_text) + ")"
    )
    ts = (
        "CASE WHEN t IS NULL THEN NULL"
        " WHEN t >= CAST(lo AS TIMESTAMP) AND t < CAST(hi AS TIMESTAMP)"
        f" THEN cx_local(t, {_spark(offset)}) ELSE raise_error(outside) END"
    )
    outside = (
        f"cx_ts: an instant outside {lo} - {hi} (UTC) cannot be written in {tz.key}"
        " on Spark (outside the zone window of zones.offset_sql)"
    )
    return {
        **STATIC_HELPERS,
        "cx_local": Helper(("t", "off"), local, {"pattern": "yyyy-MM-dd'T'HH:mm:ss"}),
        "cx_ts": Helper(("t",), ts, {"lo": lo, "hi": hi, "outside": outside}),
    }


def _spark(duckdb_sql: str) -> str:
    """A DuckDB expression of plain SQL (CASE, comparisons, literals) as Spark writes it."""
    return sqlglot.parse_one(duckdb_sql, read=READ).sql(WRITE)


def _substitute(
    body: exp.Expression, params: tuple[str, ...], args: list[exp.Expression]
) -> exp.Expression:
    values = dict(zip(params, args, strict=True))

    def put(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            arg = values[node.name].copy()
            return arg if isinstance(arg, (exp.Column, exp.Literal, exp.Paren)) else exp.paren(arg)
        return node

    return body.copy().transform(put)


def expand_helpers(tree: exp.Expression, helpers: Mapping[str, Helper]) -> exp.Expression:
    """Each call of a helper replaced by its Spark body, its arguments substituted
    for its parameters (helpers calling helpers are expanded in turn)."""

    def expand(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Anonymous) and node.name.lower() in helpers:
            helper = helpers[node.name.lower()]
            args = list(node.expressions)
            if len(args) != len(helper.params):
                raise TranslationError(
                    f"{node.name}: {len(args)} arguments, not {len(helper.params)}"
                )
            body = _substitute(helper.tree, helper.params, args)
            return exp.paren(expand_helpers(body, helpers))
        return node

    return tree.transform(expand)


# ------------------------------------------------------------------ constructs


def _calls(*names: str) -> Callable[[exp.Expression], bool]:
    lowered = {n.lower() for n in names}

    def found(tree: exp.Expression) -> bool:
        for node in tree.find_all(exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if name.lower() in lowered:
                return True
        return False

    return found


def _kinds(*kinds: type[exp.Expression]) -> Callable[[exp.Expression], bool]:
    return lambda tree: any(True for _ in tree.find_all(*kinds))


def _string_agg_ordered(tree: exp.Expression) -> bool:
    return any(isinstance(n.this, exp.Order) for n in tree.find_all(exp.GroupConcat))


def _filter_window(tree: exp.Expression) -> bool:
    return any(isinstance(w.this, exp.Filter) for w in tree.find_all(exp.Window))


def _infinity(tree: exp.Expression) -> bool:
    return any(
        isinstance(c.this, exp.Literal) and "infinity" in c.this.this.lower()
        for c in tree.find_all(exp.Cast)
    )


def _union_named(tree: exp.Expression) -> bool:
    return any(u.args.get("by_name") for u in tree.find_all(exp.Union))


def _framed_offsets(tree: exp.Expression) -> bool:
    return any(
        isinstance(w.this, FRAMELESS) and (w.args.get("spec") or w.args.get("alias"))
        for w in tree.find_all(exp.Window)
    )


def _python_function(tree: exp.Expression) -> bool:
    return any(n.name.lower().startswith("cx_ts_") for n in tree.find_all(exp.Anonymous))


def _temp_ddl(tree: exp.Expression) -> bool:
    if isinstance(tree, exp.Create):
        return (tree.kind or "").upper() in ("MACRO", "FUNCTION", "SEQUENCE")
    return isinstance(tree, exp.Command) and "MACRO" in str(tree.expression).upper()


def _temp_table(tree: exp.Expression) -> bool:
    return isinstance(tree, exp.Create) and tree.kind == "TABLE"


@dataclass(frozen=True)
class Construct:
    """A DuckDB construct that does not carry over to Spark as written."""

    name: str
    found: Callable[[exp.Expression], bool]
    # How it reaches Spark: `rewrite:<name>` (REWRITES), `helper:<name>` (spark_helpers),
    # `native` (sqlglot writes what Spark means), `outside` (spark_io.py / the
    # driver does it, never SQL of a fact or export) or `rejected`.
    remedy: str


CONSTRUCTS: tuple[Construct, ...] = (
    Construct("aggregate FILTER in a window", _filter_window, "rewrite:filter_in_window"),
    # sqlglot writes LISTAGG(x, '|') WITHIN GROUP (ORDER BY …): same order, NULLs
    # skipped, NULL for no row, as DuckDB (checked on Spark 4.3).
    Construct("string_agg … ORDER BY", _string_agg_ordered, "native"),
    Construct("CAST('infinity' AS TIMESTAMP)", _infinity, "rewrite:open_end"),
    Construct("TEMP MACRO", _temp_ddl, "helper:cx_*"),
    Construct("the Python Arrow function (cx_ts_<zone>)", _python_function, "rejected"),
    Construct("unnest of a parameter list", _calls("unnest", "explode"), "outside"),
    Construct(
        "to_seconds / to_milliseconds", _calls("to_seconds", "to_milliseconds"), "helper:cx_local"
    ),
    Construct(
        "regexp_full_match", _calls("regexp_full_match", "regexp_matches"), "helper:cx_guard"
    ),
    Construct("strftime", _calls("strftime", "time_to_str"), "helper:cx_local"),
    Construct("COPY … TO", _kinds(exp.Copy), "outside"),
    Construct(
        "duckdb_*() catalogue functions",
        lambda t: any(
            n.name.lower().startswith("duckdb_") for n in t.find_all(exp.Anonymous, exp.Table)
        ),
        "outside",
    ),
    Construct("SET (memory_limit…)", _kinds(exp.Set, exp.Command), "outside"),
    Construct("nextval", _calls("nextval"), "outside"),
    Construct("UNION BY NAME", _union_named, "rewrite:union_by_name"),
    Construct("frame on lead/lag/row_number", _framed_offsets, "rewrite:named_windows"),
    Construct("read_parquet", _kinds(exp.ReadParquet), "rewrite:parquet_files"),
    Construct(
        "unsigned integer types",
        lambda t: any(d.this in UNSIGNED for d in t.find_all(exp.DataType)),
        "rewrite:unsigned_types",
    ),
    Construct("division (DOUBLE in DuckDB)", _kinds(exp.Div), "rewrite:double_division"),
    Construct("temporary tables", _temp_table, "rewrite:temp_objects"),
    Construct(
        "a MATERIALIZED common table expression",
        lambda t: any(c.args.get("materialized") is not None for c in t.find_all(exp.CTE)),
        "rewrite:materialized_ctes",
    ),
)

# Remedies that a fact's or export's SQL may not need: work outside SQL.
OUTSIDE_SQL = frozenset({"outside", "rejected"})


def problems(sql: str) -> list[str]:
    """The constructs of a DuckDB text that no rewrite or helper handles (the lint)."""
    out = []
    for tree in _parse(sql):
        for construct in CONSTRUCTS:
            if construct.remedy in OUTSIDE_SQL and construct.found(tree):
                out.append(construct.name)
    return out


def _parse(sql: str) -> list[exp.Expression]:
    return [cast(exp.Expression, t) for t in sqlglot.parse(sql, read=READ) if t is not None]


def translate_tree(tree: exp.Expression, helpers: Mapping[str, Helper]) -> exp.Expression:
    for _, rewrite in REWRITES:
        tree = rewrite(tree)
    return expand_helpers(tree, helpers)


def to_spark(sql: str, helpers: Mapping[str, Helper] = STATIC_HELPERS) -> str:
    """`sql` (DuckDB: one statement) as Spark SQL."""
    trees = _parse(sql)
    if len(trees) != 1:
        raise TranslationError(f"one statement expected, got {len(trees)}")
    found = [c.name for c in CONSTRUCTS if c.remedy in OUTSIDE_SQL and c.found(trees[0])]
    if found:
        raise TranslationError(f"not translatable to Spark SQL: {', '.join(found)}")
    tree = translate_tree(trees[0].copy(), helpers)
    return tree.sql(WRITE, identify=True, unsupported_level=sqlglot.ErrorLevel.RAISE)
