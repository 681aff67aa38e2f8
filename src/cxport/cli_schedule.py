"""`cxport schedule`: make, list, pause, resume, delete scheduled exports, and `tick` (run
what is due, then exit: for cron). Each command parses, calls `service/schedules.py`,
renders. The CLI acts as the workspace's first admin."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import click

from cxport.errors import CxportError

DB = click.option("--db", required=True, type=click.Path(dir_okay=False), help="The store.")
CONTROL = click.option("--control", default=None, help="Control database URL.")
WORKSPACE = click.option("--workspace", default="default", show_default=True)


def _open(db: str, control: str | None, files: str | None = None) -> Any:
    from cxport.cli_service import _service

    return _service(db, control, files)


def _fail(exc: CxportError) -> None:
    from cxport.cli_service import _fail as fail

    fail(exc)


@click.group("schedule")
def schedule_group() -> None:
    """Scheduled exports: each complete hour, day or week, delivered to SFTP or a folder."""


@schedule_group.command("add")
@DB
@click.option("--name", required=True)
@click.option("--export", "export", required=True, help="One of the twelve export names.")
@click.option("--every", required=True, type=click.Choice(["hour", "day", "week"]))
@click.option("--tz", default="UTC", show_default=True, help="IANA time zone of the periods.")
@click.option("--channel", "channels", multiple=True, help="Channel id (repeat); none = all.")
@click.option("--lang", type=click.Choice(["en", "pt-BR", "id"]), default="en", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv",
              show_default=True)  # fmt: skip
@click.option("--include-content", is_flag=True, help="Include message text (default: empty).")
@click.option("--lateness", default="5m", show_default=True,
              help="Wait this long after a period ends, so late records land.")  # fmt: skip
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First local day delivered (default: the period in progress).")  # fmt: skip
@click.option("--to", "to", required=True,
              help="sftp://user@host:port/folder or file:///folder")  # fmt: skip
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="SFTP private key (kept encrypted).")  # fmt: skip
@click.option("--password-stdin", is_flag=True, help="Read the SFTP password from standard input.")
@WORKSPACE
@CONTROL
def add_cmd(db: str, name: str, export: str, every: str, tz: str, channels: tuple[str, ...],
            lang: str, fmt: str, include_content: bool, lateness: str, since: dt.datetime | None,
            to: str, key_file: str | None, password_stdin: bool, workspace: str,
            control: str | None) -> None:  # fmt: skip
    """Make a schedule (as the workspace's admin)."""
    from cxport.deliver import parse_address
    from cxport.service import schedules
    from cxport.service.settings import Settings

    password = None
    try:
        address, in_url = parse_address(to)
        settings = Settings()  # CXPORT_SFTP_PASSWORD / CXPORT_SFTP_KEY_FILE when given none
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        elif address.scheme == "sftp" and not key_file and not in_url:
            key_file = settings.sftp_key_file or None
            if not key_file and settings.sftp_password:
                password = settings.sftp_password
            elif not key_file and sys.stdin.isatty():
                password = click.prompt("SFTP password", hide_input=True, err=True)
        ask = schedules.ScheduleAsk(
            name=name, export=export, every=every, to=to, tz=tz, channels=channels, lang=lang,
            format=fmt, include_content=include_content,
            lateness=schedules.parse_duration(lateness), since=since.date() if since else None,
            password=password, private_key=Path(key_file).read_text() if key_file else None,
        )  # fmt: skip
        service = _open(db, control)
        try:
            who = schedules.workspace_admin(service, workspace)
            obj = schedules.add_schedule(service, who, ask)
        finally:
            service.close()
    except CxportError as exc:
        _fail(exc)
        return
    nxt = obj["next_period"]
    click.echo(
        f"{obj['name']}: {obj['export']} every {obj['every']} ({obj['tz']}) → {obj['to']};"
        f" first period {nxt['from']} … {nxt['to']}, due {nxt['due_at']}",
        err=True,
    )


@schedule_group.command("edit")
@DB
@click.argument("name")
@click.option("--rename", default=None, help="A new name.")
@click.option("--export", "export", default=None)
@click.option("--every", default=None, type=click.Choice(["hour", "day", "week"]))
@click.option("--tz", default=None)
@click.option("--channel", "channels", multiple=True, help="Channel id (repeat): replaces them.")
@click.option("--all-channels", is_flag=True, help="Every channel.")
@click.option("--lang", type=click.Choice(["en", "pt-BR", "id"]), default=None)
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default=None)
@click.option("--include-content/--no-include-content", default=None)
@click.option("--lateness", default=None)
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--to", "to", default=None)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--password-stdin", is_flag=True)
@WORKSPACE
@CONTROL
def edit_cmd(db: str, name: str, rename: str | None, export: str | None, every: str | None,
             tz: str | None, channels: tuple[str, ...], all_channels: bool, lang: str | None,
             fmt: str | None, include_content: bool | None, lateness: str | None,
             since: dt.datetime | None, to: str | None, key_file: str | None,
             password_stdin: bool, workspace: str, control: str | None) -> None:  # fmt: skip
    """Change a schedule: only the options given; periods already made are not made again."""
    from cxport.service import schedules

    try:
        ask = schedules.ScheduleAsk(
            name=rename, export=export, every=every, to=to, tz=tz,
            channels=() if all_channels else (channels or None), lang=lang, format=fmt,
            include_content=include_content,
            lateness=schedules.parse_duration(lateness) if lateness is not None else None,
            since=since.date() if since else None,
            password=sys.stdin.readline().rstrip("\r\n") if password_stdin else None,
            private_key=Path(key_file).read_text() if key_file else None,
        )  # fmt: skip
        service = _open(db, control)
        try:
            who = schedules.workspace_admin(service, workspace)
            obj = schedules.edit_schedule(service, who, name, ask)
        finally:
            service.close()
    except CxportError as exc:
        _fail(exc)
        return
    click.echo(f"{obj['name']}: {obj['export']} every {obj['every']} ({obj['tz']}) → {obj['to']}",
               err=True)  # fmt: skip


@schedule_group.command("list")
@DB
@click.argument("name", required=False)
@WORKSPACE
@CONTROL
def list_cmd(db: str, name: str | None, workspace: str, control: str | None) -> None:
    """The schedules (or one, with its recent runs)."""
    from cxport.service import schedules

    try:
        service = _open(db, control)
        try:
            who = schedules.workspace_admin(service, workspace)
            if name:
                found = [schedules.get_schedule(service, who, name)]
                runs = schedules.list_runs(service, who, name, limit=20)
            else:
                found, runs = schedules.list_schedules(service, who), []
        finally:
            service.close()
    except CxportError as exc:
        _fail(exc)
        return
    for obj in found:
        last = obj["last_run"]
        last_text = f"last {last['from']} {last['state']}" if last else "no runs yet"
        click.echo(
            f"{obj['name']}\t{obj['state']}\t{obj['export']}\t{obj['every']}\t{obj['tz']}"
            f"\t{obj['to']}\t{last_text}\tnext due {obj['next_period']['due_at']}"
        )
    for run in runs:
        error = f"\t{run['error']}" if run["error"] else ""
        click.echo(
            f"  {run['id']}\t{run['from']} … {run['to']}\t{run['state']}"
            f"\tattempts {run['attempts']}/{run['delivery_attempts']}\t{run['file'] or ''}{error}"
        )


def _state_cmd(verb: str, state: str | None) -> click.Command:
    @click.command(verb)
    @DB
    @click.argument("name")
    @WORKSPACE
    @CONTROL
    def cmd(db: str, name: str, workspace: str, control: str | None) -> None:
        from cxport.service import schedules

        try:
            service = _open(db, control)
            try:
                who = schedules.workspace_admin(service, workspace)
                if state is None:
                    schedules.delete_schedule(service, who, name)
                else:
                    schedules.set_state(service, who, name, state)
            finally:
                service.close()
        except CxportError as exc:
            _fail(exc)
            return
        click.echo(f"{name}: {verb}d" if verb != "resume" else f"{name}: resumed", err=True)

    cmd.help = {"pause": "Stop making runs.", "resume": "Go on from the period in progress.",
                "delete": "Delete a schedule (its queued runs are cancelled)."}[verb]  # fmt: skip
    return cmd


schedule_group.add_command(_state_cmd("pause", "paused"))
schedule_group.add_command(_state_cmd("resume", "active"))
schedule_group.add_command(_state_cmd("delete", None))


@schedule_group.command("tick")
@DB
@click.option("--now", default=None, help="The instant to tick at (ISO 8601; default now).")
@click.option("--wait", default=600.0, show_default=True, type=float,
              help="Seconds to wait for the runs and their deliveries before exiting.")  # fmt: skip
@click.option("--files", default=None, type=click.Path(file_okay=False),
              help="Where finished files are kept.")  # fmt: skip
@CONTROL
def tick_cmd(db: str, now: str | None, wait: float, files: str | None, control: str | None) -> None:
    """Make the runs that are due, run them and deliver them, then exit (for cron).
    Exit status 1 when a run is left undelivered."""
    import os

    from cxport.cli_service import _background
    from cxport.service import schedules

    try:
        at = _instant(now) if now else None
        service = _open(db, control, files)
    except CxportError as exc:
        _fail(exc)
        return
    try:
        made = schedules.tick(service, at)
        click.echo(f"cxport: {len(made)} runs due", err=True)
        runners, dispatcher = _background(service, f"tick:{os.getpid()}", ticking=False)
        try:
            left = schedules.wait_until_done(service, wait)
        finally:
            runners.stop(service.settings.stop_wait.total_seconds())
            dispatcher.stop()
        counts = schedules.run_states(service, made)
    finally:
        service.close()
    words = ", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or "nothing to run"
    click.echo(
        f"cxport: {words}"
        + (f"; still going: {left[0]} runs, {left[1]} deliveries" if any(left) else ""),
        err=True,
    )
    if any(left) or set(counts) - {"delivered"}:
        sys.exit(1)


def _instant(text: str) -> dt.datetime:
    from cxport.errors import UsageError

    try:
        t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now: expected an ISO 8601 instant, got {text!r}") from None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t
