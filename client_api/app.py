"""The client API face: JSON for the mobile and web apps, mounted at /api."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from swagger_ui_bundle import swagger_ui_path

from client_api import openapi
from client_api.deps import client_behind_refusal
from client_api.errors import localized, request_locale, translate, translate_validation_error
from client_api.routes import assignments, auth, checkins, consent, crisis, me, measures, push, safety_plan, sessions
from service.config import get_settings
from service.db import UNAVAILABLE_ERRORS
from service.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
    Unavailable,
)
from service.kit.hygiene import reject_unsafe_input, without_echo
from service.kit.i18n import Multilingual

log = logging.getLogger(__name__)
BUSY = "the service is busy; please try again in a moment"

_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, Unauthenticated: 401, RateLimited: 429}


def create_client_api() -> FastAPI:
    api = FastAPI(
        title="Tandem client API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from the package's own Swagger UI files: works offline, no CDN
        redoc_url=None,
        description="Check-ins, questionnaires, assigned exercises and crisis resources for Tandem clients.",
        # Runs before any other dependency: bad text, numbers, dates or ids never reach the database.
        dependencies=[Depends(reject_unsafe_input)],
    )
    v1 = APIRouter(prefix="/v1")
    for module in (auth, consent, me, checkins, measures, assignments, sessions, crisis, push, safety_plan):
        v1.include_router(module.router)
    api.include_router(v1)
    openapi.install(api)
    api.add_middleware(NoStoreMiddleware)
    api.mount("/docs-assets", StaticFiles(directory=swagger_ui_path), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title="Tandem client API",
            swagger_js_url=f"{root}/docs-assets/swagger-ui-bundle.js",
            swagger_css_url=f"{root}/docs-assets/swagger-ui.css",
            swagger_favicon_url=f"{root}/docs-assets/favicon-32x32.png",
        )

    @api.exception_handler(Unavailable)
    def unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after_seconds)}
        return JSONResponse({"detail": exc.detail, **exc.extra}, status_code=503, headers=headers)

    def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        # Saturated, or the database is unreachable: a 503 the client may retry (with its Idempotency-Key).
        log.warning("API request not served: %s", type(exc).__name__)
        headers = {"Retry-After": str(Unavailable.retry_after_seconds)}
        return JSONResponse({"detail": translate(BUSY, request_locale(request))}, status_code=503, headers=headers)

    for kind in UNAVAILABLE_ERRORS:
        api.add_exception_handler(kind, database_unavailable)

    @api.exception_handler(DomainError)
    def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        headers: dict[str, str] = {}
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        if isinstance(exc.detail, Multilingual):  # written for the client in every language, never quoting them
            detail = localized(exc.detail, request)
        else:
            detail = translate(without_echo(exc.detail, request), request_locale(request))
        return JSONResponse({"detail": detail}, status_code=status, headers=headers or None)

    @api.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        try:
            client_behind_refusal(request)
        except Unauthenticated as refused:
            return domain_error(request, refused)
        except UNAVAILABLE_ERRORS as down:
            return database_unavailable(request, down)
        errors = exc.errors()
        locale = request_locale(request)
        if any(error.get("loc", ("",))[0] == "path" for error in errors):
            # A malformed id names nothing: the same answer as an id that does not exist.
            return JSONResponse({"detail": translate("not found", locale)}, status_code=404)
        return JSONResponse({"detail": [_without_input(error, locale) for error in errors]}, status_code=422)

    @api.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else "request refused"
        detail = translate(detail, request_locale(request))
        return JSONResponse({"detail": detail}, status_code=exc.status_code, headers=exc.headers)

    @api.exception_handler(IntegrityError)
    def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # A race lost against a unique constraint: the other request won, nothing was written here.
        detail = translate("this conflicts with data that already exists", request_locale(request))
        return JSONResponse({"detail": detail}, status_code=409)

    return api


# JSON is never a document to render: no script, no frame, no sniffing. The interactive docs page
# (Swagger UI) needs its own scripts and is left out.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


class NoStoreMiddleware:
    """Every API answer is about one client (health data, tokens): no browser or proxy may keep it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache"), (b"x-content-type-options", b"nosniff")]
        if not scope["path"].removeprefix(scope.get("root_path", "")).startswith("/docs"):
            headers.append((b"content-security-policy", API_CSP))
        if get_settings().uses_https:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        names = {name for name, _ in headers}

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = [*kept, *headers]
            await send(message)

        await self.app(scope, receive, send_no_store)


def _without_input(error: Any, locale: str) -> dict[str, Any]:
    """Where and why, never what: the client's value is not echoed (it may be health data, or unencodable)."""
    location = [part if isinstance(part, int) or _plain(part) else "(key)" for part in error.get("loc", ())]
    if error.get("type") == "extra_forbidden" and location:
        location[-1] = "(unknown field)"  # the name is the client's own text
    return {
        "loc": location,
        "msg": translate_validation_error(error, locale),
        "type": str(error.get("type", "value_error")),
    }


def _plain(part: object) -> bool:
    if not isinstance(part, str) or len(part) > 64 or not part.isascii():
        return False
    return part.replace("_", "").replace("-", "").isalnum()
