"""The service's commands: `serve`, `worker`, `user add`, `token create`, `webhook add`.
Each parses, calls the service, renders; registered on `cxport` by `cli.py`."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from cxport.errors import CxportError

SETTINGS_HELP = (
    "Settings without a flag come from CXPORT_* variables: `cxport settings` lists them."
)


def _service(
    db: str, control: str | None = None, files: str | None = None, base_url: str | None = None
) -> Any:
    from cxport.cli import limits as given_limits  # `cxport --memory-limit …`
    from cxport.service import Service
    from cxport.service.settings import Settings

    given: dict[str, Any] = {"db": Path(db)}
    limits = given_limits()
    if limits.memory:
        given["memory_limit"] = limits.memory
    if limits.temp_directory is not None:
        given["temp_directory"] = limits.temp_directory
    if control:
        given["control"] = control
    if files:
        given["files"] = Path(files)
    if base_url:
        given["base_url"] = base_url
    return Service(Settings(**given))


def _fail(exc: CxportError) -> None:
    from cxport.cli import fail  # the command line's one way of saying an error

    fail(exc)


def _background(service: Any, name: str, ticking: bool = True) -> tuple[Any, Any]:
    """The job runners and the notification dispatcher of this process, started (and,
    `ticking`, the schedules' ticker)."""
    from cxport.jobs.runner import Runners
    from cxport.notify.email import SmtpNotifier
    from cxport.notify.outbox import Dispatcher
    from cxport.notify.webhook import WebhookNotifier

    s = service.settings
    runners = Runners(service, name, s.runners, s.poll.total_seconds(), s.heartbeat.total_seconds())
    from cxport.service import schedules

    senders: dict[str, Any] = {"webhook": WebhookNotifier(s.webhook_timeout.total_seconds()),
                               **schedules.senders(service)}  # fmt: skip
    if s.smtp_host:
        senders["email"] = SmtpNotifier(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_user,
                                        s.smtp_password, s.smtp_starttls)  # fmt: skip
    dispatcher = Dispatcher(service.control, senders, s.notify_attempts, s.notify_backoff)
    runners.start()
    dispatcher.start()
    if ticking:
        schedules.Ticker(service).start()
    return runners, dispatcher


@click.command("serve", epilog=SETTINGS_HELP)
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--control", default=None, help="Control database URL (default: SQLite next to the store)."
)
@click.option(
    "--files", default=None, type=click.Path(file_okay=False), help="Where finished files are kept."
)
@click.option(
    "--base-url", default=None, help="Public address used in links (default: the address served)."
)
def serve_cmd(
    db: str, host: str, port: int, control: str | None, files: str | None, base_url: str | None
) -> None:
    """Serve the REST API and run export jobs until SIGINT/SIGTERM."""
    import socket

    import uvicorn

    from cxport.web import create_app

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        click.echo(f"cxport: --port: cannot listen on {host}:{port}: {exc.strerror}", err=True)
        sys.exit(2)
    bound = sock.getsockname()[1]
    address = f"http://{host}:{bound}"
    try:
        service = _service(db, control, files, base_url or address)
    except CxportError as exc:
        _fail(exc)
        return
    runners, dispatcher = _background(service, f"serve:{bound}")
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), log_level="warning", access_log=False)
    )
    # uvicorn in a thread of its own (it installs no signal handlers there): this thread
    # takes SIGINT/SIGTERM, stops the server, then finishes or re-queues running jobs.
    http = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="cxport-http")
    stop = _stop_on_signals()
    http.start()
    click.echo(f"cxport: serving on {address} (API: {address}/api/v1)", err=True)
    while not stop.wait(0.5):
        if not http.is_alive():
            break
    server.should_exit = True
    http.join(timeout=30)
    click.echo("cxport: stopping: finishing running exports …", err=True)
    runners.stop(service.settings.stop_wait.total_seconds())
    dispatcher.stop()
    service.close()


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@click.command("worker", epilog=SETTINGS_HELP)
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--control", default=None, help="Control database URL (the one `cxport serve` uses).")
@click.option(
    "--files", default=None, type=click.Path(file_okay=False), help="Where finished files are kept."
)
@click.option("--base-url", default=None, help="Public address of the API, used in links.")
def worker_cmd(db: str, control: str | None, files: str | None, base_url: str | None) -> None:
    """Run export jobs (and send notifications) from the control database until SIGINT/SIGTERM."""
    import os

    try:
        service = _service(db, control, files, base_url)
    except CxportError as exc:
        _fail(exc)
        return
    stop = _stop_on_signals()
    runners, dispatcher = _background(service, f"worker:{os.getpid()}")
    click.echo(
        f"cxport: worker {os.getpid()} running {service.settings.runners} job runners", err=True
    )
    stop.wait()
    click.echo("cxport: stopping: finishing running exports …", err=True)
    runners.stop(service.settings.stop_wait.total_seconds())
    dispatcher.stop()
    service.close()


@click.group("user")
def user_group() -> None:
    """Manage the people who may use the service."""


@user_group.command("add")
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "supervisor", "agent"]))
@click.option("--channel", "channels", multiple=True, help="A supervisor's channel (repeat).")
@click.option("--workspace", default="default", show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password (web page sign-in) from standard input.",
)
@click.option("--control", default=None, help="Control database URL.")
def user_add_cmd(db: str, email: str, role: str, channels: tuple[str, ...], workspace: str,
                 password_stdin: bool, control: str | None) -> None:  # fmt: skip
    """Add a user (or change their role and channels); the first one creates the workspace."""
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    if password_stdin and not password:
        click.echo("cxport: --password-stdin: no password on standard input", err=True)
        sys.exit(2)
    try:
        service = _service(db, control)
        try:
            who = service.add_user(workspace, email, role, channels, password)
        finally:
            service.close()
    except CxportError as exc:
        _fail(exc)
        return
    where = f" (channels {', '.join(who.channels)})" if who.channels else ""
    click.echo(f"{who.email}: {who.role} of workspace {who.workspace}{where}", err=True)


@click.group("token")
def token_group() -> None:
    """API tokens (for scripts: Authorization: Bearer <token>)."""


@token_group.command("create")
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="The store.")
@click.option("--email", required=True)
@click.option("--workspace", default="default", show_default=True)
@click.option("--name", default="", help="What the token is for.")
@click.option("--control", default=None, help="Control database URL.")
def token_create_cmd(db: str, email: str, workspace: str, name: str, control: str | None) -> None:
    """Create a token for a user and print it once, on standard output."""
    try:
        service = _service(db, control)
        try:
            token = service.create_token(workspace, email, name)
        finally:
            service.close()
    except CxportError as exc:
        _fail(exc)
        return
    click.echo(token)


@click.command("settings")
def settings_cmd() -> None:
    """List the CXPORT_* settings of `cxport serve` and `cxport worker`."""
    from cxport.service.settings import describe_settings

    click.echo(describe_settings())


from cxport.cli_schedule import schedule_group  # noqa: E402 (issue 20)

COMMANDS = (serve_cmd, worker_cmd, user_group, token_group, settings_cmd, schedule_group)
