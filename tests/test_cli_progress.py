"""Ingest progress on a terminal (issue 15): each step shows, the read rate is right."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.progress import Progress

from cxport.ingest import ingest_files, rate
from cxport.simulate import simulate
from cxport.store import open_store


def test_the_read_rate_is_the_bytes_over_the_time_since_the_step_began() -> None:
    now = [0.0]
    progress = Progress(get_time=lambda: now[0])
    task = progress.add_task("read", total=150_000_000)
    for second, done in ((1.0, 37_500_000), (2.0, 150_000_000)):  # large chunks, few updates
        now[0] = second
        progress.update(task, completed=done)
    assert rate(progress.tasks[0]) == "75.0 MB/s"


def test_ingest_shows_the_read_and_the_commit_of_each_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = tmp_path / "r.ndjson"
    simulate(records, conversations=20)
    con = open_store(tmp_path / "s.duckdb")
    try:
        ingest_files(con, [str(records)], progress=True)
    finally:
        con.close()
    said = capsys.readouterr().err
    assert f"read {records}: " in said and "B/s)" in said
    assert f"stored {records}: " in said and " records in " in said
