"""Tables in and out of Spark for the Spark engine (`spark.py`, issue 19, item 3).

- In: the lake's record tables as temporary views `r_<type>` (`lake.read_sql`,
  translated), and rows computed in Python (Arrow) as cached views.
- Out: a query's rows as Arrow, typed as DuckDB gives them, and a file's rows
  written by the shared writer (`writer.write`) from an in-memory DuckDB, so
  quoting, the formula guard, headers, BOM and Parquet types are one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxport.engines.spark_sql import Helper, to_spark
from cxport.exports import engine
from cxport.exports.writer import write
from cxport.lake import read_sql
from cxport.records import RECORD_TYPES

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cxport.exports.plan import Helpers, Output


def define_lake(
    spark: SparkSession, lake: Path, workspace: str | None, helpers: Mapping[str, Helper]
) -> None:
    """The lake's record tables as the temporary views `r_<type>` (as `lake.define`)."""
    for rt in RECORD_TYPES:
        sql = f"CREATE OR REPLACE TEMP VIEW {rt.table} AS {read_sql(lake, rt.name, workspace)}"
        spark.sql(to_spark(sql, helpers))


def load_arrow(spark: SparkSession, name: str, table: pa.Table, cache: bool = False) -> None:
    """`table` as the temporary view `name` (cached: it is small and read again)."""
    rows = spark.createDataFrame(table)
    if cache:
        rows = rows.localCheckpoint(eager=True)
    rows.createOrReplaceTempView(name)


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


def write_rows(rows: pa.Table, output: Output, helpers: Helpers) -> tuple[int, int]:
    """Write a file's rows (Arrow, from Spark, in its order) with the shared writer,
    from an in-memory DuckDB with the helpers of the request; (rows, bytes)."""
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        engine.install(con, helpers.zone, window=helpers.window)
        con.register("cx_spark_rows", rows)
        query = "SELECT * FROM cx_spark_rows"
        return write(con, output.columns, query, output.order, output.spec, output.target)
    finally:
        con.close()
