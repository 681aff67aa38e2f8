"""The command line as a new user meets it (issue 15): a mistake ends in one
line and exit 2 (never a traceback), Ctrl-C in exit 130 saying what was
stored, the format from the file name, several exports in one call."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cxport.cli import main
from cxport.exports.defs import EXPORTS

FROM, TO = "2024-04-01", "2024-06-30"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result: Result, code: int = 2) -> str:
    """The error a command printed: exactly one line (no traceback), with its exit code."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cxport: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("records") / "r.ndjson"
    done = run("simulate", "--out", out, "--conversations", "200", "--start", FROM, "--days", "40")
    assert done.exit_code == 0, done.output
    return out


@pytest.fixture(scope="module")
def db(records: Path) -> Path:
    store = records.with_name("s.duckdb")
    done = run("ingest", "--db", store, records)
    assert done.exit_code == 0, done.output
    return store


def export(db: Path, *args: str) -> Result:
    return run("export", *args[:1], "--db", db, "--from", FROM, "--to", TO, *args[1:])


# 1. Output paths: folders are created, a path no file can take is refused.


def test_an_export_to_a_folder_or_an_unwritable_place_is_one_line_and_exit_2(
    db: Path, tmp_path: Path
) -> None:
    assert "is a folder" in one_line_error(export(db, "teams", "--output", tmp_path))
    assert "--output" in one_line_error(export(db, "teams", "--output", "/proc/x.csv"))


def test_simulate_and_import_create_missing_folders_and_refuse_a_folder(tmp_path: Path) -> None:
    out = tmp_path / "no" / "such" / "r.ndjson"
    assert run("simulate", "--out", out, "--conversations", "3").exit_code == 0
    assert out.stat().st_size > 0
    assert "is a folder" in one_line_error(run("simulate", "--out", tmp_path))
    twcs = tmp_path / "twcs.csv"
    twcs.write_text(
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        "1,115712,True,Tue Oct 31 22:10:47 +0000 2017,@sprintcare hi,,\n"
    )
    imported = tmp_path / "new" / "x.ndjson"
    assert run("import", "twcs", twcs, "--out", imported).exit_code == 0
    assert imported.stat().st_size > 0
    assert "is a folder" in one_line_error(run("import", "twcs", twcs, "--out", tmp_path))


def test_export_creates_missing_folders_too(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "teams.csv"
    assert export(db, "teams", "--output", out).exit_code == 0
    assert out.read_text().startswith("Created at,")


# 2. Ctrl-C: one line saying whether the batch was stored, exit 130.


def test_ctrl_c_during_the_commit_stores_nothing_and_says_so(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxport.ingest

    def interrupted(batch: object) -> None:
        raise RuntimeError("Query interrupted")  # what DuckDB raises on Ctrl-C mid-query

    monkeypatch.setattr(cxport.ingest, "commit", interrupted)
    store = tmp_path / "s.duckdb"
    line = one_line_error(run("ingest", "--db", store, records), 130)
    assert line == f"cxport: interrupted: nothing of {records} was stored"
    assert not store.exists()  # a new store with nothing in it is not left behind


def test_ctrl_c_after_the_commit_says_the_batch_is_stored(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxport.ingest

    real = cxport.ingest.commit

    def commit_then_interrupt(batch: object) -> object:
        real(batch)  # type: ignore[arg-type]
        raise KeyboardInterrupt

    monkeypatch.setattr(cxport.ingest, "commit", commit_then_interrupt)
    line = one_line_error(run("ingest", "--db", tmp_path / "s.duckdb", records), 130)
    assert line == f"cxport: interrupted: {records} was stored whole"


def test_ctrl_c_during_the_kept_facts_build_says_the_batch_is_stored(
    records: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxport.exports.kept

    def interrupted(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(cxport.exports.kept, "refresh", interrupted)
    store = tmp_path / "s.duckdb"
    line = one_line_error(run("ingest", "--db", store, records), 130)
    assert "interrupted while building the kept facts: the batch is stored" in line
    assert "cxport facts --db" in line
    assert store.exists()


def test_ctrl_c_during_cxport_facts_is_one_line_and_exit_130(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cxport.exports.kept

    def interrupted(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(cxport.exports.kept, "refresh", interrupted)
    assert one_line_error(run("facts", "--db", db, "--force"), 130) == "cxport: interrupted"


# 4. The wrong kind of file.


def test_ingest_of_a_csv_stops_at_once_with_a_hint(tmp_path: Path) -> None:
    twcs = tmp_path / "twcs.csv"
    twcs.write_text("tweet_id,author_id,inbound,created_at,text\n" + "1,a,True,x,hi\n" * 500)
    store = tmp_path / "s.duckdb"
    line = one_line_error(run("ingest", "--db", store, twcs))
    assert "looks like the Twitter support CSV" in line and "cxport import twcs" in line
    assert not store.exists()


def test_a_failed_ingest_into_a_new_store_leaves_no_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ndjson"
    bad.write_text('{"type": "team", "id": "r1"}\n')
    store = tmp_path / "s.duckdb"
    assert run("ingest", "--db", store, bad).exit_code == 2
    assert list(tmp_path.iterdir()) == [bad]


def test_an_empty_file_is_ingested_with_a_warning(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    done = run("ingest", "--db", tmp_path / "s.duckdb", empty)
    assert done.exit_code == 0, done.output
    assert f"warning: {empty} is empty" in done.stderr


# 5. Ids and values the store or the zone database does not know.


def test_an_unknown_workspace_or_channel_is_a_usage_error(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.csv"
    line = one_line_error(export(db, "messages", "--workspace", "nosuch", "--output", out))
    assert line.startswith("cxport: --workspace:") and "known: default" in line
    line = one_line_error(export(db, "messages", "--channel", "ch-wa-sak", "--output", out))
    assert line.startswith("cxport: --channel:") and "did you mean ch-wa-sac?" in line
    assert not out.exists()


def test_a_time_zone_in_the_wrong_case_gets_the_right_one(db: Path, tmp_path: Path) -> None:
    line = one_line_error(
        export(db, "teams", "--tz", "america/sao_paulo", "--output", tmp_path / "t.csv")
    )
    assert (
        line
        == "cxport: --tz: unknown time zone 'america/sao_paulo' (did you mean America/Sao_Paulo?)"
    )


def test_a_bad_as_of_names_the_option(db: Path, tmp_path: Path) -> None:
    line = one_line_error(export(db, "teams", "--as-of", "yesterday", "--output", tmp_path / "t"))
    assert line.startswith("cxport: --as-of: not an ISO 8601 instant: 'yesterday'")


def test_core_errors_name_the_field_and_the_cli_the_option(db: Path, tmp_path: Path) -> None:
    from cxport.errors import UsageError
    from cxport.exports import ExportRequest

    with pytest.raises(UsageError, match=r"^tz: unknown time zone 'Mars/Base'$"):
        ExportRequest("teams", dt.date(2024, 1, 1), dt.date(2024, 1, 2), tz="Mars/Base")
    line = one_line_error(export(db, "teams", "--tz", "Mars/Base", "--output", tmp_path / "t"))
    assert line.startswith("cxport: --tz: unknown time zone 'Mars/Base'")


# 7. The format from the file name.


def test_the_format_follows_the_file_name_and_a_contradiction_is_refused(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "teams.parquet"
    assert export(db, "teams", "--output", out).exit_code == 0
    assert out.read_bytes()[:4] == b"PAR1"
    line = one_line_error(export(db, "teams", "--output", out, "--format", "csv"))
    assert "--format csv contradicts --output" in line
    plain = tmp_path / "teams.txt"
    assert export(db, "teams", "--output", plain).exit_code == 0
    assert plain.read_text().startswith("Created at,")


# 9. Small things.


def test_the_ingest_title_is_one_line_on_an_80_column_terminal(
    records: Path, tmp_path: Path
) -> None:
    store = tmp_path / "a-rather-long-folder-name-for-the-store" / "store.duckdb"
    done = CliRunner(env={"COLUMNS": "80"}).invoke(
        main, ["ingest", "--db", str(store), str(records)]
    )
    assert done.exit_code == 0, done.output
    assert f"ingested into {store} (workspace default)" in done.stderr.splitlines()


def test_the_twcs_header_error_is_said_once(tmp_path: Path) -> None:
    bad = tmp_path / "twcs.csv"
    bad.write_text("id,text\n1,hi\n")
    done = run("import", "twcs", bad, "--out", tmp_path / "r.ndjson")
    assert done.exit_code == 2
    assert done.stderr.count("missing column(s)") == 1, done.stderr


# 10. Several exports, or all twelve, in one call.


def test_export_all_writes_twelve_files_named_as_the_service_names_them(
    db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "all"
    done = export(db, "all", "--output-dir", folder, "--lang", "id")
    assert done.exit_code == 0, done.output
    files = sorted(folder.iterdir())
    assert len(files) == 12
    (rid,) = {f.stem.rsplit("_", 1)[1] for f in files}  # one request id for the call
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in lines] == [f"[{i}/12" for i in range(1, 13)]
    assert sorted(line.split()[1].rstrip(":") for line in lines) == sorted(d.name for d in EXPORTS)
    for definition in EXPORTS:
        path = folder / f"default_{definition.name}_20240401_20240630_{rid}.csv"
        assert path.is_file(), path
        assert f"{definition.name}: " in done.stderr and str(path) in done.stderr
        header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert header == [c.id for c in definition.columns]  # 11: --lang id writes the ids


def test_several_named_exports_share_one_call_and_match_single_runs(
    db: Path, tmp_path: Path
) -> None:
    as_of = ("--as-of", "2024-07-01T00:00:00Z")
    done = export(db, "teams", "tags", *as_of, "--output-dir", tmp_path / "two")
    assert done.exit_code == 0, done.output
    written = sorted((tmp_path / "two").iterdir())
    assert [f.name.split("_")[1] for f in written] == ["tags", "teams"]
    for path in written:
        single = tmp_path / f"{path.name}.single"
        assert export(db, path.name.split("_")[1], *as_of, "--output", single).exit_code == 0
        assert path.read_bytes() == single.read_bytes()


def test_several_exports_need_an_output_dir(db: Path, tmp_path: Path) -> None:
    line = one_line_error(export(db, "teams", "tags", "--output", tmp_path / "x.csv"))
    assert "--output-dir" in line
    assert "--output" in one_line_error(export(db, "teams"))
    assert "give one" in one_line_error(
        export(db, "teams", "--output", tmp_path / "t.csv", "--output-dir", tmp_path)
    )


# 7. The Spark engine's options, refused before Spark starts (tests/test_spark_parity.py
# runs it).


def test_spark_needs_a_lake_and_duckdb_takes_no_spark_option(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "t.csv"
    line = one_line_error(export(db, "teams", "--engine", "spark", "--output", out))
    assert line.startswith("cxport: --lake: --engine spark reads a lake")
    assert f"cxport lake sync --db {db} --lake DIR" in line
    line = one_line_error(export(db, "teams", "--lake", tmp_path, "--output", out))
    assert line == "cxport: --lake: only with --engine spark"
    line = one_line_error(
        export(db, "teams", "--engine", "spark", "--lake", tmp_path / "none", "--output", out)
    )
    assert line.startswith("cxport: --lake: no cxport lake at")
    assert not out.exists()


def test_spark_missing_is_one_line(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cxport.engines import spark_session

    lake = tmp_path / "lake"
    assert run("lake", "sync", "--db", db, "--lake", lake).exit_code == 0
    missing = "PySpark is not installed (install cxport[spark]: uv sync --extra spark)"
    monkeypatch.setattr(spark_session, "unavailable_reason", lambda local=True: missing)
    args = ("teams", "--engine", "spark", "--lake", lake, "--output", tmp_path / "t.csv")
    line = one_line_error(export(db, *args), code=1)
    assert line == f"cxport: --engine: spark: {missing}"
    line = one_line_error(export(db, *args, "--workspace", "other"))
    assert line.startswith("cxport: --workspace:")
