"""Shared fixtures (keep this small: scenario helpers live in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cxport.store import Connection, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Connection]:
    """A fresh store: a real DuckDB file in the test's temporary folder."""
    con = open_store(tmp_path / "store.duckdb")
    yield con
    con.close()
