"""Bulk ingest of NDJSON records (`ingest.md`): the service every front end calls.

Each file (or HTTP body) is one atomic batch. With several files, each is
committed when it is done: a failing file raises `InvalidInput` and leaves
the earlier files stored and the later ones unread.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

import duckdb
from rich.progress import ProgressColumn, Task, TaskID
from rich.text import Text

from cxport.errors import InvalidInput, UsageError
from cxport.ingest.batch import Batch
from cxport.ingest.commit import MAX_WARNINGS, BatchResult, commit
from cxport.ingest.problems import write_rejects
from cxport.ingest.reader import (
    DEFAULT_CHUNK_BYTES,
    LineReader,
    Source,
    bytes_source,
    open_source,
    prefetch,
)
from cxport.limits import memory_of, size_bytes
from cxport.store import Connection

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "DEFAULT_CHUNK_BYTES",
    "BatchResult",
    "IngestInterrupted",
    "IngestSummary",
    "ingest_bytes",
    "ingest_files",
    "is_interrupt",
]

INGEST_MEMORY_LIMIT = "768MB"
CHECKPOINT_LINES = 1_000_000  # a batch of this many lines is checkpointed at once


@dataclass
class IngestSummary:
    """What an ingest stored, over all its batches."""

    stored: dict[str, int] = field(default_factory=dict)  # records stored per type
    duplicates: int = 0  # records already stored (or repeated in the batch): idempotent re-sends
    rejected: int = 0  # lines rejected (skip-invalid mode)
    warnings: list[str] = field(default_factory=list)  # the first ones
    warning_count: int = 0
    batches: list[BatchResult] = field(default_factory=list)

    @property
    def total_stored(self) -> int:
        return sum(self.stored.values())

    def add(self, r: BatchResult) -> None:
        self.batches.append(r)
        for t, n in r.stored.items():
            self.stored[t] = self.stored.get(t, 0) + n
        self.duplicates += r.duplicates
        self.rejected += r.rejected
        self.warnings.extend(r.warnings[: max(0, MAX_WARNINGS - len(self.warnings))])
        self.warning_count += r.warning_count


class IngestInterrupted(KeyboardInterrupt):
    """Ctrl-C during an ingest, saying what it left stored.

    `source` is the file being read or committed, `stored` whether its batch
    made it (the interrupt may land after its commit), `before` the sources
    committed earlier.
    """

    def __init__(self, source: str, stored: bool, before: list[str]) -> None:
        super().__init__(source)
        self.source, self.stored, self.before = source, stored, before

    def __str__(self) -> str:
        earlier = f"; stored before it: {', '.join(self.before)}" if self.before else ""
        if self.stored:
            return f"interrupted: {self.source} was stored whole{earlier}"
        return f"interrupted: nothing of {self.source} was stored{earlier}"


def is_interrupt(exc: BaseException) -> bool:
    """Whether `exc` is Ctrl-C: DuckDB turns it into "Query interrupted" mid-query."""
    return isinstance(exc, KeyboardInterrupt | duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
    )


def ingest_files(
    con: Connection,
    paths: list[str],
    workspace: str = "default",
    skip_invalid: bool = False,
    rejects_path: str | None = None,
    progress: bool = False,
    now: dt.datetime | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> IngestSummary:
    """Ingest NDJSON files (`-` is standard input; gzip is recognised), one batch each.

    Raises `InvalidInput` (nothing of the failing file stored) on invalid
    records, unless `skip_invalid`, which stores the valid ones and writes
    each rejected line to `rejects_path` as `SOURCE<TAB>LINE<TAB>REASON<TAB>ORIGINAL`.
    """
    if skip_invalid and not rejects_path:
        raise UsageError("--skip-invalid needs --rejects FILE: rejected lines are never dropped")
    sources: list[tuple[str, Callable[[], Source]]] = [
        (path, functools.partial(open_source, path)) for path in paths
    ]
    return _ingest(con, sources, workspace, skip_invalid, rejects_path, progress, now, chunk_bytes)


def ingest_bytes(
    con: Connection,
    data: bytes,
    workspace: str = "default",
    skip_invalid: bool = False,
    rejects_path: str | None = None,
    now: dt.datetime | None = None,
    source: str = "<body>",
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
) -> IngestSummary:
    """Ingest one NDJSON body (gzip recognised) as one batch."""
    if skip_invalid and not rejects_path:
        raise UsageError("skip-invalid mode needs a rejects file")
    sources: list[tuple[str, Callable[[], Source]]] = [
        (source, functools.partial(bytes_source, data, source))
    ]
    return _ingest(con, sources, workspace, skip_invalid, rejects_path, False, now, chunk_bytes)


def _ingest(
    con: Connection,
    sources: list[tuple[str, Callable[[], Source]]],
    workspace: str,
    skip_invalid: bool,
    rejects_path: str | None,
    progress: bool,
    now: dt.datetime | None,
    chunk_bytes: int,
) -> IngestSummary:
    # A cursor of its own: the caller's open results do not block `register`,
    # and the temp tables of the ingest vanish with it.
    con = con.cursor()
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    summary = IngestSummary()
    with ExitStack() as stack:
        stack.callback(con.close)
        stack.enter_context(_ingest_settings(con))
        rejects = None
        if skip_invalid and rejects_path:
            rejects = stack.enter_context(open(rejects_path, "wb"))
        bar = stack.enter_context(_progress()) if progress else None
        for name, opener in sources:
            try:
                source = opener()
            except OSError as exc:
                raise InvalidInput(f"cannot read {name}: {exc.strerror or exc}") from exc
            batch_ids: list[int] = []
            try:
                result = _ingest_one(
                    con, source, workspace, skip_invalid, rejects, now, chunk_bytes, bar, batch_ids
                )
            except InvalidInput as exc:
                if summary.batches:
                    done = ", ".join(b.source for b in summary.batches)
                    exc.args = (f"{exc.args[0]} (stored before it: {done})",)
                raise
            except BaseException as exc:
                if not is_interrupt(exc):
                    raise
                before = [b.source for b in summary.batches]
                raise IngestInterrupted(name, _stored(con, batch_ids), before) from None
            finally:
                source.close()
            summary.add(result)
            if result.lines >= CHECKPOINT_LINES:
                _checkpoint(con)
    return summary


def _stored(con: Connection, batch_ids: list[int]) -> bool:
    """Whether the batch (rolled back unless its commit was done) is in the store."""
    if not batch_ids:
        return False
    try:
        found = con.execute("SELECT count(*) FROM batches WHERE batch_id = ?", batch_ids)
        return bool((found.fetchone() or (0,))[0])
    except duckdb.Error:
        return False


def _checkpoint(con: Connection) -> None:
    """Write a large batch into the store file now, under ingest's memory
    limit: the checkpoint DuckDB makes at close, with its default limit, took
    2.6 GB after a 5 GB batch. Skipped when another transaction is open."""
    with suppress(duckdb.Error):
        con.execute("CHECKPOINT").fetchall()


def _ingest_one(
    con: Connection,
    source: Source,
    workspace: str,
    skip_invalid: bool,
    rejects: IO[bytes] | None,
    now: dt.datetime,
    chunk_bytes: int,
    bar: _Bar | None,
    batch_ids: list[int],
) -> BatchResult:
    reader = LineReader(source.stream, chunk_bytes, keep_rejected=skip_invalid)
    batch = Batch(con, source.name, workspace, skip_invalid, now)
    batch_ids.append(batch.batch_id)
    task = bar.start(source) if bar else None
    try:
        try:
            for chunk, early in prefetch(reader):
                batch.add_early(early)
                if chunk is not None:
                    batch.add_chunk(chunk)
                if bar and task is not None:
                    bar.update(task, source)
            batch.flush()
        except (OSError, EOFError) as exc:  # unreadable or truncated (gzip) input
            raise InvalidInput(f"cannot read {source.name}: {exc}") from exc
        if bar and task is not None:
            task = bar.committing(task, source)
        result = commit(batch)
        if bar and task is not None:
            bar.committed(task, source, result)
        if rejects is not None:
            write_rejects(batch, rejects, reader.spill)
        return result
    finally:
        batch.close()
        reader.close()


# DuckDB settings while ingesting, restored after. Past the memory limit, a
# batch's uncommitted rows and bookkeeping spill to disk. The expression
# rewriter takes ~30 ms to plan each of the large generated check queries and
# does not speed them up (measured). Checkpoints do not vacuum: merging the
# partly filled row groups that parallel inserts leave (at most one per insert
# and thread) rewrote rows already written, 1 s of 8 for 5 M records, and
# exports read the store as fast without it (docs/decisions.md).
INGEST_SETTINGS = {
    "preserve_insertion_order": "false",
    "disabled_optimizers": "expression_rewriter",
    "max_vacuum_tasks": "0",
}


@contextmanager
def _ingest_settings(con: Connection) -> Iterator[None]:
    before = {}
    # At most INGEST_MEMORY_LIMIT of the store's limit (`limits.py`).
    memory = min(memory_of(con), size_bytes(INGEST_MEMORY_LIMIT))
    for name, value in {**INGEST_SETTINGS, "memory_limit": f"{memory}B"}.items():
        before[name] = con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]
        con.execute(f"SET {name} = '{value}'").fetchall()
    try:
        yield
    finally:
        for name, value in before.items():
            con.execute(f"SET {name} = '{value}'").fetchall()


class _Bar:
    """Progress on standard error, step by step: reading a file (bytes, and the
    rate since its first byte), then committing it (a spinner), each ending
    in a line that stays. `cxport ingest` shows the kept-facts build after."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            _ReadColumn(),
            TimeElapsedColumn(),
            console=console or Console(file=sys.stderr),
            transient=True,
        )

    def start(self, source: Source) -> TaskID:
        return self.progress.add_task(f"read {source.name}", total=source.size, reading=True)

    def update(self, task: TaskID, source: Source) -> None:
        self.progress.update(task, completed=source.position())

    def committing(self, task: TaskID, source: Source) -> TaskID:
        """End the reading step (its line stays); start the commit's."""
        self.update(task, source)
        read = self.progress.tasks[self.progress.task_ids.index(task)]
        self.progress.remove_task(task)
        seconds = read.elapsed or 0.0
        self._say(f"read {source.name}: {_size(read.completed)} in {seconds:.1f} s ({rate(read)})")
        return self.progress.add_task(f"check and store {source.name}", total=None)

    def committed(self, task: TaskID, source: Source, result: BatchResult) -> None:
        done = self.progress.tasks[self.progress.task_ids.index(task)]
        self.progress.remove_task(task)
        stored = sum(result.stored.values())
        self._say(f"stored {source.name}: {stored:,} records in {done.elapsed or 0.0:.1f} s")

    def _say(self, line: str) -> None:
        self.progress.console.print(line, highlight=False, markup=False, soft_wrap=True)


def _size(n: float) -> str:
    from rich.filesize import decimal

    return str(decimal(int(n)))


def rate(task: Task) -> str:
    """Bytes read per second since the step began: the mean, not rich's moving
    estimate, which large chunks (64 MB between updates) threw off."""
    seconds = task.elapsed
    if not seconds or not task.completed:
        return "?/s"
    return f"{_size(task.completed / seconds)}/s"


class _ReadColumn(ProgressColumn):
    """`12.3/45.6 MB 75.0 MB/s` for a reading step; nothing for the others."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("reading"):
            return Text("")
        total = f"/{_size(task.total)}" if task.total else ""
        return Text(f"{_size(task.completed)}{total} {rate(task)}", style="progress.download")


@contextmanager
def _progress() -> Iterator[_Bar]:
    bar = _Bar()
    with bar.progress:
        yield bar
