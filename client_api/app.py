"""The client API face: JSON for the mobile and web apps, mounted at /api."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from swagger_ui_bundle import swagger_ui_path

from client_api.routes import assignments, auth, checkins, consent, crisis, me, measures, push, safety_plan, sessions
from service.db import UNAVAILABLE_ERRORS
from service.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthenticated, Unavailable

log = logging.getLogger(__name__)
BUSY = "the service is busy; please try again in a moment"

_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, Unauthenticated: 401}


def create_client_api() -> FastAPI:
    api = FastAPI(
        title="Tandem client API",
        version="1",
        openapi_url="/openapi.json",
        docs_url=None,  # served below from the package's own Swagger UI files: works offline, no CDN
        redoc_url=None,
        description="Check-ins, questionnaires, assigned exercises and crisis resources for Tandem clients.",
    )
    v1 = APIRouter(prefix="/v1")
    for module in (auth, consent, me, checkins, measures, assignments, sessions, crisis, push, safety_plan):
        v1.include_router(module.router)
    api.include_router(v1)
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

    def database_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # Saturated, or the database is unreachable: a 503 the client may retry (with its Idempotency-Key).
        log.warning("API request not served: %s", type(exc).__name__)
        headers = {"Retry-After": str(Unavailable.retry_after_seconds)}
        return JSONResponse({"detail": BUSY}, status_code=503, headers=headers)

    for kind in UNAVAILABLE_ERRORS:
        api.add_exception_handler(kind, database_unavailable)

    @api.exception_handler(DomainError)
    def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": exc.detail}, status_code=status, headers=headers)

    @api.exception_handler(IntegrityError)
    def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        # A race lost against a unique constraint: the other request won, nothing was written here.
        return JSONResponse({"detail": "this conflicts with data that already exists"}, status_code=409)

    return api
