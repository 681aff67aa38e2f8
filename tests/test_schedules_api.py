"""Schedules over a real `cxport serve` (which ticks by itself): made, listed, edited,
paused, resumed and deleted through `/api/v1/schedules` (in the OpenAPI schema); a run's
state, attempts and error are visible; SFTP secrets go in and never come out (nor into
the log); admins only, and another workspace's schedule is 404."""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import simulated_store
from service_support import Server, cxport, free_port

PASSWORD = "s3cret-Pa55word-never-shown"
ENV = {
    "CXPORT_DESTINATION_KEY": "the key of this test",
    "CXPORT_SCHEDULE_TICK": "0.2",
    "CXPORT_NOTIFY_ATTEMPTS": "2",
}


@dataclass
class World:
    db: Path
    server: Server
    tokens: dict[str, str]

    def client(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("sched-api")
    db = simulated_store(folder, seed=2, conversations=40, start=dt.date(2024, 6, 1), days=2)
    tokens = {}
    for name, ws, role, channels in [
        ("admin", "default", "admin", []),
        ("supervisor", "default", "supervisor", ["--channel", "ch-tw"]),
        ("other", "other", "admin", []),
    ]:
        cxport("user", "add", "--db", str(db), "--email", f"{name}@x", "--role", role,
               "--workspace", ws, *channels)  # fmt: skip
        tokens[name] = cxport(
            "token", "create", "--db", str(db), "--email", f"{name}@x", "--workspace", ws
        ).strip()
    server = Server(db, env=ENV)
    yield World(db, server, tokens)
    server.stop()


def yesterday() -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()


def wait_run(client: httpx.Client, name: str, states: tuple[str, ...]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        items = client.get(f"/schedules/{name}/runs").json()["items"]
        if items and items[0]["state"] in states:
            return dict(items[0])
        assert time.monotonic() < deadline, items
        time.sleep(0.1)


def test_serve_runs_a_schedule_made_through_the_api_and_shows_its_runs(
    world: World, tmp_path: Path
) -> None:
    admin = world.client("admin")
    out = tmp_path / "out"
    made = admin.post("/schedules", json={
        "name": "nightly", "export": "teams", "every": "day", "tz": "UTC",
        "since": yesterday(), "lateness": "0", "to": f"file://{out}",
    })  # fmt: skip
    assert made.status_code == 201, made.text
    obj = made.json()
    assert obj["name"] == "nightly" and obj["state"] == "active" and obj["auth"] == "none"
    assert obj["include_content"] is False and obj["lateness_seconds"] == 0
    run = wait_run(admin, "nightly", ("delivered", "delivery_failed", "failed"))
    assert run["state"] == "delivered", run
    assert run["attempts"] == 1 and run["delivery_attempts"] == 1 and run["error"] is None
    assert run["from"] == f"{yesterday()}T00:00:00+00:00"
    assert Path(run["file"]).exists() and Path(run["file"]).parent == out / "teams"
    assert Path(run["file"]).read_bytes().count(b"\n") == run["rows"] + 1
    # listed, found by id and by name, edited, paused, resumed, deleted
    assert [s["name"] for s in admin.get("/schedules").json()["items"]] == ["nightly"]
    assert admin.get(f"/schedules/{obj['id']}").json()["runs"] == 1
    edited = admin.patch("/schedules/nightly", json={"lang": "pt-BR", "include_content": True})
    assert edited.status_code == 200 and edited.json()["lang"] == "pt-BR"
    assert edited.json()["include_content"] is True
    assert admin.post("/schedules/nightly/pause").json()["state"] == "paused"
    assert admin.post("/schedules/nightly/resume").json()["state"] == "active"
    assert admin.post("/schedules", json={**{k: obj[k] for k in ("name", "export", "every")},
                                          "to": f"file://{out}"}).status_code == 409  # fmt: skip
    # the run is an export request too, with its file
    assert admin.get(f"/exports/{run['id']}").json()["state"] == "succeeded"
    assert admin.delete("/schedules/nightly").status_code == 204
    assert admin.get("/schedules/nightly").status_code == 404


def test_sftp_secrets_go_in_and_never_come_out(world: World) -> None:
    admin = world.client("admin")
    port = free_port()  # nothing listens: every delivery is refused
    made = admin.post("/schedules", json={
        "name": "to-sftp", "export": "tags", "every": "day", "since": yesterday(),
        "lateness": 0, "to": f"sftp://cx@127.0.0.1:{port}/export", "password": PASSWORD,
    })  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json()["auth"] == "password" and made.json()["host_key"] is None
    run = wait_run(admin, "to-sftp", ("delivery_failed",))
    assert run["delivery_attempts"] == 2 and "cannot connect" in run["error"]
    for text in (made.text, admin.get("/schedules").text, admin.get("/schedules/to-sftp").text,
                 admin.get("/schedules/to-sftp/runs").text):  # fmt: skip
        assert PASSWORD not in text
    with sqlite3.connect(f"{world.db}.control.sqlite") as con:
        [(secret, destination)] = con.execute(
            "SELECT secret, destination FROM cx_schedules WHERE name = 'to-sftp'"
        ).fetchall()
    assert PASSWORD not in secret and PASSWORD not in destination
    assert PASSWORD not in world.server.log.read_text()
    # a failed delivery can be sent again
    again = admin.post(f"/schedules/to-sftp/runs/{run['id']}/retry")
    assert again.status_code == 200 and again.json()["delivery_state"] == "pending"
    assert admin.delete("/schedules/to-sftp").status_code == 204


def test_only_admins_of_the_workspace_manage_schedules_and_fields_are_checked(
    world: World,
) -> None:
    admin = world.client("admin")
    body = {"name": "x", "export": "teams", "every": "day", "to": "file:///tmp/x"}
    assert world.client("supervisor").get("/schedules").status_code == 403
    assert world.client("supervisor").post("/schedules", json=body).status_code == 403
    made = admin.post("/schedules", json={**body, "since": "2030-01-01"})
    assert made.status_code == 201
    assert world.client("other").get(f"/schedules/{made.json()['id']}").status_code == 404
    assert world.client("other").delete("/schedules/x").status_code == 404
    for field, value in [("every", "month"), ("tz", "Mars/Base"), ("to", "ftp://h/x"),
                         ("export", "nope"), ("lateness", "soon")]:  # fmt: skip
        answer = admin.post("/schedules", json={**body, "name": "y", field: value})
        assert answer.status_code == 422, (field, answer.text)
        assert answer.json()["error"]["field"] == field
    sftp = admin.post("/schedules", json={**body, "name": "y", "to": "sftp://u@h:22/x"})
    assert sftp.status_code == 422 and sftp.json()["error"]["field"] == "password"
    assert admin.delete("/schedules/x").status_code == 204
    paths = httpx.get(f"{world.server.url}/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/schedules", "/api/v1/schedules/{schedule}/runs"} <= set(paths)
