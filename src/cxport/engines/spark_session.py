"""A Spark session as the Spark engine needs it (issue 19, item 6).

Local mode by default (`local[2]`), any cluster by `master` (a URL:
`spark://…`, `yarn`, `k8s://…`), or Spark Connect by `remote` (`sc://…`).
Every session reads instants as the store writes them: naive UTC
(`spark.sql.timestampType` TIMESTAMP_NTZ, session zone UTC), so a
`TIMESTAMP '…'` of a translated query means what it means in DuckDB.

PySpark is optional (`cxport[spark]`); so is Java (17) for a local session.
`SparkUnavailable` says which is missing, in one line.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cxport.errors import CxportError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# What every session of the engine is set to (options may add, not change them).
SESSION_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    # The lake's parts may differ by columns added later (DuckDB: union_by_name).
    "spark.sql.parquet.mergeSchema": "true",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    # A temporary view made by SQL keeps its analyzed plan: otherwise Spark parses and
    # analyzes its text again at every reference, and the snapshot's views under
    # the facts' took seconds per query.
    "spark.sql.legacy.storeAnalyzedPlanForView": "true",
    # Files' rows pass through Parquet (`spark_io.write_rows`): a zoned instant as
    # INT64 microseconds adjusted to UTC, which DuckDB reads, not INT96.
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
}
# A session this process drives (local or on a cluster): the command line's
# standard error is its own.
DRIVER_CONF: dict[str, str] = {
    "spark.ui.showConsoleProgress": "false",  # no progress bars on standard error
}
# The JVM's log by cxport's file (`log4j2.properties`: no start-up notes on
# standard error, where Spark's default prints them); quoted for Spark's
# splitting of the options.
_LOG_CONFIG = f'-Dlog4j2.configurationFile="{Path(__file__).with_name("log4j2.properties")}"'
# Local mode only: no web UI, few shuffle partitions (small machines, tests;
# more for more data, `local_partitions`).
LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    # The JVM is a child of this process and shares its standard output, where
    # `--output -` writes the file: the JVM's own warnings (the garbage
    # collector's, at 1 M conversations) go to standard error instead.
    "spark.driver.extraJavaOptions": f"-Xlog:disable -Xlog:all=warning:stderr {_LOG_CONFIG}",
    "spark.sql.shuffle.partitions": "2",
    # Spark removes a shuffle's files and a checkpoint's blocks once the JVM has
    # collected what referred to them, and asks for a collection every 30 minutes
    # by default: over the 10 M store's lake its temporary files grew past 25 GB.
    "spark.cleaner.periodicGC.interval": "1min",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}
DEFAULT_MASTER = "local[2]"
# A local session's shuffles: a partition per this much of the lake (Spark's
# advisory partition size), two at least (`LOCAL_CONF`, a small lake), Spark's
# default (200) at most. With two at 10 M conversations (an 8.2 GB lake) each
# task sorted half of a fact's rows and the JVM ran out of heap merging its
# spills (docs/performance.md, "Spark against DuckDB").
PARTITION_BYTES = 64 << 20
LEAST_HEAP = 1 << 30  # a local session's heap is never below Spark's own default, 1 GiB


def local_partitions(lake_bytes: int) -> int:
    """The shuffle partitions of a local session over a lake of `lake_bytes`."""
    return max(2, min(200, lake_bytes // PARTITION_BYTES))


class SparkUnavailable(CxportError):
    """PySpark or Java is missing, or the session cannot start."""


def unavailable_reason(local: bool = True) -> str | None:
    """Why a Spark session cannot start here (None: it can, as far as can be told)."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (install cxport[spark]: uv sync --extra spark)"
    if local and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return (
            "Java is not installed (Spark needs Java 17: apt-get install openjdk-17-jre-headless)"
        )
    return None


def is_connect(spark: Any) -> bool:
    """Whether `spark` is a Spark Connect client's session (`remote`)."""
    return type(spark).__module__.startswith("pyspark.sql.connect.")


def is_local(master: str | None = None, remote: str | None = None) -> bool:
    """Whether a session of `master` (None: `DEFAULT_MASTER`) or `remote` runs in
    this machine's JVM, a child of this process."""
    return not remote and (master or DEFAULT_MASTER).startswith("local")


def session_settings(
    master: str | None = None,
    remote: str | None = None,
    conf: Mapping[str, str] | None = None,
    memory: int | None = None,
    data_bytes: int | None = None,
) -> dict[str, str]:
    """What a session is set to (`spark_session`): `SESSION_CONF`; a driver's
    (`DRIVER_CONF`) unless `remote`; a local one's (`LOCAL_CONF`), with
    `memory` bytes of heap for its JVM (driver and executors at once: cxport's
    memory limit; Spark's default, 1 GiB, is the least, it ran out at 300 000
    conversations) and `local_partitions(data_bytes)` shuffle partitions (the
    size of what it reads); then `conf`. A cluster's memory and partitions are
    the cluster's settings."""
    settings = dict(SESSION_CONF)
    if not remote:
        settings.update(DRIVER_CONF)
    if is_local(master, remote):
        settings.update(LOCAL_CONF)
        if memory is not None:  # read when the JVM starts: a running one keeps its own
            settings["spark.driver.memory"] = f"{max(memory, LEAST_HEAP) >> 20}m"
        if data_bytes is not None:
            settings["spark.sql.shuffle.partitions"] = str(local_partitions(data_bytes))
    settings.update(conf or {})
    return settings


def spark_session(
    master: str | None = None,
    remote: str | None = None,
    conf: Mapping[str, str] | None = None,
    app_name: str = "cxport",
    memory: int | None = None,
    data_bytes: int | None = None,
) -> SparkSession:
    """A session (the active one when it exists) set as `session_settings` says."""
    if master and remote:
        raise SparkUnavailable("give a Spark master or a Spark Connect remote, not both")
    local = is_local(master, remote)
    reason = unavailable_reason(local=local)
    if reason:
        raise SparkUnavailable(reason)
    from pyspark.sql import SparkSession

    # PySpark 4.3 warns at every Arrow transfer that it was not tested with pandas 3;
    # cxport passes Arrow, never pandas, so the command's standard error stays clean.
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )
    builder: Any = SparkSession.builder.appName(app_name)
    builder = builder.remote(remote) if remote else builder.master(master or DEFAULT_MASTER)
    if local:
        # The JVM picks its address from SPARK_LOCAL_IP before any conf is read:
        # without it, a host whose name does not resolve stops the launch.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = session_settings(master, remote, conf, memory, data_bytes)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session: SparkSession = builder.getOrCreate()
    except Exception as exc:  # the JVM's or Connect's failures have no common type
        raise SparkUnavailable(f"cannot start Spark: {str(exc).splitlines()[0]}") from exc
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    for key, value in SESSION_CONF.items():  # an active session keeps its own otherwise
        session.conf.set(key, value)
    return session
