"""The export service over a real server (`cxport serve` on 127.0.0.1, real files):
request → notification → download gives `cxport export`'s bytes; every bad field gets
its 4xx; ingest over HTTP is all or nothing; the OpenAPI schema covers the routes."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from helpers import simulated_store
from service_support import Server, wait_for

from cxport.cli import main
from cxport.exports.defs import EXPORTS

START = dt.date(2024, 6, 1)


def run_cli(*args: str, stdin: str | None = None) -> str:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass
class World:
    db: Path
    server: Server
    tokens: dict[str, str]  # admin, supervisor, agent, other (another workspace's admin)

    def client(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("service")
    db = simulated_store(folder, seed=7, conversations=300, start=START, days=20)
    run_cli("ingest", "--db", str(db), "--workspace", "other", str(folder / "sim.ndjson"))
    users = {
        "admin": ("default", "admin", ()),
        "supervisor": ("default", "supervisor", ("ch-wa-sac", "ch-tw")),
        "agent": ("default", "agent", ()),
        "other": ("other", "admin", ()),
    }
    tokens = {}
    for name, (ws, role, channels) in users.items():
        args = [
            "user",
            "add",
            "--db",
            str(db),
            "--email",
            f"{name}@{ws}.test",
            "--role",
            role,
            "--workspace",
            ws,
        ]
        for ch in channels:
            args += ["--channel", ch]
        run_cli(*args)
        tokens[name] = run_cli(
            "token", "create", "--db", str(db), "--email", f"{name}@{ws}.test", "--workspace", ws
        ).strip()
    server = Server(db, env={"CXPORT_MAX_BODY_BYTES": str(2 * 1024 * 1024)})
    yield World(db, server, tokens)
    assert server.stop() == 0


def cli_export(db: Path, obj: dict[str, object], out: Path, workspace: str = "default") -> bytes:
    args = [
        "export", str(obj["export"]), "--db", str(db), "--from", str(obj["from"]), "--to", str(obj["to"]),
        "--tz", str(obj["tz"]), "--as-of", str(obj["as_of"]), "--lang", str(obj["lang"]),
        "--format", str(obj["format"]), "--workspace", workspace, "--output", str(out),
    ]  # fmt: skip
    for ch in obj["channels"]:  # type: ignore[attr-defined]
        args += ["--channel", ch]
    if obj["bom"]:
        args.append("--bom")
    if obj["excel"]:
        args.append("--excel")
    run_cli(*args)
    return out.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_export_downloaded_is_the_cli_file(world: World, fmt: str, tmp_path: Path) -> None:
    api = world.client("admin")
    asked = []
    for i, d in enumerate(EXPORTS):
        body = {
            "export": d.name,
            "from": "2024-06-03",
            "to": "2024-06-16",
            "tz": "America/Sao_Paulo",
            "format": fmt,
        }
        if i % 3 == 1:
            body |= {"lang": "pt-BR", "channels": ["ch-wa-sac", "ch-web"]}
        r = api.post("/exports", json=body)
        assert r.status_code == 202, r.text
        created = r.json()
        assert created["state"] == "queued" and created["download_url"] is None
        asked.append(created)
    for created in asked:
        done = wait_for(api, created["id"])
        assert done["state"] == "succeeded", done
        assert done["progress"] == 1.0 and done["attempts"] == 1
        assert done["file_name"] == f"default_{done['export']}_20240603_20240616_{done['id']}.{fmt}"
        file = api.get(f"/exports/{done['id']}/file")
        assert file.status_code == 200
        assert file.headers["etag"] == f'"{done["sha256"]}"'
        assert f'filename="{done["file_name"]}"' in file.headers["content-disposition"]
        expected = cli_export(world.db, done, tmp_path / f"{done['id']}.{fmt}")
        assert file.content == expected, done["export"]
        assert len(file.content) == done["bytes"]
        # The signed link works without credentials.
        signed = httpx.get(done["download_url"])
        assert signed.status_code == 200 and signed.content == expected
    # The requester was told, in-app, of every one.
    told = {n["export_request_id"] for n in api.get("/notifications").json()["items"]}
    assert {c["id"] for c in asked} <= told


def test_bad_requests_get_a_clear_4xx_naming_the_field(world: World) -> None:
    api = world.client("admin")
    ok = {"export": "messages", "from": "2024-06-01", "to": "2024-06-02"}
    cases = [
        ({**ok, "export": "nosuch"}, 422, "export"),
        ({**ok, "tz": "Mars/Base"}, 422, "tz"),
        ({**ok, "tz": "america/sao_paulo"}, 422, "tz"),
        ({**ok, "from": "2024-06-05"}, 422, "to"),
        ({**ok, "from": "2024-13-01"}, 422, "from"),
        ({**ok, "channels": ["ch-nosuch"]}, 422, "channels"),
        ({**ok, "colour": "red"}, 422, "colour"),
        ({**ok, "format": "xlsx"}, 422, "format"),
        ({**ok, "from": "2023-01-01", "to": "2024-06-01"}, 422, "to"),  # over 400 days
        ({"from": "2024-06-01", "to": "2024-06-02"}, 422, "export"),
        ({**ok, "format": "parquet", "excel": True}, 422, "excel"),
    ]
    for body, status, field in cases:
        r = api.post("/exports", json=body)
        assert r.status_code == status, (body, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid_field" and error["field"] == field, (body, error)
        assert field in error["message"]
    r = api.post("/exports", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_body"
    r = api.post("/exports", json=[1, 2])
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_body"
    r = httpx.get(f"{world.server.url}/api/v1/exports")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = world.server.client("cx_wrong").get("/exports")
    assert r.status_code == 401
    assert api.get("/exports/nosuch").json()["error"]["code"] == "not_found"
    assert api.get("/exports?state=nosuch").status_code == 422
    assert api.get("/exports?limit=0").status_code == 422


def test_records_over_http_are_all_or_nothing(world: World) -> None:
    admin = world.client("admin")
    good = [
        {
            "type": "channel",
            "id": "rec-ch-api-1",
            "at": "2024-06-20T10:00:00Z",
            "channel_id": "ch-api",
            "medium": "sms",
            "name": "API",
        },
    ]
    bad = [
        *good,
        {
            "type": "channel",
            "id": "rec-ch-api-2",
            "at": "not a time",
            "channel_id": "ch-api2",
            "medium": "sms",
            "name": "x",
        },
    ]
    ndjson = lambda rs: "".join(json.dumps(r) + "\n" for r in rs).encode()  # noqa: E731
    headers = {"content-type": "application/x-ndjson"}
    r = admin.post("/records", content=ndjson(bad), headers=headers)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_records"
    assert error["problems"][0]["line"] == 2 and "at" in error["problems"][0]["reason"]
    assert "ch-api" not in {
        c["id"] for c in admin.get("/channels").json()["items"]
    }  # nothing stored
    r = admin.post(
        "/records",
        content=gzip.compress(ndjson(good)),
        headers={**headers, "content-encoding": "gzip"},
    )
    assert r.status_code == 200, r.text
    assert (
        r.json()["stored"] == 1 and r.json()["duplicates"] == 0 and r.json()["batch_id"] is not None
    )
    again = admin.post("/records", content=ndjson(good), headers=headers).json()
    assert again["stored"] == 0 and again["duplicates"] == 1
    assert "ch-api" in {c["id"] for c in admin.get("/channels").json()["items"]}
    # Another workspace never sees it.
    assert "ch-api" not in {c["id"] for c in world.client("other").get("/channels").json()["items"]}
    # Supervisors and agents may not ingest; a body over the limit is 413.
    assert (
        world.client("supervisor")
        .post("/records", content=ndjson(good), headers=headers)
        .status_code
        == 403
    )
    big = admin.post("/records", content=b"x" * (3 * 1024 * 1024), headers=headers)
    assert big.status_code == 413 and big.json()["error"]["code"] == "body_too_large"


def test_lists_are_newest_first_paginated_and_filtered(world: World) -> None:
    api = world.client("supervisor")
    made = []
    for day in (1, 2, 3):
        r = api.post(
            "/exports", json={"export": "teams", "from": f"2024-06-0{day}", "to": "2024-06-10"}
        )
        assert r.status_code == 202
        made.append(r.json()["id"])
    for i in made:
        wait_for(api, i)
    seen, cursor = [], None
    while True:
        page = api.get(
            "/exports", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen[:3] == made[::-1]
    assert len(seen) == len(set(seen))
    assert all(
        o["state"] == "succeeded"
        for o in api.get("/exports", params={"state": "succeeded"}).json()["items"]
    )
    assert api.get("/exports", params={"state": "failed"}).json()["items"] == []


def test_cancel_a_queued_request_and_conflicts(world: World) -> None:
    api = world.client("admin")
    r = api.post("/exports", json={"export": "messages", "from": "2024-06-01", "to": "2024-06-20"})
    done = wait_for(api, r.json()["id"])
    assert done["state"] == "succeeded"
    r = api.post(f"/exports/{done['id']}/cancel")
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_openapi_schema_matches_the_routes(world: World) -> None:
    schema = httpx.get(f"{world.server.url}/api/v1/openapi.json").json()
    paths = schema["paths"]
    spec = {
        ("post", "/api/v1/records"), ("post", "/api/v1/exports"), ("get", "/api/v1/exports"),
        ("get", "/api/v1/exports/{export_id}"), ("post", "/api/v1/exports/{export_id}/cancel"),
        ("get", "/api/v1/exports/{export_id}/file"), ("get", "/api/v1/notifications"),
        ("post", "/api/v1/notifications/{notification_id}/read"), ("get", "/api/v1/health"),
        ("get", "/api/v1/catalogue"),
    }  # fmt: skip
    documented = {(m, p) for p, ops in paths.items() for m in ops}
    assert spec <= documented
    # Every documented operation answers (not 404/405) on the live server.
    api = world.client("admin")
    for method, path in documented:
        url = (
            path.removeprefix("/api/v1")
            .replace("{export_id}", "x")
            .replace("{notification_id}", "x")
            .replace("{hook_id}", "x")
        )
        r = api.request(method.upper(), url)
        assert r.status_code not in (405,), (method, path, r.text)
        assert not (r.status_code == 404 and r.json()["error"]["message"] == "Not Found"), (
            method,
            path,
        )
    body = schema["components"]["schemas"]["ExportBody"]["properties"]
    assert {"export", "from", "to", "tz", "channels", "lang", "format", "bom", "as_of"} <= set(body)


def test_notifications_can_be_read(world: World) -> None:
    api = world.client("supervisor")
    r = api.post("/exports", json={"export": "tags", "from": "2024-06-01", "to": "2024-06-10"})
    wait_for(api, r.json()["id"])
    deadline = time.monotonic() + 10
    while not (unread := api.get("/notifications", params={"unread": "true"}).json()["items"]):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    first = unread[0]
    assert first["event"] == "export.succeeded" and not first["read"]
    assert api.post(f"/notifications/{first['id']}/read").json()["read"] is True
    assert first["id"] not in {
        n["id"] for n in api.get("/notifications", params={"unread": "true"}).json()["items"]
    }
    # Nobody else reads it.
    assert world.client("admin").post(f"/notifications/{first['id']}/read").status_code == 404
    assert world.client("other").post(f"/notifications/{first['id']}/read").status_code == 404
