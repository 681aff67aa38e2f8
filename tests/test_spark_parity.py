"""The Spark engine against the DuckDB engine, through the real path (issue 19, item 4).

Each scenario stores records, writes the lake from the store (`lake.sync`),
then runs the twelve exports twice: on DuckDB as `cxport export` does
(`run_export`: its scope, the kept facts) and on Spark over the lake
(`run_exports_on` with `SparkEngine`: one plan, every fact computed). Every
file must be the same bytes. The scenarios cover the spec's worked example (en
CSV, pt-BR Parquet) and a simulated workspace over a DST change, with
a channel filter and an `as_of` in the middle of the data. Two command-line
calls run `cxport export --engine spark --lake` in a process of their own:
one on a local session, one as a Spark Connect client (`--spark-remote`).

One Spark session for the run, whose steps run on a standalone cluster of
the test's own (a master and a worker, each a JVM: the lake's paths, the
spool and the rows loaded from Python cross JVMs, as on a real cluster);
each plan has a session of its own on it (`newSession`: its own temporary
views).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from helpers import EXAMPLE, ingest_file, live_at_each_file

from cxport.engines.spark_session import unavailable_reason
from cxport.exports import run_export, run_exports_on
from cxport.exports.defs import EXPORTS
from cxport.exports.request import ExportRequest
from cxport.store import open_store

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"Spark engine: {unavailable_reason()}"
)


@dataclass(frozen=True)
class Scenario:
    name: str
    request: ExportRequest  # export, lang and format aside: one request for all twelve
    files: tuple[tuple[str, str], ...]  # (lang, format) of each export's files
    channels_from_store: int = 0  # > 0: filter on the store's busiest channels, this many


def _scenario(
    name: str, dates: str, tz: str, as_of: str, files: str, channels_from_store: int = 0
) -> Scenario:
    first, last = (dt.date.fromisoformat(d) for d in dates.split(" "))
    when = dt.datetime.fromisoformat(as_of)
    request = ExportRequest(export="", date_from=first, date_to=last, tz=tz, as_of=when)
    variants = tuple(tuple(f.split(".")) for f in files.split(" "))
    return Scenario(name, request, variants, channels_from_store)  # type: ignore[arg-type]


SCENARIOS = (
    # The spec's worked example, as tests/test_examples.py requests it.
    _scenario(
        "example",
        "2024-06-19 2024-06-21",
        "America/Sao_Paulo",
        "2024-06-22T12:00:00Z",
        "en.csv pt-BR.parquet",
    ),
    # A simulated workspace over New York's spring-forward day (2024-03-10), its two
    # busiest channels (both with virtual agents), in pt-BR, `as_of` in the middle
    # of the data.
    _scenario(
        "simulated",
        "2024-03-08 2024-03-12",
        "America/New_York",
        "2024-03-11T15:30:00Z",
        "pt-BR.csv pt-BR.parquet",
        channels_from_store=2,
    ),
)


@dataclass
class Run:
    """One scenario's store, lake and files on both engines."""

    db: Path
    lake: Path
    request: ExportRequest
    duckdb: dict[str, Path] = field(default_factory=dict)  # `export.lang.format` → file
    spark: dict[str, Path] = field(default_factory=dict)
    spool: Path | None = None  # where Spark's rows of the files passed
    seconds: float = 0.0  # Spark's part


# The JVM's quick compiler only, for the command line's JVM: it lives a minute, most
# of it warming up, and the optimizing compiler's work never pays back (measured:
# 71 s -> 45 s). The session's JVM lives minutes: there it made the scenarios slower.
QUICK_JIT = "-XX:TieredStopAtLevel=1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _standalone_cluster(folder: Path) -> Iterator[str]:
    """A Spark standalone cluster on 127.0.0.1: a master and one worker (two cores),
    each a JVM of its own, started from the PySpark install's `spark-class`; its
    master URL."""
    from pyspark.find_spark_home import _find_spark_home

    home = Path(_find_spark_home())
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1"}
    master = f"spark://127.0.0.1:{_free_port()}"
    daemons: list[subprocess.Popen[bytes]] = []

    def start(name: str, *args: str) -> Path:
        log = folder / f"{name}.log"
        with log.open("wb") as out:
            daemons.append(subprocess.Popen(
                [str(home / "bin" / "spark-class"), f"org.apache.spark.deploy.{name}", *args,
                 "--host", "127.0.0.1", "--webui-port", str(_free_port())],
                env=env, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        return log

    def wait_for(log: Path, text: str) -> None:
        deadline = time.monotonic() + 90
        while text not in log.read_text(errors="replace"):
            assert time.monotonic() < deadline, f"no {text!r} in {log}"
            assert all(d.poll() is None for d in daemons), log.read_text(errors="replace")
            time.sleep(0.2)

    try:
        port = master.rsplit(":", 1)[1]
        wait_for(start("master.Master", "--port", port), "I have been elected leader")
        worker = start("worker.Worker", master, "--cores", "2", "--memory", "2g",
                       "--work-dir", str(folder / "work"))  # fmt: skip
        wait_for(worker, "Successfully registered with master")
        yield master
    finally:
        for daemon in reversed(daemons):
            daemon.terminate()
            daemon.wait(30)


@pytest.fixture(scope="session")
def spark_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The run's Spark session: a driver (this process) on a standalone cluster of
    its own, so every step runs in another JVM, as on a real cluster; the
    driver's JVM also serves Spark Connect on a port of 127.0.0.1, for
    `--spark-remote` (no further JVM). `spark.sql.shuffle.partitions` is the
    local session's (2): Spark's default 200 is for large clusters."""
    from cxport.engines.spark_session import spark_session

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # the driver's address, for executors
    with _standalone_cluster(tmp_path_factory.mktemp("spark-cluster")) as master:
        session = spark_session(master=master, conf={
            "spark.sql.shuffle.partitions": "2",
            "spark.driver.host": "127.0.0.1",
            "spark.executor.memory": "1500m",
            "spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.address": "127.0.0.1",
            "spark.connect.grpc.binding.port": str(_free_port()),
        })  # fmt: skip
        assert session.sparkContext.master == master
        yield session
        session.stop()


def _store(name: str, folder: Path) -> Path:
    if name == "example":
        return ingest_file(folder / "store.duckdb", EXAMPLE)
    from cxport.simulate import simulate

    source = folder / "sim.ndjson"
    simulate(source, seed=19, conversations=120, start=dt.date(2024, 3, 6), days=7)
    return ingest_file(folder / "store.duckdb", source)


@pytest.fixture(scope="module", params=SCENARIOS, ids=[s.name for s in SCENARIOS])
def run(
    request: pytest.FixtureRequest, spark_root: Any, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    from cxport.engines.spark import SparkEngine
    from cxport.lake import sync

    scenario: Scenario = request.param
    folder = tmp_path_factory.mktemp(scenario.name)
    db = _store(scenario.name, folder)
    store = open_store(db)
    try:
        req = scenario.request
        if scenario.channels_from_store:
            found = store.execute(
                "SELECT channel_id FROM r_conversation GROUP BY channel_id"
                " ORDER BY count(*) DESC, channel_id LIMIT ?",
                [scenario.channels_from_store],
            ).fetchall()
            req = replace(req, channels=tuple(c for (c,) in found))
        sync(store, folder / "lake", req.workspace)
        result = Run(db, folder / "lake", req, spool=folder / "spool")
        jobs = []
        for export in EXPORTS:
            for lang, file_format in scenario.files:
                key = f"{export.name}.{lang}.{file_format}"
                job = replace(req, export=export.name, lang=lang, format=file_format)
                result.duckdb[key] = folder / "duckdb" / key
                result.spark[key] = folder / "spark" / key
                run_export(store, job, result.duckdb[key])
                jobs.append((job, result.spark[key]))
    finally:
        store.close()
    began = time.perf_counter()
    engine = SparkEngine(spark_root, result.lake, req.workspace, spool=result.spool)
    written = run_exports_on(engine, jobs)
    result.seconds = time.perf_counter() - began
    assert [Path(w.output) for w in written] == [target for _, target in jobs]
    return result


@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_export_is_the_same_file_on_spark(run: Run, export: Any) -> None:
    """Every file of the export (each language and format): the same bytes."""
    import pyarrow.parquet as pq

    for key in (k for k in run.duckdb if k.startswith(f"{export.name}.")):
        on_duckdb, on_spark = run.duckdb[key], run.spark[key]
        if key.endswith(".parquet"):  # first the columns and values, for a readable failure
            spark_file, duck_file = pq.read_table(on_spark), pq.read_table(on_duckdb)
            assert spark_file.to_pylist() == duck_file.to_pylist(), key
            assert spark_file.schema == duck_file.schema, key
        assert on_spark.read_bytes() == on_duckdb.read_bytes(), key


def test_more_shuffle_partitions_write_the_same_files(
    run: Run, spark_root: Any, tmp_path: Path
) -> None:
    """A larger lake's local session shuffles in more partitions
    (`test_spark_settings.py`: two ran out of heap at 10 M conversations); the
    files' bytes do not depend on them (the simulated scenario: one run). And
    while each file is written the plan's session holds the facts
    `plan.stages` says are live, no more (the others' views dropped, and with
    them the references to their checkpoints)."""
    from cxport.engines.spark import SparkEngine
    from cxport.exports.plan import plan_group
    from cxport.exports.runner import export_def

    if not run.request.channels:
        pytest.skip("one run: the simulated scenario's")
    chosen = ("resolved-conversations", "agent-metrics", "response-times")
    keys = [k for k in run.duckdb if k.split(".")[0] in chosen]
    jobs = []
    for key in keys:
        export, lang, file_format = key.split(".")
        job = replace(run.request, export=export, lang=lang, format=file_format)
        jobs.append((job, tmp_path / key))
    as_of = run.request.as_of_utc()
    definitions = [export_def(job.export) for job, _ in jobs]
    the_plan = plan_group(run.request, as_of, jobs, definitions, None, None)
    facts = {s.name for s in the_plan.steps[the_plan.prepared :]}
    expected = [sorted(live) for live in live_at_each_file(the_plan)]
    held = []
    spark_root.conf.set("spark.sql.shuffle.partitions", "16")
    try:
        engine = SparkEngine(spark_root, run.lake, run.request.workspace, spool=tmp_path / "spool")
        with engine.session(the_plan.helpers) as session:

            def views(*_: object) -> None:
                found = {t.name for t in session.spark.catalog.listTables() if t.isTemporary}
                held.append(sorted(found & facts))

            session.execute(the_plan, on_file=views)
    finally:
        spark_root.conf.set("spark.sql.shuffle.partitions", "2")
    assert held == expected
    assert len(expected[-1]) < len(facts)  # some let go of before the last file
    assert len(keys) >= len(chosen)
    for key in keys:
        assert (tmp_path / key).read_bytes() == run.duckdb[key].read_bytes(), key


def test_the_rows_of_the_files_are_not_left_behind(run: Run) -> None:
    """Spark wrote each file's rows to the spool, and the writer removed them."""
    assert run.spool is not None and run.spool.is_dir()
    assert list(run.spool.iterdir()) == []


def _export_on_the_command_line(run: Run, export: str, output: Path | None, *spark: str) -> None:
    """`cxport export EXPORT --engine spark --lake` in a process of its own, for
    the simulated scenario's request, in pt-BR CSV, to `output` (None: standard
    output, where the local session's JVM must write nothing); `spark`: its
    Spark options."""
    if not run.request.channels:
        pytest.skip("command-line runs (a Spark start each): the simulated scenario's")
    req = run.request
    assert req.as_of is not None
    channels = [a for c in req.channels for a in ("--channel", c)]
    done = subprocess.run(
        [sys.executable, "-m", "cxport", "export", export, "--engine", "spark",
         "--lake", str(run.lake), *spark, "--from", req.date_from.isoformat(),
         "--to", req.date_to.isoformat(), "--tz", req.tz, "--as-of", req.as_of.isoformat(),
         *channels, "--lang", "pt-BR", "--output", str(output or "-")],
        capture_output=True, check=False, env={**os.environ, "JAVA_TOOL_OPTIONS": QUICK_JIT},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    # The JVM's start-up notes stay off the command's standard error.
    for note in ("log4j2-defaults", "setLogLevel", "NativeCodeLoader"):
        assert note not in done.stderr.decode(), done.stderr.decode()
    written = done.stdout if output is None else output.read_bytes()
    assert written == run.duckdb[f"{export}.pt-BR.csv"].read_bytes()
    assert list((run.lake / ".spool").iterdir()) == []  # the rows passed there, then went


def test_the_command_line_writes_the_same_file_on_spark(run: Run) -> None:
    """A local session of the command's own, the file to standard output (one
    run: the simulated scenario's, with its channel filter)."""
    _export_on_the_command_line(run, "teams", None)


def test_spark_connect_writes_the_same_file(run: Run, spark_root: Any, tmp_path: Path) -> None:
    """`--spark-remote sc://…`: the command is a Spark Connect client of the run's
    session (its Connect server); an export with a Python-built fact (business
    hours: rows sent to the server as Arrow)."""
    port = spark_root.conf.get("spark.connect.grpc.binding.port")
    remote = f"sc://127.0.0.1:{port}"
    output = tmp_path / "resolved-conversations.csv"
    _export_on_the_command_line(run, "resolved-conversations", output, "--spark-remote", remote)


# Cells the formula guard and the list element treat each their own way.
TEXTS = [
    None, "", "abc", "=1+1", "@x", "\tx", "\rx", "+1", "-12.5e3", ".5", "+5511 99999-9999",
    "+55 (11) 9", "+123", "12\n", "-1\n", "+5511999999999\n", "é", "-", "a|b\\c", "'q'",
]  # fmt: skip
# Zones with DST, half-hour DST, odd offsets (seconds: Monrovia until 1972), no DST.
ZONES = (
    "America/New_York", "America/Sao_Paulo", "Europe/Berlin", "Australia/Lord_Howe",
    "Asia/Kathmandu", "Africa/Monrovia", "UTC",
)  # fmt: skip


def _instants(zone: str) -> list[dt.datetime | None]:
    """Each second either side of the zone's transitions in 1970-1973 and 2018-2025,
    the window's edges, and NULL."""
    from zoneinfo import ZoneInfo

    from cxport.exports.zones import offset_periods

    out: list[dt.datetime | None] = [
        None,
        dt.datetime(1970, 1, 1),
        dt.datetime(2099, 12, 31, 23, 59, 59, 999000),
    ]
    epoch = dt.datetime(1970, 1, 1)
    for lo, hi in ((1970, 1973), (2018, 2025)):
        span = [int((dt.datetime(y, 1, 1) - epoch).total_seconds()) for y in (lo, hi)]
        for start, _, _ in offset_periods(ZoneInfo(zone), *span)[1:]:
            for ds in (-1, 0, 1):
                out.append(epoch + dt.timedelta(seconds=start + ds, milliseconds=500))
    return out


def test_helpers_write_what_duckdb_writes(spark_root: Any) -> None:
    """cx_guard, cx_elem, cx_ms and cx_ts (every zone above) on Spark, against
    DuckDB's macros: the Spark engine may format on Spark."""
    from zoneinfo import ZoneInfo

    import duckdb
    import pyarrow as pa

    from cxport.engines.spark_io import collect, load_arrow
    from cxport.engines.spark_sql import spark_helpers, to_spark
    from cxport.exports import engine

    spark = spark_root.newSession()
    duck = duckdb.connect()
    duck.execute("SET TimeZone = 'UTC'")
    texts = pa.table({"i": range(len(TEXTS)), "v": pa.array(TEXTS, pa.string())})
    duck.register("texts", texts)
    load_arrow(spark, "texts", texts)
    for zone in ZONES:
        instants = _instants(zone)
        times = pa.table({"i": range(len(instants)), "t": pa.array(instants, pa.timestamp("us"))})
        duck.register("times", times)
        load_arrow(spark, "times", times)
        engine.install(duck, ZoneInfo(zone))
        helpers = spark_helpers(ZoneInfo(zone))
        for sql in (
            "SELECT i, cx_guard(v) AS g, cx_elem(v) AS e FROM texts ORDER BY i",
            "SELECT i, cx_ts(t) AS ts, cx_ms(TIMESTAMP '2024-03-10 07:00:00', t) AS ms"
            " FROM times ORDER BY i",
        ):
            expected = duck.sql(sql).to_arrow_table().to_pylist()
            assert collect(spark, to_spark(sql, helpers)).to_pylist() == expected, (zone, sql)
    duck.close()


def test_an_instant_outside_the_zone_window_stops_the_query(spark_root: Any) -> None:
    from zoneinfo import ZoneInfo

    from cxport.engines.spark_sql import spark_helpers, to_spark

    sql = to_spark("SELECT cx_ts(TIMESTAMP '1969-12-31 23:59:59')", spark_helpers(ZoneInfo("UTC")))
    with pytest.raises(Exception, match="cx_ts: an instant outside 1970-01-01"):
        spark_root.sql(sql).collect()
