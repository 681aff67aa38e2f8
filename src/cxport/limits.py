"""How much memory DuckDB may use, and where it spills past it (issue 23).

One memory limit governs every step on a store: ingest, the kept facts'
build and refresh, and exports. Past it, DuckDB's sorts, joins, aggregates
and temporary tables spill to a temporary folder (by default beside the
store, `<store>.tmp`, DuckDB's own default name). The limit comes from the
settings (`CXPORT_MEMORY_LIMIT`); by default it is a share of the machine's
memory. The number of threads follows from it: DuckDB documents an absolute
minimum of 128 MB per thread, and each thread's operators hold buffers of
their own, so a small limit runs on fewer threads (`threads_for`).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxport.errors import UsageError

MiB = 1 << 20
MEMORY_SHARE = 8  # the default limit: one eighth of the machine's memory (3 GiB of 24)
SMALLEST = 128 * 10**6  # DuckDB's documented least per thread (at 64 MB a build hung)
PER_THREAD = 256 * MiB  # a thread for each this much of the limit (DuckDB's floor is 128 MB)

_UNITS = {
    "": 1, "b": 1,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}  # fmt: skip
_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*")


def size_bytes(text: str) -> int:
    """Bytes of a size as DuckDB writes and reads it: `200MB`, `3GB`, `2.7 GiB`."""
    match = _SIZE.fullmatch(text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _UNITS:
        raise UsageError(f"memory limit: {text!r} is no size (e.g. 200MB, 3GB, 2GiB)")
    return int(float(match.group(1)) * _UNITS[unit])


def machine_memory() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def default_memory() -> int:
    return max(256 * MiB, machine_memory() // MEMORY_SHARE)


def threads_for(memory: int) -> int:
    return max(1, min(os.cpu_count() or 1, memory // PER_THREAD))


@dataclass(frozen=True)
class Limits:
    """`memory`: a size (`200MB`), empty for the default share; `temp_directory`:
    where spills go, None for `<store>.tmp` beside the store."""

    memory: str = ""
    temp_directory: Path | None = None

    @property
    def memory_bytes(self) -> int:
        if not self.memory:
            return default_memory()
        value = size_bytes(self.memory)
        if value < SMALLEST:
            raise UsageError(f"memory limit: {self.memory} is below the least DuckDB needs (128MB)")
        return value

    def spill_folder(self, store: Path) -> Path:
        """Where spills go. Processes may share it: DuckDB names its files by
        process and removes its own (and the folder, once empty) on close."""
        return self.temp_directory or store.with_name(store.name + ".tmp")

    def apply(self, con: duckdb.DuckDBPyConnection, store: Path) -> None:
        """Set the limit, the threads and the spill folder on `con` (its database)."""
        memory = self.memory_bytes
        con.execute(f"SET memory_limit = '{memory // MiB}MiB'")
        con.execute(f"SET threads = {threads_for(memory)}")
        folder = self.spill_folder(store).absolute()
        (current,) = con.execute("SELECT current_setting('temp_directory')").fetchall()[0]
        if Path(current).absolute() != folder:
            folder.parent.mkdir(parents=True, exist_ok=True)
            # A database this process already opened and spilled from keeps its folder.
            with contextlib.suppress(duckdb.NotImplementedException):
                con.execute("SET temp_directory = ?", [folder.as_posix()])


def memory_of(con: duckdb.DuckDBPyConnection) -> int:
    """The memory limit in force on `con`, in bytes."""
    (text,) = con.execute("SELECT current_setting('memory_limit')").fetchall()[0]
    return size_bytes(str(text))
