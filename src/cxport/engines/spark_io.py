"""Tables in and out of Spark for the Spark engine (`spark.py`, issue 19, item 3).

- In: the lake's record tables as temporary views `r_<type>` (`lake.read_sql`,
  translated), and rows computed in Python (Arrow) as cached views.
- Out: a small query's rows as Arrow, typed as DuckDB gives them (the inputs
  of a Python-built step); and a file's rows, which Spark writes as Parquet
  parts to a spool folder and the shared writer (`writer.write`) reads from
  there on an in-memory DuckDB, so quoting, the formula guard, headers, BOM,
  Parquet types and the file's order are one code path. Nothing holds a whole
  file: the parts stream, and the writer's sort spills past the memory limit
  (`limits.py`). Collecting a file as Arrow instead held it whole in the
  driver's JVM, then in Python: at 1 M conversations `messages` (228 MB)
  failed in a local session's default 1 GB (TaskResultLost).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from cxport.engines.spark_sql import Helper, to_spark
from cxport.errors import CxportError
from cxport.exports import engine
from cxport.exports.writer import write
from cxport.ingest.checks import ident, q
from cxport.lake import read_sql
from cxport.limits import Limits
from cxport.records import RECORD_TYPES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cxport.exports.plan import Helpers, Output


class SpoolError(CxportError):
    """A file's rows, written by Spark, are not where this process reads them."""


def define_lake(
    spark: SparkSession, lake: Path, workspace: str | None, helpers: Mapping[str, Helper]
) -> None:
    """The lake's record tables as the temporary views `r_<type>` (as `lake.define`)."""
    for rt in RECORD_TYPES:
        sql = f"CREATE OR REPLACE TEMP VIEW {rt.table} AS {read_sql(lake, rt.name, workspace)}"
        spark.sql(to_spark(sql, helpers))


def load_arrow(spark: SparkSession, name: str, table: pa.Table, cache: bool = False) -> DataFrame:
    """`table` as the temporary view `name` (cached: it is small and read again);
    its rows (hold them while the view is read: `spark.define`)."""
    rows = spark.createDataFrame(table)
    if cache:
        rows = rows.localCheckpoint(eager=True)
    rows.createOrReplaceTempView(name)
    return rows


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


def write_rows(
    rows: DataFrame, output: Output, helpers: Helpers, spool: Path, limits: Limits
) -> tuple[int, int]:
    """Write a file's rows (a Spark query's, in no order) with the shared writer;
    (rows, bytes). Spark writes them as Parquet parts in a folder of their own
    under `spool` (a path the cluster and this process both see), which the
    writer reads on an in-memory DuckDB with the request's helpers, sorts by
    the file's order and writes; the folder is removed at the end."""
    folder = spool / f"rows-{uuid.uuid4().hex}"
    try:
        rows.write.parquet(folder.absolute().as_uri())
        if not any(folder.glob("*.parquet")):  # Spark writes one part even when empty
            raise SpoolError(
                f"Spark wrote the rows of {output.target} to {folder}, where this machine"
                " sees no Parquet part: the spool must be a folder the cluster and this"
                " machine share (by default the lake's .spool)"
            )
        source = f"read_parquet({q(str(folder / '*.parquet'))})"
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            limits.apply(con, folder / "writer")  # spills beside the parts, unless set
            engine.install(con, helpers.zone, window=helpers.window)
            query = f"SELECT {_as_duckdb_types(con, source)} FROM {source}"
            return write(con, output.columns, query, output.order, output.spec, output.target)
        finally:
            con.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_duckdb_types(con: duckdb.DuckDBPyConnection, source: str) -> str:
    """The select list reading `source` as the DuckDB engine's rows are typed: an
    instant Spark wrote zoned (TIMESTAMP_LTZ, adjusted to UTC) as naive UTC."""
    items = []
    for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall():
        if kind == "TIMESTAMP WITH TIME ZONE":  # the connection's zone is UTC
            items.append(f"CAST({ident(name)} AS TIMESTAMP) AS {ident(name)}")
        else:
            items.append(ident(name))
    return ", ".join(items)
