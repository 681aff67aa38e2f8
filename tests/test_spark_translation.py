"""The Spark translation, fact by fact and export by export (issue 19, items 3-4).

Each scenario defines one request on DuckDB exactly as the runner does
(`runner.prepare`, every fact of the twelve exports computed: no kept facts),
and the same request on Spark over the lake `lake.sync` writes from the same
store: the snapshot's DDL and every fact's SQL translated (`spark_sql.py`),
the Python-built facts and the request tables loaded as Arrow
(`spark_io.py`). Then each fact's rows, each export's rows in its order,
and each export's file (written by the shared writer from Spark's rows)
must be the same on both engines.

One Spark session for the run (it takes ~10 s to start); each scenario has
a session of its own on it (`newSession`: its own temporary views).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from helpers import EXAMPLE, ingest_file

from cxport.engines.spark_session import unavailable_reason
from cxport.exports.defs import EXPORTS
from cxport.exports.facts import build_fact, fact_order
from cxport.exports.request import ExportRequest
from cxport.exports.runner import prepare
from cxport.exports.writer import FileSpec, write
from cxport.store import open_store

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"Spark engine: {unavailable_reason()}"
)

FACTS = [f.name for f in fact_order([n for e in EXPORTS for n in e.facts], kept=False)]


@dataclass(frozen=True)
class Scenario:
    name: str
    request: ExportRequest  # export, lang and format aside: one request for all twelve
    channels_from_store: int = 0  # > 0: filter on the store's busiest channels, this many


def _scenario(name: str, dates: str, tz: str, as_of: str, **kw: Any) -> Scenario:
    first, last = (dt.date.fromisoformat(d) for d in dates.split(" "))
    channels = kw.pop("channels_from_store", 0)
    when = dt.datetime.fromisoformat(as_of)
    request = ExportRequest(export="", date_from=first, date_to=last, tz=tz, as_of=when, **kw)
    return Scenario(name, request, channels)


SCENARIOS = (
    # The spec's worked example, as tests/test_examples.py requests it.
    _scenario("example", "2024-06-19 2024-06-21", "America/Sao_Paulo", "2024-06-22T12:00:00Z"),
    # A simulated workspace over New York's spring-forward day (2024-03-10), its two
    # busiest channels (both with virtual agents), in pt-BR, `as_of` in the middle
    # of the data.
    _scenario(
        "simulated",
        "2024-03-08 2024-03-12",
        "America/New_York",
        "2024-03-11T15:30:00Z",
        lang="pt-BR",
        channels_from_store=2,
    ),
)
# The files each scenario's exports are written as, on both engines.
FORMATS = ("csv", "parquet")


@dataclass
class Side:
    """Both engines' tables for one scenario."""

    duck: Any  # a cursor of the store, the request defined
    spark: Any  # a Spark session of the scenario's own
    request: ExportRequest
    ctx: Any
    rows: dict[str, Any] = field(default_factory=dict)  # export → its rows on Spark


@pytest.fixture(scope="session")
def spark_root() -> Iterator[Any]:
    from cxport.engines.spark_session import spark_session

    session = spark_session()
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
def side(
    request: pytest.FixtureRequest, spark_root: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Side]:
    from dataclasses import replace

    from cxport.engines import spark_io
    from cxport.engines.spark_sql import spark_helpers
    from cxport.lake import sync

    scenario: Scenario = request.param
    folder = tmp_path_factory.mktemp(scenario.name)
    store = open_store(_store(scenario.name, folder))
    try:
        req = scenario.request
        if scenario.channels_from_store:
            found = store.execute(
                "SELECT channel_id FROM r_conversation GROUP BY channel_id"
                " ORDER BY count(*) DESC, channel_id LIMIT ?",
                [scenario.channels_from_store],
            ).fetchall()
            req = replace(req, channels=tuple(c for (c,) in found))
        as_of = req.as_of_utc()
        cur = store.cursor()
        ctx = prepare(cur, req, as_of)
        for fact in fact_order(FACTS, kept=False):
            build_fact(cur, fact, ctx)

        sync(store, folder / "lake", req.workspace)
        spark = spark_root.newSession()
        helpers = spark_helpers(req.zoneinfo)
        spark_io.define_lake(spark, folder / "lake", req.workspace, helpers)
        spark_io.define_snapshot(spark, req.workspace, as_of, helpers)
        spark_io.define_request_tables(spark, ctx, req.channels, req.scheduled, req.include_content)
        for fact in fact_order(FACTS, kept=False):
            spark_io.define_fact(spark, fact, ctx, helpers)
        yield Side(cur, spark, req, ctx)
        spark_io.drop_views(spark, FACTS)
    finally:
        store.close()


def _canonical(rows: list[dict[str, Any]], columns: list[str]) -> list[tuple[Any, ...]]:
    return sorted((tuple(r[c] for c in columns) for r in rows), key=repr)


@pytest.mark.parametrize("fact", FACTS)
def test_fact_rows_are_the_same_on_spark(side: Side, fact: str) -> None:
    from cxport.engines.spark_io import collect

    duck = side.duck.sql(f"SELECT * FROM {fact}").to_arrow_table()
    spark = collect(side.spark, f"SELECT * FROM `{fact}`")
    columns = duck.column_names
    assert set(columns) <= set(spark.column_names)
    assert _canonical(spark.to_pylist(), columns) == _canonical(duck.to_pylist(), columns)


@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_export_rows_are_the_same_on_spark(side: Side, export: Any) -> None:
    from cxport.engines.spark_io import export_rows
    from cxport.engines.spark_sql import spark_helpers

    duck = side.duck.sql(f"SELECT * FROM ({export.sql}) ORDER BY {export.order}")
    expected = duck.to_arrow_table()
    rows = export_rows(side.spark, export, spark_helpers(side.request.zoneinfo))
    side.rows[export.name] = rows
    columns = [c.id for c in export.columns]
    assert rows.select(columns).to_pylist() == expected.select(columns).to_pylist()


@pytest.mark.parametrize("file_format", FORMATS)
@pytest.mark.parametrize("export", EXPORTS, ids=[e.name for e in EXPORTS])
def test_export_is_the_same_file_on_spark(
    side: Side, export: Any, file_format: str, tmp_path: Path
) -> None:
    """The bytes: Spark's rows through the shared writer, DuckDB's as the runner writes."""
    from cxport.engines.spark_io import export_rows, write_rows
    from cxport.engines.spark_sql import spark_helpers

    rows = side.rows.get(export.name)
    if rows is None:
        rows = export_rows(side.spark, export, spark_helpers(side.request.zoneinfo))
    spec = FileSpec(format=file_format, lang=side.request.lang)
    on_duckdb, on_spark = tmp_path / "duckdb", tmp_path / "spark"
    write(side.duck, export.columns, export.sql, export.order, spec, on_duckdb)
    write_rows(rows, export, spec, on_spark, side.request.zoneinfo, side.ctx)
    if file_format == "parquet":  # first the columns and values, for a readable failure
        import pyarrow.parquet as pq

        spark_file, duck_file = pq.read_table(on_spark), pq.read_table(on_duckdb)
        assert spark_file.to_pylist() == duck_file.to_pylist()
        differ = [a for a, b in zip(spark_file.schema, duck_file.schema, strict=True) if a != b]
        if (
            differ
            and rows.num_rows == 0
            and all(
                a.with_nullable(True) == b.with_nullable(True)
                for a, b in zip(spark_file.schema, duck_file.schema, strict=True)
            )
        ):
            # DuckDB writes a Parquet column `required` when its statistics say it holds
            # no NULL: for an empty file, from the plan of the export's own query, which
            # the rows from Spark do not carry (docs/decisions.md, "Spark translation").
            pytest.xfail(f"empty file: required/optional differs for {[f.name for f in differ]}")
        assert not differ
    assert on_spark.read_bytes() == on_duckdb.read_bytes()


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
