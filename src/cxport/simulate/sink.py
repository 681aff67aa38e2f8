"""Where the records go: a file, a gzip file, or standard output.

Compression and writing happen on a thread of their own: zlib and file
writes release the GIL, so they use the second core while the simulation
goes on. One thread, blocks in order: the bytes are the same as if written
inline. A bounded queue keeps memory flat when the disk is slower.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import zlib
from pathlib import Path
from typing import BinaryIO

from cxport.errors import UsageError

_QUEUED_BLOCKS = 8


class Sink:
    """A file (gzip when its name ends in `.gz`), or stdout for `-`.

    A regular file is written under a temporary name and renamed when
    complete, so an interrupted run never leaves a truncated file under the
    asked name; missing parent folders are created. Anything else that exists
    (a device such as /dev/null, a pipe) is written in place: renaming over it
    would replace it. A folder is refused.
    """

    def __init__(self, out: str | Path, gzip_level: int = 6) -> None:
        self.name = str(out)
        self._final: Path | None = None
        self._owned = False  # whether close() must close the file
        self._file: BinaryIO
        target = Path(out)
        if self.name == "-":
            self._file = sys.stdout.buffer
        elif target.is_dir():
            raise UsageError(f"out: {out} is a folder; name a file in it")
        elif target.exists() and not target.is_file():
            self._file = open(target, "wb", buffering=0)  # noqa: SIM115 (closed in close/abort)
            self._owned = True
        else:
            self._final = target
            target.parent.mkdir(parents=True, exist_ok=True)
            self._tmp = target.with_name(target.name + ".partial")
            self._file = open(self._tmp, "wb", buffering=0)  # noqa: SIM115 (closed in close/abort)
            self._owned = True
        # wbits 31: a gzip member with mtime 0 and no file name, so bytes are reproducible.
        gz = self.name.endswith(".gz")
        self._zip = zlib.compressobj(gzip_level, zlib.DEFLATED, 31) if gz else None
        self._queue: queue.Queue[bytes | None] = queue.Queue(_QUEUED_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="cxport-sink", daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while (block := self._queue.get()) is not None:
            if self._error is not None:
                continue  # keep taking blocks so the producer never blocks forever
            try:
                self._file.write(self._zip.compress(block) if self._zip else block)
            except BaseException as exc:  # reported to the producer on its next call
                self._error = exc

    def _check(self) -> None:
        if self._error is not None:
            raise self._error

    def write(self, data: bytes) -> None:
        self._check()
        self._queue.put(data)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._check()
        if self._zip is not None:
            self._file.write(self._zip.flush())
        self._file.flush()
        if self._owned:
            self._file.close()
        if self._final is not None:
            os.replace(self._tmp, self._final)

    def abort(self) -> None:
        if self._thread.is_alive():
            self._error = self._error or RuntimeError("aborted")
            self._queue.put(None)
            self._thread.join()
        if self._owned:
            self._file.close()
        if self._final is not None:
            self._tmp.unlink(missing_ok=True)
