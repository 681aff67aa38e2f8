"""The permission matrix over a real server: every role × own/other channel × own/other
workspace, on every endpoint, leaks no row and no object."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from helpers import simulated_store
from service_support import Server, wait_for

from cxport.cli import main

SUPERVISED = ("ch-wa-sac", "ch-tw")
NOT_SUPERVISED = "ch-web"
ROLES = ("admin", "supervisor", "agent", "outsider")  # outsider: admin of another workspace


def run_cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


@dataclass
class Matrix:
    server: Server
    tokens: dict[str, str]
    objects: dict[str, str]  # export request ids: by admin, by supervisor, by outsider

    def client(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Matrix]:
    folder = tmp_path_factory.mktemp("access")
    db = simulated_store(folder, seed=11, conversations=200, start=dt.date(2024, 6, 1), days=15)
    other = folder / "other.ndjson"
    other.write_text(json.dumps({"type": "channel", "id": "o1", "at": "2024-06-02T00:00:00Z",
                                 "channel_id": "ch-outside", "medium": "sms", "name": "Outside"}) + "\n")  # fmt: skip
    run_cli("ingest", "--db", str(db), "--workspace", "elsewhere", str(other))
    people = {
        "admin": ("default", "admin", ()), "supervisor": ("default", "supervisor", SUPERVISED),
        "agent": ("default", "agent", ()), "outsider": ("elsewhere", "admin", ()),
    }  # fmt: skip
    tokens = {}
    for name, (ws, role, channels) in people.items():
        extra = [a for ch in channels for a in ("--channel", ch)]
        run_cli(
            "user",
            "add",
            "--db",
            str(db),
            "--email",
            f"{name}@x.test",
            "--role",
            role,
            "--workspace",
            ws,
            *extra,
        )
        tokens[name] = run_cli(
            "token", "create", "--db", str(db), "--email", f"{name}@x.test", "--workspace", ws
        ).strip()
    server = Server(db)
    m = Matrix(server, tokens, {})
    body = {"export": "messages", "from": "2024-06-01", "to": "2024-06-15"}
    for who in ("admin", "supervisor", "outsider"):
        r = m.client(who).post("/exports", json=body)
        assert r.status_code == 202, r.text
        m.objects[who] = r.json()["id"]
        assert wait_for(m.client(who), m.objects[who])["state"] == "succeeded"
    hook = m.client("outsider").post("/webhooks", json={"url": "http://127.0.0.1:9/none"})
    assert hook.status_code == 201
    m.objects["outsider-hook"] = hook.json()["id"]
    yield m
    server.stop()


# Which export requests each caller may see (GET, cancel, file); the rest are 404.
VISIBLE = {
    "admin": {"admin", "supervisor"},
    "supervisor": {"supervisor"},
    "agent": set(),  # agents cannot export: 403 on every export endpoint
    "outsider": {"outsider"},
}


@pytest.mark.parametrize("who", ROLES)
def test_export_objects(matrix: Matrix, who: str) -> None:
    api = matrix.client(who)
    listed = api.get("/exports")
    if who == "agent":
        assert listed.status_code == 403
    else:
        assert {o["id"] for o in listed.json()["items"]} == {
            matrix.objects[o] for o in VISIBLE[who]
        }
    for owner in ("admin", "supervisor", "outsider"):
        oid = matrix.objects[owner]
        expected = 403 if who == "agent" else (200 if owner in VISIBLE[who] else 404)
        get = api.get(f"/exports/{oid}")
        assert get.status_code == expected, (who, owner, get.text)
        file = api.get(f"/exports/{oid}/file")
        assert file.status_code == expected, (who, owner)
        cancel = api.post(f"/exports/{oid}/cancel")
        assert cancel.status_code == (409 if expected == 200 else expected), (who, owner)
        if expected == 404:  # the same answer as for an id that never existed
            missing = api.get("/exports/0000000000000000").text.replace("0000000000000000", oid)
            assert get.text == missing


@pytest.mark.parametrize("who", ROLES)
def test_channels_and_new_requests(matrix: Matrix, who: str) -> None:
    api = matrix.client(who)
    channels = api.get("/channels")
    if who == "agent":
        assert channels.status_code == 403
        assert (
            api.post(
                "/exports", json={"export": "teams", "from": "2024-06-01", "to": "2024-06-02"}
            ).status_code
            == 403
        )
        return
    ids = {c["id"] for c in channels.json()["items"]}
    if who == "supervisor":
        assert ids == set(SUPERVISED)
    elif who == "outsider":
        assert ids == {"ch-outside"}
    else:
        assert set(SUPERVISED) | {NOT_SUPERVISED} <= ids and "ch-outside" not in ids
    base = {"export": "teams", "from": "2024-06-01", "to": "2024-06-02"}
    own = api.post("/exports", json={**base, "channels": [SUPERVISED[0]]})
    other_channel = api.post("/exports", json={**base, "channels": [NOT_SUPERVISED]})
    other_workspace = api.post("/exports", json={**base, "channels": ["ch-outside"]})
    if who == "admin":
        assert (own.status_code, other_channel.status_code, other_workspace.status_code) == (
            202,
            202,
            422,
        )
    elif who == "supervisor":
        assert (own.status_code, other_channel.status_code, other_workspace.status_code) == (
            202,
            403,
            422,
        )
    else:  # another workspace's channels are unknown there; the error lists only its own
        assert (own.status_code, other_channel.status_code, other_workspace.status_code) == (
            422,
            422,
            202,
        )
        assert "ch-wa-sac" not in own.text.replace("unknown channel ch-wa-sac", "")


def test_a_supervisors_export_holds_only_their_channels(matrix: Matrix) -> None:
    sup = matrix.client("supervisor")
    names = {c["name"] for c in sup.get("/channels").json()["items"]}
    content = sup.get(f"/exports/{matrix.objects['supervisor']}/file").text
    rows = list(csv.DictReader(io.StringIO(content)))
    assert rows and {r["Channel"].removeprefix("'") for r in rows} <= names  # guarded: "'@…"
    everything = matrix.client("admin").get(f"/exports/{matrix.objects['admin']}/file").text
    assert len(list(csv.DictReader(io.StringIO(everything)))) > len(rows)
    assert matrix.client("supervisor").get(f"/exports/{matrix.objects['supervisor']}").json()[
        "channels"
    ] == list(SUPERVISED)


@pytest.mark.parametrize("who", ROLES)
def test_notifications_webhooks_and_records(matrix: Matrix, who: str) -> None:
    api = matrix.client(who)
    mine = api.get("/notifications").json()["items"]
    if who != "agent":
        own = {
            o["id"]
            for o in api.get("/exports").json()["items"]
            if o["requested_by"] == f"{who}@x.test"
        }
        assert {n["export_request_id"] for n in mine} <= own
    else:
        assert mine == []
    for owner in ("admin", "supervisor", "outsider"):
        if owner == who:
            continue
        for n in matrix.client(owner).get("/notifications").json()["items"]:
            assert api.post(f"/notifications/{n['id']}/read").status_code == 404
    hooks = api.get("/webhooks")
    removing = api.delete(f"/webhooks/{matrix.objects['outsider-hook']}")
    ndjson = {"content-type": "application/x-ndjson"}
    records = api.post("/records", content=b"", headers=ndjson)
    if who in ("supervisor", "agent"):
        assert (
            hooks.status_code == 403 and removing.status_code == 403 and records.status_code == 403
        )
    elif who == "admin":
        assert hooks.json()["items"] == [] and removing.status_code == 404
        assert records.status_code == 200
    else:
        assert [h["id"] for h in hooks.json()["items"]] == [matrix.objects["outsider-hook"]]
        assert "secret" not in hooks.json()["items"][0]


def test_signed_links_expire_and_cannot_be_forged(matrix: Matrix, tmp_path: Path) -> None:
    obj = matrix.client("supervisor").get(f"/exports/{matrix.objects['supervisor']}").json()
    good = httpx.get(obj["download_url"])
    assert good.status_code == 200
    other = matrix.objects["admin"]
    forged = obj["download_url"].replace(matrix.objects["supervisor"], other)
    assert httpx.get(forged).status_code == 404
    base, _, query = obj["download_url"].partition("?")
    params = dict(p.split("=") for p in query.split("&"))
    later = httpx.get(
        base, params={"expires": str(int(params["expires"]) + 3600), "sig": params["sig"]}
    )
    assert later.status_code == 404
    past = httpx.get(base, params={"expires": "1000", "sig": params["sig"]})
    assert past.status_code == 404
