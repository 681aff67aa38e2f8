"""A folder destination (`file:///folder`): write under a temporary name, flush to disk,
rename."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from cxport.deliver import is_temporary_of, temporary_name


class FolderDestination:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def __enter__(self) -> FolderDestination:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def put_file(self, source: Path, relative: str) -> str:
        """Copy `source` to `relative` under the folder; the final path."""
        return self._put(relative, lambda f: _copy(source, f))

    def put_bytes(self, data: bytes, relative: str) -> str:
        return self._put(relative, lambda f: f.write(data))

    def _put(self, relative: str, write: Callable[[BinaryIO], object]) -> str:
        final = self.root / relative
        final.parent.mkdir(parents=True, exist_ok=True)
        for stale in final.parent.glob(f".{final.name}.*.part"):
            if is_temporary_of(final.name, stale.name):  # an interrupted earlier try
                stale.unlink(missing_ok=True)
        part = final.parent / temporary_name(final.name, secrets.token_hex(4))
        try:
            with open(part, "wb") as f:
                write(f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(part, final)
        except BaseException:
            part.unlink(missing_ok=True)
            raise
        return str(final)


def _copy(source: Path, out: BinaryIO) -> None:
    with open(source, "rb") as f:
        shutil.copyfileobj(f, out)
