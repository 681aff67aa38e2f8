"""What the benchmarks share: one child process per measurement, and the floors.

A measurement runs in a child process of its own (`python -m bench.step …`),
so that its peak memory is that process's alone: the child times the
operation itself (not the interpreter's start), reads its own maximum
resident set size and prints one `Measurement` as a JSON line.

The floors are what this machine does at best with the same bytes, with no
cxport code in the way:

- `read_json_floor`: DuckDB's plain `read_json` of the NDJSON into one table
  of a new database file, every field of `ingest.md` given as a column of
  its type (auto-detection would sample the first records and silently drop
  fields that appear later: less work, not the same read);
- `copy_floor`: a plain `COPY` to CSV of a table holding exactly an export's
  rows and columns (its own values, loaded beforehand, untimed): the floor of
  the row exports, which write about as many rows as they read;
- `group_floor`: a plain `GROUP BY` over the kept rows an aggregate export
  must read for its range (`AGGREGATE_READS`), written to CSV by `COPY`: the
  floor of the exports that read hundreds of thousands of rows to write a
  few (issue 18, item 5), where writing their file costs next to nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
MARKER = "BENCH-MEASUREMENT "


@dataclass
class Measurement:
    """One run of one step, as its child process saw it."""

    step: str
    seconds: float  # wall time of the operation, inside the child
    peak_rss: int  # bytes: the child's maximum resident set size
    in_bytes: int = 0  # what it read (NDJSON), when that is its measure
    out_bytes: int = 0  # what it wrote
    rows: int | None = None
    columns: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # CPU time (user + system, all threads) of the operation


class ChildFailed(RuntimeError):
    """A measurement's child process failed; the message holds the end of its stderr."""


def peak_rss() -> int:
    """This process's maximum resident set size so far, in bytes (Linux: ru_maxrss is KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_time() -> float:
    """CPU seconds used by this process so far, every thread, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: …` then `t[0]` is the wall time in seconds, `t[1]` the CPU time.

    On a shared machine the wall time grows with the others' load; the CPU
    time much less so, which is why both are kept.
    """
    elapsed = [0.0, 0.0]
    begin, begin_cpu = time.perf_counter(), cpu_time()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - begin
        elapsed[1] = cpu_time() - begin_cpu


def emit(measurement: Measurement) -> None:
    """The child's answer to its parent: one marked JSON line on stdout."""
    print(MARKER + json.dumps(asdict(measurement)), flush=True)


def run_child(args: list[str], timeout: float | None = None) -> Measurement:
    """Run `python -m bench.step ARGS` in a fresh process and return its measurement."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.step", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return Measurement(**data)
    tail = "\n".join(done.stderr.strip().splitlines()[-15:])
    raise ChildFailed(f"`bench.step {' '.join(args)}` exited {done.returncode}:\n{tail}")


# --- floors ----------------------------------------------------------------------------------


def record_columns() -> str:
    """Every field of every record type as a DuckDB `columns` struct literal."""
    from cxport.records import COMMON_FIELDS, RECORD_TYPES, Kind

    types: dict[str, str] = {name: "VARCHAR" for name in COMMON_FIELDS}
    types["at"] = "TIMESTAMPTZ"
    for rt in RECORD_TYPES:
        for f in rt.fields:
            types.setdefault(f.name, "JSON" if f.kind is Kind.WEEKLY else f.sql_type)
    return "{" + ", ".join(f"'{name}': '{sql}'" for name, sql in types.items()) + "}"


def read_json_floor(ndjson: Path, db: Path) -> Measurement:
    """DuckDB's plain `read_json` of the NDJSON into a table of a new database file."""
    for stale in (db, db.with_name(db.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    with stopwatch() as t:
        con.execute(
            "CREATE TABLE raw AS SELECT * FROM read_json(?, format = 'newline_delimited',"
            f" columns = {record_columns()})",
            [str(ndjson)],
        )
        con.close()
    con = duckdb.connect(str(db), read_only=True)
    row = con.execute("SELECT count(*) FROM raw").fetchone()
    columns = len(con.execute("DESCRIBE raw").fetchall())
    con.close()
    return Measurement(
        "read_json_floor",
        t[0],
        peak_rss(),
        in_bytes=ndjson.stat().st_size,
        rows=int(row[0]) if row else 0,
        columns=columns,
        cpu_seconds=t[1],
    )


def copy_floor(csv: Path, out: Path) -> Measurement:
    """A plain COPY to CSV of a table with the rows and columns of `csv` (an export's file).

    The table is loaded from the file itself (untimed), as text, so the COPY
    writes the same values the export wrote: the floor of writing that file.
    """
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE export_rows AS SELECT * FROM read_csv(?, header = true, all_varchar = true,"
        " quote = '\"', escape = '\"', delim = ',', strict_mode = false)",
        [str(csv)],
    )
    columns = len(con.execute("DESCRIBE export_rows").fetchall())
    with stopwatch() as t:
        row = con.execute(
            f"COPY export_rows TO '{out.as_posix()}' (FORMAT csv, HEADER true)"
        ).fetchone()
    con.close()
    return Measurement(
        "copy_floor",
        t[0],
        peak_rss(),
        out_bytes=out.stat().st_size,
        rows=int(row[0]) if row else 0,
        columns=columns,
        detail={"floor": "COPY"},
        cpu_seconds=t[1],
    )


@dataclass(frozen=True)
class KeptRead:
    """The rows of one kept fact an aggregate export reads for its range, and its grouping."""

    fact: str  # the kept table
    where: str  # its rows in the range: `$start` and `$end` stand for the range's instants
    by: str  # the columns the export groups them by


def _in_range(at: str) -> str:
    return f"{at} >= $start AND {at} < $end"


def _overlapping(start: str, end: str) -> str:
    """An interval overlapping the range (one still open at the snapshot: a NULL end)."""
    return f"{start} < $end AND coalesce({end}, 'infinity'::TIMESTAMP) > $start"


def _credited(unit: str) -> tuple[KeptRead, ...]:
    """What the agent and team exports credit (`facts/credit.py`), by `unit`."""
    return (
        KeptRead("f_reply", _in_range("sent_at"), unit),
        KeptRead("f_resolution", _in_range("resolved_at"), unit),
        KeptRead("f_label_added", _in_range("added_at"), unit),
        KeptRead("f_csat_answer", _in_range("answered_at"), unit),
        KeptRead("f_lock_session", _overlapping("started_at", "ended_at"), unit),
    )


# What each aggregate export reads of the kept facts for its range (the facts
# behind `ExportDef.facts`), each grouped as the export groups it. Exports not
# named here are row exports: their floor is `copy_floor`.
AGGREGATE_READS: dict[str, tuple[KeptRead, ...]] = {
    "teams": (
        *_credited("team_id"),
        KeptRead("f_first_response", _in_range("end_at"), "end_team_id"),
        KeptRead("f_first_resolution", _in_range("resolved_at"), "team_id"),
    ),
    "agent-metrics": (
        *_credited("agent_id"),
        KeptRead("f_presence_interval", _overlapping("started_at", "ended_at"), "agent_id"),
        KeptRead("f_agent_utilized", _overlapping("from_at", "to_at"), "agent_id"),
    ),
    "virtual-agents": (KeptRead("f_va_activity", _in_range("act_at"), "va_id, channel_id"),),
    "topics": (KeptRead("f_topic_application", _in_range("applied_at"), "topic_id, channel_id"),),
    "tags": (KeptRead("f_tag_application", _in_range("applied_at"), "tag_id, channel_id"),),
}


# --- the work floor of aggregate exports (proposed measure) ----------------------------------
#
# The least work that computes an aggregate export's own numbers from the kept
# rows of its range, written here from `metrics.md` and `exports.md` apart from
# the export's SQL: the same distinct counts, sums of clipped durations,
# averages and latest resolution per conversation, in one GROUP BY per kept
# fact (the groups of all of them in one result, `UNION ALL BY NAME`). Left
# out, as cxport's own cost: the snapshot and request views, the `as_of`
# projection of open intervals (an open one is clipped at the range's end),
# the channel filter, the joins for names and channels, formatting and order.
# `$k` stands for the kept schema, `$start` / `$end` for the range's instants.


def _clip_ms(start: str, end: str) -> str:
    """Milliseconds of an interval clipped to the range (an open one runs to its end)."""
    return (
        f"date_diff('millisecond', greatest({start}, $start), least(coalesce({end}, $end), $end))"
    )


def _credit_work(unit: str) -> list[str]:
    """What `teams` and `agent-metrics` credit, per `unit` (`metrics.md`, "Credit")."""
    return [
        f"SELECT {unit}, count(*) AS replies, count(DISTINCT contact_profile_id) AS contacts_helped"
        f" FROM $k.f_reply WHERE {unit} IS NOT NULL AND {_in_range('sent_at')} GROUP BY ALL",
        f"SELECT {unit}, count(*) FILTER (WHERE w) AS resolves_with_reply,"
        f" count(*) FILTER (WHERE NOT w) AS resolves_without_reply FROM ("
        f"SELECT {unit}, conversation_id, arg_max(with_reply, (resolved_at, record_id)) AS w"
        f" FROM $k.f_resolution WHERE {unit} IS NOT NULL AND {_in_range('resolved_at')}"
        f" GROUP BY ALL) GROUP BY ALL",
        f"SELECT {unit}, count(*) FILTER (WHERE kind = 'tag') AS tags_added,"
        f" count(*) FILTER (WHERE kind = 'topic') AS topics_added FROM $k.f_label_added"
        f" WHERE {unit} IS NOT NULL AND {_in_range('added_at')} GROUP BY ALL",
        f"SELECT {unit}, "
        + ", ".join(f"count(*) FILTER (WHERE score = {n}) AS csat_{n}" for n in range(1, 6))
        + f" FROM $k.f_csat_answer WHERE {unit} IS NOT NULL AND {_in_range('answered_at')}"
        " GROUP BY ALL",
        f"SELECT {unit}, "
        + ", ".join(
            f"sum(ms) FILTER (WHERE class = '{c}') AS {c}_ms"
            for c in ("handle", "no_reply", "cherry_picking")
        )
        + ", count(DISTINCT conversation_id) FILTER (WHERE class = 'handle') AS handled"
        f" FROM (SELECT {unit}, class, conversation_id,"
        f" {_clip_ms('started_at', 'ended_at')} AS ms FROM $k.f_lock_session"
        f" WHERE {unit} IS NOT NULL AND {_overlapping('started_at', 'ended_at')}) GROUP BY ALL",
    ]


AGGREGATE_WORK: dict[str, list[str]] = {
    "teams": [
        *_credit_work("team_id"),
        "SELECT end_team_id AS team_id, avg(business_ms) AS avg_first_response_ms"
        f" FROM $k.f_first_response WHERE end_team_id IS NOT NULL AND {_in_range('end_at')}"
        " GROUP BY ALL",
        "SELECT team_id, avg(resolution_ms) AS avg_resolution_ms FROM $k.f_first_resolution"
        f" WHERE team_id IS NOT NULL AND {_in_range('resolved_at')} GROUP BY ALL",
    ],
    "agent-metrics": [
        *_credit_work("agent_id"),
        "SELECT agent_id,"
        " sum(ms) FILTER (WHERE status = 'AVAILABLE') AS available_ms,"
        " sum(ms) FILTER (WHERE status <> 'AVAILABLE') AS away_ms FROM ("
        f"SELECT agent_id, status, {_clip_ms('started_at', 'ended_at')} AS ms"
        f" FROM $k.f_presence_interval WHERE {_overlapping('started_at', 'ended_at')})"
        " GROUP BY ALL",
        f"SELECT agent_id, sum({_clip_ms('from_at', 'to_at')}) AS utilized_ms"
        f" FROM $k.f_agent_utilized WHERE {_overlapping('from_at', 'to_at')} GROUP BY ALL",
    ],
    # Distinct conversations (messages) per group: the rows made distinct once, then
    # counted (a `count(DISTINCT …)` per column is several times slower here).
    "virtual-agents": [
        "SELECT va_id, channel_id, kind, count(*) AS conversations FROM ("
        "SELECT DISTINCT va_id, channel_id, kind, conversation_id FROM $k.f_va_activity"
        f" WHERE kind <> 'tag' AND {_in_range('act_at')}) GROUP BY ALL",
        "SELECT va_id, channel_id, count(DISTINCT message_id) AS messages_tagged,"
        " count(*) AS tags_applied FROM $k.f_va_activity"
        f" WHERE kind = 'tag' AND {_in_range('act_at')} GROUP BY ALL",
    ],
    "topics": [
        "SELECT topic_id, channel_id, count(*) AS total_conversations,"
        " count(*) FILTER (WHERE current) AS current_conversations FROM ("
        "SELECT DISTINCT topic_id, channel_id, conversation_id, current"
        f" FROM $k.f_topic_application WHERE {_in_range('applied_at')}) GROUP BY ALL",
    ],
    "tags": [
        "SELECT tag_id, channel_id, count(DISTINCT contact_profile_id) AS total_contacts,"
        " count(*) AS total_messages, count(*) FILTER (WHERE current) AS current_messages FROM ("
        "SELECT DISTINCT tag_id, channel_id, message_id, contact_profile_id, current"
        f" FROM $k.f_tag_application WHERE {_in_range('applied_at')}) GROUP BY ALL",
    ],
}


def _instant(t: dt.datetime) -> str:
    return f"TIMESTAMP '{t.isoformat(sep=' ')}'"


def work_floor_sql(export: str, schema: str, start: dt.datetime, end: dt.datetime) -> str:
    """`AGGREGATE_WORK[export]` over `schema`'s kept rows in `[start, end)` (naive UTC)."""
    parts = " UNION ALL BY NAME ".join(f"({q})" for q in AGGREGATE_WORK[export])
    return (
        parts.replace("$k", schema)
        .replace("$start", _instant(start))
        .replace("$end", _instant(end))
    )


def group_floor_sql(export: str, schema: str, start: dt.datetime, end: dt.datetime) -> str:
    """One `GROUP BY` per kept fact `export` reads, over its rows in `[start, end)` (naive
    UTC), counting each group; the groups of every fact in one result."""

    parts = []
    for read in AGGREGATE_READS[export]:
        where = read.where.replace("$start", _instant(start)).replace("$end", _instant(end))
        parts.append(
            f"SELECT '{read.fact}' AS fact, {read.by}, count(*) AS n"
            f" FROM {schema}.{read.fact} WHERE {where} GROUP BY ALL"
        )
    return " UNION ALL ".join(parts)


def group_floor(
    db: Path,
    export: str,
    start: dt.datetime,
    end: dt.datetime,
    as_of: dt.datetime,
    out: Path,
    work: bool = False,
) -> Measurement:
    """A plain `GROUP BY` over the kept rows `export` reads for `[start, end)`, to CSV;
    with `work`, the GROUP BYs computing its own aggregates (`AGGREGATE_WORK`).

    The store is opened and its kept facts found beforehand (untimed); they
    must be current at `as_of`, as the export measured beside it reads them.
    """
    from cxport.exports import kept
    from cxport.store import open_store

    con = open_store(db, read_only=True)
    found = kept.current(con, "default", as_of)
    if found is None:
        raise SystemExit(f"group floor: no current kept facts in {db} at {as_of}")
    make = work_floor_sql if work else group_floor_sql
    sql = make(export, found.schema, start, end)
    with stopwatch() as t:
        row = con.execute(f"COPY ({sql}) TO '{out.as_posix()}' (FORMAT csv, HEADER true)")
        written = row.fetchone()
    con.close()
    return Measurement(
        "work_floor" if work else "group_floor",
        t[0],
        peak_rss(),
        out_bytes=out.stat().st_size,
        rows=int(written[0]) if written else 0,
        detail={
            "floor": "work" if work else "GROUP BY",
            "reads": [r.fact for r in AGGREGATE_READS[export]],
        },
        cpu_seconds=t[1],
    )


# --- the machine -----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_bytes() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "not installed"


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on (the figures mean nothing without it)."""
    return {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": _memory_bytes(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyarrow": _version("pyarrow"),
        "pandas": _version("pandas"),
        "cxport": _version("cxport"),
        "commit": _git_commit(),
        "load_average": list(os.getloadavg()),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
