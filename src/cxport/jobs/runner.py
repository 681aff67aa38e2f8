"""Job runners: a bounded pool of threads that claim export jobs, run them under a
lease that a heartbeat extends (writing progress), and stop writing as soon as the
lease is lost or the job cancelled (the export's query is interrupted)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

log = logging.getLogger("cxport.jobs")


class LeaseLike(Protocol):
    job_id: str
    owner: str


class JobService(Protocol):
    """What the runners need of the service."""

    wake: threading.Event  # set when a job is queued in this process: idle runners look at once

    def claim(self, owner: str) -> Any: ...
    def heartbeat(self, lease: Any, progress: float) -> bool: ...
    def run_export_job(
        self, lease: Any, progress: Callable[[float], None], on_cursor: Callable[[Any], None]
    ) -> None: ...
    def job_failed(self, lease: Any, exc: BaseException) -> None: ...
    def release(self, lease: Any) -> None: ...
    def reap(self) -> int: ...
    def interrupt(self) -> None: ...


def _interrupt(cursor: Any) -> None:
    """Stop a job's query; a query already done (its cursor closed) needs nothing."""
    with contextlib.suppress(Exception):
        cursor.interrupt()


class LeaseLost(Exception):
    """The job is no longer this runner's: cancelled, or claimed by another after a stall."""


class _Heartbeat:
    """Extends one job's lease every `every` seconds with the latest progress; when the
    job is no longer ours, interrupts its query."""

    def __init__(self, service: JobService, lease: Any, every: float) -> None:
        self.service, self.lease, self.every = service, lease, every
        self.progress = 0.0
        self.lost = False
        self.cursor: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"cxport-beat-{lease.job_id}", daemon=True
        )

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def set_progress(self, value: float) -> None:
        self.progress = value
        if self.lost:
            raise LeaseLost(self.lease.job_id)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                ours = self.service.heartbeat(self.lease, self.progress)
            except Exception:  # the control database is away: the lease may still hold
                log.exception("heartbeat of %s failed", self.lease.job_id)
                continue
            if not ours:
                self.lost = True
                if self.cursor is not None:
                    _interrupt(self.cursor)
                return


class Runners:
    """`count` threads running jobs until `stop`; `stop(wait)` lets running jobs finish
    for `wait` seconds, then interrupts them and gives them back to the queue."""

    def __init__(
        self, service: JobService, name: str, count: int, poll: float, heartbeat: float
    ) -> None:
        self.service, self.name, self.count = service, name, count
        self.poll, self.heartbeat = poll, heartbeat
        self._stopping = threading.Event()
        self._abort = threading.Event()
        self._threads: list[threading.Thread] = []
        self._beats: dict[str, _Heartbeat] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        for i in range(self.count):
            t = threading.Thread(
                target=self._loop,
                args=(f"{self.name}/{i}",),
                name=f"cxport-runner-{i}",
                daemon=True,
            )
            t.start()
            self._threads.append(t)
        reaper = threading.Thread(target=self._reap_loop, name="cxport-reaper", daemon=True)
        reaper.start()
        self._threads.append(reaper)

    def stop(self, wait: float = 30.0) -> None:
        self._stopping.set()
        self.service.wake.set()
        for t in self._threads:
            t.join(timeout=wait)
        if any(t.is_alive() for t in self._threads):
            self._abort.set()
            self.service.interrupt()
            with self._lock:
                for beat in self._beats.values():
                    if beat.cursor is not None:
                        _interrupt(beat.cursor)
            for t in self._threads:
                t.join(timeout=10)

    def _reap_loop(self) -> None:
        while not self._stopping.wait(max(self.poll, 1.0)):
            try:
                self.service.reap()
            except Exception:
                log.exception("reaping jobs failed")

    def _loop(self, owner: str) -> None:
        while not self._stopping.is_set():
            try:
                lease = self.service.claim(owner)
            except Exception:
                log.exception("claiming a job failed")
                lease = None
            if lease is None:
                if self.service.wake.wait(self.poll):
                    self.service.wake.clear()
                continue
            self._run(lease)

    def _run(self, lease: Any) -> None:
        beat = _Heartbeat(self.service, lease, self.heartbeat)
        with self._lock:
            self._beats[lease.job_id] = beat

        def on_cursor(cursor: Any) -> None:
            beat.cursor = cursor
            if beat.lost:
                _interrupt(cursor)

        try:
            with beat:
                self.service.run_export_job(lease, beat.set_progress, on_cursor)
        except BaseException as exc:
            if self._abort.is_set():
                self.service.release(lease)
            elif beat.lost:
                log.info("job %s is no longer ours (cancelled or taken over)", lease.job_id)
            else:
                log.warning("job %s failed: %s", lease.job_id, exc)
                self.service.job_failed(lease, exc)
        finally:
            with self._lock:
                self._beats.pop(lease.job_id, None)
