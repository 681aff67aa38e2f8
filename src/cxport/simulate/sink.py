"""Where the records go: a file, a gzip file, or standard output."""

from __future__ import annotations

import os
import sys
import zlib
from pathlib import Path
from typing import BinaryIO


class Sink:
    """Where the bytes go: a file (gzip when its name ends in `.gz`) or stdout.

    A regular file is written under a temporary name and renamed when
    complete, so an interrupted run never leaves a truncated file under the
    asked name. Anything else that exists (a device such as /dev/null, a
    pipe) is written in place: renaming over it would replace it.
    """

    def __init__(self, out: str | Path, gzip_level: int = 6) -> None:
        self.name = str(out)
        self._final: Path | None = None
        self._owned = False  # whether close() must close the file
        self._file: BinaryIO
        target = Path(out)
        if self.name == "-":
            self._file = sys.stdout.buffer
        elif target.exists() and not target.is_file():
            self._file = open(target, "wb", buffering=0)  # noqa: SIM115 (closed in close/abort)
            self._owned = True
        else:
            self._final = target
            self._tmp = target.with_name(target.name + ".partial")
            self._file = open(self._tmp, "wb", buffering=0)  # noqa: SIM115 (closed in close/abort)
            self._owned = True
        # wbits 31: a gzip member with mtime 0 and no file name, so bytes are reproducible.
        gz = self.name.endswith(".gz")
        self._zip = zlib.compressobj(gzip_level, zlib.DEFLATED, 31) if gz else None

    def write(self, data: bytes | bytearray) -> None:
        if self._zip is not None:
            data = self._zip.compress(data)
        self._file.write(data)

    def close(self) -> None:
        if self._zip is not None:
            self._file.write(self._zip.flush())
        self._file.flush()
        if self._owned:
            self._file.close()
        if self._final is not None:
            os.replace(self._tmp, self._final)

    def abort(self) -> None:
        if self._owned:
            self._file.close()
        if self._final is not None:
            self._tmp.unlink(missing_ok=True)
