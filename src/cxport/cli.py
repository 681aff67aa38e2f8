"""The `cxport` command: parses options, calls one service function, renders."""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from cxport.errors import CxportError, InvalidInput, UsageError
from cxport.exports.defs import EXPORTS

if TYPE_CHECKING:
    from cxport.exports.kept import Kept

T = TypeVar("T")


@click.group()
@click.version_option(package_name="cxport")
def main() -> None:
    """cxport: analytics data exports of a messaging operation."""


def fail(exc: CxportError) -> None:
    click.echo(f"cxport: {exc}", err=True)
    sys.exit(exc.exit_code)


def _parse_instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise click.BadParameter(f"not an ISO 8601 instant: {value!r}") from None
    if t.tzinfo is None:
        raise click.BadParameter(f"the instant {value!r} needs Z or an offset")
    return t


@main.command("ingest")
@click.option(
    "--db",
    "db",
    required=True,
    type=click.Path(dir_okay=False),
    help="The store (created on first use).",
)
@click.option("--workspace", default="default", show_default=True)
@click.option(
    "--skip-invalid", is_flag=True, help="Store the valid records; reject the others to --rejects."
)
@click.option(
    "--rejects",
    "rejects",
    type=click.Path(dir_okay=False),
    help="With --skip-invalid: FILE<TAB>LINE<TAB>REASON<TAB>ORIGINAL per rejected line.",
)
@click.option(
    "--no-facts",
    is_flag=True,
    help="Do not rebuild the kept derived facts afterwards (exports compute them until `cxport facts`).",
)
@click.argument("files", nargs=-1, required=True)
def ingest_cmd(
    db: str,
    workspace: str,
    skip_invalid: bool,
    rejects: str | None,
    no_facts: bool,
    files: tuple[str, ...],
) -> None:
    """Ingest NDJSON records (FILE may be - for standard input, or .gz); each file is one atomic batch.

    Then the workspace's kept derived facts are rebuilt (see `cxport facts`).
    """
    from rich.console import Console
    from rich.table import Table

    from cxport.exports.kept import refresh
    from cxport.ingest import ingest_files
    from cxport.store import open_store

    try:
        if rejects and not skip_invalid:
            raise UsageError("--rejects is only used with --skip-invalid")
        if skip_invalid and not rejects:
            raise UsageError(
                "--skip-invalid needs --rejects FILE: rejected lines are never dropped"
            )
        con = open_store(db)
        try:
            summary = ingest_files(
                con, list(files), workspace=workspace, skip_invalid=skip_invalid,
                rejects_path=rejects, progress=sys.stderr.isatty(),
            )  # fmt: skip
            facts = None if no_facts else _timed(lambda: refresh(con, workspace))
        finally:
            con.close()
    except InvalidInput as exc:
        click.echo(f"cxport: {exc}", err=True)
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        if exc.total > len(exc.problems):
            click.echo(f"  … and {exc.total - len(exc.problems)} more problems", err=True)
        sys.exit(exc.exit_code)
    except CxportError as exc:
        fail(exc)
        return
    table = Table(title=f"ingested into {db} (workspace {workspace})")
    table.add_column("stored")
    table.add_column("records", justify="right")
    for name, n in sorted(summary.stored.items()):
        table.add_row(name, f"{n:,}")
    table.add_row("[bold]total", f"[bold]{summary.total_stored:,}")
    table.add_row("duplicates (skipped)", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    table.add_row("warnings", f"{summary.warning_count:,}")
    console = Console(stderr=True)
    console.print(table)
    for warning in summary.warnings:
        console.print(f"warning: {warning}", highlight=False, markup=False, soft_wrap=True)
    if summary.rejected and rejects:
        console.print(
            f"{summary.rejected:,} rejected line{'' if summary.rejected == 1 else 's'} → {rejects}",
            highlight=False,
            markup=False,
            soft_wrap=True,  # a long path stays on one line
        )
    if facts is not None:
        (found, built), seconds = facts
        console.print(_facts_line(found, built, seconds), highlight=False, markup=False)


def _timed(work: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    return work(), time.perf_counter() - start


def _facts_line(found: Kept | None, built: bool, seconds: float) -> str:
    if found is None:
        return "kept facts: none (no records)"
    state = f"built in {seconds:.1f} s" if built else "current"
    return f"kept facts: {state} (up to {found.horizon.isoformat(timespec='milliseconds')}Z)"


@main.command("facts")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--workspace", default="default", show_default=True)
@click.option("--force", is_flag=True, help="Rebuild even if they are current.")
def facts_cmd(db: str, workspace: str, force: bool) -> None:
    """Rebuild the workspace's kept derived facts if records came since.

    Exports whose snapshot is at or after the last record read them instead of
    computing them; `cxport ingest` runs this after its batches.
    """
    from cxport.exports.kept import refresh
    from cxport.store import open_store

    try:
        if not Path(db).exists():
            raise UsageError(f"--db: no store at {db}")
        con = open_store(db)
        try:
            (found, built), seconds = _timed(lambda: refresh(con, workspace, force=force))
        finally:
            con.close()
    except CxportError as exc:
        fail(exc)
        return
    click.echo(_facts_line(found, built, seconds), err=True)


EXPORT_NAMES = tuple(d.name for d in EXPORTS)


@main.command("export")
@click.argument("export", type=click.Choice(EXPORT_NAMES))
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--from", "date_from", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--to", "date_to", required=True, type=click.DateTime(["%Y-%m-%d"]))
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of range and file.")
@click.option("--channel", "channels", multiple=True, help="Channel id (repeat); none = all.")
@click.option("--as-of", "as_of", default=None, help="Snapshot instant (ISO 8601); default now.")
@click.option("--lang", type=click.Choice(["en", "pt-BR"]), default="en", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv")
@click.option("--bom", is_flag=True, help="Start the CSV with a byte-order mark (Excel).")
@click.option("--no-formula-guard", is_flag=True, help="Do not guard formula-like text cells.")
@click.option(
    "--excel",
    is_flag=True,
    help="CSV as Excel in the --lang locale opens it on a double-click: BOM, CRLF; "
    "pt-BR: ';' between fields and the decimal comma.",
)
@click.option("--delimiter", default=None, help="CSV field delimiter: , ; | or a tab.")
@click.option("--decimal", default=None, help="Decimal mark of averages: . or ,")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb")
@click.option("--workspace", default="default", show_default=True)
@click.option("--output", required=True, help="File to write; - for standard output.")
def export_cmd(
    export: str,
    db: str,
    date_from: dt.datetime,
    date_to: dt.datetime,
    tz: str,
    channels: tuple[str, ...],
    as_of: str | None,
    lang: str,
    fmt: str,
    bom: bool,
    no_formula_guard: bool,
    excel: bool,
    delimiter: str | None,
    decimal: str | None,
    engine: str,
    workspace: str,
    output: str,
) -> None:
    """Write one of the twelve exports for a date range."""
    from cxport.exports import ExportRequest, run_export
    from cxport.store import open_store

    try:
        if engine == "spark":
            raise UsageError("--engine spark is not available in this build; use duckdb")
        request = ExportRequest(
            export=export,
            date_from=date_from.date(),
            date_to=date_to.date(),
            tz=tz,
            channels=channels,
            as_of=_parse_instant(as_of),
            lang=lang,
            format=fmt,
            bom=bom,
            formula_guard=not no_formula_guard,
            excel=excel,
            delimiter=delimiter,
            decimal=decimal,
            workspace=workspace,
        )
        if not Path(db).exists():
            raise UsageError(f"--db: no store at {db}")
        con = open_store(db)
        try:
            result = run_export(con, request, output)
        finally:
            con.close()
    except CxportError as exc:
        fail(exc)
        return
    if output != "-":
        click.echo(f"{result.rows} rows, {result.bytes} bytes → {output}", err=True)


@main.command("simulate")
@click.option("--out", required=True, help="NDJSON file to write (.gz: compressed; - stdout).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--conversations", type=click.IntRange(min=0), default=5000, show_default=True)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day.")
@click.option("--days", type=click.IntRange(min=1), default=35, show_default=True)
def simulate_cmd(
    out: str, seed: int, conversations: int, start: dt.datetime | None, days: int
) -> None:
    """Write the records of a simulated messaging operation."""
    from cxport.simulate import simulate

    summary = simulate(
        out,
        seed=seed,
        conversations=conversations,
        start=start.date() if start else None,
        days=days,
    )
    if out != "-":
        total = sum(summary.records.values())
        click.echo(f"{total} records → {out}", err=True)


@main.group("import")
def import_group() -> None:
    """Turn data you already have into cxport records."""


@import_group.command("twcs")
@click.argument("csv_path", metavar="CSV", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, help="NDJSON file to write.")
@click.option("--gap-hours", type=click.FloatRange(min=0, min_open=True), default=24.0,
              show_default=True, help="Inactivity that starts a new conversation.")  # fmt: skip
@click.option("--skip-invalid", is_flag=True, help="Skip bad rows (reported) instead of failing.")
def import_twcs_cmd(csv_path: str, out: str, gap_hours: float, skip_invalid: bool) -> None:
    """Customer Support on Twitter (twcs.csv) → records."""
    from cxport.importers.twcs import import_twcs

    try:
        summary = import_twcs(
            csv_path, out, gap=dt.timedelta(hours=gap_hours), skip_invalid=skip_invalid
        )
    except CxportError as exc:
        _report(exc)
        fail(exc)
        return
    click.echo(str(summary), err=True)


@main.command("demo")
@click.option("--out", "out_dir", default="cxport-demo", show_default=True, type=click.Path())
@click.option("--twcs", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Run the demo on a Twitter customer-support CSV instead of simulated data.")  # fmt: skip
@click.option("--conversations", type=click.IntRange(min=1), default=4000, show_default=True)
def demo_cmd(out_dir: str, twcs: str | None, conversations: int) -> None:
    """Simulate a workspace, ingest it, write every export for the last complete month."""
    from rich.console import Console
    from rich.table import Table

    from cxport.demo import run_demo

    console = Console(stderr=False)
    try:
        rows = run_demo(
            Path(out_dir),
            twcs=Path(twcs) if twcs else None,
            conversations=conversations,
            say=lambda s: console.print(s, highlight=False),
        )
    except CxportError as exc:
        _report(exc)
        fail(exc)
        return
    table = Table(title=f"cxport demo → {out_dir}/")
    for name in ("export", "rows", "size", "headline"):
        table.add_column(name, justify="right" if name in ("rows", "size") else "left")
    for row in rows:
        r = row.result
        table.add_row(r.export, f"{r.rows:,}", f"{r.bytes / 1024:,.0f} KiB", row.headline)
    console.print(table)
    console.print(
        f"Files are in {out_dir}/; the store is {out_dir}/demo.duckdb "
        f"(try: cxport export messages --db {out_dir}/demo.duckdb --from … --to … --output m.csv)."
    )


def _report(exc: CxportError) -> None:
    for problem in getattr(exc, "problems", [])[:100]:
        click.echo(f"  {problem}", err=True)
