"""The worked example of the spec: every export, byte for byte."""

from __future__ import annotations

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
