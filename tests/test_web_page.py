"""The web page in real Chromium (headless, driven by Playwright) against a real
`cxport serve`: sign in, generate every export, get notified, download the bytes
`cxport export` writes; Portuguese with no English left; a supervisor's channels;
no serious or critical accessibility violations (axe-core); phone width.
Screenshots of the main states go to $CXPORT_TEST_ARTIFACTS (default tests/artifacts/)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import simulated_store
from service_support import Server
from test_service_api import cli_export, run_cli  # the same CLI runs as the API's tests

from cxport.exports.defs import EXPORTS
from cxport.exports.dictionary import catalogue_document

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
ARTIFACTS = Path(os.environ.get("CXPORT_TEST_ARTIFACTS", Path(__file__).parent / "artifacts"))
SHOTS = ARTIFACTS / "web-page"
START = dt.date(2024, 6, 1)
ZONE = "America/Sao_Paulo"
PASSWORD = "correct horse battery staple"
SUPERVISED = ("ch-tw", "ch-wa-sac")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
    pytest.mark.timeout(240),
]


@dataclass
class World:
    db: Path
    server: Server
    tokens: dict[str, str]

    def api(self, who: str) -> httpx.Client:
        return self.server.client(self.tokens[who])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("web")
    db = simulated_store(folder, seed=7, conversations=300, start=START, days=20)
    users = {
        "admin": ("admin", ()),
        "supervisor": ("supervisor", SUPERVISED),
        "agent": ("agent", ()),
    }
    tokens = {}
    for name, (role, channels) in users.items():
        args = ["user", "add", "--db", str(db), "--email", f"{name}@shop.test", "--role", role,
                "--password-stdin"]  # fmt: skip
        for ch in channels:
            args += ["--channel", ch]
        run_cli(*args, stdin=PASSWORD + "\n")
        tokens[name] = run_cli(
            "token", "create", "--db", str(db), "--email", f"{name}@shop.test"
        ).strip()
    # Idle runners look for work every 0.7 s, so a new request is seen queued.
    server = Server(db, env={"CXPORT_POLL": "0.7"})
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield World(db, server, tokens)
    assert server.stop() == 0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield chromium
        chromium.close()


def new_page(browser: Any, width: int = 1280, locale: str = "en-US") -> Any:
    context = browser.new_context(
        timezone_id=ZONE, locale=locale, viewport={"width": width, "height": 900},
        accept_downloads=True,
    )  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.js_errors = errors
    return page


def sign_in(page: Any, world: World, who: str) -> None:
    """By keyboard: type, Tab to the password, Enter."""
    page.goto(world.server.url + "/")
    page.get_by_label("E-mail").fill(f"{who}@shop.test")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/analytics/exports")


def listed(page: Any) -> None:
    """Wait until the live list has been loaded once."""
    page.wait_for_function(
        "!!document.querySelector('#requests') && document.querySelector('#requests').dataset.html !== undefined"
    )


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def serious_violations(page: Any) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def fill_form(page: Any, export: str, *, lang: str = "en", fmt: str = "csv",
              channels: tuple[str, ...] = ()) -> dict[str, Any]:  # fmt: skip
    """Fill the form, select Generate export; the request object the API answered."""
    page.get_by_label("Export type").select_option(export)
    page.get_by_label("Time zone").fill(ZONE)
    page.get_by_label("From").fill("2024-06-03")
    page.get_by_label("To (inclusive)").fill("2024-06-16")
    for box in page.locator('input[name="channels"]').all():
        box.set_checked(box.get_attribute("value") in channels)
    page.get_by_label("Header language").select_option(lang)
    page.get_by_label("Format", exact=True).select_option(fmt)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/exports") and r.request.method == "POST"
    ) as answer:
        page.get_by_role("button", name="Generate export").click()
    assert answer.value.status == 202, answer.value.text()
    created: dict[str, Any] = answer.value.json()
    return created


def download(page: Any, world: World, who: str, created: dict[str, Any], tmp: Path) -> None:
    """Wait for the row to be ready, download it, compare with `cxport export`."""
    row = page.locator(f'tr[data-id="{created["id"]}"]')
    page.locator(f'tr[data-id="{created["id"]}"][data-state="succeeded"]').wait_for(timeout=60000)
    with page.expect_download() as file:
        row.get_by_role("link", name="Download").click()
    obj = world.api(who).get(f"/exports/{created['id']}").json()
    assert file.value.suggested_filename == obj["file_name"]
    got = Path(file.value.path()).read_bytes()
    expected = cli_export(world.db, obj, tmp / f"{obj['id']}.{obj['format']}")
    assert got == expected, obj["export"]
    assert len(got) == obj["bytes"]


def test_sign_in_is_csrf_protected_and_says_when_the_password_is_wrong(world: World) -> None:
    url = world.server.url
    page = httpx.get(url + "/analytics/exports")
    assert page.status_code == 303 and page.headers["location"] == "/login"
    with httpx.Client(base_url=url) as web:
        form = web.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token and form.cookies.get("cxport_login_csrf") == token.group(1)
        forged = httpx.post(url + "/login", data={"email": "admin@shop.test", "password": PASSWORD})
        assert forged.status_code == 403 and "cxport_session" not in forged.cookies
        wrong = web.post(
            "/login", data={"email": "admin@shop.test", "password": "nope", "csrf": token.group(1)}
        )
        assert wrong.status_code == 401 and "password is wrong" in wrong.text
        right = web.post(
            "/login",
            data={"email": "admin@shop.test", "password": PASSWORD, "csrf": token.group(1)},
        )
        assert right.status_code == 303 and right.headers["location"] == "/analytics/exports"
        cookie = right.headers["set-cookie"]
        assert (
            "cxport_session=" in cookie
            and "HttpOnly" in cookie
            and "samesite=lax" in cookie.lower()
        )
        assert "Path=/" in cookie
        # The session works for the API only with the page's CSRF token on writes.
        assert web.get("/api/v1/channels").status_code == 200
        assert (
            web.post(
                "/api/v1/exports",
                json={"export": "messages", "from": "2024-06-03", "to": "2024-06-03"},
            ).status_code
            == 403
        )


def test_admin_generates_every_export_is_notified_and_downloads_the_cli_file(
    world: World, browser: Any, tmp_path: Path
) -> None:
    page = new_page(browser)
    sign_in(page, world, "admin")
    listed(page)
    assert page.get_by_label("Time zone").input_value() == ZONE  # the browser's own
    assert [o.get_attribute("value") for o in page.locator("#f-export option").all()] == [
        d.name for d in EXPORTS
    ]
    assert page.locator(".tabs a").all_inner_texts() == ["On-demand", "Scheduled"]  # an admin's
    # The definition of the selected export, collapsed, follows the choice.
    page.get_by_label("Export type").select_option("agent-presence")
    definition = page.locator('details[data-export="agent-presence"]')
    assert definition.is_visible() and definition.get_attribute("open") is None
    assert page.locator("details.definition:visible").count() == 1
    shot(page, "1-form")
    assert serious_violations(page) == []
    # Quick choices fill the range.
    page.get_by_role("button", name="Yesterday").click()
    assert (
        page.get_by_label("From").input_value() == page.get_by_label("To (inclusive)").input_value()
    )

    page.evaluate(
        """() => { window.toasted = [];
          new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach(
            (n) => window.toasted.push(n.textContent)))).observe(
            document.querySelector('#toasts'), {childList: true}); }"""
    )
    asked = []
    for i, d in enumerate(EXPORTS):
        options: dict[str, Any] = [
            {}, {"lang": "pt-BR", "channels": ("ch-wa-sac", "ch-web")}, {"fmt": "parquet"},
            {"fmt": "excel", "lang": "pt-BR"},
        ][i % 4]  # fmt: skip
        asked.append(fill_form(page, d.name, **options))
        if i == 0:
            page.locator(f'tr[data-id="{asked[0]["id"]}"]').wait_for()
            shot(page, "2-running")
    assert [a["excel"] for a in asked[:4]] == [False, False, False, True]
    for created in asked:
        download(page, world, "admin", created, tmp_path)
    # Every one told: the bell counts them, and toasts showed while the page was open.
    bell = page.locator("#bell")
    page.wait_for_function("document.querySelector('#bell-count').textContent === '12'")
    assert bell.get_attribute("aria-label") == "Notifications: 12 unread"
    toasted = page.evaluate("window.toasted")
    assert toasted and all(
        re.match(r"Your export .+ is ready to download\.Dismiss$", t) for t in toasted
    ), toasted
    shot(page, "3-ready")
    assert serious_violations(page) == []
    bell.click()
    assert page.locator("#notes-panel").is_visible()
    assert page.locator("#notes li").count() == 12
    page.wait_for_function("document.querySelector('#bell-count').hidden")
    shot(page, "4-notifications")
    assert serious_violations(page) == []
    page.keyboard.press("Escape")
    assert page.locator("#notes-panel").is_hidden()
    assert page.js_errors == []


def test_a_failed_request_shows_its_error(world: World, browser: Any) -> None:
    from cxport.control.db import Control, ExportJob
    from cxport.service.access import find_user

    control = Control(f"sqlite:///{world.db}.control.sqlite")
    admin = find_user(control, "default", "admin@shop.test")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with control.session.begin() as s:
        s.add(ExportJob(
            workspace_id="default", requested_by=admin.user_id, export="messages",
            date_from=START, date_to=START, tz=ZONE, channels=[], options={}, as_of=now,
            state="failed", error="the store could not be read: disk full", created_at=now,
            started_at=now, finished_at=now + dt.timedelta(seconds=3), attempts=3,
        ))  # fmt: skip
    control.close()
    page = new_page(browser)
    sign_in(page, world, "admin")
    listed(page)
    row = page.locator('tr[data-state="failed"]')
    assert "Failed" in row.inner_text() and "disk full" in row.inner_text()
    assert row.get_by_role("link", name="Download").count() == 0
    shot(page, "5-failed")
    assert serious_violations(page) == []


def texts(page: Any) -> list[str]:
    """Every text of the page in document order: text nodes (hidden ones too, e.g. the
    other definitions), the attributes people hear or see, and the script's strings."""
    found: list[str] = page.evaluate(
        """() => {
          const out = [];
          const walk = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
          for (let n = walk.currentNode; n; n = walk.nextNode()) {
            if (n.nodeType === Node.TEXT_NODE) {
              const p = n.parentElement;
              if (!p || ['SCRIPT', 'STYLE'].includes(p.tagName) || p.closest('datalist')) continue;
              const t = n.textContent.replace(/\\s+/g, ' ').trim();
              if (t) out.push(t);
            } else {
              for (const a of ['aria-label', 'title', 'placeholder', 'alt', 'data-label', 'data-summary', 'data-toast']) {
                const v = n.getAttribute(a);
                if (v && v.trim()) out.push(v.trim());
              }
              if (n.tagName === 'SCRIPT' && n.type === 'application/json') out.push(...Object.values(JSON.parse(n.textContent)));
            }
          }
          return out;
        }"""
    )
    return found


def same_in_both_languages(world: World, who: str) -> list[str]:
    """Words that are the same in English and Portuguese: names from the data (exports'
    and columns' ids, channels, zones, e-mails, file names), what the catalogue writes
    the same in both (e.g. the title "Tags"), format and language names. And the
    service's error texts, which the core writes in English only."""
    channels = [
        c[k] for c in world.api("admin").get("/channels").json()["items"] for k in ("id", "name")
    ]
    en, pt = (catalogue_document(lang)["exports"] for lang in ("en", "pt-BR"))
    columns = [c["id"] for e in en for c in e["columns"]]
    alike = [e["title"] for e, p in zip(en, pt, strict=True) if e["title"] == p["title"]]
    alike += [c["written_as"] for e, p in zip(en, pt, strict=True)
              for c, d in zip(e["columns"], p["columns"], strict=True) if c["written_as"] == d["written_as"]]  # fmt: skip
    requests = world.api(who).get("/exports", params={"limit": 100}).json()["items"]
    from_data = [r[k] for r in requests for k in ("file_name", "error") if r[k]]
    words = ["CSV", "Parquet", "cxport", "English", "Português", "E-mail", "KB", "MB", ZONE,
             *[d.name for d in EXPORTS], *columns, *alike, *channels, *from_data,
             *[f"{w}@shop.test" for w in world.tokens]]  # fmt: skip
    return sorted(set(words), key=len, reverse=True)


def assert_translated(en: list[str], pt: list[str], same: list[str]) -> None:
    assert len(en) == len(pt), (len(en), len(pt))
    left = []
    for a, b in zip(en, pt, strict=True):
        if a != b:
            continue
        rest = a
        for word in same:
            rest = rest.replace(word, "")
        if re.search(r"[^\W\d_]", rest):  # a letter that no same-word explains
            left.append(a)
    assert left == [], f"English left on the pt-BR page: {left}"


@pytest.mark.parametrize("who", ["admin", "supervisor"])
def test_portuguese_leaves_no_english_string(world: World, browser: Any, who: str) -> None:
    page = new_page(browser)
    page.goto(world.server.url + "/login?lang=en")
    en_login = texts(page)
    page.goto(world.server.url + "/login?lang=pt-BR")
    assert_translated(en_login, texts(page), same_in_both_languages(world, who))
    page.goto(world.server.url + "/login?lang=en")
    sign_in(page, world, who)
    listed(page)
    en = texts(page)
    page.get_by_role("link", name="Português").click()
    page.wait_for_url("**lang=pt-BR")
    listed(page)
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert page.get_by_role("button", name="Gerar exportação").is_visible()
    pt = texts(page)
    assert_translated(en, pt, same_in_both_languages(world, who))
    # Dates and numbers in the locale: the catalogue's pt-BR definitions are there too.
    assert "Definição de Mensagens" in pt
    if who == "admin":
        assert any(re.search(r"\d de jun\. de 2024", t) for t in pt)
        page.get_by_label("Tipo de exportação").select_option("messages")
        shot(page, "6-pt-BR")
        assert serious_violations(page) == []
    # The choice is remembered.
    page.goto(world.server.url + "/analytics/exports")
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert page.js_errors == []


def test_a_supervisor_sees_and_exports_only_their_channels(
    world: World, browser: Any, tmp_path: Path
) -> None:
    page = new_page(browser)
    sign_in(page, world, "supervisor")
    listed(page)
    offered = sorted(b.get_attribute("value") for b in page.locator('input[name="channels"]').all())
    assert offered == sorted(SUPERVISED)
    assert offered == sorted(
        c["id"] for c in world.api("supervisor").get("/channels").json()["items"]
    )
    # Not the admin's requests.
    assert page.locator("tr[data-id]").count() == 0
    one = fill_form(page, "messages", channels=("ch-tw",))
    assert one["channels"] == ["ch-tw"]
    mine = fill_form(page, "resolved-conversations")
    assert sorted(mine["channels"]) == sorted(SUPERVISED)
    for created in (one, mine):
        download(page, world, "supervisor", created, tmp_path)
    # The page cannot be talked into another channel: the service refuses it.
    status = page.evaluate(
        """async () => (await fetch('/api/v1/exports', {method: 'POST', credentials: 'same-origin',
             headers: {'Content-Type': 'application/json',
                       'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
             body: JSON.stringify({export: 'messages', from: '2024-06-03', to: '2024-06-04',
                                   channels: ['ch-web']})})).status"""
    )
    assert status == 403
    assert serious_violations(page) == []
    assert page.js_errors == []


def test_keyboard_alone_generates_an_export(world: World, browser: Any) -> None:
    page = new_page(browser)
    sign_in(page, world, "supervisor")
    page.get_by_label("Export type").focus()
    reached = []
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.append(
            page.evaluate(
                "document.activeElement.id || document.activeElement.name || document.activeElement.textContent.trim()"
            )
        )
        if reached[-1] == "generate":
            break
    assert reached[-1] == "generate", reached
    assert {"f-tz", "f-from", "f-to", "channels", "f-lang", "f-format"} <= set(reached)
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/exports") and r.request.method == "POST"
    ) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 202


def test_phone_width(world: World, browser: Any) -> None:
    page = new_page(browser, width=375)
    sign_in(page, world, "supervisor")
    listed(page)
    page.locator("tr[data-id]").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for name in ("Export type", "Time zone", "From", "To (inclusive)", "Header language"):
        box = page.get_by_label(name).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 375, name
    assert page.get_by_role("button", name="Generate export").is_visible()
    shot(page, "7-phone")
    assert serious_violations(page) == []


def test_an_agent_is_told_they_cannot_export(world: World, browser: Any) -> None:
    page = new_page(browser)
    sign_in(page, world, "agent")
    assert "cannot request exports" in page.get_by_role("alert").inner_text()
    assert page.locator("#export-form").count() == 0
    assert serious_violations(page) == []
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login")
    page.goto(world.server.url + "/analytics/exports")
    assert page.url.endswith("/login")
