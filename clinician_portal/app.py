"""The clinician portal face: server-rendered HTML for clinicians and clinic administrators, at /portal."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from clinician_portal import patient_panels
from clinician_portal.deps import EnrolmentRequired
from clinician_portal.pages import page, portal_path
from clinician_portal.routes import (
    account,
    admin,
    alerts,
    auth,
    clinic_settings,
    exercises,
    exports,
    live,
    password_reset,
    patients,
    safety_plan,
)
from clinician_portal.templating import STATIC
from clinician_portal.web_security import (
    SESSION_COOKIE,
    CsrfRejected,
    SecurityHeadersMiddleware,
    clear_cookie,
    csrf_protect,
    input_hygiene,
    session_token,
)
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

log = logging.getLogger(__name__)
_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, Invalid: 422, RateLimited: 429}


def create_portal() -> FastAPI:
    portal = FastAPI(
        title="Tandem clinician portal",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Every POST, PUT, PATCH or DELETE form must carry this browser's CSRF token.
        # Bad text or ids are refused first, before the form reaches the CSRF check or any query.
        dependencies=[Depends(input_hygiene), Depends(csrf_protect)],
    )
    portal.mount("/static", StaticFiles(directory=STATIC), name="static")
    patient_panels.register()
    # The live feed first: its fixed paths (/alerts/stream, /alerts/rows) must win over /alerts/{alert_id}.
    portal.include_router(account.public)
    for module in (
        auth,
        password_reset,
        patients,
        live,
        alerts,
        exercises,
        safety_plan,
        account,
        admin,
        clinic_settings,
    ):
        portal.include_router(module.router)
    portal.include_router(exports.router)
    portal.include_router(exports.admin_router)
    _map_errors(portal)
    portal.add_middleware(SecurityHeadersMiddleware)
    return portal


def _map_errors(portal: FastAPI) -> None:
    """Domain errors become an HTML page (or the sign-in page) once, for every portal route."""

    @portal.exception_handler(Unauthenticated)
    def unauthenticated(request: Request, exc: Unauthenticated) -> Response:
        had_session = session_token(request) is not None
        query = {"ended": "1"} if had_session else {}
        if request.method == "GET":
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            query["next"] = here
        target = portal_path(request, "login") + (f"?{urlencode(query)}" if query else "")
        response = RedirectResponse(target, status_code=303)
        if had_session:
            clear_cookie(response, request, SESSION_COOKIE)
        return response

    @portal.exception_handler(EnrolmentRequired)
    def enrolment_required(request: Request, exc: EnrolmentRequired) -> Response:
        return RedirectResponse(portal_path(request, "enrol"), status_code=303)

    @portal.exception_handler(CsrfRejected)
    def csrf_rejected(request: Request, exc: CsrfRejected) -> Response:
        return page(request, "error.html", status=403, problem="csrf", detail=None)

    def unavailable(request: Request, exc: Exception) -> Response:
        # Saturated, or the database is unreachable: say so (503), never a bare 500.
        log.warning("portal request not served: %s", type(exc).__name__)
        response = page(request, "error.html", status=503, problem="503", detail=None)
        response.headers["Retry-After"] = str(Unavailable.retry_after_seconds)
        return response

    kinds: tuple[type[Exception], ...] = (Unavailable, *UNAVAILABLE_ERRORS)
    for kind in kinds:
        portal.add_exception_handler(kind, unavailable)

    @portal.exception_handler(DomainError)
    def domain_error(request: Request, exc: DomainError) -> Response:
        status = next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 400)
        response = page(request, "error.html", status=status, problem=str(status), detail=exc.detail)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @portal.exception_handler(IntegrityError)
    def integrity_error(request: Request, exc: IntegrityError) -> Response:
        # A race lost against a unique constraint: the other request won and nothing was written here.
        return page(request, "error.html", status=409, problem="409", detail=None)

    @portal.exception_handler(RequestValidationError)
    def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return page(request, "error.html", status=422, problem="422", detail=None)

    @portal.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        status = exc.status_code if exc.status_code in (404, 405) else 400
        return page(request, "error.html", status=status, problem=str(status), detail=None)
