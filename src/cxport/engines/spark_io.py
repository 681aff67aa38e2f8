"""What a Spark engine does besides translated SQL (issue 19, item 3).

- The inputs: the lake's record tables as temporary views `r_<type>`
  (`lake.read_sql`, translated), the DDL of the snapshot and scope views as
  DuckDB writes it (`SqlRecorder` keeps the statements `store.Snapshot.define`
  and `facts.define_scope` execute, `run_statements` translates them), and
  the request tables (`req`, `req_channel`: made by `facts.define_request`
  on an in-memory DuckDB, loaded as Arrow).
- The facts: a SQL fact is a temporary view of its translated SELECT,
  computed once and cut from its lineage (`localCheckpoint`) when DuckDB
  materializes it; a fact built in Python runs its own
  `build` on an in-memory DuckDB holding the few rows it reads
  (`PYTHON_FACTS`: declared per fact), and its tables are loaded as Arrow.
- The file: an export's rows come back as Arrow, in its order, and are
  written by the shared writer (`writer.write`) from an in-memory DuckDB, so
  quoting, the formula guard, headers, BOM and Parquet types are one code path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa

from cxport.engines.spark_sql import Helper, spark_order, to_spark
from cxport.exports import engine
from cxport.exports.catalogue import ExportDef
from cxport.exports.facts import Fact, FactContext, define_request, define_scope
from cxport.exports.writer import FileSpec, write
from cxport.exports.zones import request_window
from cxport.lake import read_sql
from cxport.records import RECORD_TYPES
from cxport.store import Snapshot

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class SqlRecorder:
    """Stands for a DuckDB connection where code only executes DDL on it: keeps the
    statements, in order, for `run_statements`."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, sql: str, params: object = None) -> SqlRecorder:
        if params:
            raise ValueError("a statement with parameters: load its table as Arrow instead")
        self.statements.append(sql)
        return self

    def as_connection(self) -> duckdb.DuckDBPyConnection:
        return cast(duckdb.DuckDBPyConnection, self)


def run_statements(
    spark: SparkSession, statements: Sequence[str], helpers: Mapping[str, Helper]
) -> None:
    for sql in statements:
        spark.sql(to_spark(sql, helpers))


def define_lake(
    spark: SparkSession, lake: Path, workspace: str | None, helpers: Mapping[str, Helper]
) -> None:
    """The lake's record tables as the temporary views `r_<type>` (as `lake.define`)."""
    for rt in RECORD_TYPES:
        sql = f"CREATE OR REPLACE TEMP VIEW {rt.table} AS {read_sql(lake, rt.name, workspace)}"
        spark.sql(to_spark(sql, helpers))


def define_snapshot(
    spark: SparkSession,
    workspace: str,
    as_of: dt.datetime,
    helpers: Mapping[str, Helper],
    scope: str | None = None,
) -> None:
    """The `s_*`, `e_*` and `c_*` views of a snapshot, from the store's own DDL."""
    recorder = SqlRecorder()
    Snapshot(workspace, as_of).define(recorder.as_connection())
    define_scope(recorder.as_connection(), scope)
    run_statements(spark, recorder.statements, helpers)


def load_arrow(spark: SparkSession, name: str, table: pa.Table, cache: bool = False) -> None:
    """`table` as the temporary view `name` (cached: it is small and read again)."""
    rows = spark.createDataFrame(table)
    if cache:
        rows = rows.localCheckpoint(eager=True)
    rows.createOrReplaceTempView(name)


def define_request_tables(
    spark: SparkSession,
    ctx: FactContext,
    channels: Sequence[str] = (),
    scheduled: bool = False,
    include_content: bool = True,
) -> None:
    """`req` and `req_channel`, made by `facts.define_request` itself."""
    side = duckdb.connect()
    try:
        define_request(side, ctx.start, ctx.end, ctx.as_of, channels, scheduled, include_content)
        for name in ("req", "req_channel"):
            load_arrow(spark, name, side.table(name).to_arrow_table())
    finally:
        side.close()


@dataclass(frozen=True)
class PythonFact:
    """A fact built in Python, on Spark: the rows its `build` reads (DuckDB queries
    over the snapshot, as tables of the same names: they must hold every row the
    build reads, or fewer rows giving the same result) and the tables it writes."""

    inputs: Mapping[str, str]
    outputs: tuple[str, ...]


# `business_hours.build_business_hours` reads the calendar versions and the span
# of the messages (their least and greatest instant): the rows at those two do.
PYTHON_FACTS: dict[str, PythonFact] = {
    "f_business_interval": PythonFact(
        inputs={
            "s_business_hours": "SELECT * FROM s_business_hours",
            "c_message": 'SELECT "at" FROM c_message'
            ' WHERE "at" = (SELECT min("at") FROM c_message)'
            ' OR "at" = (SELECT max("at") FROM c_message)',
        },
        outputs=("f_business_interval", "f_business_channel", "f_business_clock"),
    ),
    # Written by the build of f_business_interval.
    "f_business_channel": PythonFact(inputs={}, outputs=()),
    "f_business_clock": PythonFact(inputs={}, outputs=()),
}


def collect(spark: SparkSession, sql: str) -> pa.Table:
    """The rows of a Spark query as Arrow, in its order, typed as DuckDB gives them."""
    return as_duckdb_gives(spark.sql(sql).toArrow())


def as_duckdb_gives(table: pa.Table) -> pa.Table:
    """Spark's Arrow as DuckDB's: zoned timestamps (TIMESTAMP_LTZ) as naive UTC, and
    every column nullable (Spark marks some NOT NULL, and a Parquet file written
    from them says `required` where DuckDB's says `optional`)."""
    fields = []
    for f in table.schema:
        kind = f.type
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            kind = pa.timestamp(kind.unit)
        fields.append(pa.field(f.name, kind, nullable=True))
    schema = pa.schema(fields)
    return table if schema == table.schema else table.cast(schema)


def define_fact(
    spark: SparkSession, fact: Fact, ctx: FactContext, helpers: Mapping[str, Helper]
) -> None:
    """Build one fact on Spark (its requirements built): `facts.build_fact`'s Spark side."""
    if fact.build is not None:
        _build_python(spark, fact, ctx, helpers)
    elif fact.sql is not None:
        rows = spark.sql(to_spark(fact.sql, helpers))
        if fact.materialize:
            # Computed once and cut from its lineage: a later query that reads it
            # plans a scan of its rows, not every view it was made from again.
            rows = rows.localCheckpoint(eager=True)
        rows.createOrReplaceTempView(fact.name)


def _build_python(
    spark: SparkSession, fact: Fact, ctx: FactContext, helpers: Mapping[str, Helper]
) -> None:
    spec = PYTHON_FACTS.get(fact.name)
    if spec is None:
        raise NotImplementedError(f"{fact.name}: built in Python, with no Spark inputs declared")
    if not spec.outputs:
        return
    assert fact.build is not None
    side = duckdb.connect()
    try:
        side.execute("SET TimeZone = 'UTC'")
        for sql in engine.MACROS:
            side.execute(sql)
        for name, query in spec.inputs.items():
            rows = collect(spark, to_spark(query, helpers))
            side.register("cx_input", rows)
            side.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM cx_input")
            side.unregister("cx_input")
        fact.build(side, ctx)
        for name in spec.outputs:
            load_arrow(spark, name, side.table(name).to_arrow_table(), cache=True)
    finally:
        side.close()


def export_rows(
    spark: SparkSession, definition: ExportDef, helpers: Mapping[str, Helper]
) -> pa.Table:
    """An export's rows on Spark (its facts built), in its order."""
    order = spark_order(definition.order)
    return collect(
        spark,
        f"SELECT * FROM ({to_spark(definition.sql, helpers)}) AS export_rows ORDER BY {order}",
    )


def write_rows(
    rows: pa.Table,
    definition: ExportDef,
    spec: FileSpec,
    output: str | Path,
    tz: ZoneInfo,
    ctx: FactContext,
) -> tuple[int, int]:
    """Write an export's rows (Arrow, from Spark) with the shared writer; (rows, bytes)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        window = request_window(min(ctx.start, ctx.as_of), max(ctx.end, ctx.as_of))
        engine.install(con, tz, window=window)
        con.register("cx_spark_rows", rows)
        return write(
            con, definition.columns, "SELECT * FROM cx_spark_rows", definition.order, spec, output
        )
    finally:
        con.close()


def drop_views(spark: SparkSession, names: Sequence[str]) -> None:
    """Drop a request's temporary views (its facts' checkpointed rows go with them)."""
    for name in names:
        spark.catalog.dropTempView(name)
