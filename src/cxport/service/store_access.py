"""How the service's processes share the store file.

DuckDB lets one process open a file for writing, or any number for reading. So
no process keeps it open: export jobs open it read-only while they run (one
connection shared by the jobs of a process), an ingest opens it for writing
while it runs, and they take turns through advisory locks (`flock`) next to
the store, which every process (serve, workers, the CLI's ingest) takes first:

- `PATH.lock`: shared while a process reads, exclusive while one writes;
- `PATH.lock.w`: an ingest holds it exclusively while it waits, and a reader
  takes it (shared, briefly) before it reads, so that a waiting ingest is let
  in between jobs instead of waiting for a queue that never empties;
- `PATH.lock.q`: a process holds it (shared) while it waits for `PATH.lock`,
  so that a process holding the store can tell that another one waits.

Within a process, readers do not wait for a batch (issue 18): while the
process has the store open for writing, a job that starts reads through a
cursor of that connection, in a transaction of its own (`runner.py`), so it
sees the version before the batch's commit or the one after, never half; the
connection stays open for writing until its last reader ends. A job joins it
only while no other process waits for the store; otherwise it waits for the
connection to be given up and opens the store read-only again, so that other
processes get their turn. Between a batch's commit and the end of its kept
facts' refresh (about half a second at 1 M conversations), a job that starts
finds them stale: it would compute its facts from the records, several times
slower, so while the writer says it stores a batch (`storing`) the job reads
the version before that batch, kept facts and records alike (`runner.py`). A
job never writes (`runner.py`, `refresh=False`). An ingest waits only for
read-only readers (it cannot open the file for writing while they hold it)
and for another ingest.

A process that keeps the store open (`keep_open`: the service) does not give
up its connection open for writing when a batch ends: the next batch, and the
jobs meanwhile, find DuckDB's caches warm (at 1 M conversations a batch on a
connection just opened costs 2-4 times one on a warm connection). It gives it
up as soon as another process waits for the store (`PATH.lock.q`, glanced at
every `HOLD_GLANCE` seconds while the connection is idle), and when closed.

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

# The lock files beside the store (above), by suffix.
LOCK, INTENT, QUEUE = ".lock", ".lock.w", ".lock.q"
LOCK_FILES = (LOCK, INTENT, QUEUE)
HOLD_GLANCE = 0.05  # seconds between glances at `PATH.lock.q` while the store is held idle


class StoreBusy(CxportError):
    """The store stayed held by another process longer than the wait allowed."""


class StoreAccess:
    def __init__(
        self,
        path: Path,
        wait: float = 1800.0,
        limits: Limits | None = None,
        keep_open: bool = False,
    ) -> None:
        self.path = Path(path)
        self.wait = wait
        self.keep_open = keep_open  # hold the connection open for writing between batches
        self._closed = False
        self._holder: threading.Thread | None = None
        self.limits = limits or Limits()  # memory and spill folder of every connection
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._con: Connection | None = None
        self._writable = False  # `_con` is open for writing: readers join it
        self._storing = False  # the writer stores a batch and refreshes its kept facts
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
        fd = self._open_lock(INTENT)
        try:
            self._flock(fd, fcntl.LOCK_SH, wait)
        finally:
            os.close(fd)  # releases it

    def _take(self, mode: int, wait: float | None = None) -> int:
        """`PATH.lock` in `mode`, saying meanwhile (`PATH.lock.q`) that this process waits."""
        queue = self._open_lock(QUEUE)
        fd = self._open_lock(LOCK)
        try:
            fcntl.flock(queue, fcntl.LOCK_SH)  # never held exclusively but for a glance
            self._flock(fd, mode, wait)
        except BaseException:
            os.close(fd)
            raise
        finally:
            os.close(queue)
        return fd

    def _others_waiting(self) -> bool:
        """Whether another process waits for the store (holds `PATH.lock.q`)."""
        queue = self._open_lock(QUEUE)
        try:
            fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(queue)  # releases the glance
        return False

    def _joinable(self) -> bool:
        """A reader may join this process's connection open for writing."""
        return self._con is not None and self._writable and not self._others_waiting()

    @contextmanager
    def storing(self) -> Iterator[None]:
        """The writer stores a batch and refreshes its kept facts: a job finding them
        stale meanwhile reads the version before the batch (`storing_batch`)."""
        with self._cond:
            self._storing = True
        try:
            yield
        finally:
            with self._cond:
                self._storing = False

    def storing_batch(self) -> bool:
        """Whether a batch is being stored and its kept facts refreshed (`storing`)."""
        return self._storing

    def _ensure_exists(self) -> None:
        if not self.path.exists():
            with self.write():
                pass

    @contextmanager
    def read(self, wait: float | None = None) -> Iterator[Connection]:
        """A cursor of a connection to the store, for as long as the block runs (its
        reads in one transaction: `runner.py`); `StoreBusy` if it is not free within
        `wait` seconds (default: the configured wait)."""
        self._ensure_exists()
        with self._cond:
            joined = self._joinable()
        if not joined:
            self._pass_writers(wait)  # not under the condition: readers leaving need it
        with self._cond:
            free = self._cond.wait_for(
                lambda: (
                    self._joinable()
                    or not (self._writing or self._writers_waiting or self._writable)
                ),
                wait,
            )
            if not free:
                raise StoreBusy(f"the store {self.path} is being written")
            if self._con is None:
                fd = self._take(fcntl.LOCK_SH, wait)
                try:
                    self._con = open_store(self.path, read_only=True, limits=self.limits)
                except BaseException:
                    os.close(fd)
                    raise
                self._lock_fd = fd
            self._readers += 1
            cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
            with self._cond:
                self._readers -= 1
                if self._readers == 0 and not self._writing:
                    self._idle()
                self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """The store open for writing (created on first use), one writer at a time:
        readers of other processes wait until this process gives it up; readers of this
        one read the version before the write's commit, or the one after."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or (self._readers and not self._writable):
                    self._cond.wait()
                self._writing = True
            finally:
                self._writers_waiting -= 1
        try:
            if self._con is None:  # readers wait while `_writing` and nothing is open
                self._open_for_writing()
            assert self._con is not None
            cursor = self._con.cursor()
            try:
                yield cursor
            finally:
                cursor.close()
        finally:
            with self._cond:
                self._writing = False
                if self._readers == 0:
                    self._idle()
                self._cond.notify_all()

    def _open_for_writing(self) -> None:
        intent = self._open_lock(INTENT)
        try:
            self._flock(intent, fcntl.LOCK_EX)  # readers of other processes let it in
            fd = self._take(fcntl.LOCK_EX)
            try:
                con = open_store(self.path, limits=self.limits)
            except BaseException:
                os.close(fd)
                raise
        finally:
            os.close(intent)
        with self._cond:
            self._con, self._lock_fd, self._writable = con, fd, True
            self._cond.notify_all()  # readers waiting may join it

    def _idle(self) -> None:
        """Nobody of this process uses the connection (under the condition): kept open
        for writing if this process keeps it and no other process waits, else given up."""
        if self.keep_open and self._writable and not self._closed and not self._others_waiting():
            if self._holder is None or not self._holder.is_alive():
                self._holder = threading.Thread(target=self._hold, name="store-holder", daemon=True)
                self._holder.start()
            return
        self._release()

    def _hold(self) -> None:
        """While the connection open for writing is held idle, give it up as soon as
        another process waits for the store (or this one closes it)."""
        while True:
            time.sleep(HOLD_GLANCE)
            waiting = self._others_waiting()
            with self._cond:
                if self._con is None or not self._writable:
                    return  # given up meanwhile
                if self._readers or self._writing or self._writers_waiting:
                    continue  # in use: its last user decides (`_idle`)
                if waiting or self._closed:
                    self._release()
                    self._cond.notify_all()
                    return

    def close(self) -> None:
        """Give up a connection held open (`keep_open`) once nobody uses it."""
        with self._cond:
            self._closed = True
            if not (self._readers or self._writing):
                self._release()
            self._cond.notify_all()

    def _release(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        self._writable = False
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
