"""How a batch's errors are told: problem lines, and the rejects file.

A problem reads `SOURCE:LINE: field 'name': reason` (or `SOURCE:LINE:
reason` when it is about the whole line). The rejects file of skip-invalid
mode has one line per rejected line, `SOURCE<TAB>LINE<TAB>REASON<TAB>ORIGINAL
LINE`: the file (or body) it came from, its line number there, the reasons
of the line joined by `; ` (tabs and newlines made spaces in both), the
original bytes unchanged (see docs/decisions.md).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from typing import IO, Any

from cxport.ingest.batch import Batch

MAX_PROBLEMS = 100  # problems listed in an InvalidInput (the total is counted)


def problem(field: str, reason: str) -> str:
    """`field 'name': reason` (odd names, e.g. unknown ones, JSON-quoted)."""
    if not field:
        return reason
    if "'" in field or "\\" in field or not field.isprintable():
        return f"field {json.dumps(field, ensure_ascii=False)}: {reason}"
    return f"field '{field}': {reason}"


def problem_lines(b: Batch, limit: int = MAX_PROBLEMS) -> tuple[list[str], int, int]:
    """(the first problems, by line, as text; total problems; lines with problems)."""
    rows = b.run(
        "SELECT lineno, field, reason FROM ingest_errs ORDER BY lineno, field, reason LIMIT ?",
        [limit],
    )
    counts = b.run("SELECT count(*), count(DISTINCT lineno) FROM ingest_errs")
    total, lines = (int(counts[0][0]), int(counts[0][1])) if counts else (0, 0)
    return [f"{b.source}:{n}: {problem(f, r)}" for n, f, r in rows], total, lines


def write_rejects(b: Batch, out: IO[bytes], spill: IO[bytes] | None) -> int:
    """Append the batch's rejected lines to `out`, by line; returns how many."""
    b.con.execute(
        "SELECT e.lineno, e.field, e.reason, coalesce(r.raw, l.raw), s.off, s.len"
        " FROM ingest_errs e LEFT JOIN ingest_raw r USING (lineno)"
        " LEFT JOIN ingest_lines_raw l USING (lineno) LEFT JOIN ingest_spill s USING (lineno)"
        " ORDER BY e.lineno, e.field, e.reason"
    )
    n = 0
    source = _one_cell(b.source)
    for lineno, rows in itertools.groupby(_fetch(b), key=lambda r: r[0]):
        group = list(rows)
        reason = _one_cell("; ".join(problem(r[1], r[2]) for r in group))
        _, _, _, raw, off, length = group[0]
        if raw is not None:
            original = raw.encode()
            if original.endswith(b"\n"):
                original = original[:-1]
        elif spill is not None and off is not None and off >= 0:
            spill.seek(off)
            original = spill.read(length)
        else:
            original = b""
        out.write(f"{source}\t{lineno}\t{reason}\t".encode() + original + b"\n")
        n += 1
    return n


def _one_cell(text: str) -> str:
    """`text` without tabs and line breaks (a cell of the rejects file)."""
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _fetch(b: Batch) -> Iterator[tuple[Any, ...]]:
    while rows := b.con.fetchmany(10_000):
        yield from rows
