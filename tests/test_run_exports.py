"""Several exports of one request share a snapshot and its facts, with the same bytes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import EXAMPLE, ingest_file, live_at_each_file, simulated_store

from cxport.exports import ExportRequest, run_export, run_exports
from cxport.exports.defs import EXPORTS
from cxport.store import open_store


def _requests(date_from: str, date_to: str, **kw: object) -> list[ExportRequest]:
    return [
        ExportRequest(
            export=d.name,
            date_from=dt.date.fromisoformat(date_from),
            date_to=dt.date.fromisoformat(date_to),
            tz="America/Sao_Paulo",
            as_of=dt.datetime(2024, 6, 22, 12, tzinfo=dt.UTC),
            **kw,  # type: ignore[arg-type]
        )
        for d in EXPORTS
    ]


def _same_bytes(db: Path, requests: list[ExportRequest], tmp_path: Path) -> None:
    con = open_store(db)
    try:
        one_by_one = []
        for i, r in enumerate(requests):
            out = tmp_path / f"single-{i}-{r.export}.csv"
            run_export(con, r, out)
            one_by_one.append(out.read_bytes())
        jobs = [(r, tmp_path / f"batch-{i}-{r.export}.csv") for i, r in enumerate(requests)]
        results = run_exports(con, jobs)
    finally:
        con.close()
    assert [r.export for r in results] == [r.export for r in requests]
    for (request, out), expected in zip(jobs, one_by_one, strict=True):
        assert out.read_bytes() == expected, request.export


def test_all_twelve_together_equal_one_by_one_on_the_worked_example(tmp_path: Path) -> None:
    db = ingest_file(tmp_path / "store.duckdb", EXAMPLE)
    _same_bytes(db, _requests("2024-06-19", "2024-06-21"), tmp_path)


@pytest.mark.parametrize("channels", [(), ("ch-wa",)])
def test_all_twelve_together_equal_one_by_one_on_a_simulated_workspace(
    tmp_path: Path, channels: tuple[str, ...]
) -> None:
    db = simulated_store(tmp_path, seed=5, conversations=800, start=dt.date(2024, 5, 1), days=35)
    con = open_store(db)
    try:
        some_channel = con.execute("SELECT min(channel_id) FROM r_channel").fetchone()
    finally:
        con.close()
    chosen = (some_channel[0],) if channels and some_channel else ()
    requests = _requests("2024-05-10", "2024-05-20", channels=chosen)
    requests += _requests("2024-05-10", "2024-05-20", lang="pt-BR")[:3]
    _same_bytes(db, requests, tmp_path)


def test_requests_of_different_ranges_are_not_mixed(tmp_path: Path) -> None:
    db = ingest_file(tmp_path / "store.duckdb", EXAMPLE)
    requests = [
        *_requests("2024-06-19", "2024-06-19")[:3],
        *_requests("2024-06-20", "2024-06-21")[:3],
    ]
    _same_bytes(db, requests, tmp_path)


def test_a_group_computes_each_files_facts_before_it_and_drops_them_after(
    tmp_path: Path,
) -> None:
    """On DuckDB, every fact computed (no kept facts): when a file is written, the
    cursor holds the facts `stages` says are live, no more; the files are those
    of the exports one by one."""
    from cxport.engines.duckdb import DuckDBEngine
    from cxport.exports.plan import Kind, helpers, plan_group
    from cxport.exports.runner import export_def

    db = ingest_file(tmp_path / "store.duckdb", EXAMPLE)
    requests = _requests("2024-06-19", "2024-06-21")
    jobs = [(r, tmp_path / f"group-{r.export}.csv") for r in requests]
    as_of = requests[0].as_of_utc()
    con = open_store(db)
    try:
        shared = requests[0]
        p = plan_group(shared, as_of, jobs, [export_def(r.export) for r in requests], None, None)
        tables = {s.name for s in p.steps[p.prepared :] if s.kind is not Kind.VIEW}
        expected = [sorted(live & tables) for live in live_at_each_file(p)]
        seen = []
        with DuckDBEngine(con).session(helpers(shared, as_of)) as session:

            def held(*_: object) -> None:
                found = session.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE temporary"
                ).fetchall()
                seen.append(sorted({t for (t,) in found} & tables))

            session.execute(p, on_file=held)
            seen.append(
                [t for (t,) in session.con.execute(
                    "SELECT table_name FROM duckdb_tables() WHERE temporary"
                ).fetchall() if t in tables]
            )  # fmt: skip
        for request, out in jobs:
            single = tmp_path / f"single-{request.export}.csv"
            run_export(con, request, single, use_kept=False)
            assert out.read_bytes() == single.read_bytes(), request.export
    finally:
        con.close()
    assert seen == [*expected, []]  # and none left after the last file
    assert max(map(len, expected)) < len(tables)
