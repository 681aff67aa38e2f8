"""Delivery to a real SFTP server: OpenSSH's sshd on 127.0.0.1 (its own config, host key
and authorized key in a temporary folder), driven by `cxport schedule tick`: the file
and its manifest land under their final names; the host key is pinned on first use and
a changed one is refused; a server that refuses connections and then accepts gets the
file by a retry; a kill during an upload leaves nothing under the final name."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import simulated_store
from service_support import FAST, cxport, free_port

SSHD = "/usr/sbin/sshd"
KEY = "a test key that encrypts destination secrets"
ENV = {**FAST, "CXPORT_DESTINATION_KEY": KEY, "CXPORT_NOTIFY_BACKOFF": "0.3"}


def keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30
    )


class Sshd:
    """`sshd -D -e -f CONFIG` on 127.0.0.1, key authentication for the current user."""

    def __init__(self, folder: Path, port: int, client_pub: Path, host_key: Path) -> None:
        if not Path(SSHD).exists():
            raise RuntimeError("OpenSSH's sshd is not installed (.ci/run installs openssh-server)")
        folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["install", "-d", "-m", "0755", "/run/sshd"], check=True)
        shutil.copy(client_pub, folder / "authorized_keys")
        config = folder / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\n"
            f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
            "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
            "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n"
        )
        self.port = port
        self.log = open(folder / "sshd.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "keys"
    folder.mkdir()
    for name in ("client", "host", "other_host"):
        keygen(folder / name)
    return {name: folder / name for name in ("client", "host", "other_host")}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sftp-store")
    return simulated_store(folder, seed=5, conversations=80, start=dt.date(2024, 10, 25), days=4)


@pytest.fixture
def db(store: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "store.duckdb"
    shutil.copy(store, copy)
    cxport("user", "add", "--db", str(copy), "--email", "admin@x", "--role", "admin")
    return copy


@pytest.fixture
def sshd(tmp_path: Path, keys: dict[str, Path]) -> Iterator[Sshd]:
    server = Sshd(tmp_path / "sshd", free_port(), keys["client"].with_suffix(".pub"), keys["host"])
    yield server
    server.stop()


def tick(db: Path, now: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cxport", "schedule", "tick", "--db", str(db), "--now", now,
         "--wait", "120"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV, **env},
    )  # fmt: skip


def add_sftp_schedule(db: Path, name: str, port: int, folder: Path, key: Path, every: str) -> None:
    cxport("schedule", "add", "--db", str(db), "--name", name, "--export", "messages",
           "--every", every, "--tz", "Europe/Berlin", "--since", "2024-10-27",
           "--include-content", "--lateness", "0",
           "--to", f"sftp://root@127.0.0.1:{port}{folder}", "--key-file", str(key), env=ENV)  # fmt: skip


def control_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(f"{db}.control.sqlite") as con:
        return con.execute(sql).fetchall()


@pytest.mark.skipif(os.geteuid() != 0, reason="sshd logs in the current user: root in CI")
def test_hourly_runs_across_a_fall_back_land_on_sftp_with_manifests_and_a_pinned_key(
    db: Path, sshd: Sshd, keys: dict[str, Path], tmp_path: Path
) -> None:
    remote = tmp_path / "remote" / "export"
    add_sftp_schedule(db, "hourly", sshd.port, remote, keys["client"], "hour")
    # 04:00 CET on Oct 27th: the hours 00:00, 01:00, 02:00 (CEST), 02:00 (CET), 03:00
    done = tick(db, "2024-10-27T03:00:00Z")
    _, err = done.communicate(timeout=300)
    assert done.returncode == 0, err
    assert "5 delivered" in err
    files = sorted((remote / "messages").glob("*.csv"))
    manifests = sorted((remote / "messages").glob("*.manifest.json"))
    assert len(files) == len(manifests) == 5
    assert not list(remote.rglob("*.part"))
    windows = set()
    for m in manifests:
        body = json.loads(m.read_text())
        data = (remote / "messages" / body["file"]).read_bytes()
        assert body["sha256"] == hashlib.sha256(data).hexdigest() and body["bytes"] == len(data)
        windows.add(body["window"]["from"])
    assert windows == {
        "2024-10-27T00:00:00+02:00", "2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:00:00+01:00", "2024-10-27T03:00:00+01:00",
    }  # fmt: skip
    # the two 02:00 hours have their own files, named by their local times (the first
    # ends at the second 02:00) and their ids
    names = [f.name.split("_", 2)[2].rsplit("_", 1)[0] for f in files]
    assert names.count("27102024020000_27102024020000") == 1
    assert names.count("27102024020000_27102024030000") == 1
    # the host key was pinned on first use; the secret is sealed, never the password
    [(host_key, secret)] = control_rows(db, "SELECT host_key, secret FROM cx_schedules")
    assert str(host_key).split()[1] == keys["host"].with_suffix(".pub").read_text().split()[1]
    assert "PRIVATE KEY" not in str(secret) and str(secret).startswith("gAAAA")

    # the server comes back with another host key: refused, nothing written
    sshd.stop()
    other = Sshd(
        tmp_path / "sshd2", sshd.port, keys["client"].with_suffix(".pub"), keys["other_host"]
    )
    try:
        done = tick(db, "2024-10-27T04:00:00Z", CXPORT_NOTIFY_ATTEMPTS="2")
        _, err = done.communicate(timeout=300)
    finally:
        other.stop()
    assert done.returncode == 1
    assert len(list((remote / "messages").glob("*.csv"))) == 5
    [(error,)] = control_rows(
        db, "SELECT last_error FROM cx_deliveries WHERE state = 'failed' AND kind = 'destination'"
    )
    assert "host key" in str(error) and "changed" in str(error)


@pytest.mark.skipif(os.geteuid() != 0, reason="sshd logs in the current user: root in CI")
def test_a_server_that_refuses_then_accepts_gets_the_file_by_a_retry(
    db: Path, keys: dict[str, Path], tmp_path: Path
) -> None:
    port = free_port()
    remote = tmp_path / "remote"
    add_sftp_schedule(db, "daily", port, remote, keys["client"], "day")
    running = tick(db, "2024-10-28T00:00:00Z")  # Oct 27th, Berlin; no server yet
    deadline = time.monotonic() + 120
    while True:
        tried = control_rows(
            db, "SELECT attempts, last_error FROM cx_deliveries WHERE kind = 'destination'"
        )
        if tried and int(str(tried[0][0])) >= 1:
            break
        assert time.monotonic() < deadline, "no delivery was tried"
        time.sleep(0.05)
    assert "cannot connect" in str(tried[0][1])
    server = Sshd(tmp_path / "sshd", port, keys["client"].with_suffix(".pub"), keys["host"])
    try:
        _, err = running.communicate(timeout=300)
    finally:
        server.stop()
    assert running.returncode == 0, err
    [(state, attempts)] = control_rows(
        db, "SELECT state, attempts FROM cx_deliveries WHERE kind = 'destination'"
    )
    assert state == "sent" and int(str(attempts)) >= 2
    [file] = (remote / "messages").glob("*.csv")
    assert file.name.startswith("default_messages_27102024000000_28102024000000_")
    # the same bytes as `cxport export` for that day and as_of
    on_demand = tmp_path / "od.csv"
    cxport("export", "messages", "--db", str(db), "--from", "2024-10-27", "--to", "2024-10-27",
           "--tz", "Europe/Berlin", "--as-of", "2024-10-28T00:00:00Z", "--output", str(on_demand))  # fmt: skip
    assert file.read_bytes() == on_demand.read_bytes()


UPLOAD = """
import sys
from pathlib import Path
from cxport.deliver import parse_address
from cxport.deliver.sftp import SftpDestination
address, _ = parse_address(sys.argv[1])
with SftpDestination(address, private_key=Path(sys.argv[2]).read_text()) as d:
    d.put_file(Path(sys.argv[3]), "big/file.csv")
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="sshd logs in the current user: root in CI")
def test_a_kill_during_an_upload_leaves_no_file_under_its_final_name(
    sshd: Sshd, keys: dict[str, Path], tmp_path: Path
) -> None:
    big = tmp_path / "big.csv"
    with open(big, "wb") as f:
        for _ in range(64):
            f.write(os.urandom(1 << 20))  # 64 MiB: long enough to be caught mid-way
    remote = tmp_path / "remote"
    url = f"sftp://root@127.0.0.1:{sshd.port}{remote}"
    uploader = subprocess.Popen(
        [sys.executable, "-c", UPLOAD, url, str(keys["client"]), str(big)], stderr=subprocess.PIPE
    )
    final = remote / "big" / "file.csv"
    deadline = time.monotonic() + 60
    while True:
        parts = list((remote / "big").glob(".file.csv.*.part")) if (remote / "big").exists() else []
        if parts and parts[0].stat().st_size > 0:
            break
        assert uploader.poll() is None, uploader.stderr.read() if uploader.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.005)
    uploader.send_signal(signal.SIGKILL)
    uploader.wait(10)
    assert not final.exists()
    # the next try replaces the stale part and lands the whole file
    done = subprocess.run(
        [sys.executable, "-c", UPLOAD, url, str(keys["client"]), str(big)], capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert final.read_bytes() == big.read_bytes()
    assert list((remote / "big").iterdir()) == [final]


ASYNCSSH_SERVER = """
import asyncio, sys
import asyncssh

port, root, host_key, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

class Server(asyncssh.SSHServer):
    def begin_auth(self, username):
        return True
    def password_auth_supported(self):
        return True
    def validate_password(self, username, given):
        return username == "cx" and given == password

async def main():
    await asyncssh.create_server(
        Server, "127.0.0.1", port, server_host_keys=[host_key],
        sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=root),
    )
    print("ready", flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.parametrize("given", ["stdin", "settings"])
def test_a_password_login_to_asyncssh_sftp_server_delivers_the_file(
    db: Path, keys: dict[str, Path], tmp_path: Path, given: str
) -> None:
    password = "pässword with spaces"
    root, port = tmp_path / "chroot", free_port()
    root.mkdir()
    server = subprocess.Popen(
        [sys.executable, "-c", ASYNCSSH_SERVER, str(port), str(root), str(keys["host"]), password],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        cxport("schedule", "add", "--db", str(db), "--name", "weekly", "--export", "tags",
               "--every", "week", "--tz", "Europe/Berlin", "--since", "2024-10-21",
               "--lateness", "0", "--to", f"sftp://cx@127.0.0.1:{port}/export",
               *(["--password-stdin"] if given == "stdin" else []),
               stdin=password + "\n" if given == "stdin" else None,
               env=ENV if given == "stdin" else {**ENV, "CXPORT_SFTP_PASSWORD": password})  # fmt: skip
        # the week of the fall-back: Monday Oct 21st to Sunday Oct 27th, 169 hours
        done = tick(db, "2024-10-28T00:00:00Z")
        _, err = done.communicate(timeout=300)
    finally:
        server.terminate()
        server.wait(10)
    assert done.returncode == 0, err
    [manifest] = (root / "export" / "tags").glob("*.manifest.json")
    body = json.loads(manifest.read_text())
    assert body["window"]["from"] == "2024-10-21T00:00:00+02:00"
    assert body["window"]["to"] == "2024-10-28T00:00:00+01:00"
    data = (manifest.parent / body["file"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == body["sha256"]
    assert body["file"].startswith("default_tags_21102024000000_28102024000000_")
    [(secret,)] = control_rows(db, "SELECT secret FROM cx_schedules")
    assert password not in str(secret)
