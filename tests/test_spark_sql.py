"""The DuckDB → Spark SQL translation without Spark (issue 19, item 4: the lint).

Every text a plan runs (each step's SELECT: snapshot views, request tables,
scope, facts, the inputs of Python-built facts; each file's query; the lake's
reader) translates, and nothing known to
translate wrongly (`spark_sql.CONSTRUCTS`) is left in what Spark would run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlglot
from sqlglot import exp

from cxport.engines.spark_sql import (
    CONSTRUCTS,
    OUTSIDE_SQL,
    STATIC_HELPERS,
    TranslationError,
    problems,
    spark_helpers,
    to_spark,
)
from cxport.exports.defs import EXPORTS
from cxport.exports.plan import plan, plan_group
from cxport.exports.request import ExportRequest
from cxport.records import RECORD_TYPES


def _texts() -> dict[str, str]:
    """Every SQL text of the plans Spark runs: each export alone (its scope) and the
    twelve together, with a channel filter (steps, Python-built steps' inputs, the
    files' queries)."""
    as_of = dt.datetime(2024, 6, 22, 12)
    request = ExportRequest(export="teams", date_from=dt.date(2024, 6, 19),
                            date_to=dt.date(2024, 6, 21), channels=("a", "b'c"))  # fmt: skip
    plans = [plan(replace(request, export=e.name), as_of, None) for e in EXPORTS]
    jobs = [(replace(request, export=e.name), "-") for e in EXPORTS]
    plans.append(plan_group(request, as_of, jobs, EXPORTS, None, None))
    texts: dict[str, str] = {}
    for the_plan in plans:
        for step in the_plan.steps:
            for n, sql in enumerate(step.texts()):
                texts.setdefault(sql, f"{step.name} {n}" if step.inputs else step.name)
        for out in the_plan.outputs:
            texts.setdefault(out.sql, out.export)
    named: dict[str, str] = {}
    for sql, name in texts.items():
        named[name if name not in named else f"{name} ({len(named)})"] = sql
    return named


TEXTS = _texts()
HELPERS = spark_helpers(ZoneInfo("America/New_York"))

# Left in Spark's SQL, each of these means the translation went wrong: DuckDB
# functions Spark has not (sqlglot passes them through), or DuckDB forms that
# Spark reads otherwise or refuses.
DUCKDB_ONLY_FUNCTIONS = (
    "regexp_full_match",
    "to_seconds",
    "to_milliseconds",
    "strftime",
    "unnest",
    "nextval",
    "read_parquet",
    "arg_max",
    "arg_min",
    "date_diff",
    "epoch_ms",
    "list",
    "struct_pack",
)


def _double(operand: exp.Expression) -> bool:
    """DOUBLE already: a quotient, or a cast (sqlglot reads Spark's CAST as TryCast)."""
    cast = isinstance(operand, (exp.Cast, exp.TryCast)) and operand.to.is_type("double")
    return cast or isinstance(operand, exp.Div)


def _left_wrong(spark_sql: str) -> list[str]:
    tree = sqlglot.parse_one(spark_sql, read="spark")
    found = []
    for node in tree.find_all(exp.Anonymous):
        if node.name.lower() in DUCKDB_ONLY_FUNCTIONS or node.name.lower().startswith("cx_"):
            found.append(f"function {node.name}")
    for window in tree.find_all(exp.Window):
        if isinstance(window.this, exp.Filter):
            found.append("FILTER in a window")
        if window.args.get("alias") is not None:
            found.append("a named window")
    if any(u.args.get("by_name") for u in tree.find_all(exp.Union)):
        found.append("UNION BY NAME")
    if "infinity" in spark_sql.lower():
        found.append("'infinity'")
    for div in tree.find_all(exp.Div):
        if not all(_double(s) for s in div.iter_expressions()):
            found.append(f"a DECIMAL division {div.sql('spark')}")
    return found


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_every_text_translates_without_known_wrong_constructs(name: str) -> None:
    sql = TEXTS[name]
    assert problems(sql) == []
    spark_sql = to_spark(sql, HELPERS)
    assert _left_wrong(spark_sql) == []


def test_the_issue_lists_every_construct_with_a_remedy() -> None:
    named = {c.name for c in CONSTRUCTS}
    for construct in (
        "aggregate FILTER in a window",
        "string_agg … ORDER BY",
        "CAST('infinity' AS TIMESTAMP)",
        "TEMP MACRO",
        "the Python Arrow function (cx_ts_<zone>)",
        "unnest of a parameter list",
        "to_seconds / to_milliseconds",
        "regexp_full_match",
        "COPY … TO",
        "duckdb_*() catalogue functions",
        "SET (memory_limit…)",
        "nextval",
        "temporary tables",
    ):
        assert construct in named
    for c in CONSTRUCTS:
        kind = c.remedy.split(":")[0]
        assert kind in ("rewrite", "helper", "native") or c.remedy in OUTSIDE_SQL, c


@pytest.mark.parametrize(
    "sql",
    [
        "COPY (SELECT 1) TO 'x.csv'",
        "SELECT nextval('s')",
        "SELECT * FROM duckdb_tables()",
        "SELECT unnest([1, 2])",
        "SELECT cx_ts_416d65726963612f53616f5f5061756c6f(t) FROM x",
        "SET memory_limit = '1GB'",
    ],
)
def test_what_only_duckdb_does_is_refused(sql: str) -> None:
    with pytest.raises(TranslationError):
        to_spark(sql)


def test_union_by_name_fills_what_a_branch_lacks() -> None:
    sql = to_spark("SELECT a, b FROM x UNION ALL BY NAME SELECT c, a FROM y")
    assert sql == (
        "SELECT `a`, `b`, NULL AS `c` FROM `x` UNION ALL SELECT `a`, NULL AS `b`, `c` FROM `y`"
    )


def test_a_filter_in_a_window_becomes_a_case_and_frames_leave_offsets() -> None:
    sql = to_spark(
        "SELECT count(*) FILTER (WHERE k) OVER w, lag(k) OVER w FROM x"
        " WINDOW w AS (PARTITION BY a ORDER BY b ROWS UNBOUNDED PRECEDING)"
    )
    assert "COUNT(CASE WHEN `k` THEN 1 END) OVER (PARTITION BY `a` ORDER BY `b` NULLS LAST" in sql
    assert "LAG(`k`) OVER (PARTITION BY `a` ORDER BY `b` NULLS LAST)" in sql
    assert "WINDOW" not in sql


def test_a_row_as_a_column_is_a_struct_and_infinity_the_latest_instant() -> None:
    assert to_spark("SELECT e.id, e FROM t AS e") == (
        "SELECT `e`.`id`, STRUCT(`e`.*) AS `e` FROM `t` AS `e`"
    )
    assert "9999-12-31 23:59:59.999999" in to_spark("SELECT CAST('infinity' AS TIMESTAMP)")


def test_helpers_expand_in_the_tree_with_their_arguments() -> None:
    sql = to_spark("SELECT cx_ms(a + INTERVAL 1 SECOND, b), cx_elem(x.y) FROM x", STATIC_HELPERS)
    assert "TIMESTAMPDIFF(MICROSECOND, (`a` + INTERVAL '1' SECOND), `b`) DIV 1000" in sql
    assert "REPLACE(REPLACE(COALESCE(`x`.`y`, ''), '\\\\', '\\\\\\\\'), '|', '\\\\|')" in sql


def test_the_lake_reader_reads_parquet_files(tmp_path: Path) -> None:
    import duckdb

    from cxport.lake import read_sql, sync
    from cxport.store import migrate

    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    migrate(con)
    con.execute("INSERT INTO batches VALUES (1, 'default', 'x', TIMESTAMP '2024-01-01', 0)")
    sync(con, tmp_path / "lake")
    for rt in RECORD_TYPES:
        sql = to_spark(read_sql(tmp_path / "lake", rt.name, "default"))
        assert "UBIGINT" not in sql
        assert _left_wrong(sql) == []


def test_the_lake_is_read_as_a_folder_of_this_machine() -> None:
    """An absolute path of the lake is a `file:` URI, not a path of the cluster's
    default file system (HDFS on YARN); a relative one stays as given."""
    sql = to_spark("SELECT a FROM read_parquet('/data/lake/r/*.parquet', hive_partitioning = true)")
    assert "FROM `parquet`.`file:///data/lake/r/*.parquet`" in sql, sql
    sql = to_spark("SELECT a FROM read_parquet('lake/r/*.parquet')")
    assert "FROM `parquet`.`lake/r/*.parquet`" in sql, sql
