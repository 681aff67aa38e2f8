"""Jobs over real processes: a runner killed mid-export (`kill -9` of a worker, of the
serve process), a graceful stop, cancel, expiry, and 50 requests at once under the
per-workspace limit. The store is held by the test (an ingest would hold it the same
way) to catch a job between its claim and its file."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from helpers import simulated_store
from service_support import Server, Worker, wait_for

from cxport.cli import main
from cxport.service.store_access import StoreAccess

BODY = {"export": "messages", "from": "2024-06-01", "to": "2024-06-15", "tz": "America/Sao_Paulo"}


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("jobs")
    return simulated_store(folder, seed=5, conversations=200, start=dt.date(2024, 6, 1), days=15)


def _admin(db: Path, control: str | None = None) -> str:
    extra = ["--control", control] if control else []
    run_cli("user", "add", "--db", str(db), "--email", "a@x.test", "--role", "admin", *extra)
    return run_cli("token", "create", "--db", str(db), "--email", "a@x.test", *extra).strip()


@pytest.fixture
def setup(store: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """The module's store behind a fresh control database and files folder."""
    db = tmp_path / "store.duckdb"
    db.symlink_to(store)
    yield db, _admin(db)


def wait_state(
    api: httpx.Client, export_id: str, state: str, timeout: float = 30
) -> dict[str, object]:
    return wait_for(api, export_id, (state,), timeout)


def _files(db: Path) -> list[Path]:
    return sorted(p for p in Path(f"{db}.files").rglob("*") if p.is_file())


def _cli_bytes(db: Path, obj: dict[str, object], out: Path) -> bytes:
    run_cli("export", str(obj["export"]), "--db", str(db), "--from", str(obj["from"]), "--to", str(obj["to"]),
            "--tz", str(obj["tz"]), "--as-of", str(obj["as_of"]), "--output", str(out))  # fmt: skip
    return out.read_bytes()


def _killed_runner_then_done(
    db: Path, api: httpx.Client, kill: object, restart: object, tmp_path: Path
) -> None:
    held = StoreAccess(db).write()  # as an ingest holds it
    held.__enter__()
    try:
        created = api.post("/exports", json=BODY).json()
        running = wait_state(api, created["id"], "running")
        assert running["attempts"] == 1
        assert api.get(f"/exports/{created['id']}/file").status_code == 409  # nothing to serve yet
        kill()  # type: ignore[operator]
    finally:
        held.__exit__(None, None, None)
    restart()  # type: ignore[operator]
    done = wait_for(api, created["id"], timeout=60)
    assert done["state"] == "succeeded" and done["attempts"] == 2, done
    file = api.get(f"/exports/{created['id']}/file")
    assert file.content == _cli_bytes(db, done, tmp_path / "cli.csv")
    # Exactly once: one file on disk, no temporary left, one notification.
    assert [p.name for p in _files(db)] == [f"{created['id']}.2.csv"]
    told = [
        n
        for n in api.get("/notifications").json()["items"]
        if n["export_request_id"] == created["id"]
    ]
    assert len(told) == 1 and told[0]["event"] == "export.succeeded"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_export_leaves_the_job_to_another(
    store: Path, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    db = tmp_path / "store.duckdb"
    db.symlink_to(store)
    control = f"sqlite:///{tmp_path / 'control.sqlite'}" if backend == "sqlite" else _pg(request)
    token = _admin(db, control)
    server = Server(db, control=control, env={"CXPORT_RUNNERS": "0"})  # the API only
    workers = [Worker(db, control)]
    api = server.client(token)
    try:
        _killed_runner_then_done(
            db, api,
            kill=lambda: workers[0].kill(),
            restart=lambda: workers.append(Worker(db, control)),
            tmp_path=tmp_path,
        )  # fmt: skip
    finally:
        workers[-1].stop()
        server.stop()


def _pg(request: pytest.FixtureRequest) -> str:
    from service_support import fresh_database

    return fresh_database(request.getfixturevalue("postgres_server"), f"jobs_{time.time_ns()}")


def test_the_serve_process_killed_and_restarted_finishes_the_job(
    setup: tuple[Path, str], tmp_path: Path
) -> None:
    db, token = setup
    servers = [Server(db)]
    port = servers[0].port
    api = servers[0].client(token)
    try:
        _killed_runner_then_done(
            db, api,
            kill=lambda: servers[0].kill(),
            restart=lambda: servers.append(Server(db, port=port)),
            tmp_path=tmp_path,
        )  # fmt: skip
    finally:
        servers[-1].stop()


def test_a_graceful_stop_requeues_a_job_it_cannot_finish(setup: tuple[Path, str]) -> None:
    db, token = setup
    server = Server(db, env={"CXPORT_STOP_WAIT": "1"})
    api = server.client(token)
    with StoreAccess(db).write():
        created = api.post("/exports", json=BODY).json()
        wait_state(api, created["id"], "running")
        started = time.monotonic()
        assert server.stop() == 0
        assert time.monotonic() - started < 20
    server = Server(db, env={"CXPORT_RUNNERS": "0"})
    try:
        again = server.client(token).get(f"/exports/{created['id']}").json()
        assert again["state"] == "queued" and again["attempts"] == 0  # given back, not used up
        assert _files(db) == []
    finally:
        server.stop()


def test_cancel_stops_a_running_job(setup: tuple[Path, str]) -> None:
    db, token = setup
    server = Server(db)
    api = server.client(token)
    try:
        with StoreAccess(db).write():
            created = api.post("/exports", json=BODY).json()
            wait_state(api, created["id"], "running")
            cancelled = api.post(f"/exports/{created['id']}/cancel")
            assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
            time.sleep(0.5)  # the runner's heartbeat learns it
        queued = api.post("/exports", json=BODY).json()  # the runner is free again
        assert wait_for(api, queued["id"])["state"] == "succeeded"
        after = api.get(f"/exports/{created['id']}").json()
        assert after["state"] == "cancelled" and after["sha256"] is None
        assert api.get(f"/exports/{created['id']}/file").status_code == 409
        assert [p.name for p in _files(db)] == [f"{queued['id']}.1.csv"]
        assert api.post(f"/exports/{created['id']}/cancel").status_code == 409
    finally:
        server.stop()


def test_files_expire_after_the_retention(setup: tuple[Path, str]) -> None:
    db, token = setup
    server = Server(db, env={"CXPORT_RETENTION": "2"})
    api = server.client(token)
    try:
        created = api.post("/exports", json={**BODY, "export": "teams"}).json()
        done = wait_for(api, created["id"])
        assert done["state"] == "succeeded" and len(_files(db)) == 1
        link = done["download_url"]
        expired = wait_for(api, created["id"], ("expired",), timeout=30)
        assert expired["download_url"] is None
        assert _files(db) == []
        gone = api.get(f"/exports/{created['id']}/file")
        assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"
        assert httpx.get(link).status_code == 410
    finally:
        server.stop()


def test_fifty_requests_at_once_all_complete_within_the_limit(setup: tuple[Path, str]) -> None:
    db, token = setup
    control = f"sqlite:///{db}.control.sqlite"
    limit = {"CXPORT_MAX_RUNNING_PER_WORKSPACE": "2", "CXPORT_RUNNERS": "3"}
    server = Server(db, env=limit)
    worker = Worker(db, control, env=limit)
    api = server.client(token)
    try:
        exports = ["teams", "tags", "topics", "agent-metrics", "virtual-agents"]
        ids = [
            api.post("/exports", json={**BODY, "export": exports[i % 5]}).json()["id"]
            for i in range(50)
        ]
        done = [wait_for(api, i, timeout=180) for i in ids]
    finally:
        worker.stop()
        server.stop()
    assert all(d["state"] == "succeeded" and d["attempts"] == 1 for d in done)
    # At no instant were more than two running: from the rows' own start and end.
    events = sorted([(d["started_at"], 1) for d in done] + [(d["finished_at"], -1) for d in done],
                    key=lambda e: (e[0], e[1]))  # fmt: skip
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak <= 2
    assert peak == 2  # and the limit, not a single runner, is what held them


def test_too_many_waiting_requests_are_refused_with_429(setup: tuple[Path, str]) -> None:
    db, token = setup
    server = Server(db, env={"CXPORT_RUNNERS": "0", "CXPORT_MAX_PENDING_PER_WORKSPACE": "3"})
    api = server.client(token)
    try:
        ids = [api.post("/exports", json=BODY).json()["id"] for _ in range(3)]
        refused = api.post("/exports", json=BODY)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "too_many_requests"
        assert api.post(f"/exports/{ids[0]}/cancel").status_code == 200
        assert api.post("/exports", json=BODY).status_code == 202  # room again
    finally:
        server.stop()


def test_requests_and_cancels_racing_the_runners_leave_no_error(setup: tuple[Path, str]) -> None:
    """Cancels that land while a job ends (its query done, its cursor closed) and many
    callers at once: every answer is one of the API's, and the server logs no traceback."""
    import threading

    db, token = setup
    server = Server(db, env={"CXPORT_RUNNERS": "3", "CXPORT_MAX_RUNNING_PER_WORKSPACE": "3"})
    codes: list[int] = []

    def caller() -> None:
        api = server.client(token)
        for i in range(12):
            made = api.post("/exports", json={**BODY, "export": "teams"})
            time.sleep(0.03 * (i % 5))  # some land while the job runs or ends
            cancel = api.post(f"/exports/{made.json()['id']}/cancel")
            codes.extend(
                [made.status_code, cancel.status_code, api.get("/notifications").status_code]
            )

    threads = [threading.Thread(target=caller) for _ in range(5)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        server.stop()
    assert set(codes) <= {200, 202, 409} and codes.count(202) == 60
    assert "Traceback" not in server.log.read_text()
