"""The `cxport` command: parses options, calls one service function, renders."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from cxport.errors import CxportError, UsageError


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


EXPORT_NAMES = (
    "resolved-conversations", "open-conversations", "messages", "teams", "contacts", "topics",
    "tags", "agent-presence", "agent-metrics", "response-times", "virtual-agents",
    "contact-attributes",
)  # fmt: skip


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
