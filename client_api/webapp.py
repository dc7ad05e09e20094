"""Serves the client web app (client_api/web/) at /app/: static ES modules under a strict CSP."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.kit.i18n import gettext, pick_locale

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


LANDING = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tandem</title>
  <link rel="icon" href="/app/icons/icon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/app/landing.css">
</head>
<body>
  <main>
    <h1>Tandem</h1>
    <p>{lead}</p>
    <ul class="doors">
      <li><a href="/app/">{app}</a></li>
      <li><a href="/portal/login">{portal}</a></li>
      <li><a href="/api/docs">{docs}</a></li>
    </ul>
    <p class="help"><a href="/app/#/help">{help}</a></p>
  </main>
</body>
</html>
"""


def _language(accept_language: str) -> str:
    """The first language of the browser's list that Tandem speaks, else English."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip()
        if tag and pick_locale(tag) == tag.split("-")[0].lower():
            return pick_locale(tag)
    return pick_locale(None)


def landing(request: Request) -> HTMLResponse:
    """`GET /`: whoever types the server's address finds the app for patients, the clinicians'
    portal and the API documentation, in their browser's language."""
    lang = _language(request.headers.get("accept-language", ""))
    words = {
        "lead": "Care between sessions, with the clinicians who know you.",
        "app": "The Tandem app for patients",
        "portal": "The portal for clinicians",
        "docs": "The API documentation, for app developers",
        "help": "Get help now",
    }
    page = LANDING.format(lang=lang, **{key: escape(gettext(lang, text)) for key, text in words.items()})
    return HTMLResponse(page, headers={name.decode(): value.decode() for name, value in HEADERS})
