"""Real components for the service's tests: a `cxport serve` / `cxport worker` process on
127.0.0.1, a throwaway PostgreSQL cluster, an HTTP client with a token."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

# Fast leases and polls so that crash and retry tests take seconds.
FAST = {
    "CXPORT_LEASE": "2",
    "CXPORT_HEARTBEAT": "0.2",
    "CXPORT_POLL": "0.05",
    "CXPORT_NOTIFY_BACKOFF": "0.2",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cxport(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    """Run a `cxport` command; its standard output (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-m", "cxport", *args],
        input=stdin, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


class Process:
    """A `cxport serve` or `cxport worker` child process."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cxport", *args],
            stdout=self._out, stderr=subprocess.STDOUT, env={**os.environ, **FAST, **env},
        )  # fmt: skip

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            self._out.close()
        return code

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


class Server(Process):
    def __init__(
        self,
        db: Path,
        env: dict[str, str] | None = None,
        control: str | None = None,
        port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = ["serve", "--db", str(db), "--port", str(self.port)]
        if control:
            args += ["--control", control]
        super().__init__(args, env or {}, db.parent / f"serve-{self.port}.log")
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cxport serve did not start: {self.log.read_text()}")
            time.sleep(0.1)

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=f"{self.url}/api/v1", headers=headers, timeout=60)


class Worker(Process):
    def __init__(self, db: Path, control: str, env: dict[str, str] | None = None) -> None:
        super().__init__(
            ["worker", "--db", str(db), "--control", control], env or {}, db.parent / "worker.log"
        )


def wait_for(
    client: httpx.Client,
    export_id: str,
    states: tuple[str, ...] = ("succeeded", "failed", "cancelled"),
    timeout: float = 120,
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        obj: dict[str, Any] = client.get(f"/exports/{export_id}").json()
        if obj.get("state") in states:
            return obj
        if time.monotonic() > deadline:
            raise AssertionError(f"export {export_id} still {obj.get('state')} after {timeout} s")
        time.sleep(0.05)


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on 127.0.0.1, run as the `postgres` user (initdb
    refuses root); yields the URL of a superuser connection to database `postgres`."""
    pg = _pg_bin()
    if pg is None:
        raise RuntimeError("PostgreSQL is not installed (.ci/run installs it)")
    folder = Path(tempfile.mkdtemp(prefix="cxport-pg-"))
    shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()

    def as_postgres(*cmd: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *cmd], check=True, capture_output=True, timeout=120)

    as_postgres(str(pg / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    as_postgres(
        str(pg / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "start",
        "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200",
    )  # fmt: skip
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        as_postgres(str(pg / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str, name: str) -> str:
    """A new empty database on the cluster; its URL."""
    import psycopg

    dsn = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}"')
        con.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"
