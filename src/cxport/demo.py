"""`cxport demo`: a realistic workspace, exported end to end.

Simulates (or imports real Twitter data), ingests into a local store, writes
every registered export for the last complete month of the data into a
folder and summarises what came out.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cxport.exports import ExportRequest, ExportResult, run_exports
from cxport.limits import Limits
from cxport.store import open_store

DEMO_TZ = "America/Sao_Paulo"

# One headline per export: a SQL expression over the file's rows (English headers).
HEADLINES: dict[str, tuple[str, str]] = {
    "resolved-conversations": (
        "median first response",
        'concat(CAST(median("First Response Time (s)") AS BIGINT), \' s\')',
    ),
    "open-conversations": ("still new", "count(*) FILTER (WHERE \"Current Status\" = 'NEW')"),
    "messages": ("inbound / outbound", "concat(count(*) FILTER (WHERE Direction = 'INBOUND'),"
                 " ' / ', count(*) FILTER (WHERE Direction = 'OUTBOUND'))"),
    "teams": ("replies", 'sum("Replies")'),
    "contacts": ("conversations", 'sum("Number of Conversations")'),
    "topics": ("conversations", 'sum("Total Conversations")'),
    "tags": ("messages tagged", 'sum("Total Messages")'),
    "agent-presence": ("hours", 'round(sum("Duration (s)") / 3600, 1)'),
    "agent-metrics": ("mean utilization", 'concat(round(avg("Utilization (%)"), 1), \' %\')'),
    "response-times": ("median response", 'concat(CAST(median("Agent Response Time (s)") AS BIGINT), \' s\')'),
    "virtual-agents": ("handovers", 'sum("Handover to Agent")'),
    "contact-attributes": ("attributes", 'count(DISTINCT "Attribute ID")'),
}  # fmt: skip


@dataclass(frozen=True)
class DemoRow:
    result: ExportResult
    headline: str


@dataclass(frozen=True)
class DemoRun:
    """What a demo wrote: a row per export, from one store, for one month."""

    rows: list[DemoRow]
    db: Path
    date_from: dt.date
    date_to: dt.date

    def try_command(self, cxport: str = "cxport") -> str:
        """An export of the demo's own month and store, to run as printed."""
        return (
            f"{cxport} export messages --db {shlex.quote(str(self.db))}"
            f" --from {self.date_from} --to {self.date_to} --tz {DEMO_TZ} --output messages.csv"
        )


def last_complete_month(latest: dt.datetime) -> tuple[dt.date, dt.date]:
    """The last calendar month that ended before `latest`."""
    first_of_this = latest.date().replace(day=1)
    last = first_of_this - dt.timedelta(days=1)
    return last.replace(day=1), last


def headline(export: str, path: Path) -> str:
    label, expr = HEADLINES.get(export, ("", ""))
    if not expr or path.suffix != ".csv":
        return ""
    try:
        with duckdb.connect() as con:
            value = con.execute(
                f"SELECT {expr} FROM read_csv(?, header = true, all_varchar = false)",
                [str(path)],
            ).fetchone()
    except duckdb.Error:
        return ""
    shown = "" if value is None or value[0] is None else str(value[0])
    return f"{label}: {shown}" if shown else ""


def run_demo(
    out_dir: Path,
    *,
    twcs: Path | None = None,
    conversations: int = 4000,
    seed: int = 7,
    today: dt.date | None = None,
    limits: Limits | None = None,
    say: Callable[[str], None] = print,
) -> DemoRun:
    from cxport.exports.defs import EXPORTS
    from cxport.ingest import ingest_files

    out_dir.mkdir(parents=True, exist_ok=True)
    records = out_dir / "records.ndjson"
    db = out_dir / "demo.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    if twcs is not None:
        from cxport.importers.twcs import import_twcs

        say(f"importing {twcs} …")
        import_twcs(twcs, records)
    else:
        from cxport.simulate import simulate

        today = today or dt.date.today()
        start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=14)
        days = (today - start).days
        say(f"simulating {conversations} conversations from {start} over {days} days …")
        simulate(records, seed=seed, conversations=conversations, start=start, days=days)
    con = open_store(db, limits=limits)
    try:
        summary = ingest_files(con, [str(records)])
        say(f"ingested {sum(summary.stored.values())} records into {db}")
        row = con.execute('SELECT max("at") FROM r_message').fetchone()
        latest = row[0] if row and row[0] else dt.datetime.now(dt.UTC).replace(tzinfo=None)
        date_from, date_to = last_complete_month(latest)
        as_of = latest.replace(tzinfo=dt.UTC)
        say(f"exporting {date_from} … {date_to} ({DEMO_TZ}) as of {as_of:%Y-%m-%dT%H:%M:%SZ}")
        requests = [
            ExportRequest(
                export=definition.name,
                date_from=date_from,
                date_to=date_to,
                tz=DEMO_TZ,
                as_of=as_of,
                request_id="demo",
            )
            for definition in EXPORTS
        ]
        done = run_exports(con, [(r, out_dir / r.file_name()) for r in requests])
        results = [DemoRow(r, headline(r.export, Path(r.output))) for r in done]
    finally:
        con.close()
    return DemoRun(results, db, date_from, date_to)
