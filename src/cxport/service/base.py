"""The service's foundation: its parts, and the channels of a workspace."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cxport.control.db import Control
from cxport.jobs.queue import Limits
from cxport.service.access import Principal
from cxport.service.settings import Settings
from cxport.service.store_access import StoreAccess, StoreBusy

STORE_GLANCE = 0.5  # seconds the API waits for a store that an ingest holds


class ServiceBase:
    """The service's parts: settings, control database, store, files; the channels a
    workspace has (what every layer above reads)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.control = Control(settings.control_url)
        self.store = StoreAccess(
            settings.db, wait=settings.store_wait.total_seconds(), limits=settings.limits,
            keep_open=True,
        )  # fmt: skip
        self.files = settings.files_dir
        self.files.mkdir(parents=True, exist_ok=True)
        self.secret = self.control.secret(settings.secret_key)
        self._channels_seen: dict[str, tuple[object, list[tuple[str, str, str]]]] = {}
        self.wake = threading.Event()  # a job was queued here: this process's runners look now
        self.limits = Limits(
            settings.lease, settings.max_running_per_workspace, settings.max_attempts
        )

    def close(self) -> None:
        self.store.close()
        self.control.close()

    def _channel_rows(self, workspace: str) -> list[tuple[str, str, str]] | None:
        """(id, name, medium) of the workspace's channels, latest versions. Read again only
        when the store's files changed since; the last seen while an ingest holds the store
        for more than a moment (None if never seen): the API does not wait for the store."""
        version = _file_version(self.settings.db)
        seen = self._channels_seen.get(workspace)
        if seen is not None and seen[0] == version:
            return seen[1]
        try:
            with self.store.read(wait=STORE_GLANCE) as con:
                rows = con.execute(
                    'SELECT channel_id, arg_max(name, "at"), arg_max(medium, "at")'
                    " FROM r_channel WHERE workspace = ? GROUP BY channel_id ORDER BY channel_id",
                    [workspace],
                ).fetchall()
        except StoreBusy:
            return seen[1] if seen is not None else None
        found = [(str(a), str(b or a), str(c)) for a, b, c in rows]
        self._channels_seen[workspace] = (version, found)
        return found

    def known_channels(self, workspace: str) -> set[str]:
        """The ids of the workspace's channels (as last seen, while an ingest holds the store)."""
        return {r[0] for r in self._channel_rows(workspace) or []}

    def channels(self, who: Principal) -> list[dict[str, Any]]:
        """The channels `who` may export, with their names."""
        who.may_export()
        rows = self._channel_rows(who.workspace)
        if rows is None:
            raise StoreBusy("the store is being written; try again in a moment")
        allowed = None if who.is_admin else set(who.channels)
        return [
            {"id": cid, "name": name, "medium": medium}
            for cid, name, medium in rows
            if allowed is None or cid in allowed
        ]


def _file_version(db: Path) -> object:
    """What changes whenever the store is written: its file's and its log's size and time."""
    out: list[tuple[int, int, int] | None] = []
    for path in (db, Path(f"{db}.wal")):
        try:
            st = path.stat()
        except FileNotFoundError:
            out.append(None)
            continue
        out.append((st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)
