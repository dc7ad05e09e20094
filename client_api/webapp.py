"""Serves the client web app (client_api/web/) at /app/: static ES modules under a strict CSP."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

WEB = Path(__file__).parent / "web"

# No inline script or style, nothing from another origin, no framing: the app talks only to this server.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    # Revalidate every time: the service worker keeps the offline copy, the network has the newest one.
    (b"cache-control", b"no-cache"),
]


class _AppHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in HEADERS}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + HEADERS
                if scope.get("path", "").endswith("sw.js"):
                    message["headers"].append((b"service-worker-allowed", b"/app/"))
            await send(message)

        await self.app(scope, receive, with_headers)


def create_web_app() -> FastAPI:
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @web.get("/", include_in_schema=False)
    def index() -> Response:
        return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    web.mount("/", StaticFiles(directory=WEB), name="web")
    web.add_middleware(_AppHeaders)
    return web


def root_redirect() -> RedirectResponse:
    """`GET /`: a person who types the server's address lands in the client app."""
    return RedirectResponse("/app/", status_code=307)
