"""Composition root: one ASGI application with two faces and the operator endpoints."""

from __future__ import annotations

import gc
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from client_api.app import create_client_api
from client_api.webapp import create_web_app, landing
from clinician_portal.app import create_portal
from service.admission import AdmissionMiddleware, install_thread_limiter
from service.config import get_settings
from service.db import get_engine
from service.http import RequestContextMiddleware
from service.logs import configure_logging
from service.notify.events import PostgresListener
from service.risk import screen_text
from service.risk.model import COMPILED as RISK_READER_COMPILED
from service.scheduler import Leadership, create_scheduler

log = logging.getLogger(__name__)
YOUNG_COLLECTION_ALLOCATIONS = 10_000  # see freeze_startup_objects


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the scheduler and, on PostgreSQL, the live-event listener; stop them on shutdown."""
    settings = get_settings()
    # Sync routes and dependencies run on this many threads (plus a few kept for crisis requests);
    # the pool has a connection for each.
    install_thread_limiter(settings.request_threads)
    if not RISK_READER_COMPILED:
        log.warning("risk screening reads with numpy: service/risk/_runs.c was not built (no C compiler at install)")
    scheduler = leadership = listener = None
    if settings.scheduler_enabled:
        leadership = Leadership(settings.database_url)
        scheduler = create_scheduler(leadership)
        scheduler.start()
    if not settings.is_sqlite:
        listener = PostgresListener(settings.database_url)
        listener.start()
    # Read by /readyz: a replica that cannot hear other replicas' live events is not ready.
    app.state.listener = listener
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
        if leadership is not None:
            leadership.release()
        if listener is not None:
            listener.stop()


def metrics_allowed(request: Request) -> bool:
    """From a configured network (the scraper's), or carrying the configured token."""
    settings = get_settings()
    supplied = request.headers.get("authorization", "")
    if settings.metrics_token and hmac.compare_digest(supplied.encode(), f"Bearer {settings.metrics_token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        return False
    networks = (part.strip() for part in settings.metrics_allowed_networks.split(","))
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks if network)


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(title="Tandem", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.mount("/api", create_client_api())
    app.mount("/portal", create_portal())
    app.mount("/app", create_web_app())
    app.add_api_route("/", landing, include_in_schema=False, methods=["GET"])

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        try:
            with get_engine().connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any database failure means "not ready"
            log.warning("readiness check failed: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        listener = getattr(app.state, "listener", None)
        if listener is not None and not listener.ready.is_set():
            return JSONResponse({"status": "unavailable", "live_events": "not listening"}, status_code=503)
        return JSONResponse({"status": "ready", "database": "ok"})

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not metrics_allowed(request):
            return PlainTextResponse("not found", status_code=404)  # the same answer as no such page
        return PlainTextResponse(generate_latest().decode(), media_type=CONTENT_TYPE_LATEST)

    # Outermost last: request ids, body limits and logs wrap admission, which wraps both faces.
    app.add_middleware(AdmissionMiddleware, max_in_flight=settings.max_in_flight)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=settings.max_body_bytes)
    return app


def create_worker_app() -> FastAPI:
    """The app of one `tandem serve --workers N` process, with the same logging as a single process."""
    configure_logging()
    return freeze_startup_objects(create_app())


def freeze_startup_objects(app: FastAPI) -> FastAPI:
    """Leave what importing and building the app made (some 280,000 objects: modules, routes,
    models, catalogs) out of the garbage collector's full passes. Without this, a full pass walks
    them all every few large pages (a 10,000-patient caseload page allocates enough to trigger
    one): a pause of 150 ms or more on whichever request is running, the caseload's p95. They live
    as long as the process anyway. The youngest generation is collected every 10,000 allocations
    rather than 700: a request's objects are mostly gone by then instead of being carried into the
    older generations, whose passes then come seldom (a third of the collector's time on the
    caseload page, no full pass over a dozen 10,000-patient pages).

    The risk screen builds its literal scanner (an automaton of every rule file's literals) and
    loads its models on its first message: that is done here, before the worker takes a request, so
    the first clients (a crisis among them) do not wait for it, and it is frozen too."""
    for lang in ("en", "fr"):
        screen_text("Bonjour, ready for today.", lang)
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_ALLOCATIONS, *gc.get_threshold()[1:])
    return app
