"""The lake: the store's record tables as a Parquet dataset, for an engine that
reads files (Spark) rather than the DuckDB store.

Layout of a lake folder `DIR`:

    DIR/_cxport_lake.json                          the manifest (below)
    DIR/<record_type>/date=YYYY-MM-DD/b<first>-<last>.parquet

- One folder per record type (`message`, `status_change`, … as in
  `records.RECORD_TYPES`), partitioned Hive-style by `date`: the UTC day of
  the record's `at`. The partition value is in the folder name only.
- A file holds the rows of one *part*: the store batches `first`…`last` of
  one workspace that one `sync` wrote together (one file per record type and
  day of the part; a batch that touches two days of messages makes two
  files). `cxport ingest --lake` writes each of its batches as a part of its
  own (`b7-7.parquet`); `cxport lake sync` all the batches the lake lacks as
  one part.
- Each file's columns are exactly its record table's in the store
  (`r_<type>`: `workspace`, `record_id`, `at`, the fields, `content_hash`,
  `batch_id`, `lineno`, the keys), with the store's types.
- `_cxport_lake.json` says which store batches each workspace has in the
  lake (ranges of batch ids) and each record type's columns (so a type with
  no file yet still reads as a typed, empty table). An engine can read the
  files alone; the manifest is what makes `sync` incremental.

Nothing half-written is ever visible. A part is written by DuckDB's
partitioned `COPY` into a staging folder `DIR/_staging-<id>/` (on the same
file system; engines skip names starting with `_`), each finished file is
flushed to disk and renamed into its partition, and the manifest (written
whole, then renamed) records the part last. If a write or rename fails, the
files already moved are removed again; a staging folder left by a crash is removed
by the next `sync`. A crash between the renames and the manifest leaves
complete files whose batches the manifest does not list: the next `sync`
writes those batches again (under the same name when no batch came since),
and the copies are harmless because a reader keeps one row per record id
(`FIRST_STORED`), as the store does.

Syncs of one lake take turns through an advisory lock (`DIR/_cxport_lake.lock`).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cxport.errors import CxportError
from cxport.ingest.checks import ident, q
from cxport.records import BY_NAME, RECORD_TYPES
from cxport.store import Connection

MANIFEST = "_cxport_lake.json"
LOCK = "_cxport_lake.lock"
STAGING = "_staging-"
PARTITION = "date"
FORMAT = 1

# One row per record id, the first stored: the store keeps a record's first
# copy (an earlier batch's, or the earlier line of a batch) and skips re-sends,
# so a copy of a row in the lake is always a re-written part or a re-send.
# Plain window SQL: sqlglot translates it for Spark.
FIRST_STORED = (
    "row_number() OVER (PARTITION BY workspace, record_id ORDER BY batch_id, lineno NULLS LAST)"
)

Ranges = list[tuple[int, int]]


class LakeError(CxportError):
    """The lake cannot be read or written."""


@dataclass(frozen=True)
class SyncResult:
    """What one `sync` wrote."""

    lake: Path
    workspace: str
    batches: tuple[int, ...]  # the store batches the lake lacked, now in it
    files: tuple[Path, ...]  # the files written
    records: int  # rows in them


@dataclass
class Manifest:
    """`_cxport_lake.json`: each workspace's batches in the lake, each type's columns."""

    batches: dict[str, Ranges] = field(default_factory=dict)
    columns: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @classmethod
    def read(cls, lake: Path) -> Manifest:
        path = lake / MANIFEST
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise LakeError(f"{path}: lake format {data.get('format')!r}, not {FORMAT}")
            return cls(
                {w: [(int(a), int(b)) for a, b in r] for w, r in data["batches"].items()},
                {t: [(str(c), str(d)) for c, d in cols] for t, cols in data["columns"].items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise LakeError(f"{path}: not a cxport lake manifest ({exc})") from None

    def synced(self, workspace: str) -> set[int]:
        return {i for a, b in self.batches.get(workspace, []) for i in range(a, b + 1)}

    def write(self, lake: Path) -> None:
        """Written whole to a temporary name, then renamed over the old one."""
        data = {
            "format": FORMAT,
            "batches": {w: [list(r) for r in ranges] for w, ranges in sorted(self.batches.items())},
            "columns": {t: [list(c) for c in cols] for t, cols in self.columns.items()},
        }
        tmp = lake / f"{MANIFEST}.{uuid.uuid4().hex}.tmp"
        try:
            with tmp.open("w", encoding="utf-8") as f:
                json.dump(data, f)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(lake / MANIFEST)
        finally:
            tmp.unlink(missing_ok=True)


def ranges(ids: Iterable[int]) -> Ranges:
    """Sorted integers as runs of consecutive ones: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    out: Ranges = []
    for i in sorted(set(ids)):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def sync(
    con: Connection, lake: Path, workspace: str = "default", alone: Collection[int] = ()
) -> SyncResult:
    """Write the workspace's store batches the lake lacks to `lake` (created when
    missing): those in `alone` (an ingest's) a part each, the others one part
    together; nothing when it has them all. Each part is in the manifest once written."""
    lake = Path(lake)
    files: list[Path] = []
    records = 0
    try:
        lake.mkdir(parents=True, exist_ok=True)
        with _locked(lake):
            for stale in lake.glob(f"{STAGING}*"):
                shutil.rmtree(stale, ignore_errors=True)  # a crashed sync's; ours are locked out
            manifest = Manifest.read(lake)
            rows = con.execute("SELECT batch_id FROM batches WHERE workspace = ?", [workspace])
            new = sorted({int(b) for (b,) in rows.fetchall()} - manifest.synced(workspace))
            together = [b for b in new if b not in alone]
            parts = [together] if together else []
            parts += [[b] for b in new if b in alone]
            for part in parts:
                written, n = _write_part(con, lake, workspace, part)
                files, records = files + written, records + n
                manifest.batches[workspace] = ranges(manifest.synced(workspace) | set(part))
                manifest.columns = _columns(con)
                manifest.write(lake)
    except (OSError, duckdb.IOException) as exc:
        raise LakeError(f"lake {lake}: cannot write it: {_reason(exc)}") from exc
    return SyncResult(lake, workspace, tuple(new), tuple(files), records)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc).splitlines()[0]


@contextmanager
def _locked(lake: Path) -> Iterator[None]:
    fd = os.open(lake / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases it


def _write_part(
    con: Connection, lake: Path, workspace: str, batch_ids: list[int]
) -> tuple[list[Path], int]:
    """The rows of `batch_ids`, every type, into their partitions: staged, then renamed."""
    name = f"b{batch_ids[0]}-{batch_ids[-1]}"
    chosen = " OR ".join(f"batch_id BETWEEN {a} AND {b}" for a, b in ranges(batch_ids))
    staging = lake / f"{STAGING}{uuid.uuid4().hex}"
    staging.mkdir()
    moved: list[Path] = []
    try:
        records = 0
        for rt in RECORD_TYPES:
            row = con.execute(
                f"COPY (SELECT *, strftime(\"at\", '%Y-%m-%d') AS {PARTITION} FROM {rt.table}"
                f" WHERE workspace = {q(workspace)} AND ({chosen}))"
                f" TO {q(str(staging / rt.name))} (FORMAT parquet, PARTITION_BY ({PARTITION}))"
            ).fetchall()
            records += int(row[0][0]) if row else 0
        for folder in sorted(staging.glob(f"*/{PARTITION}=*")):
            staged = sorted(folder.glob("*.parquet"))  # one, unless DuckDB splits a partition
            for i, src in enumerate(staged):
                suffix = "" if len(staged) == 1 else f"-{i}"
                dst = lake / folder.parent.name / folder.name / f"{name}{suffix}.parquet"
                _flush(src)
                dst.parent.mkdir(parents=True, exist_ok=True)
                src.replace(dst)
                moved.append(dst)
    except BaseException:
        for dst in moved:  # the lake as it was (the manifest does not list them yet)
            dst.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return moved, records


def _flush(path: Path) -> None:
    """On disk before it is renamed into view (a crash must not leave it empty there)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _columns(con: Connection) -> dict[str, list[tuple[str, str]]]:
    """Each record type's columns and types, as the store holds them."""
    found: dict[str, list[tuple[str, str]]] = {rt.name: [] for rt in RECORD_TYPES}
    tables = {rt.table: rt.name for rt in RECORD_TYPES}
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns"
        " WHERE table_catalog = current_database() AND table_schema = 'main'"
        " ORDER BY table_name, ordinal_position"
    ).fetchall()
    for table, column, data_type in rows:
        if table in tables:
            found[tables[table]].append((str(column), str(data_type)))
    return found


def read_sql(lake: Path, record_type: str, workspace: str | None = None) -> str:
    """DuckDB SQL reading a record type from the lake as the store holds it: its
    columns and types, one row per record id (`FIRST_STORED`); one workspace's
    rows, or every workspace's when None."""
    rt = BY_NAME[record_type]
    columns = Manifest.read(Path(lake)).columns.get(rt.name)
    if not columns:
        raise LakeError(f"no cxport lake at {lake} (no {MANIFEST} naming {rt.name})")
    names = ", ".join(ident(c) for c, _ in columns)
    folder = Path(lake) / rt.name
    if not any(folder.glob(f"{PARTITION}=*/*.parquet")):
        typed = ", ".join(f"CAST(NULL AS {t}) AS {ident(c)}" for c, t in columns)
        return f"SELECT {typed} WHERE false"
    files = q(str(folder / f"{PARTITION}=*" / "*.parquet"))
    source = f"read_parquet({files}, hive_partitioning = true, union_by_name = true)"
    where = "" if workspace is None else f" WHERE workspace = {q(workspace)}"
    return (
        f"SELECT {names} FROM (SELECT {names}, {FIRST_STORED} AS lake_copy FROM {source}{where})"
        " WHERE lake_copy = 1"
    )


def define(con: Connection, lake: Path, workspace: str | None = None) -> None:
    """Temporary views `r_<type>` on `con`: the lake's record tables, named as the store's."""
    for rt in RECORD_TYPES:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {rt.table} AS {read_sql(lake, rt.name, workspace)}"
        )
