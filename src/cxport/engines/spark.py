"""The Spark engine: runs a plan on a Spark session over the lake (issue 19, item 3).

A plan's session is a Spark session of its own (`newSession`: its own
temporary views, one SparkContext) whose `r_<type>` views read the lake
(`spark_io.define_lake`). The steps before the facts are defined first, then
each file's facts just before it and dropped after their last reader
(`plan.stages`), each step's SQL translated from DuckDB's dialect
(`spark_sql.to_spark`): a view as a temporary view; a
table (sorted or not: a Spark table has no order, a file's rows are sorted by
their output's ORDER BY) as a temporary view of a `localCheckpoint`, computed
once and cut from its lineage, so a later step plans a scan of its rows and
not the views under it again; a Python-built step by collecting its inputs
as Arrow, calling its `rows` (as the DuckDB engine does) and loading the
result, checkpointed. Each file's rows are written by Spark as Parquet parts
to a spool folder, from which the shared writer sorts and writes the file
(`spark_io.write_rows`: nothing holds a whole file). Nothing is kept: every
fact is computed (`kept()` is None).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cxport.engines import Engine, OnFile, Progress, Traits
from cxport.engines.spark_io import collect, define_lake, load_arrow, write_rows
from cxport.engines.spark_session import SESSION_CONF, is_connect
from cxport.engines.spark_sql import Helper, spark_helpers, to_spark
from cxport.exports.plan import Helpers, Kind, Plan, Role, Step, stages
from cxport.limits import Limits

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from cxport.exports.facts import FactContext
    from cxport.exports.kept import Kept

TRAITS = Traits(
    name="spark",
    dialect="spark",
    helpers=(),  # expanded into each translated query (`spark_sql.spark_helpers`)
    zone_helper="SQL CASEs over the zone's offsets in 1970-2100 (`zones.offset_sql`);"
    " an instant outside stops the query (raise_error)",
    sorted_table="as a table (a localCheckpoint: a Spark table has no order); a file's rows"
    " are written as Parquet parts to the spool, then sorted by the writer's DuckDB",
    python_rows="the inputs collected as Arrow, the rows loaded by createDataFrame, checkpointed",
    transaction="none: the lake's files are never rewritten; a sync adds parts",
    kept_facts=False,
)
SPOOL = ".spool"  # under the lake: where files' rows pass (`spark_io.write_rows`)


def define(
    spark: SparkSession, step: Step, helpers: Mapping[str, Helper], ctx: FactContext
) -> DataFrame:
    """Define one step on `spark` (the steps it reads already defined). Returns its
    rows, which the caller holds while the step may be read: on Spark Connect a
    checkpoint's rows live on the server only while their DataFrame lives here."""
    if step.kind is Kind.PYTHON:
        assert step.rows is not None, step.name
        inputs = {name: collect(spark, to_spark(sql, helpers)) for name, sql in step.inputs}
        return load_arrow(spark, step.name, step.rows(inputs, ctx), cache=True)
    rows = spark.sql(to_spark(step.sql, helpers))
    if step.kind is not Kind.VIEW or step.role is Role.SNAPSHOT:
        rows = rows.localCheckpoint(eager=True)
    rows.createOrReplaceTempView(step.name)
    return rows


class SparkSessionOfPlan:
    """A plan's Spark session (see the module's notes)."""

    def __init__(self, spark: SparkSession, helpers: Helpers, spool: Path, limits: Limits) -> None:
        self.spark = spark
        self.helpers = helpers
        self.spark_helpers = spark_helpers(helpers.zone)
        self.spool = spool
        self.limits = limits

    def kept(self, workspace: str, as_of: dt.datetime, version: bool = False) -> Kept | None:
        return None  # the lake keeps no facts: every fact is computed

    def execute(
        self, plan: Plan, progress: Progress | None = None, on_file: OnFile | None = None
    ) -> list[tuple[int, int]]:
        held = {}  # each step's rows while it may be read (`define`)
        for step in plan.steps[: plan.prepared]:
            held[step.name] = define(self.spark, step, self.spark_helpers, plan.context)
        if progress is not None:
            progress(0.1)
        written = []
        for n, stage in enumerate(stages(plan), start=1):
            for step in stage.steps:
                held[step.name] = define(self.spark, step, self.spark_helpers, plan.context)
            if progress is not None and n == 1:
                progress(0.5)
            out = stage.output
            rows = self.spark.sql(to_spark(out.sql, self.spark_helpers))
            rows_size = write_rows(rows, out, self.helpers, self.spool, self.limits)
            written.append(rows_size)
            if on_file is not None:
                on_file(out, *rows_size)
            for step in stage.done:  # a checkpoint's blocks go with its last reference
                self.spark.catalog.dropTempView(step.name)
                del held[step.name]
        return written


class SparkEngine:
    """Plans run on sessions of `spark` over the lake at `lake` (its `workspace`'s
    records, or every workspace's when None). Files' rows pass through `spool`
    (default: `LAKE/.spool`, which a cluster sees as it sees the lake); the
    writer's memory and spill folder are `limits`'."""

    traits = TRAITS

    def __init__(
        self,
        spark: SparkSession,
        lake: Path,
        workspace: str | None = None,
        spool: Path | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.spark = spark
        self.lake = Path(lake).absolute()  # the cluster's working folder is not ours
        self.workspace = workspace
        self.spool = spool or self.lake / SPOOL
        self.limits = limits or Limits()

    @contextlib.contextmanager
    def session(self, helpers: Helpers) -> Iterator[SparkSessionOfPlan]:
        # Its own temporary views: a new session of the SparkContext; on Spark Connect
        # the client's session itself (one client runs one plan at a time), since the
        # checkpoints of a Connect `newSession` are not found by its views (4.3).
        spark = self.spark if is_connect(self.spark) else self.spark.newSession()
        for key, value in SESSION_CONF.items():  # a new session starts from the defaults
            spark.conf.set(key, value)
        try:
            define_lake(spark, self.lake, self.workspace, spark_helpers(helpers.zone))
            yield SparkSessionOfPlan(spark, helpers, self.spool, self.limits)
        finally:
            for table in spark.catalog.listTables():
                if table.isTemporary:
                    spark.catalog.dropTempView(table.name)  # their checkpointed rows go too


def as_engine(spark: SparkSession, lake: Path, workspace: str | None = None) -> Engine:
    """The Spark engine, as an `Engine` (mypy holds it to the protocol)."""
    return SparkEngine(spark, lake, workspace)


@contextlib.contextmanager
def open_engine(
    lake: Path,
    workspace: str,
    master: str | None = None,
    remote: str | None = None,
    limits: Limits | None = None,
) -> Iterator[SparkEngine]:
    """The Spark engine over `lake` for `workspace`'s records, on a session of its
    own (`spark_session`: local by default, `master` a cluster, `remote` Spark
    Connect), stopped at the end. `limits`: the heap of a local session's JVM, and
    the memory and spill folder of the writer's DuckDB. Refuses, before starting
    Spark, a folder that is no lake or a workspace it has never synced
    (`UsageError`); `SparkUnavailable` when PySpark or Java is missing or the
    session cannot start."""
    from cxport.engines.spark_session import SparkUnavailable, spark_session
    from cxport.errors import UsageError
    from cxport.lake import MANIFEST, Manifest

    limits = limits or Limits()
    manifest = Manifest.read(Path(lake))
    if not manifest.columns:
        raise UsageError(
            f"--lake: no cxport lake at {lake} (no {MANIFEST}; `cxport lake sync` writes one)"
        )
    if workspace not in manifest.batches:
        known = ", ".join(sorted(manifest.batches)) or "none"
        raise UsageError(f"--workspace: the lake has no workspace {workspace!r}; known: {known}")
    size = sum(f.stat().st_size for f in Path(lake).rglob("*.parquet") if SPOOL not in f.parts)
    try:
        spark = spark_session(
            master=master, remote=remote, memory=limits.memory_bytes, data_bytes=size
        )
    except SparkUnavailable as exc:  # named as the request's field, as core errors are
        raise SparkUnavailable(f"engine: spark: {exc}") from exc
    try:
        yield SparkEngine(spark, Path(lake), workspace, limits=limits)
    finally:
        spark.stop()
