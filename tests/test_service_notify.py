"""Notifications of a finished export over real peers on 127.0.0.1: an SMTP server
(aiosmtpd) gets the e-mail with the link, never the file; an HTTP receiver checks each
webhook's signature; a failing receiver is retried with backoff and never fails the
export; a failed export is told too."""

from __future__ import annotations

import datetime as dt
import email
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from click.testing import CliRunner
from helpers import simulated_store
from service_support import Server, free_port, wait_for
from sqlalchemy import create_engine, text

from cxport.cli import main


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class Receiver:
    """An HTTP server that records webhook POSTs whose signature is right; it answers 500
    to the first `fail_first` POSTs."""

    def __init__(self, secret: str, fail_first: int = 0) -> None:
        self.secret, self.fail_first = secret, fail_first
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.attempts: list[float] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.attempts.append(time.monotonic())
                stamp = self.headers["X-Cxport-Timestamp"]
                expected = (
                    "sha256="
                    + hmac.new(
                        outer.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256
                    ).hexdigest()
                )
                fresh = abs(time.time() - int(stamp)) < 300
                ok = hmac.compare_digest(expected, self.headers["X-Cxport-Signature"]) and fresh
                if not ok:
                    self.send_response(401)
                elif len(outer.attempts) <= outer.fail_first:
                    self.send_response(500)
                else:
                    outer.received.append((time.monotonic(), json.loads(body)))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()  # aiosmtpd's controller needs the port chosen first
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notify")
    return simulated_store(folder, seed=3, conversations=150, start=dt.date(2024, 6, 1), days=10)


def test_email_and_signed_webhook_when_an_export_ends(
    store: Path, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    box, smtp_port = smtp
    db = tmp_path / "store.duckdb"
    db.symlink_to(store)
    run_cli(
        "user",
        "add",
        "--db",
        str(db),
        "--email",
        "sup@x.test",
        "--role",
        "supervisor",
        "--channel",
        "ch-wa-sac",
    )
    run_cli("user", "add", "--db", str(db), "--email", "boss@x.test", "--role", "admin")
    sup = run_cli("token", "create", "--db", str(db), "--email", "sup@x.test").strip()
    boss = run_cli("token", "create", "--db", str(db), "--email", "boss@x.test").strip()
    server = Server(
        db,
        env={
            "CXPORT_SMTP_HOST": "127.0.0.1",
            "CXPORT_SMTP_PORT": str(smtp_port),
            "CXPORT_SMTP_FROM": "cxport@x.test",
            "CXPORT_NOTIFY_BACKOFF": "0.5",  # tries wait at least 0.5 s, then 1 s
            "CXPORT_MAX_ATTEMPTS": "2",
        },
    )
    receiver = Receiver("", fail_first=2)
    hook = server.client(boss).post("/webhooks", json={"url": receiver.url}).json()
    receiver.secret = hook["secret"]  # made by the service, shown once
    api = server.client(sup)
    try:
        ok = api.post(
            "/exports", json={"export": "messages", "from": "2024-06-01", "to": "2024-06-10"}
        ).json()
        done = wait_for(api, ok["id"])
        assert done["state"] == "succeeded"
        deadline = time.monotonic() + 30
        while (not box.messages or not receiver.received) and time.monotonic() < deadline:
            time.sleep(0.05)
        # The e-mail: to the requester, naming the export and range, with a working link.
        (mail,) = box.messages
        assert (
            mail["To"] == "sup@x.test"
            and "messages" in mail["Subject"]
            and "2024-06-01" in mail["Subject"]
        )
        body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
        assert not mail.is_multipart()  # no attachment: the link, never the file
        link = next(w for w in body.split() if w.startswith("http"))
        assert httpx.get(link).content == api.get(f"/exports/{ok['id']}/file").content
        # The webhook: retried after two 500s, with a growing wait, then received signed.
        assert len(receiver.attempts) == 3
        waits = [b - a for a, b in zip(receiver.attempts, receiver.attempts[1:], strict=False)]
        # at least the backoff, doubled each try (a constant one would wait 0.5-0.7 s again)
        assert waits[0] >= 0.48 and waits[1] >= 0.98, waits
        ((_, payload),) = receiver.received
        assert payload["event"] == "export.succeeded"
        assert (
            payload["export_request"]["id"] == ok["id"]
            and payload["export_request"]["sha256"] == done["sha256"]
        )

        # A failed export is told too. Its files folder is broken (a file stands in its
        # place): every attempt fails, then the job is failed and e-mail and webhook say so.
        files = Path(f"{db}.files")
        for child in files.iterdir():
            for f in child.iterdir():
                f.unlink()
            child.rmdir()
        (files / "default").write_text("not a folder")
        bad = api.post(
            "/exports", json={"export": "teams", "from": "2024-06-01", "to": "2024-06-10"}
        ).json()
        failed = wait_for(api, bad["id"])
        assert failed["state"] == "failed" and failed["attempts"] == 2 and failed["error"]
        assert (
            failed["download_url"] is None
            and api.get(f"/exports/{bad['id']}/file").status_code == 409
        )
        deadline = time.monotonic() + 30
        while (len(box.messages) < 2 or len(receiver.received) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (
            "failed" in box.messages[1]["Subject"] and "http" not in box.messages[1].get_payload()
        )
        assert receiver.received[1][1]["event"] == "export.failed"
        assert receiver.received[1][1]["export_request"]["error"] == failed["error"]
        unread = api.get("/notifications", params={"unread": "true"}).json()["items"]
        assert [n["event"] for n in unread] == ["export.failed", "export.succeeded"]
    finally:
        server.stop()
        receiver.close()


def test_a_dead_webhook_never_fails_the_export(store: Path, tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    db.symlink_to(store)
    run_cli("user", "add", "--db", str(db), "--email", "boss@x.test", "--role", "admin")
    boss = run_cli("token", "create", "--db", str(db), "--email", "boss@x.test").strip()
    # A port nothing listens on, and an SMTP server that is not there.
    server = Server(
        db,
        env={
            "CXPORT_NOTIFY_ATTEMPTS": "2",
            "CXPORT_SMTP_HOST": "127.0.0.1",
            "CXPORT_SMTP_PORT": str(free_port()),
        },
    )
    api = server.client(boss)
    try:
        api.post("/webhooks", json={"url": f"http://127.0.0.1:{free_port()}/nothing"})
        ok = api.post(
            "/exports", json={"export": "teams", "from": "2024-06-01", "to": "2024-06-10"}
        ).json()
        done = wait_for(api, ok["id"])
        assert done["state"] == "succeeded"
        assert api.get(f"/exports/{ok['id']}/file").status_code == 200
        told = api.get("/notifications").json()["items"]
        assert [n["export_request_id"] for n in told] == [ok["id"]]  # in-app still works
        engine = create_engine(f"sqlite:///{db}.control.sqlite")
        deadline = time.monotonic() + 30
        while True:
            with engine.connect() as con:
                rows = con.execute(
                    text("SELECT kind, state, attempts, last_error FROM cx_deliveries")
                ).fetchall()
            if (
                len(rows) == 2 and all(r[1] == "failed" for r in rows)
            ) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        engine.dispose()
    finally:
        server.stop()
    assert sorted(r[0] for r in rows) == ["email", "webhook"]
    assert all(r[1] == "failed" and r[2] == 2 and r[3] for r in rows)  # tried twice, the error kept
