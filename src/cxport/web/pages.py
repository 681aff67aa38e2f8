"""The web page: sign in, then Analytics › Exports (tabs On-demand and Scheduled), in English
or pt-BR.

Server-rendered (Jinja2, gettext catalogues of `i18n.py`); the page's script
(`static/exports.js`) calls the JSON API with the session cookie and the
session's CSRF token, and polls `/analytics/exports/live` for the list of
requests and the notifications, rendered here in the page's language. Each
route parses, makes its service calls, renders.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from cxport.errors import Forbidden, NotFound, Unauthorized
from cxport.exports.dictionary import catalogue_document
from cxport.service.access import Principal
from cxport.service.app import Service
from cxport.service.store_access import StoreBusy
from cxport.web.i18n import LANGS, TEMPLATES, Formats, pick_lang, time_zones, translations
from cxport.web.listing import ACTIVE, notification_rows, request_row

STATIC = Path(__file__).parent / "static"
SESSION_COOKIE = "cxport_session"
LANG_COOKIE = "cxport_lang"
LOGIN_CSRF_COOKIE = "cxport_login_csrf"
EXPORTS_PAGE = "/analytics/exports"
LISTED = 30  # requests shown, newest first
SCHEDULE_RUNS = 10  # runs shown per schedule, newest first

router = APIRouter(include_in_schema=False)


def add_pages(app: FastAPI) -> None:
    """The page's routes and its static files, on the API's app."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(router)


@cache
def _env(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    return env


def _lang(request: Request) -> str:
    return pick_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def _render(request: Request, name: str, lang: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    html = (
        _env(lang).get_template(name).render(lang=lang, langs=LANGS, path=request.url.path, **ctx)
    )
    response = HTMLResponse(html, status_code=status)
    if request.query_params.get("lang") in LANGS:  # remembered for the next pages
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/")
    return response


def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def _signed_in(request: Request) -> tuple[Principal, str] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return _service(request).by_session(cookie)
    except Unauthorized:
        return None


def _secure(request: Request) -> bool:
    return _service(request).settings.base_url.startswith("https://")


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse(EXPORTS_PAGE, status_code=303)


@router.get("/login")
def login_page(request: Request) -> Response:
    if _signed_in(request):
        return RedirectResponse(EXPORTS_PAGE, status_code=303)
    return _login_form(request, _lang(request))


def _login_form(
    request: Request, lang: str, status: int = 200, email: str = "", error: str = ""
) -> Response:
    """The form with a token that the POST must bring back, also set as a cookie
    (double submit: another site can make a browser post, but cannot read the token)."""
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _render(request, "login.html", lang, status, csrf=token, email=email, error=error)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", path="/login",
                        secure=_secure(request))  # fmt: skip
    return response


@router.post("/login")
def login(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    lang = _lang(request)
    if not _same(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_form(request, lang, 403, email, "expired")
    try:
        _, cookie, _ = _service(request).sign_in(email.strip(), password)
    except Unauthorized:
        return _login_form(request, lang, 401, email, "wrong")
    response = RedirectResponse(EXPORTS_PAGE, status_code=303)
    response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", path="/",
                        secure=_secure(request))  # fmt: skip
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    found = _signed_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    if not _same(csrf, found[1]):
        raise Forbidden("missing or wrong CSRF token")
    _service(request).sign_out(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _exports_for_form(lang: str) -> list[dict[str, Any]]:
    """The twelve with their one-line descriptions (the row rule's first clause)."""
    out = []
    for e in catalogue_document(lang)["exports"]:
        rows = next(p["text"] for p in e["row_rule"] if p["part"] == "rows")
        out.append({**e, "summary": rows.split(":")[0].rstrip(".") + "."})
    return out


@router.get(EXPORTS_PAGE)
def exports_page(request: Request) -> Response:
    found = _signed_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    who, csrf = found
    lang = _lang(request)
    service = _service(request)
    try:
        channels = service.channels(who)
    except Forbidden:
        return _render(request, "exports.html", lang, 403, who=who, csrf=csrf, can_export=False)
    except StoreBusy:  # an ingest holds the store for a moment
        return _render(request, "exports.html", lang, 503, who=who, csrf=csrf, can_export=False,
                       busy=True)  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    return _render(
        request, "exports.html", lang, who=who, csrf=csrf, can_export=True, channels=channels,
        exports=_exports_for_form(lang), zones=time_zones(),
        default_from=today - dt.timedelta(days=7), default_to=today - dt.timedelta(days=1),
    )  # fmt: skip


@router.get(EXPORTS_PAGE + "/live")
def live(request: Request, tz: str = "UTC") -> Response:
    """The list of requests and the notifications, as HTML in the page's language, and
    the unread count: polled by the page."""
    found = _signed_in(request)
    if found is None:
        return JSONResponse({"error": {"code": "unauthorized", "message": "sign in"}}, 401)
    who, _ = found
    lang = _lang(request)
    service = _service(request)
    fmt = Formats(lang, tz)
    titles = {e["name"]: e["title"] for e in catalogue_document(lang)["exports"]}
    items = service.list_exports(who, limit=LISTED)["items"]
    rows = [request_row(obj, titles, who.email, fmt) for obj in items]
    by_id = {r.id: r for r in rows}
    notes = service.notifications(who, limit=20)
    for n in notes:  # one that ended before the listed ones
        rid = n.get("export_request_id")
        if rid and rid not in by_id:
            try:
                by_id[rid] = request_row(service.get_export(who, rid), titles, who.email, fmt)
            except NotFound:  # a notification outlives its request
                continue
    unread = sum(1 for n in notes if not n["read"])
    env = _env(lang)
    return JSONResponse(
        {
            "requests": env.get_template("_requests.html").render(lang=lang, rows=rows, who=who),
            "notifications": env.get_template("_notifications.html").render(
                lang=lang, notes=notification_rows(notes, by_id, fmt)
            ),
            "unread": unread,
            "bell_label": env.get_template("_bell_label.html").render(unread=unread).strip(),
            "active": any(r.state in ACTIVE for r in rows),
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get(EXPORTS_PAGE + "/scheduled")
def scheduled_page(request: Request) -> Response:
    """The Scheduled tab (admins): the schedules with their recent runs, and the form."""
    from cxport.service import schedules

    found = _signed_in(request)
    if found is None:
        return RedirectResponse("/login", status_code=303)
    who, csrf = found
    lang = _lang(request)
    if not who.is_admin:
        return _render(request, "scheduled.html", lang, 403, who=who, csrf=csrf, can_manage=False)
    service = _service(request)
    exports = _exports_for_form(lang)
    try:
        channels = service.channels(who)
    except StoreBusy:
        channels = []
    shown = []
    for s in schedules.list_schedules(service, who):
        fmt = Formats(lang, s["tz"])
        runs = schedules.list_runs(service, who, s["id"], limit=SCHEDULE_RUNS)
        rows = [
            {**r, "period": f"{fmt.instant(r['from_utc'])} – {fmt.instant(r['to_utc'])}",
             "rows": fmt.number(r["rows"])}
            for r in runs
        ]  # fmt: skip
        nxt = s["next_period"]
        edit = {k: s[k] for k in ("id", "name", "export", "every", "tz", "channels", "lang",
                                  "format", "include_content", "to")}  # fmt: skip
        shown.append({**s, "run_rows": rows, "next_label": fmt.instant(nxt["due_at"]),
                      "edit": {**edit, "lateness": str(s["lateness_seconds"])}})  # fmt: skip
    return _render(
        request, "scheduled.html", lang, who=who, csrf=csrf, can_manage=True, schedules=shown,
        exports=exports, titles={e["name"]: e["title"] for e in exports}, zones=time_zones(),
        channels=channels,
    )  # fmt: skip
