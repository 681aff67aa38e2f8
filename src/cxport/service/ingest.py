"""The service's ingest, which every front end calls (`cxport ingest`, `POST /records`):
the store opened for writing in turn with the exports of every process, the batches
stored, then the workspace's kept facts refreshed in the same turn.

A store this call creates is removed again when the ingest fails with nothing
stored: a failed first ingest leaves no file behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb

from cxport.service.store_access import LOCK_FILES, StoreAccess
from cxport.store import Connection

if TYPE_CHECKING:
    from cxport.exports.kept import Kept
    from cxport.ingest import IngestSummary

T = TypeVar("T")
FactsResult = tuple["Kept | None", bool]  # the kept facts now current; whether they were built


def _plain(build: Callable[[], T]) -> T:
    return build()


def ingest(
    store: StoreAccess,
    workspace: str,
    run: Callable[[Connection], IngestSummary],
    facts: bool = True,
    around_facts: Callable[[Callable[[], FactsResult]], FactsResult] = _plain,
) -> tuple[IngestSummary, FactsResult | None]:
    """`run(connection)` stores the batches; then, unless `facts` is False, the kept
    facts are refreshed (through `around_facts`, e.g. a front end's spinner)."""
    from cxport.exports.kept import refresh

    new = not store.path.exists()
    empty = False
    try:
        with store.write() as con, store.storing():
            try:
                summary = run(con)
            except BaseException:
                empty = new and not _stored_any(con)
                raise
            if not facts:
                return summary, None
            return summary, around_facts(lambda: refresh(con, workspace))
    finally:
        if empty:
            for suffix in ("", ".wal", *LOCK_FILES):
                Path(f"{store.path}{suffix}").unlink(missing_ok=True)


def _stored_any(con: Connection) -> bool:
    try:
        found = con.execute("SELECT count(*) FROM batches WHERE records > 0").fetchone()
    except duckdb.Error:
        return True  # unknown: keep the file
    return bool(found and found[0])
