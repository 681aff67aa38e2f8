"""The worked example of the spec: every export, byte for byte."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import EXAMPLES

EXPECTED = sorted((EXAMPLES / "expected").glob("*.csv"))
ARGS = [
    "--from", "2024-06-19", "--to", "2024-06-21", "--tz", "America/Sao_Paulo",
    "--as-of", "2024-06-22T12:00:00Z",
]  # fmt: skip


def cxport(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "cxport", *args], capture_output=True, check=False)


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("example") / "ex.duckdb"
    done = cxport("ingest", "--db", str(db), str(EXAMPLES / "basic.ndjson"))
    assert done.returncode == 0, done.stderr.decode()
    return db


def test_every_export_has_an_expected_file() -> None:
    names = {p.name.split(".")[0] for p in EXPECTED}
    assert len(names) == 12


@pytest.mark.parametrize("expected", EXPECTED, ids=[p.name for p in EXPECTED])
def test_example_export_is_byte_exact(expected: Path, example_db: Path, tmp_path: Path) -> None:
    export, _, rest = expected.name.partition(".")
    lang = "pt-BR" if rest == "pt-BR.csv" else "en"
    out = tmp_path / "out.csv"
    done = cxport(
        "export", export, "--db", str(example_db), *ARGS, "--lang", lang, "--output", str(out)
    )
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes().decode() == expected.read_bytes().decode()


def test_ingest_keeps_the_facts_and_exports_read_them(tmp_path: Path) -> None:
    """`cxport ingest` builds the kept facts (`--no-facts`: not), `cxport facts` builds or
    reuses them, and the example's files are the same bytes on both paths."""
    db = tmp_path / "nofacts.duckdb"
    done = cxport("ingest", "--db", str(db), "--no-facts", str(EXAMPLES / "basic.ndjson"))
    assert done.returncode == 0, done.stderr.decode()
    assert b"kept facts" not in done.stderr
    expected = EXAMPLES / "expected" / "resolved-conversations.csv"
    out = tmp_path / "computed.csv"
    done = cxport("export", "resolved-conversations", "--db", str(db), *ARGS, "--output", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == expected.read_bytes()
    done = cxport("facts", "--db", str(db))
    assert done.returncode == 0, done.stderr.decode()
    assert done.stderr.decode().startswith("kept facts: built in ")
    assert "(up to 2024-06-22T02:00:00.000Z)" in done.stderr.decode()  # the last record
    done = cxport("facts", "--db", str(db))
    assert done.stderr.decode() == "kept facts: current (up to 2024-06-22T02:00:00.000Z)\n"
    out = tmp_path / "kept.csv"
    done = cxport("export", "resolved-conversations", "--db", str(db), *ARGS, "--output", str(out))
    assert done.returncode == 0, done.stderr.decode()
    assert out.read_bytes() == expected.read_bytes()
    done = cxport("facts", "--db", str(tmp_path / "missing.duckdb"))
    assert done.returncode != 0
    assert b"no store at" in done.stderr


def test_the_example_exports_read_kept_facts(example_db: Path) -> None:
    from cxport.exports import kept
    from cxport.store import open_store

    con = open_store(example_db, read_only=True)
    try:
        found = kept.current(con, "default", dt.datetime(2024, 6, 22, 12, 0))  # ARGS' --as-of
    finally:
        con.close()
    # Built by the fixture's `cxport ingest`: the byte-exact tests above read them.
    assert found is not None
