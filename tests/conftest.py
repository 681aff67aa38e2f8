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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the whole run (CI installs PostgreSQL)."""
    from service_support import postgres_cluster

    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def control_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty control database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'control.sqlite'}"
    from service_support import fresh_database

    server = request.getfixturevalue("postgres_server")
    return fresh_database(server, f"t_{abs(hash(request.node.nodeid)) % 10**12}")
