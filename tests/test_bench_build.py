"""`bench/build.py` times every kept fact of a whole build and leaves the store as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import EXAMPLE, ingest_file

from bench.build import profile_build, report
from cxport.exports import kept
from cxport.store import open_store


def _schemas(db: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    con = open_store(db, read_only=True)
    try:
        schemas = con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
            " ORDER BY 1"
        ).fetchall()
        recorded = con.execute("SELECT * FROM kept_facts").fetchall()
    finally:
        con.close()
    return schemas, recorded


def test_each_fact_is_timed_once_in_build_order_and_the_store_is_left_as_it_was(
    tmp_path: Path,
) -> None:
    db = ingest_file(tmp_path / "store.duckdb", EXAMPLE)
    con = open_store(db)
    found, _ = kept.refresh(con, "default")
    con.close()
    assert found is not None
    before = _schemas(db)

    rows = profile_build(db, memory="256MB")

    assert [name for name, *_ in rows] == [k.fact.name for k in kept.kept_facts()]
    assert all(seconds >= 0 and rss >= 0 and spill >= 0 for _, seconds, rss, spill in rows)
    assert max(rss for _, _, rss, _ in rows) > 0  # sampled while the facts were built
    assert _schemas(db) == before  # its schema dropped, the recorded kept facts untouched
    text = report(rows)
    assert text.count("\n") == len(rows) + 2  # header, rule, a row per fact and the total
    assert "**whole build**" in text


def test_a_store_without_records_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "empty.duckdb"
    open_store(db).close()
    with pytest.raises(SystemExit, match="no records"):
        profile_build(db)
