"""The lake (`cxport.lake`): the store's record tables as Parquet, read back equal.

Real DuckDB stores, real Parquet files, real failures (a process killed by
its file-size limit mid-write, a rename the file system refuses).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pytest
from click.testing import CliRunner
from helpers import EXAMPLE, ingest_file, write_ndjson

from cxport import lake
from cxport.cli import main
from cxport.records import RECORD_TYPES
from cxport.simulate import simulate
from cxport.store import open_store

Files = dict[str, int]  # a lake's visible files: path -> modification time


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small simulated workspace: 300 conversations over a week (about 6 000 records)."""
    path = tmp_path_factory.mktemp("sim") / "sim.ndjson"
    simulate(path, seed=3, conversations=300, start=dt.date(2024, 6, 1), days=7)
    return path


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, simulated: Path) -> Path:
    """A store: the spec's example in workspace `example` (batch 1), the simulated
    workspace in `default` (batch 2)."""
    db = tmp_path_factory.mktemp("template") / "store.duckdb"
    ingest_file(db, EXAMPLE, workspace="example")
    return ingest_file(db, simulated)


@pytest.fixture
def db(tmp_path: Path, template: Path) -> Path:
    """A copy of the template store, for this test alone."""
    assert not template.with_name(f"{template.name}.wal").exists()
    return Path(shutil.copyfile(template, tmp_path / "store.duckdb"))


def cli(*args: object) -> Any:
    return CliRunner().invoke(main, [str(a) for a in args])


def sync(db: Path, lake_dir: Path, workspace: str = "default") -> str:
    """`cxport lake sync`; its one line."""
    done = cli("lake", "sync", "--db", db, "--lake", lake_dir, "--workspace", workspace)
    assert done.exit_code == 0, done.output
    return str(done.stderr).strip()


def visible(lake_dir: Path) -> Files:
    """Every file a reader of the record types can see (engines skip `_`/`.` names)."""
    found = {}
    for path in lake_dir.rglob("*"):
        parts = path.relative_to(lake_dir).parts
        if path.is_file() and len(parts) > 1 and not any(p[0] in "_." for p in parts):
            found[str(path.relative_to(lake_dir))] = path.stat().st_mtime_ns
    return found


def read_back(lake_dir: Path) -> dict[str, tuple[list[tuple[str, str]], Any]]:
    """Each record type read from the lake (one row per record id): columns, rows."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    lake.define(con, lake_dir)
    try:
        return {rt.name: _table(con, rt.table) for rt in RECORD_TYPES}
    finally:
        con.close()


def stored(db: Path) -> dict[str, tuple[list[tuple[str, str]], Any]]:
    con = open_store(db, read_only=True)
    try:
        return {rt.name: _table(con.cursor(), rt.table) for rt in RECORD_TYPES}
    finally:
        con.close()


def _table(con: duckdb.DuckDBPyConnection, table: str) -> tuple[list[tuple[str, str]], Any]:
    types = [(str(r[0]), str(r[1])) for r in con.sql(f"DESCRIBE {table}").fetchall()]
    return types, con.sql(f"SELECT * FROM {table} ORDER BY workspace, record_id").to_arrow_table()


def assert_same(lake_dir: Path, db: Path) -> None:
    """For every record type: the lake's columns, types and rows are the store's."""
    read, want = read_back(lake_dir), stored(db)
    for name, (types, rows) in want.items():
        assert read[name][0] == types, name
        assert read[name][1].schema == rows.schema, name
        assert read[name][1].equals(rows), name
    assert sum(rows.num_rows for _, rows in want.values()) > 6000


def touched(db: Path, batch_id: int) -> set[str]:
    """The (type, UTC day) partitions a stored batch has rows in."""
    con = open_store(db, read_only=True)
    found = set()
    try:
        for rt in RECORD_TYPES:
            sql = f"SELECT DISTINCT strftime(\"at\", '%Y-%m-%d') FROM {rt.table} WHERE batch_id = ?"
            found |= {f"{rt.name}/date={d}" for (d,) in con.execute(sql, [batch_id]).fetchall()}
    finally:
        con.close()
    return found


def test_sync_round_trips_every_record_type_and_a_second_sync_writes_nothing(
    tmp_path: Path, db: Path
) -> None:
    lake_dir = tmp_path / "lake"
    assert sync(db, lake_dir, "example").startswith(f"lake {lake_dir}: 1 batch, 67 records")
    assert sync(db, lake_dir).startswith(f"lake {lake_dir}: 1 batch, 6,")
    files = visible(lake_dir)
    partitions = [*touched(db, 1), *touched(db, 2)]  # a file per part, type and day
    assert sorted(str(Path(f).parent) for f in files) == sorted(partitions)
    assert all(Path(f).name in ("b1-1.parquet", "b2-2.parquet") for f in files)
    assert_same(lake_dir, db)
    manifest = json.loads((lake_dir / lake.MANIFEST).read_text())
    assert manifest["batches"] == {"example": [[1, 1]], "default": [[2, 2]]}

    assert sync(db, lake_dir) == f"lake {lake_dir}: up to date (workspace default)"
    assert sync(db, lake_dir, "example") == f"lake {lake_dir}: up to date (workspace example)"
    assert visible(lake_dir) == files
    done = cli("lake", "sync", "--db", db, "--lake", lake_dir, "--workspace", "nope")
    assert done.exit_code == 2
    assert "--workspace: the store has no workspace 'nope'" in done.stderr


def further_batch(simulated: Path, path: Path) -> Path:
    """Re-sent records (the simulation's first 500) and new ones, all on 2024-06-10 (UTC)."""
    resent = [orjson.loads(line) for line in simulated.read_bytes().splitlines()[:500]]
    at = "2024-06-10T12:00:0{}Z"
    new = [
        {"type": "conversation", "id": "lk-c", "at": at.format(0), "conversation_id": "lk-c1",
         "channel_id": "lk-ch", "contact_profile_id": "lk-p"},
        {"type": "message", "id": "lk-m1", "at": at.format(1), "message_id": "lk-m1",
         "conversation_id": "lk-c1", "direction": "INBOUND", "source": "CONTACT",
         "message_type": "PRIVATE_MESSAGE", "content": "olá"},
        {"type": "message", "id": "lk-m2", "at": at.format(2), "message_id": "lk-m2",
         "conversation_id": "lk-c1", "direction": "INBOUND", "source": "CONTACT",
         "message_type": "PRIVATE_MESSAGE"},
        {"type": "status_change", "id": "lk-s", "at": at.format(3), "conversation_id": "lk-c1",
         "status": "NEW", "system": True},
    ]  # fmt: skip
    return write_ndjson(path, [*resent, *new])


def test_a_further_batch_adds_one_file_per_touched_type_and_day(
    tmp_path: Path, db: Path, simulated: Path
) -> None:
    lake_dir = tmp_path / "lake"
    sync(db, lake_dir, "example")
    sync(db, lake_dir)
    before = visible(lake_dir)

    ingest_file(
        db, further_batch(simulated, tmp_path / "more.ndjson")
    )  # batch 3: 4 new, 500 re-sent
    assert (
        sync(db, lake_dir) == f"lake {lake_dir}: 1 batch, 4 records → 3 files (workspace default)"
    )
    added = set(visible(lake_dir)) - set(before)
    assert added == {f"{t}/date=2024-06-10/b3-3.parquet" for t in ("conversation", "message", "status_change")}  # fmt: skip
    assert {f: visible(lake_dir)[f] for f in before} == before  # nothing else rewritten
    assert_same(lake_dir, db)

    ingest_file(db, further_batch(simulated, tmp_path / "again.ndjson"))  # batch 4: re-sends only
    assert (
        sync(db, lake_dir) == f"lake {lake_dir}: 1 batch, 0 records → 0 files (workspace default)"
    )
    assert json.loads((lake_dir / lake.MANIFEST).read_text())["batches"]["default"] == [[2, 4]]


def test_copies_of_records_in_the_lake_read_as_one(
    tmp_path: Path, db: Path, simulated: Path
) -> None:
    """A sync that wrote its files but not its manifest (a crash between the two, here
    the manifest lost) writes the batches again: the reader keeps one row per record id."""
    lake_dir = tmp_path / "lake"
    sync(db, lake_dir)
    (lake_dir / lake.MANIFEST).unlink()
    ingest_file(db, further_batch(simulated, tmp_path / "more.ndjson"))  # batch 3
    sync(db, lake_dir, "example")
    assert sync(db, lake_dir).startswith(f"lake {lake_dir}: 2 batches, 6,")  # 2 and 3 again
    names = {Path(f).name for f in visible(lake_dir)}
    assert names == {"b1-1.parquet", "b2-2.parquet", "b2-3.parquet"}
    assert_same(lake_dir, db)


def test_ingest_with_lake_gives_the_lake_sync_gives(
    tmp_path: Path, db: Path, simulated: Path
) -> None:
    synced, appended = tmp_path / "synced", tmp_path / "appended"
    sync(db, synced, "example")
    sync(db, synced)

    db2 = tmp_path / "store2.duckdb"

    def ingest_cli(workspace: str, *paths: Path) -> str:
        done = cli("ingest", "--db", db2, "--workspace", workspace, "--no-facts",
                   "--lake", appended, *paths)  # fmt: skip
        assert done.exit_code == 0, done.output
        return str(done.stderr)

    assert f"lake {appended}: 1 batch, 67 records → " in ingest_cli("example", EXAMPLE)
    assert f"lake {appended}: 1 batch, 6," in ingest_cli("default", simulated)
    assert visible(appended).keys() == visible(synced).keys()
    assert read_back(appended) == read_back(synced)
    assert_same(appended, db2)
    assert sync(db2, appended) == f"lake {appended}: up to date (workspace default)"

    # Two files, two batches: a part each (batch 4 stores nothing, so has no file).
    more = further_batch(simulated, tmp_path / "more.ndjson")
    again = write_ndjson(
        tmp_path / "again.ndjson", [orjson.loads(more.read_bytes().splitlines()[0])]
    )
    said = ingest_cli("default", more, again)
    assert f"lake {appended}: 2 batches, 4 records → 3 files (workspace default)" in said
    added = set(visible(appended)) - set(visible(synced))
    assert {Path(f).name for f in added} == {"b3-3.parquet"}


# `cxport`, but killed by the signal a write past the file-size limit raises
# (Python ignores it: such a write then fails with EFBIG).
KILLABLE = (
    "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_DFL);"
    " from cxport.cli import main; main(prog_name='cxport')"
)


def crash_sync(db: Path, lake_dir: Path, *, killed: bool) -> subprocess.CompletedProcess[str]:
    """`cxport lake sync` in a process that may write no file past 4 KiB: the first
    Parquet file past it fails to write, or kills the process mid-write."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    program = ["-c", KILLABLE] if killed else ["-m", "cxport"]
    return subprocess.run(
        [sys.executable, *program, "lake", "sync", "--db", str(db), "--lake", str(lake_dir)],
        capture_output=True, text=True, check=False, preexec_fn=limit,
        cwd=db.parent, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip


@pytest.mark.parametrize("killed", [True, False], ids=["killed", "write-error"])
def test_a_failed_write_leaves_the_lake_as_it_was(tmp_path: Path, db: Path, killed: bool) -> None:
    lake_dir = tmp_path / "lake"
    sync(db, lake_dir, "example")
    files, manifest = visible(lake_dir), (lake_dir / lake.MANIFEST).read_bytes()

    done = crash_sync(db, lake_dir, killed=killed)
    if killed:
        assert done.returncode == -signal.SIGXFSZ, done.stderr
        # A partial file, in the hidden staging folder only.
        assert list(lake_dir.glob(f"{lake.STAGING}*/*/*/*.parquet"))
    else:
        assert done.returncode == 1, done.stderr
        assert done.stderr.startswith(f"cxport: lake {lake_dir}: cannot write it: ")
        assert "File too large" in done.stderr
        assert not list(lake_dir.glob(f"{lake.STAGING}*"))  # cleaned up
    assert visible(lake_dir) == files
    assert (lake_dir / lake.MANIFEST).read_bytes() == manifest

    if killed:
        sync(db, lake_dir)  # the next sync clears what the crash left and writes the batch
        assert not list(lake_dir.glob(f"{lake.STAGING}*"))
        assert_same(lake_dir, db)


def test_a_refused_rename_takes_back_the_files_already_moved(tmp_path: Path, db: Path) -> None:
    lake_dir = tmp_path / "lake"
    sync(db, lake_dir, "example")
    files = visible(lake_dir)
    # A folder where the part's status_change file of a day goes (the folders after
    # agent, channel, conversation, message, …): the file system refuses that rename.
    blocker = lake_dir / "status_change" / "date=2024-06-03" / "b2-2.parquet"
    (blocker / "x").mkdir(parents=True)

    done = cli("lake", "sync", "--db", db, "--lake", lake_dir)
    assert done.exit_code == 1
    assert "cannot write it: Is a directory" in done.stderr
    assert visible(lake_dir) == files
    assert not list(lake_dir.glob(f"{lake.STAGING}*"))
