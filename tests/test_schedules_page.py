"""The page's Scheduled tab in real Chromium against a real `cxport serve`: an admin makes
a schedule with the form, sees its run delivered (state, attempts), pauses it; in
Portuguese too; no serious accessibility violations; a supervisor is told it is for
admins."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import simulated_store
from service_support import Server, cxport
from test_web_page import (  # the same browser and page helpers as the page's tests
    CHROMIUM,
    PASSWORD,
    SHOTS,
    browser,  # noqa: F401 - a fixture
    new_page,
    serious_violations,
    shot,
)

from cxport.exports.dictionary import catalogue_document

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(240),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("sched-page")
    db = simulated_store(folder, seed=4, conversations=30, start=dt.date(2024, 6, 1), days=2)
    for who, role, extra in [("admin", "admin", []), ("sup", "supervisor", ["--channel", "ch-tw"])]:
        cxport("user", "add", "--db", str(db), "--email", f"{who}@shop.test", "--role", role,
               "--password-stdin", *extra, stdin=PASSWORD + "\n")  # fmt: skip
    running = Server(db, env={"CXPORT_SCHEDULE_TICK": "0.2"})
    yield running
    running.stop()


def sign_in(page: Any, server: Server, who: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("E-mail").fill(f"{who}@shop.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/analytics/exports")


def test_an_admin_makes_a_schedule_sees_it_delivered_and_pauses_it(
    server: Server,
    browser: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    page = new_page(browser)
    sign_in(page, server, "admin")
    page.get_by_role("link", name="Scheduled").click()
    page.wait_for_url("**/analytics/exports/scheduled")
    assert "No schedules yet" in page.content()
    yesterday = (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)).isoformat()
    page.get_by_label("Name").fill("nightly teams")
    page.get_by_label("Export type").select_option("teams")
    page.get_by_label("Every").select_option("day")
    page.get_by_label("Time zone").fill("UTC")
    page.get_by_label("Lateness margin").fill("0")
    page.get_by_label("First day").fill(yesterday)
    page.get_by_label("Destination").fill(f"file://{tmp_path / 'out'}")
    with page.expect_response(lambda r: r.url.endswith("/api/v1/schedules")) as answer:
        page.get_by_role("button", name="Create schedule").click()
    assert answer.value.status == 201
    deadline = time.monotonic() + 60
    while "Delivered" not in page.locator("table.runs").inner_text():
        assert time.monotonic() < deadline, page.locator("table.runs").inner_text()
        time.sleep(0.3)
        page.reload()
    row = page.locator("table.runs tbody tr").first.inner_text()
    assert "1 / 1" in row  # one export attempt, one delivery attempt
    assert len(list((tmp_path / "out" / "teams").glob("*.manifest.json"))) == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot(page, "scheduled")
    assert serious_violations(page) == []
    assert page.js_errors == []
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    assert "Paused" in page.locator(".schedule h3").inner_text()
    # edited with the same form: the export changes, the rest stays
    page.get_by_role("button", name="Edit").click()
    assert page.get_by_label("Name").input_value() == "nightly teams"
    page.get_by_label("Export type").select_option("tags")
    with page.expect_response(lambda r: r.request.method == "PATCH") as answer:
        page.get_by_role("button", name="Save changes").click()
    assert answer.value.status == 200
    page.wait_for_load_state()
    tags = next(e["title"] for e in catalogue_document("en")["exports"] if e["name"] == "tags")
    page.locator(".facts").get_by_text(tags, exact=True).wait_for()
    assert "(UTC)" in page.locator(".facts").inner_text()
    # Portuguese: the tab and the states are translated
    page.goto(server.url + "/analytics/exports/scheduled?lang=pt-BR")
    text = page.locator("main").inner_text()
    for word in ("Agendadas", "Pausado", "Entregue", "Novo agendamento", "Retomar"):
        assert word in text
    for english in ("Delivered", "New schedule", "Resume", "Recent runs"):
        assert english not in text
    page.goto(server.url + "/analytics/exports/scheduled?lang=en")
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Delete").click()
    page.get_by_text("No schedules yet").wait_for()


def test_a_supervisor_is_told_schedules_are_for_admins(
    server: Server,
    browser: Any,  # noqa: F811 - the fixture imported above
) -> None:
    page = new_page(browser)
    sign_in(page, server, "sup")
    assert page.get_by_role("link", name="Scheduled").count() == 0
    answer = page.goto(server.url + "/analytics/exports/scheduled")
    assert answer is not None and answer.status == 403
    assert "Only an admin" in page.locator("main").inner_text()
