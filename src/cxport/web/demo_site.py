"""`cxport demo --serve`: the demo's store served with the web page, and two people to
sign in as, an admin and a supervisor of two channels. For a laptop: the passwords
are fixed and printed, so the address is 127.0.0.1 unless asked otherwise."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cxport.service import Service
from cxport.service.settings import Settings

WORKSPACE = "default"


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    channels: tuple[str, ...] = ()


def demo_logins(db: Path) -> list[DemoLogin]:
    """Add (or reset) the demo's admin and supervisor in the store's control database."""
    service = Service(Settings(db=db))
    try:
        channels = tuple(sorted(service.known_channels(WORKSPACE))[:2])
        logins = [DemoLogin("admin", "admin@demo.test", "demo-admin")]
        if channels:
            logins.append(
                DemoLogin("supervisor", "supervisor@demo.test", "demo-supervisor", channels)
            )
        for login in logins:
            service.add_user(WORKSPACE, login.email, login.role, login.channels, login.password)
    finally:
        service.close()
    return logins


def serve_demo(db: Path, host: str, port: int, say: Callable[[str], None]) -> None:
    """Print the logins and the address, then serve (`cxport serve`) until Ctrl-C."""
    from cxport.cli_service import serve_cmd

    address = f"http://{host}:{port}"
    say(f"Open {address}/ and sign in as:")
    for login in demo_logins(db):
        scope = f" (channels {', '.join(login.channels)})" if login.channels else ""
        say(f"  {login.role:<10} {login.email} / {login.password}{scope}")
    say("Serving until Ctrl-C …")
    serve_cmd.callback(  # type: ignore[misc]
        db=str(db), host=host, port=port, control=None, files=None, base_url=None
    )
