"""The REST API of `service.md`, under `/api/v1`: each route parses, calls one service
function, renders. Errors are `{"error": {"code", "message"}}` with a stable code."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from cxport.errors import (
    Conflict,
    CxportError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    TooMany,
    Unauthorized,
    UsageError,
)
from cxport.service.access import Principal
from cxport.service.app import ExportAsk, Service, field_of, invalid_input_problems
from cxport.service.store_access import StoreBusy

# (status, code) of each core error; the most specific class first.
ERRORS: list[tuple[type[CxportError], int, str]] = [
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (NotFound, 404, "not_found"),
    (Conflict, 409, "conflict"),
    (Gone, 410, "gone"),
    (TooMany, 429, "too_many_requests"),
    (InvalidInput, 422, "invalid_records"),
    (StoreBusy, 503, "store_busy"),
    (UsageError, 422, "invalid_field"),
]


class BodyTooLarge(CxportError):
    pass


def error_body(code: str, message: str, **more: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **more}}


def _error_response(exc: CxportError) -> JSONResponse:
    if isinstance(exc, BodyTooLarge):
        return JSONResponse(error_body("body_too_large", str(exc)), status_code=413)
    for kind, status, code in ERRORS:
        if isinstance(exc, kind):
            more: dict[str, Any] = {}
            if isinstance(exc, InvalidInput):
                more = {"problems": invalid_input_problems(exc), "total": exc.total}
            elif isinstance(exc, UsageError) and (field := field_of(exc)):
                more = {"field": field}
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return JSONResponse(
                error_body(code, str(exc), **more), status_code=status, headers=headers
            )
    return JSONResponse(error_body("internal", str(exc)), status_code=500)


class ExportBody(BaseModel):
    """`POST /exports`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    export: str = Field(description="One of the twelve export names.")
    date_from: dt.date = Field(alias="from", description="First day, in `tz`.")
    date_to: dt.date = Field(alias="to", description="Last day (inclusive), in `tz`.")
    tz: str = Field("UTC", description="IANA time zone of the range and the file.")
    channels: list[str] = Field(
        default_factory=list, description="Empty: every channel the caller may see."
    )
    lang: Literal["en", "pt-BR", "id"] = "en"
    format: Literal["csv", "parquet"] = "csv"
    bom: bool = False
    excel: bool = Field(
        False,
        description="CSV as Excel in `lang`'s locale opens it (BOM, CRLF, its delimiter and decimal mark).",
    )
    delimiter: str | None = Field(None, description="CSV field delimiter (overrides `excel`'s).")
    decimal: str | None = Field(
        None, description="Decimal mark of decimal columns (overrides `excel`'s)."
    )
    as_of: dt.datetime | None = Field(
        None, description="Snapshot instant; null: when the request is accepted."
    )


class WebhookBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str
    secret: str | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller(request: Request) -> Principal:
    """Who calls: a bearer token, or the web page's session (its forms send the CSRF token)."""
    service: Service = request.app.state.service
    token = _bearer(request)
    if token:
        return service.by_token(token)
    cookie = request.cookies.get("cxport_session")
    if cookie:
        who, csrf = service.by_session(cookie)
        if request.method not in ("GET", "HEAD") and request.headers.get("x-csrf-token") != csrf:
            raise Forbidden("missing or wrong CSRF token")
        return who
    raise Unauthorized("sign in, or send Authorization: Bearer <token>")


Caller = Annotated[Principal, Depends(caller)]


def create_app(service: Service) -> FastAPI:
    app = FastAPI(
        title="cxport",
        version="1",
        description="Analytics data exports of a messaging operation (`service.md`).",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
    )
    app.state.service = service

    @app.exception_handler(CxportError)
    async def _cx(_: Request, exc: CxportError) -> JSONResponse:
        return _error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid" or any(
            e.get("type") == "model_attributes_type" for e in exc.errors()
        ):
            return JSONResponse(
                error_body("malformed_body", "the body is not a JSON object"), status_code=400
            )
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(loc) or "body"
        if first.get("type") == "extra_forbidden":
            message = f"{field}: unknown field"
        elif first.get("type") == "missing":
            message = f"{field}: required"
        else:
            message = f"{field}: {first.get('msg', 'invalid')}"
        return JSONResponse(error_body("invalid_field", message, field=field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return JSONResponse(
            error_body(codes.get(exc.status_code, "http_error"), str(exc.detail)),
            status_code=exc.status_code,
        )

    api = APIRouter(prefix="/api/v1")

    @api.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @api.post(
        "/records",
        openapi_extra={
            "requestBody": {
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                "required": True,
            }
        },
    )
    async def post_records(request: Request, who: Caller) -> dict[str, Any]:
        """Ingest an NDJSON body (gzip accepted), all or nothing. Admin only."""
        who.must_be_admin("ingest records")
        body = await _read_body(request, service.settings.max_body_bytes)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(service.ingest_body, who, body)

    @api.post("/exports", status_code=202)
    def post_export(body: ExportBody, who: Caller) -> dict[str, Any]:
        options = tuple(
            (k, getattr(body, k))
            for k in ("lang", "format", "bom", "excel", "delimiter", "decimal")
        )
        ask = ExportAsk(
            body.export,
            body.date_from,
            body.date_to,
            body.tz,
            tuple(body.channels),
            body.as_of,
            options,
        )
        return service.request_export(who, ask)

    @api.get("/exports")
    def list_exports(
        who: Caller,
        state: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        return service.list_exports(who, state, limit, cursor)

    @api.get("/exports/{export_id}")
    def get_export(export_id: str, who: Caller) -> dict[str, Any]:
        return service.get_export(who, export_id)

    @api.post("/exports/{export_id}/cancel")
    def cancel_export(export_id: str, who: Caller) -> dict[str, Any]:
        return service.cancel(who, export_id)

    @api.get("/exports/{export_id}/file", response_class=FileResponse)
    def export_file(
        export_id: str, request: Request, expires: str | None = None, sig: str | None = None
    ) -> FileResponse:
        """The file once succeeded: with credentials, or a signed link (`download_url`)."""
        who = caller(request) if sig is None else None
        path, name, sha = service.export_file(who, export_id, expires, sig)
        media = (
            "application/vnd.apache.parquet"
            if name.endswith(".parquet")
            else "text/csv; charset=utf-8"
        )
        response = FileResponse(path, media_type=media, filename=name)
        response.headers["ETag"] = f'"{sha}"'
        return response

    @api.get("/notifications")
    def notifications(who: Caller, unread: bool = False) -> dict[str, Any]:
        return {"items": service.notifications(who, unread)}

    @api.post("/notifications/{notification_id}/read")
    def read_notification(notification_id: str, who: Caller) -> dict[str, Any]:
        return service.read_notification(who, notification_id)

    @api.get("/catalogue")
    def catalogue(lang: str = "en") -> dict[str, Any]:
        """The twelve exports: their columns, what each holds, and which rows each has."""
        from cxport.exports.dictionary import catalogue_document

        return catalogue_document(lang)

    @api.get("/channels")
    def channels(who: Caller) -> dict[str, Any]:
        """The channels the caller may export."""
        return {"items": service.channels(who)}

    @api.post("/webhooks", status_code=201)
    def add_webhook(body: WebhookBody, who: Caller) -> dict[str, Any]:
        """Tell this URL of every export of the workspace that ends (admin); the secret
        signs each POST and is shown once."""
        return service.add_webhook(who, body.url, body.secret)

    @api.get("/webhooks")
    def list_webhooks(who: Caller) -> dict[str, Any]:
        return {"items": service.webhooks(who)}

    @api.delete("/webhooks/{hook_id}", status_code=204)
    def remove_webhook(hook_id: str, who: Caller) -> None:
        service.remove_webhook(who, hook_id)

    app.include_router(api)
    from cxport.web.schedules_api import router as schedule_routes  # issue 20

    app.include_router(schedule_routes, prefix="/api/v1")
    from cxport.web.pages import add_pages  # the web page (issue 17)

    add_pages(app)
    return app


async def _read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise BodyTooLarge(f"the body is {int(length)} bytes; at most {limit} are accepted")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f"the body is over {limit} bytes; at most {limit} are accepted")
        chunks.append(chunk)
    return b"".join(chunks)
