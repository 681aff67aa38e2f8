"""Byte sources cut into chunks of whole lines, as Arrow arrays.

No Python object is made per line on this path: lines are found with numpy,
and a chunk's bytes become an Arrow string array through its offsets
(zero-copy). Lines that cannot reach the JSON parser (longer than
`MAX_LINE_BYTES`, or not UTF-8) are set aside here, with their reason, as
`EarlyReject`s; their bytes are kept in a spill file when the caller needs
them (skip-invalid mode writes them to the rejects file unchanged).
"""

from __future__ import annotations

import gzip
import io
import queue
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxport.records import MAX_LINE_BYTES

DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024  # fewer, larger queries: each plans in ~20-50 ms
ARROW_BATCH_ROWS = 32 * 1024  # DuckDB scans an Arrow table one batch per thread task


def in_batches(table: pa.Table) -> pa.Table:
    """The same table cut (zero-copy) into batches of ARROW_BATCH_ROWS rows,
    for DuckDB to scan on all its threads."""
    return pa.Table.from_batches(table.to_batches(max_chunksize=ARROW_BATCH_ROWS))


# Chunks are read into buffers of this pool, which reuses freed memory:
# jemalloc and glibc hand a 64 MB buffer back to the system when it is freed,
# and every chunk then paid a page fault per 4 KB page (measured: a tenth of
# ingest's CPU went to the kernel).
POOL = (
    pa.mimalloc_memory_pool()
    if "mimalloc" in pa.supported_memory_backends()
    else pa.default_memory_pool()
)

GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
NEWLINE = 10


@dataclass(frozen=True)
class EarlyReject:
    """A line rejected before parsing; its bytes are at `offset` in the spill file."""

    lineno: int
    reason: str
    offset: int = -1
    length: int = 0


@dataclass
class Chunk:
    """Consecutive whole lines: a table (lineno BIGINT, line VARCHAR) of one
    Arrow chunk (`take` on it is fast; `in_batches` for DuckDB).

    `line` keeps its trailing newline (JSON whitespace) so the Arrow offsets
    are the newline positions; it is null for early rejects.
    """

    table: pa.Table
    first_line: int
    lines: int


@dataclass
class Source:
    """An opened input: a binary stream and how to tell progress."""

    name: str
    stream: BinaryIO
    size: int | None = None  # bytes on disk, when known
    raw: IO[bytes] | None = None  # the file under a decompressor: its position is progress

    def position(self) -> int:
        f = self.raw or self.stream
        try:
            return f.tell()
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        self.stream.close()
        if self.raw is not None:
            self.raw.close()


def open_source(path: str) -> Source:
    """Open a path (`-` is standard input); gzip is recognised by its magic bytes."""
    if path == "-":
        stdin = sys.stdin.buffer
        peek = stdin.peek(2)[:2] if isinstance(stdin, io.BufferedReader) else b""
        if peek == GZIP_MAGIC:
            return Source("<stdin>", gzip.GzipFile(fileobj=stdin, mode="rb"))  # type: ignore[arg-type]
        return Source("<stdin>", stdin)
    raw = open(path, "rb")  # noqa: SIM115 - closed by Source.close
    size = _size(raw)
    if raw.read(2) == GZIP_MAGIC:
        raw.seek(0)
        return Source(path, gzip.GzipFile(fileobj=raw, mode="rb"), size, raw)  # type: ignore[arg-type]
    raw.seek(0)
    return Source(path, raw, size)


def bytes_source(data: bytes, name: str = "<body>") -> Source:
    if data[:2] == GZIP_MAGIC:
        raw = io.BytesIO(data)
        return Source(name, gzip.GzipFile(fileobj=raw, mode="rb"), len(data), raw)  # type: ignore[arg-type]
    return Source(name, io.BytesIO(data), len(data))


def _size(f: IO[bytes]) -> int | None:
    try:
        f.seek(0, io.SEEK_END)
        size = f.tell()
        f.seek(0)
        return size
    except (OSError, ValueError):
        return None


@dataclass
class LineReader:
    """Reads a stream in chunks of about `chunk_bytes`, cut after the last newline."""

    stream: BinaryIO
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    keep_rejected: bool = False  # keep early-rejected bytes in `spill`
    early: list[EarlyReject] = field(default_factory=list)  # drained by the caller
    spill: IO[bytes] | None = None
    _long_line: int = 0  # line number of an over-long line being skipped, or 0
    _long_size: int = 0
    _long_offset: int = 0

    def __post_init__(self) -> None:
        if self.keep_rejected:
            self.spill = tempfile.TemporaryFile(prefix="cxport-rejects-")  # noqa: SIM115

    def close(self) -> None:
        if self.spill is not None:
            self.spill.close()

    def chunks(self) -> Iterator[Chunk]:
        carry = b""  # the start of a line cut by the end of the last read
        lineno = 1  # the number of the line that starts `carry`
        first = True
        while True:
            # The read lands after the carry in one buffer of the ingest's
            # pool, which the chunk's Arrow array then holds (no copy).
            buf = pa.allocate_buffer(len(carry) + self.chunk_bytes, memory_pool=POOL)
            view = memoryview(buf).cast("B")
            view[: len(carry)] = carry
            got = _read_into(self.stream, view[len(carry) :])
            start, end = 0, len(carry) + got
            if first:
                first = False
                if view[:end][: len(UTF8_BOM)] == UTF8_BOM:
                    start = len(UTF8_BOM)
            if not got:
                if self._long_line:
                    self._end_long_line()
                elif carry:
                    yield self._chunk(buf.slice(0, len(carry)), lineno)
                return
            if self._long_line:  # `carry` is empty: its bytes went to the spill
                data = bytes(view[start:end])
                cut = data.find(b"\n")
                if cut < 0:
                    self._long_piece(data)
                    continue
                self._long_piece(data[:cut])
                self._end_long_line()
                lineno += 1
                start += cut + 1
            cut = _last_newline(view[start:end])
            if cut < 0:
                carry = bytes(view[start:end])
            else:
                chunk = self._chunk(buf.slice(start, cut + 1), lineno)
                yield chunk
                lineno += chunk.lines
                carry = bytes(view[start + cut + 1 : end])
            if len(carry) > MAX_LINE_BYTES:  # a line too long to keep whole: stream it past
                self._long_line = lineno
                self._long_size = 0
                self._long_offset = self._spill_tell()
                self._long_piece(carry)
                carry = b""

    # Over-long lines that do not fit in a chunk -----------------------------

    def _spill_tell(self) -> int:
        return self.spill.tell() if self.spill is not None else -1

    def _long_piece(self, data: bytes) -> None:
        self._long_size += len(data)
        if self.spill is not None:
            self.spill.write(data)

    def _end_long_line(self) -> None:
        size = self._long_size
        self.early.append(EarlyReject(self._long_line, _too_long(size), self._long_offset, size))
        self._long_line = 0

    # One chunk of whole lines ----------------------------------------------

    def _chunk(self, buf: pa.Buffer, first_line: int) -> Chunk:
        data = memoryview(buf).cast("B")
        arr = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(arr == NEWLINE) + 1
        if len(ends) == 0 or ends[-1] != len(arr):  # a last line without newline
            ends = np.append(ends, len(arr))
        n = len(ends)
        offsets = np.zeros(n + 1, dtype=np.int32)
        offsets[1:] = ends
        lengths = np.diff(offsets) - (arr[ends - 1] == NEWLINE)
        valid = lengths <= MAX_LINE_BYTES
        for i in np.flatnonzero(~valid):
            self._early(first_line + int(i), _too_long(int(lengths[i])), data, offsets, int(i))
        if arr.max() >= 0x80:
            self._check_utf8(arr, data, offsets, valid, first_line)
        buffers = [None, pa.py_buffer(offsets), buf]
        null_count = n - int(valid.sum())
        if null_count:
            buffers[0] = pa.py_buffer(np.packbits(valid, bitorder="little"))
        lines = pa.StringArray.from_buffers(n, buffers[1], buffers[2], buffers[0], null_count)
        linenos = int64_array(np.arange(first_line, first_line + n, dtype=np.int64))
        table = pa.Table.from_arrays([linenos, lines], names=["lineno", "line"])
        return Chunk(table, first_line, n)

    def _check_utf8(
        self,
        arr: np.ndarray,
        data: memoryview,
        offsets: np.ndarray,
        valid: np.ndarray,
        first_line: int,
    ) -> None:
        whole = pa.StringArray.from_buffers(len(valid), pa.py_buffer(offsets), pa.py_buffer(data))
        try:
            whole.validate(full=True)
            return
        except pa.ArrowInvalid:
            pass
        # Error path: look only at lines holding a non-ASCII byte.
        suspects = np.unique(np.searchsorted(offsets, np.flatnonzero(arr >= 0x80), "right") - 1)
        for i in suspects:
            i = int(i)
            if not valid[i]:
                continue
            line = bytes(data[offsets[i] : offsets[i + 1]])
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                valid[i] = False
                reason = f"invalid UTF-8 (byte {exc.start + 1} of the line)"
                self._early(first_line + i, reason, data, offsets, i)

    def _early(
        self, lineno: int, reason: str, data: memoryview, offsets: np.ndarray, i: int
    ) -> None:
        start, end = int(offsets[i]), int(offsets[i + 1])
        if end > start and data[end - 1] == NEWLINE:
            end -= 1
        offset = -1
        if self.spill is not None:
            offset = self.spill.tell()
            self.spill.write(data[start:end])
        self.early.append(EarlyReject(lineno, reason, offset, end - start))


def int64_array(values: np.ndarray) -> pa.Array:
    """An Arrow int64 array over a numpy one (no copy; `pa.array` would import pandas)."""
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def copy_lines(table: pa.Table) -> pa.Table:
    """A copy of consecutive rows of a chunk's table (lineno, line), holding
    only their own bytes (a slice holds its whole chunk): the lines' bytes
    are one range, copied at once (`take` copies line by line, 3x slower)."""
    lineno, line = table.column("lineno"), table.column("line")
    if lineno.num_chunks != 1 or line.num_chunks != 1 or line.null_count:
        return pc.take(table, int64_array(np.arange(len(table))), memory_pool=POOL)
    n, linenos, lines = len(table), lineno.chunk(0), line.chunk(0)
    offsets = np.frombuffer(lines.buffers()[1], np.int32, n + 1, lines.offset * 4)
    lo, hi = int(offsets[0]), int(offsets[-1])
    data = pa.allocate_buffer(hi - lo, memory_pool=POOL)
    memoryview(data).cast("B")[:] = memoryview(lines.buffers()[2]).cast("B")[lo:hi]
    copied = pa.StringArray.from_buffers(n, pa.py_buffer(offsets - np.int32(lo)), data)
    numbers = np.frombuffer(linenos.buffers()[1], np.int64, n, linenos.offset * 8)
    return pa.Table.from_arrays([int64_array(numbers.copy()), copied], names=["lineno", "line"])


def prefetch(reader: LineReader) -> Iterator[tuple[Chunk | None, list[EarlyReject]]]:
    """The reader's chunks, each with the early rejects found up to it, read
    one ahead on a thread of their own (reading and cutting lines overlap the
    checks); the last item is (None, the remaining early rejects).

    An error of the reader (an unreadable or truncated file) is raised here.
    """
    items: queue.Queue[tuple[Chunk | None, list[EarlyReject]] | BaseException] = queue.Queue(1)
    stop = threading.Event()

    def put(item: tuple[Chunk | None, list[EarlyReject]] | BaseException) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in reader.chunks():
                early, reader.early = reader.early, []
                if not put((chunk, early)):
                    return
            put((None, reader.early))
        except BaseException as exc:  # handed to the consumer
            put(exc)

    thread = threading.Thread(target=produce, name="cxport-reader", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if item[0] is None:
                return
    finally:
        stop.set()
        thread.join()


def _read_into(stream: BinaryIO, view: memoryview) -> int:
    """Fill `view` from `stream` (short reads are read on); the bytes read."""
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def _last_newline(view: memoryview) -> int:
    """The index of the last newline in `view`, or -1: searched from the end."""
    arr = np.frombuffer(view, dtype=np.uint8)
    hi, step = len(arr), 1 << 16
    while hi > 0:
        lo = max(0, hi - step)
        hits = np.flatnonzero(arr[lo:hi] == NEWLINE)
        if len(hits):
            return lo + int(hits[-1])
        hi, step = lo, step * 4
    return -1


def _too_long(size: int) -> str:
    return f"line longer than 1 MiB ({size} bytes)"
