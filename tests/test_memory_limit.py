"""Every export and the kept facts' build under a small memory limit (issue 23):
the same bytes as with the default limit, the work past the limit spilled to
the temporary folder; a month of `messages` written where one COPY sorting its
rows runs out of memory; and the limit's settings (flag, variable, service)."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner
from helpers import stored_differences

from cxport.cli import main
from cxport.errors import UsageError
from cxport.exports import ExportRequest, kept, runner, writer
from cxport.exports.catalogue import Column
from cxport.exports.defs import BY_NAME
from cxport.exports.runner import run_export
from cxport.exports.writer import FileSpec
from cxport.ingest import ingest_files
from cxport.limits import Limits, size_bytes, threads_for
from cxport.service.settings import Settings
from cxport.simulate import simulate
from cxport.store import open_store

SMALL = "128MB"  # one thread (`limits.threads_for`); a month of messages alone needs more
# Below the least limit cxport accepts (`limits.SMALLEST`), set on DuckDB by the test
# alone: at 50 000 conversations one COPY sorting May's messages in it fails at
# 90 MB and passes at 95 MB (at 100 MB too until the messages met their contacts
# through their conversations, 2026-12-08: one hash table less beside the
# sort); in chunks they are written at 64 MB. At 128 MB the COPY failed only
# from about 200 000 conversations, a store too slow to build here
# (docs/performance.md).
BELOW_THE_LEAST = "80MB"
MONTH = (dt.date(2024, 5, 1), dt.date(2024, 5, 31))
# After the data (the kept facts are read) and in the middle (facts computed at request time).
AS_OF = (dt.datetime(2024, 6, 10, tzinfo=dt.UTC), dt.datetime(2024, 5, 20, tzinfo=dt.UTC))


class SpillWatch:
    """The most bytes seen at once in a folder, polled while work runs."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                total = sum(e.stat().st_size for e in os.scandir(self.folder))
            except FileNotFoundError:  # nothing spilled yet, or a file just removed
                total = 0
            self.peak = max(self.peak, total)
            time.sleep(0.002)

    @contextmanager
    def watching(self) -> Iterator[SpillWatch]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join()


def _exports(db: Path, limits: Limits, out: Path) -> dict[str, bytes]:
    out.mkdir()
    files = {}
    con = open_store(db, read_only=True, limits=limits)
    try:
        for as_of in AS_OF:
            for name in BY_NAME:
                request = ExportRequest(
                    export=name, date_from=MONTH[0], date_to=MONTH[1],
                    tz="America/Sao_Paulo", as_of=as_of,
                )  # fmt: skip
                path = out / f"{name}-{as_of.day}.csv"
                result = run_export(con, request, path)
                assert result.kept == (as_of == AS_OF[0]), name
                files[path.name] = path.read_bytes()
    finally:
        con.close()
    return files


def _built(db: Path, limits: Limits) -> None:
    con = open_store(db, limits=limits)
    try:
        kept.refresh(con, "default", force=True)
    finally:
        con.close()


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50 000 simulated conversations over 35 days, ingested; no kept facts yet."""
    folder = tmp_path_factory.mktemp("memory")
    source = folder / "workspace.ndjson"
    simulate(source, seed=5, conversations=50_000, days=35)
    db = folder / "ingested.duckdb"
    con = open_store(db)
    try:
        ingest_files(con, [str(source)], workspace="default")
    finally:
        con.close()
    return db


@pytest.fixture(scope="module")
def roomy(ingested: Path) -> Path:
    """The store with its kept facts built under the default limit (only read after)."""
    db = ingested.with_name("roomy.duckdb")
    shutil.copy(ingested, db)
    _built(db, Limits())
    return db


def test_every_export_and_the_build_give_the_same_bytes_under_a_small_limit(
    ingested: Path, roomy: Path, tmp_path: Path
) -> None:
    small = tmp_path / "small.duckdb"
    shutil.copy(ingested, small)
    expected = _exports(roomy, Limits(), tmp_path / "roomy")

    spill = tmp_path / "spill"
    limits = Limits(SMALL, spill)
    _built(small, limits)
    with SpillWatch(spill).watching() as exports:
        got = _exports(small, limits, tmp_path / "small")
    assert got.keys() == expected.keys()
    for name, data in expected.items():
        assert got[name] == data, name
    # The exports went past the limit, to disk (at 50 000 conversations: ~175 MB
    # at once), and what they wrote there was removed after. The build, its
    # `f_conversation` in three shares, now fits (the next test builds it whole).
    assert exports.peak > 0
    assert not spill.exists() or not any(spill.iterdir())


def test_a_build_whole_under_a_small_limit_spills_and_holds_the_rows_of_one_by_shares(
    ingested: Path, tmp_path: Path
) -> None:
    small = tmp_path / "small.duckdb"
    shutil.copy(ingested, small)
    spill = tmp_path / "spill"
    con = open_store(small, limits=Limits(SMALL, spill))
    try:
        horizon = kept.workspace_horizon(con, "default")
        assert horizon is not None
        cur = con.cursor()
        try:
            with SpillWatch(spill).watching() as whole_build:
                whole = kept.build_schema(con, cur, "default", horizon, shares=1)
            shared = kept.build_schema(con, cur, "default", horizon)  # the planner's shares
            assert kept.build_shares(cur) == 3  # 50 000 conversations, 20 480 a share
        finally:
            cur.close()
        assert whole_build.peak > 0  # at 50 000 conversations: ~30 MB at once
        assert stored_differences(con, whole, shared) == {}
    finally:
        con.close()
    assert not spill.exists() or not any(spill.iterdir())


def _one_sorted_copy(
    con: duckdb.DuckDBPyConnection,
    columns: tuple[Column, ...],
    query: str,
    order: str,
    spec: FileSpec,
    output: str | Path,
) -> tuple[int, int]:
    """The writer as it was: one COPY of the query's rows sorted in it."""
    sorted_rows = f"SELECT * FROM ({query}) AS rows_ ORDER BY {order}"
    with writer._complete_file(spec, output) as target:
        rows = writer._copy(con, writer.select_for(columns, sorted_rows, spec), spec, target, True)
    return rows, target.size


def test_a_month_of_messages_is_written_where_one_sorted_copy_runs_out_of_memory(
    roomy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    request = ExportRequest(
        export="messages", date_from=MONTH[0], date_to=MONTH[1],
        tz="America/Sao_Paulo", as_of=AS_OF[0],
    )  # fmt: skip
    con = open_store(roomy, read_only=True)
    try:
        run_export(con, request, tmp_path / "roomy.csv")
    finally:
        con.close()
    con = open_store(roomy, read_only=True, limits=Limits(SMALL, tmp_path / "spill"))
    try:
        con.execute(f"SET memory_limit = '{BELOW_THE_LEAST}'")
        result = run_export(con, request, tmp_path / "small.csv")
        assert result.kept and result.rows > 200_000
        assert (tmp_path / "small.csv").read_bytes() == (tmp_path / "roomy.csv").read_bytes()
        monkeypatch.setattr(runner, "write", _one_sorted_copy)
        with pytest.raises(duckdb.OutOfMemoryException):
            run_export(con, request, tmp_path / "one-copy.csv")
    finally:
        con.close()
    assert not (tmp_path / "one-copy.csv").exists()


def test_the_limit_sets_threads_and_the_spill_folder(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    con = open_store(db, limits=Limits("300MB", tmp_path / "elsewhere"))
    try:
        memory, threads, folder = con.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'),"
            " current_setting('temp_directory')"
        ).fetchone() or ("", 0, "")
    finally:
        con.close()
    assert abs(size_bytes(str(memory)) - 300 * 10**6) < 2**20
    assert threads == threads_for(300 * 10**6) == 1
    assert Path(folder) == tmp_path / "elsewhere"
    # By default: beside the store, and a share of the machine's memory.
    assert Limits().spill_folder(db) == tmp_path / "store.duckdb.tmp"
    assert Limits().memory_bytes >= 256 * 2**20


@pytest.mark.parametrize("given", ["64MB", "lots", "3 parsecs", ""])
def test_a_limit_too_small_or_no_size_is_refused(given: str) -> None:
    if given == "":  # empty: the default, never refused
        assert Limits(given).memory_bytes > 0
        return
    with pytest.raises(UsageError, match="memory limit"):
        Limits(given).memory_bytes  # noqa: B018 (read to check it)


def test_the_command_line_and_the_service_read_the_same_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CXPORT_MEMORY_LIMIT", "50MB")
    result = CliRunner().invoke(main, ["facts", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "--memory-limit" in result.output and "128MB" in result.output
    with pytest.raises(ValueError, match="128MB"):
        Settings()
    # The flag wins over the variable.
    result = CliRunner().invoke(
        main, ["--memory-limit", "1GB", "facts", "--db", str(tmp_path / "none.duckdb")]
    )
    assert "no store" in result.output
    monkeypatch.setenv("CXPORT_MEMORY_LIMIT", "512MB")
    spill = tmp_path / "deep" / "spill"
    monkeypatch.setenv("CXPORT_TEMP_DIRECTORY", str(spill))
    assert Settings().limits == Limits("512MB", spill)
    simulate(tmp_path / "w.ndjson", seed=1, conversations=50, days=3)
    db = tmp_path / "store.duckdb"
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "w.ndjson"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert spill.parent.is_dir()  # made ready for the store's spills, from the variable
