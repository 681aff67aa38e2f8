"""How the service's processes share the store file.

DuckDB lets one process open a file for writing, or any number for reading. So
no process keeps it open: export jobs open it read-only while they run (one
connection shared by the jobs of a process), an ingest opens it for writing
while it runs, and they take turns through two advisory locks (`flock`) next to
the store, which every process (serve, workers, the CLI's ingest) takes first:

- `PATH.lock`: shared while a process reads, exclusive while one writes;
- `PATH.lock.w`: an ingest holds it exclusively while it waits, and a reader
  takes it (shared, briefly) before it reads, so that a waiting ingest is let
  in between jobs instead of waiting for a queue that never empties.

A job or an ingest waits its turn; it never fails on DuckDB's own file lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cxport.errors import CxportError
from cxport.limits import Limits
from cxport.store import Connection, open_store


class StoreBusy(CxportError):
    """The store stayed held by another process longer than the wait allowed."""


class StoreAccess:
    def __init__(self, path: Path, wait: float = 1800.0, limits: Limits | None = None) -> None:
        self.path = Path(path)
        self.wait = wait
        self.limits = limits or Limits()  # memory and spill folder of every connection
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._con: Connection | None = None
        self._lock_fd: int | None = None
        self.abort = threading.Event()  # set: every wait for the store gives up at once

    def _open_lock(self, suffix: str) -> int:
        return os.open(f"{self.path}{suffix}", os.O_RDWR | os.O_CREAT, 0o600)

    def _flock(self, fd: int, mode: int, wait: float | None = None) -> None:
        """`flock(fd, mode)`, waiting at most `wait` (default `self.wait`) seconds."""
        wait = self.wait if wait is None else wait
        deadline = time.monotonic() + wait
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, mode | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if self.abort.is_set():
                    raise StoreBusy(f"stopped waiting for the store {self.path}") from None
                if time.monotonic() > deadline:
                    raise StoreBusy(
                        f"the store {self.path} stayed in use for {wait:.0f} s"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)

    def _pass_writers(self, wait: float | None) -> None:
        """Wait while another process's ingest waits or writes."""
        fd = self._open_lock(".lock.w")
        try:
            self._flock(fd, fcntl.LOCK_SH, wait)
        finally:
            os.close(fd)  # releases it

    def _ensure_exists(self) -> None:
        if not self.path.exists():
            with self.write():
                pass

    @contextmanager
    def read(self, wait: float | None = None) -> Iterator[Connection]:
        """A cursor of a read-only connection to the store, for as long as the block runs;
        `StoreBusy` if it is not free within `wait` seconds (default: the configured wait)."""
        self._ensure_exists()
        self._pass_writers(wait)  # not under the condition: readers leaving need it
        with self._cond:
            if not self._cond.wait_for(lambda: not (self._writing or self._writers_waiting), wait):
                raise StoreBusy(f"the store {self.path} is being written")
            if self._readers == 0:
                fd = self._open_lock(".lock")
                try:
                    self._flock(fd, fcntl.LOCK_SH, wait)
                    self._con = open_store(self.path, read_only=True, limits=self.limits)
                except BaseException:
                    os.close(fd)
                    raise
                self._lock_fd = fd
            self._readers += 1
            assert self._con is not None
            cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._release()
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The store open for writing (created on first use); readers of every process
        wait until the block ends."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
                self._writing = True
            finally:
                self._writers_waiting -= 1
        intent = self._open_lock(".lock.w")
        fd = self._open_lock(".lock")
        try:
            self._flock(intent, fcntl.LOCK_EX)
            self._flock(fd, fcntl.LOCK_EX)
            con = open_store(self.path, limits=self.limits)
            try:
                yield con
            finally:
                con.close()
        finally:
            os.close(fd)
            os.close(intent)
            with self._cond:
                self._writing = False
                self._cond.notify_all()

    def _release(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
