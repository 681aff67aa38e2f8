"""Import the Kaggle "Customer Support on Twitter" CSV (TWCS) as cxport records.

`import_twcs` is the one entry point (the CLI's `cxport import twcs` calls
it). It streams the CSV into a throw-away DuckDB database (`twcs_reader`),
derives threads and conversations there in bulk SQL (`twcs_model`) and
writes the records (`twcs_records`); DuckDB spills to disk, so memory stays
bounded whatever the file's size. The mapping is documented in
`docs/twcs-mapping.md`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import os
import tempfile
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cxport.errors import InvalidInput, UsageError
from cxport.importers import twcs_model, twcs_records, twcs_text
from cxport.importers.twcs_reader import HeaderError, load_csv

DEFAULT_GAP = dt.timedelta(hours=24)
MAX_REPORTED = 1000  # problems kept (by line) in errors and summaries; all are counted
DEFAULT_MEMORY_LIMIT = "1GB"


@dataclass(frozen=True)
class ImportSummary:
    """What an import read, skipped and wrote."""

    rows_read: int  # data records in the file (header and blank lines excluded)
    rows_skipped: int  # invalid rows left out (only with skip_invalid)
    skipped: list[str] = field(default_factory=list)  # `file:line: field: reason`, first 1000
    records: dict[str, int] = field(default_factory=dict)  # records written, per type
    brands: int = 0
    conversations: int = 0
    seconds: float = 0.0

    @property
    def records_written(self) -> int:
        return sum(self.records.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def __str__(self) -> str:
        """The summary as the CLI prints it: counts, then each skipped row."""
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in self.records.items())
        lines = [
            f"{self.rows_read:,} rows read, {self.rows_skipped:,} skipped;"
            f" {self.conversations:,} conversations with {self.brands:,} brands;"
            f" {self.records_written:,} records ({kinds});"
            f" {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)",
            *(f"  skipped {problem}" for problem in self.skipped),
        ]
        if self.rows_skipped > len(self.skipped):
            lines.append(f"  … and more: {self.rows_skipped:,} rows skipped in all")
        return "\n".join(lines)


def import_twcs(
    csv_path: str | Path,
    out_path: str | Path,
    *,
    gap: dt.timedelta = DEFAULT_GAP,
    skip_invalid: bool = False,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    work_dir: str | Path | None = None,
    fast_reader: bool = True,
) -> ImportSummary:
    """Convert the TWCS file `csv_path` (`.gz` allowed) to NDJSON records at `out_path`.

    A row that cannot be imported is named by line, field and reason. Without
    `skip_invalid` any such row raises `InvalidInput` and nothing is written;
    with it the row is left out and listed in the summary. `gap` is the
    inactivity after which a thread's next tweet starts a new conversation
    (and the previous one is resolved automatically). The output appears
    only once complete (`.gz` compresses it).
    """
    started = time.monotonic()
    csv_path, out_path = Path(csv_path), Path(out_path)
    if gap <= dt.timedelta(0):
        raise UsageError(f"the inactivity gap must be positive, got {gap}")
    if not csv_path.is_file():
        raise UsageError(f"no such file: {csv_path}")
    if out_path.is_dir():
        raise UsageError(f"out: {out_path} is a folder; name a file in it")
    name = csv_path.name
    with (
        tempfile.TemporaryDirectory(prefix="cxport-twcs-", dir=work_dir) as tmp,
        closing(duckdb.connect(":memory:")) as con,
    ):
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{Path(tmp) / 'spill'}'")
        con.execute("SET preserve_insertion_order = false")
        twcs_text.install(con)
        try:
            read = load_csv(csv_path, con, max_problems=MAX_REPORTED, fast=fast_reader)
        except HeaderError as exc:
            problem = f"{name}:1: header: {exc}"
            raise InvalidInput(f"{name} is not a TWCS file", [problem]) from None
        twcs_model.parse(con)
        twcs_model.drop_invalid(con)
        looped = twcs_model.find_threads(con)
        bad_rows, bad_fields = twcs_model.problem_count(con)
        rows_bad = read.unreadable + bad_rows
        problems = [
            f"{name}:{line}: {text}"
            for line, text in sorted(read.problems + twcs_model.first_problems(con, MAX_REPORTED))[
                :MAX_REPORTED
            ]
        ]
        if rows_bad and not skip_invalid:
            raise InvalidInput(
                f"{name}: {rows_bad} invalid row(s), nothing written"
                " (--skip-invalid leaves them out)",
                problems,
                total=read.unreadable + bad_fields,
            )
        if looped:
            twcs_model.drop_looped(con)
        twcs_model.assign_parties(con)
        twcs_model.split_conversations(con, gap)
        counts = twcs_records.count_records(con)
        brands = twcs_model.brand_count(con)
        _write_atomically(out_path, lambda out: twcs_records.write_records(con, out))
    return ImportSummary(
        rows_read=read.rows,
        rows_skipped=rows_bad,
        skipped=problems,
        records=counts,
        brands=brands,
        conversations=counts["conversation"],
        seconds=time.monotonic() - started,
    )


def _write_atomically(path: Path, write: Callable[[twcs_records.ByteSink], None]) -> None:
    """Write through a temporary file in the same directory (created if missing),
    renamed when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_name = path.with_name(f".{path.name}.partial")
    try:
        with tmp_name.open("wb") as raw:
            if path.suffix == ".gz":
                with gzip.GzipFile(fileobj=raw, mode="wb") as zipped:
                    write(zipped)
            else:
                write(raw)
        os.replace(tmp_name, path)
    except BaseException:
        tmp_name.unlink(missing_ok=True)
        raise
