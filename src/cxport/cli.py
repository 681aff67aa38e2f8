"""The `cxport` command: parses options, calls one service function, renders."""

from __future__ import annotations

import datetime as dt
import functools
import os
import shlex
import shutil
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from cxport import usage
from cxport.errors import CxportError, InvalidField, UsageError
from cxport.exports.defs import EXPORTS
from cxport.limits import Limits

if TYPE_CHECKING:
    from cxport.engines import Engine
    from cxport.exports import ExportRequest, ExportResult
    from cxport.exports.kept import Kept
    from cxport.ingest import IngestSummary
    from cxport.lake import SyncResult
    from cxport.service.ingest import FactsResult
    from cxport.store import Connection

T = TypeVar("T")
P = ParamSpec("P")


@click.group()
@click.version_option(package_name="cxport")
@click.option("--memory-limit", envvar="CXPORT_MEMORY_LIMIT", default="", metavar="SIZE",
              help="Memory DuckDB may use (e.g. 200MB, 4GB); past it, work spills to disk."
                   " A local Spark session's heap too. Default: an eighth of this"
                   " machine's memory.")  # fmt: skip
@click.option("--temp-directory", envvar="CXPORT_TEMP_DIRECTORY", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Where work past the memory limit spills (default: <store>.tmp).")  # fmt: skip
@click.pass_context
def main(ctx: click.Context, memory_limit: str, temp_directory: Path | None) -> None:
    """cxport: analytics data exports of a messaging operation."""
    limits = Limits(memory_limit, temp_directory)
    try:
        limits.memory_bytes  # noqa: B018 (read to check it)
    except CxportError as exc:  # "memory limit: …": click names the option itself
        reason = str(exc).partition(": ")[2] or str(exc)
        raise click.BadParameter(reason, param_hint="--memory-limit") from None
    ctx.obj = limits


def limits() -> Limits:
    """The memory limit and spill folder the command line was given (`main`)."""
    found = click.get_current_context().find_root().obj
    return found if isinstance(found, Limits) else Limits()


def fail(exc: CxportError) -> None:
    """One line naming the option and why, the first problems under it, the exit code."""
    click.echo(f"cxport: {_as_option(exc)}", err=True)
    problems: list[str] = getattr(exc, "problems", [])
    for problem in problems[:100]:
        click.echo(f"  {problem}", err=True)
    more = max(getattr(exc, "total", 0), len(problems)) - len(problems[:100])
    if more > 0:
        click.echo(f"  … and {more} more problems", err=True)
    sys.exit(exc.exit_code)


# field → click's name of its option, where they differ
_PARAM_OF = {"from": "date_from", "to": "date_to", "format": "fmt", "channel": "channels"}


def _as_option(exc: CxportError) -> str:
    """Core errors name the request field (`tz: …`); the command line names its option
    (an `InvalidField` no option of the command takes: `--field`)."""
    message = str(exc)
    field, sep, rest = message.partition(": ")
    ctx = click.get_current_context(silent=True)
    if sep and ctx is not None:
        for name in (field, _PARAM_OF.get(field)):
            for param in ctx.command.params:
                if param.name == name and isinstance(param, click.Option):
                    return f"{max(param.opts, key=len)}: {rest}"
    if isinstance(exc, InvalidField):
        return f"--{exc.field.replace('_', '-')}: {exc.reason}"
    return message


def handle_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Translate what a command raises into one line and an exit code: the core's
    errors (2: usage or input; 1: other), Ctrl-C (130, saying what was stored)
    and an operating-system error (1), never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except CxportError as exc:
            fail(exc)
        except (KeyboardInterrupt, Exception) as exc:
            from cxport.ingest import is_interrupt

            if is_interrupt(exc):
                said = str(exc) if isinstance(exc, KeyboardInterrupt) else ""
                click.echo(f"cxport: {said or 'interrupted'}", err=True)
                sys.exit(130)
            if not isinstance(exc, OSError):
                raise
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(f"cxport: {exc.strerror or exc}{where}", err=True)
            sys.exit(1)

    return run


def _parse_instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        t = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise UsageError(
            f"--as-of: not an ISO 8601 instant: {value!r} (e.g. 2024-06-30T23:59:59Z)"
        ) from None
    if t.tzinfo is None:
        raise UsageError(f"--as-of: the instant {value!r} needs Z or an offset")
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
@click.option(
    "--lake",
    type=click.Path(file_okay=False),
    default=None,
    help="Then append the stored batches to this lake too (as `cxport lake sync` does).",
)
@click.argument("files", nargs=-1, required=True)
@handle_errors
def ingest_cmd(
    db: str,
    workspace: str,
    skip_invalid: bool,
    rejects: str | None,
    no_facts: bool,
    lake: str | None,
    files: tuple[str, ...],
) -> None:
    """Ingest NDJSON records (FILE may be - for standard input, or .gz); each file is one atomic batch.

    Then the workspace's kept derived facts are rebuilt (see `cxport facts`).
    """
    from rich.console import Console
    from rich.table import Table

    from cxport.ingest import ingest_files
    from cxport.service.ingest import ingest as service_ingest
    from cxport.service.store_access import StoreAccess

    if rejects and not skip_invalid:
        raise UsageError("--rejects is only used with --skip-invalid")
    if skip_invalid and not rejects:
        raise UsageError("--skip-invalid needs --rejects FILE: rejected lines are never dropped")
    for name in files:
        usage.ingest_input(name)
    usage.output_file("--db", db)
    if rejects:
        usage.output_file("--rejects", rejects, devices=True)
    if lake is not None:
        usage.output_dir("--lake", lake)
    on_terminal = sys.stderr.isatty()
    stored: list[IngestSummary] = []
    seconds: list[float] = []

    def run(con: Connection) -> IngestSummary:
        stored.append(ingest_files(
            con, list(files), workspace=workspace, skip_invalid=skip_invalid,
            rejects_path=rejects, progress=on_terminal,
        ))  # fmt: skip
        return stored[0]

    def around(build: Callable[[], FactsResult]) -> FactsResult:
        (result, took) = _build_facts(build, db, workspace, stored[0], on_terminal)
        seconds.append(took)
        return result

    # The service's ingest: the store in turn with every process's exports, then the kept facts.
    summary, built = service_ingest(
        StoreAccess(Path(db), limits=limits()), workspace, run, not no_facts, around
    )
    facts = None if built is None else (built, seconds[0])
    console = Console(stderr=True)
    # The title on a line of its own: a long store path wraps there, not mid-word in a table title.
    console.print(f"ingested into {db} (workspace {workspace})", highlight=False, markup=False,
                  soft_wrap=True)  # fmt: skip
    table = Table()
    table.add_column("stored")
    table.add_column("records", justify="right")
    for name, n in sorted(summary.stored.items()):
        table.add_row(name, f"{n:,}")
    table.add_row("[bold]total", f"[bold]{summary.total_stored:,}")
    table.add_row("duplicates (skipped)", f"{summary.duplicates:,}")
    table.add_row("rejected", f"{summary.rejected:,}")
    table.add_row("warnings", f"{summary.warning_count:,}")
    console.print(table)
    for batch in summary.batches:
        if not batch.lines:
            console.print(f"warning: {batch.source} is empty: it held no records",
                          highlight=False, markup=False, soft_wrap=True)  # fmt: skip
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
        (found, was_built), took = facts
        console.print(_facts_line(found, was_built, took), highlight=False, markup=False)
    if lake is not None:
        ingested = [batch.batch_id for batch in summary.batches]
        console.print(_lake_line(_sync_lake(db, lake, workspace, ingested)),
                      highlight=False, markup=False, soft_wrap=True)  # fmt: skip


def _build_facts(
    build: Callable[[], FactsResult], db: str, workspace: str, summary: IngestSummary,
    on_terminal: bool,
) -> tuple[FactsResult, float]:  # fmt: skip
    """Rebuild the kept facts after an ingest (a spinner on a terminal). On Ctrl-C,
    says that the batches stay stored and how to build the facts later."""
    from rich.console import Console

    from cxport.ingest import is_interrupt

    try:
        if not on_terminal:
            return _timed(build)
        with Console(stderr=True).status(f"building the kept facts of workspace {workspace} …"):
            return _timed(build)
    except (KeyboardInterrupt, Exception) as exc:
        if not is_interrupt(exc):
            raise
        raise KeyboardInterrupt(
            f"interrupted while building the kept facts: the batch is stored"
            f" ({summary.total_stored:,} records); exports compute the facts until"
            f" `cxport facts --db {shlex.quote(db)} --workspace {shlex.quote(workspace)}`"
        ) from None


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
@handle_errors
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
        con = open_store(db, limits=limits())
        try:
            (found, built), seconds = _timed(lambda: refresh(con, workspace, force=force))
        finally:
            con.close()
    except CxportError as exc:
        fail(exc)
        return
    click.echo(_facts_line(found, built, seconds), err=True)


@main.group("lake")
def lake_group() -> None:
    """The store's record tables as a Parquet dataset, for engines that read files."""


@lake_group.command("sync")
@click.option("--db", "db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--lake", required=True, type=click.Path(file_okay=False),
              help="The lake folder (created on first use).")  # fmt: skip
@click.option("--workspace", default="default", show_default=True)
@handle_errors
def lake_sync_cmd(db: str, lake: str, workspace: str) -> None:
    """Write the store's batches the lake lacks (one file per record type and day).

    Layout: LAKE/<record_type>/date=YYYY-MM-DD/b<first>-<last>.parquet (see docs/decisions.md).
    """
    if not Path(db).exists():
        raise UsageError(f"--db: no store at {db}")
    usage.output_dir("--lake", lake)
    click.echo(_lake_line(_sync_lake(db, lake, workspace)), err=True)


def _sync_lake(db: str, lake: str, workspace: str, ingested: list[int] | None = None) -> SyncResult:
    """`lake.sync` over the store read-only, taking turns with ingests and the service;
    after an ingest, each of its batches (`ingested`) a part of its own."""
    from cxport.lake import LakeError, sync
    from cxport.service.store_access import StoreAccess

    with StoreAccess(Path(db), limits=limits()).read() as con:
        if ingested is None:
            usage.known_scope(con, workspace, ())
        try:
            return sync(con, Path(lake), workspace, alone=ingested or ())
        except LakeError as exc:
            if ingested is None:
                raise
            later = f"cxport lake sync --db {shlex.quote(db)} --lake {shlex.quote(lake)}"
            raise LakeError(f"{exc} (the batches are stored; `{later}` writes them)") from exc


def _lake_line(result: SyncResult) -> str:
    if not result.batches:
        return f"lake {result.lake}: up to date (workspace {result.workspace})"
    n = len(result.batches)
    return (
        f"lake {result.lake}: {n} batch{'' if n == 1 else 'es'}, {result.records:,} records"
        f" → {len(result.files)} file{'' if len(result.files) == 1 else 's'}"
        f" (workspace {result.workspace})"
    )


EXPORT_NAMES = tuple(d.name for d in EXPORTS)


@main.command("export")
@click.argument(
    "exports", metavar="EXPORT...", nargs=-1, required=True,
    type=click.Choice([*EXPORT_NAMES, "all"]),
)  # fmt: skip
@click.option("--db", "db", type=click.Path(dir_okay=False),
              help="The store.  [required; with --engine spark, optional: it checks"
              " --workspace and --channel]")  # fmt: skip
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="[required]")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="[required]")
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of range and file.")
@click.option("--channel", "channels", multiple=True, help="Channel id (repeat); none = all.")
@click.option("--as-of", "as_of", default=None, help="Snapshot instant (ISO 8601); default now.")
@click.option(
    "--describe", is_flag=True,
    help="Print what the export holds (its rows, date range, channel filter, order, and"
    " every column) in --lang, instead of writing it; needs no other option.",
)  # fmt: skip
@click.option(
    "--lang", type=click.Choice(["en", "pt-BR", "id"]), default="en", show_default=True,
    help="Headers in English, in Brazilian Portuguese, or the column ids (snake_case,"
    " the same in every language and version: for loaders and BI tools).",
)  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None,
              help="Default: from --output's extension (.csv, .parquet), else csv.")  # fmt: skip
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
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb",
              show_default=True, help="spark: computed by Spark over --lake (cxport[spark]).")  # fmt: skip
@click.option("--lake", default=None, type=click.Path(file_okay=False),
              help="--engine spark: the lake to read (written by `cxport lake sync`).")  # fmt: skip
@click.option("--spark-master", default=None,
              help="--engine spark: a cluster's master URL (spark://…, yarn, k8s://…);"
              " default local[2].")  # fmt: skip
@click.option("--spark-remote", default=None, help="--engine spark: a Spark Connect URL (sc://…).")
@click.option("--workspace", default="default", show_default=True)
@click.option("--output", default=None, help="File to write; - for standard output.")
@click.option("--output-dir", default=None,
              help="Folder for several exports (or all), one file each, named as the service names"
              " them: {workspace}_{export}_{from}_{to}_{id}.{ext}.")  # fmt: skip
@handle_errors
def export_cmd(
    exports: tuple[str, ...],
    db: str | None,
    date_from: dt.datetime | None,
    date_to: dt.datetime | None,
    tz: str,
    channels: tuple[str, ...],
    as_of: str | None,
    describe: bool,
    lang: str,
    fmt: str | None,
    bom: bool,
    no_formula_guard: bool,
    excel: bool,
    delimiter: str | None,
    decimal: str | None,
    engine: str,
    lake: str | None,
    spark_master: str | None,
    spark_remote: str | None,
    workspace: str,
    output: str | None,
    output_dir: str | None,
) -> None:
    """Write one of the twelve exports for a date range to --output, or several
    (`all`: the twelve) from one snapshot into --output-dir."""
    from cxport.exports import ExportRequest
    from cxport.service.store_access import StoreAccess

    if describe:
        _describe(exports, lang)
        return
    start, end = _required("date_from", date_from), _required("date_to", date_to)
    db_path = _required("db", db) if engine == "duckdb" else db
    try:
        _engine_options(engine, db, lake, spark_master, spark_remote)
        names = _export_names(exports, output, output_dir)
        usage.time_zone(tz)
        request = ExportRequest(
            export=names[0],
            date_from=start.date(),
            date_to=end.date(),
            tz=tz,
            channels=channels,
            as_of=_parse_instant(as_of),
            lang=lang,
            format=usage.format_for(output or "", fmt),
            bom=bom,
            formula_guard=not no_formula_guard,
            excel=excel,
            delimiter=delimiter,
            decimal=decimal,
            workspace=workspace,
        )
        if db_path is not None and not Path(db_path).exists():
            raise UsageError(f"--db: no store at {db_path}")
        jobs = _export_jobs(request, names, output, output_dir)
        if db_path is not None:
            # Read-only, taking turns with ingests and `cxport serve` (service/store_access.py).
            with StoreAccess(Path(db_path), limits=limits()).read() as con:
                usage.known_scope(con, workspace, channels)
                if engine == "duckdb":
                    results = _run_exports(jobs, con)
        if engine == "spark":
            from cxport.engines.spark import open_engine

            with open_engine(
                Path(lake or ""), workspace, spark_master, spark_remote, limits()
            ) as on:
                results = _run_exports(jobs, on=on)
    except CxportError as exc:
        fail(exc)
        return
    if len(results) == 1 and results[0].output != "-":  # several: a line each as written
        result = results[0]
        click.echo(f"{result.rows} rows, {result.bytes} bytes → {result.output}", err=True)


def _engine_options(
    engine: str, db: str | None, lake: str | None, master: str | None, remote: str | None
) -> None:
    """The options of the engine: Spark reads a lake (--db, when given, only checks
    the workspace and channels); DuckDB reads the store and takes no Spark option."""
    if engine == "spark" and lake is None:
        sync = f"cxport lake sync --db {shlex.quote(db)} --lake DIR" if db else "cxport lake sync"
        raise UsageError(
            f"--lake: --engine spark reads a lake: give --lake DIR (`{sync}` writes it)"
        )
    if engine == "spark" and master and remote:
        raise UsageError("--spark-master, --spark-remote: give one of them")
    given = [n for n, v in (("--lake", lake), ("--spark-master", master),
                            ("--spark-remote", remote)) if v]  # fmt: skip
    if engine == "duckdb" and given:
        raise UsageError(f"{given[0]}: only with --engine spark")


def _describe(exports: tuple[str, ...], lang: str) -> None:
    """`--describe`: each export's definition, from the catalogue (`dictionary.py`)."""
    from cxport.exports.dictionary import describe

    names = EXPORT_NAMES if "all" in exports else tuple(dict.fromkeys(exports))
    text_lang = "en" if lang == "id" else lang  # ids are named in both
    click.echo("\n\n".join(describe(name, text_lang) for name in names))


def _required(name: str, value: T | None) -> T:
    """The value of an option that is required unless --describe is given."""
    if value is None:
        ctx = click.get_current_context()
        option = next(p for p in ctx.command.params if p.name == name)
        raise click.MissingParameter(ctx=ctx, param=option)
    return value


def _export_names(
    exports: tuple[str, ...], output: str | None, output_dir: str | None
) -> list[str]:
    names = list(EXPORT_NAMES) if "all" in exports else list(dict.fromkeys(exports))
    if output is not None and output_dir is not None:
        raise UsageError("--output and --output-dir: give one of them")
    if output is None and output_dir is None:
        raise UsageError("--output FILE (or --output-dir DIR) is needed")
    if len(names) > 1 and output_dir is None:
        raise UsageError(f"{len(names)} exports need --output-dir DIR (one file each)")
    return names


def _export_jobs(
    request: ExportRequest, names: list[str], output: str | None, output_dir: str | None
) -> list[tuple[ExportRequest, str]]:
    """Each export's request and file: --output, or in --output-dir its name as the
    service gives it (`service.md`), one request id for the call."""
    if output is not None:
        usage.output_file("--output", output)
        return [(request, output)]
    folder = usage.output_dir("--output-dir", output_dir or ".")
    rid = uuid.uuid4().hex[:8]
    requests = [replace(request, export=name, request_id=rid) for name in names]
    return [(r, str(folder / r.file_name())) for r in requests]


def _run_exports(
    jobs: list[tuple[ExportRequest, str]], con: Connection | None = None, on: Engine | None = None
) -> list[ExportResult]:
    """One export alone (computed for its own scope); several from one snapshot
    (`run_exports`), a line per file as it is written (after a spinner on a terminal).
    On the store `con`, or on the engine `on` (Spark)."""
    from rich.console import Console

    from cxport.exports import run_export, run_export_on, run_exports, run_exports_on

    def run_all(on_result: Callable[[ExportResult], None]) -> list[ExportResult]:
        if on is not None:
            return run_exports_on(on, jobs, on_result=on_result)
        assert con is not None
        return run_exports(con, jobs, on_result=on_result)

    if len(jobs) == 1:
        if on is not None:
            return [run_export_on(on, *jobs[0])]
        assert con is not None
        return [run_export(con, *jobs[0])]
    console = Console(stderr=True)
    done = [0]

    def written(result: ExportResult) -> None:
        done[0] += 1
        console.print(
            f"[{done[0]}/{len(jobs)}] {result.export}: {result.rows} rows, {result.bytes} bytes"
            f" → {result.output}", highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip

    if not sys.stderr.isatty():
        return run_all(written)
    with console.status(f"writing {len(jobs)} exports from one snapshot …"):
        return run_all(written)


@main.command("simulate")
@click.option("--out", required=True, help="NDJSON file to write (.gz: compressed; - stdout).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--conversations", type=click.IntRange(min=0), default=5000, show_default=True)
@click.option("--start", type=click.DateTime(["%Y-%m-%d"]), default=None, help="First day.")
@click.option("--days", type=click.IntRange(min=1), default=35, show_default=True)
@handle_errors
def simulate_cmd(
    out: str, seed: int, conversations: int, start: dt.datetime | None, days: int
) -> None:
    """Write the records of a simulated messaging operation."""
    from cxport.simulate import simulate

    usage.output_file("--out", out, devices=True)
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
@handle_errors
def import_twcs_cmd(csv_path: str, out: str, gap_hours: float, skip_invalid: bool) -> None:
    """Customer Support on Twitter (twcs.csv) → records."""
    from cxport.importers.twcs import DEFAULT_MEMORY_LIMIT as TWCS_MEMORY_LIMIT
    from cxport.importers.twcs import import_twcs
    from cxport.limits import size_bytes

    usage.output_file("--out", out)
    gap = dt.timedelta(hours=gap_hours)
    given = limits()
    if given.temp_directory is not None:
        given.temp_directory.mkdir(parents=True, exist_ok=True)
    memory = min(given.memory_bytes, size_bytes(TWCS_MEMORY_LIMIT))  # at most 1 GB of it
    summary = import_twcs(csv_path, out, gap=gap, skip_invalid=skip_invalid,
                          memory_limit=f"{memory}B", work_dir=given.temp_directory)  # fmt: skip
    click.echo(str(summary), err=True)


@main.command("demo")
@click.option("--out", "out_dir", default=None, type=click.Path(),
              help="Folder to write (default: cxport-demo; with --twcs, cxport-demo-twcs).")  # fmt: skip
@click.option("--twcs", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Run the demo on a Twitter customer-support CSV instead of simulated data.")  # fmt: skip
@click.option("--conversations", type=click.IntRange(min=1), default=4000, show_default=True)
@click.option("--serve", is_flag=True, help="Then serve the web page on --port with a demo admin and supervisor, until Ctrl-C.")  # fmt: skip
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@handle_errors
def demo_cmd(
    out_dir: str | None, twcs: str | None, conversations: int, serve: bool, port: int
) -> None:
    """Simulate a workspace, ingest it, write every export for the last complete month
    (with --serve: then serve the web page on it)."""
    from rich.console import Console
    from rich.table import Table

    from cxport.demo import run_demo

    console = Console(stderr=False)
    out_dir = out_dir or ("cxport-demo-twcs" if twcs else "cxport-demo")
    usage.output_dir("--out", out_dir)
    try:
        demo = run_demo(
            Path(out_dir),
            twcs=Path(twcs) if twcs else None,
            conversations=conversations,
            limits=limits(),
            say=lambda s: console.print(s, highlight=False),
        )
    except CxportError as exc:
        fail(exc)
        return
    table = Table(title=f"cxport demo → {out_dir}/")
    for name in ("export", "rows", "size", "headline"):
        table.add_column(name, justify="right" if name in ("rows", "size") else "left")
    for row in demo.rows:
        r = row.result
        table.add_row(r.export, f"{r.rows:,}", f"{r.bytes / 1024:,.0f} KiB", row.headline)
    console.print(table)
    console.print(f"Files are in {out_dir}/; the store is {demo.db}. Try:", highlight=False)
    console.print(demo.try_command(_invocation()), highlight=False, markup=False, soft_wrap=True)
    if serve:
        from cxport.web.demo_site import serve_demo

        serve_demo(demo.db, "127.0.0.1", port, lambda s: console.print(s, highlight=False))


def _invocation() -> str:
    """How to run cxport again from the user's shell, exactly as printed: `cxport`
    when that is this program on the PATH (and not one `uv run` put there), else
    this program's full path."""
    me = Path(sys.argv[0]).resolve()
    found = shutil.which("cxport")
    if found and Path(found).resolve() == me and "UV_RUN_RECURSION_DEPTH" not in os.environ:
        return "cxport"
    if me.name == "cxport" and me.is_file():
        return shlex.quote(str(me))
    return f"{shlex.quote(sys.executable)} -m cxport"


# The service's commands (serve, worker, user, token, settings) live in their own module.
def _register_service_commands() -> None:
    from cxport.cli_service import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register_service_commands()
