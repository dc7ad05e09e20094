"""Cookies, CSRF tokens, the sign-in flow cookie and the security headers of every portal answer."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from fastapi import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.config import get_settings
from service.crypto import DecryptionError, derive_key, get_cipher
from service.errors import Invalid
from service.kit.hygiene import reject_unsafe_input
from service.kit.i18n import SUPPORTED_LOCALES, pick_locale

SESSION_COOKIE = "tandem_portal_session"
FLOW_COOKIE = "tandem_portal_signin"
FLOW_TTL_SECONDS = 2 * 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FLOW_CONTEXT = "portal.signin_flow"


class CsrfRejected(Exception):
    """A state-changing form came without the token of this browser's session."""


def cookie_path(request: Request) -> str:
    return request.scope.get("root_path") or "/"


def set_cookie(response: Response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=cookie_path(request),
        secure=get_settings().uses_https,
        httponly=True,
        samesite="lax",
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(
        name, path=cookie_path(request), secure=get_settings().uses_https, httponly=True, samesite="lax"
    )


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None


def csrf_for_session(token: str) -> str:
    """The CSRF token of a signed-in browser, derived from its session token (nothing to store)."""
    return hmac.new(derive_key("portal-csrf"), token.encode(), hashlib.sha256).hexdigest()


@dataclass
class SigninFlow:
    """What the portal remembers about a browser before sign-in: a CSRF token, the language picked,
    and an OpenID Connect request in progress. Kept encrypted and authenticated in a cookie."""

    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    locale: str | None = None
    oidc: dict[str, Any] | None = None
    issued_at: int = field(default_factory=lambda: int(time.time()))

    def seal(self) -> str:
        return get_cipher().encrypt(json.dumps(asdict(self), separators=(",", ":")), _FLOW_CONTEXT)

    def save(self, response: Response, request: Request) -> None:
        set_cookie(response, request, FLOW_COOKIE, self.seal(), max_age=FLOW_TTL_SECONDS)

    @classmethod
    def load(cls, request: Request) -> SigninFlow | None:
        sealed = request.cookies.get(FLOW_COOKIE)
        if not sealed or len(sealed) > 4096:
            return None
        try:
            data = json.loads(get_cipher().decrypt(sealed, _FLOW_CONTEXT))
            flow = cls(**data)
        except (DecryptionError, ValueError, TypeError):
            return None
        if not isinstance(flow.csrf, str) or time.time() - flow.issued_at > FLOW_TTL_SECONDS:
            return None
        return flow

    @classmethod
    def load_or_new(cls, request: Request) -> SigninFlow:
        return cls.load(request) or cls()


INVITE_COOKIE = "tandem_portal_invitation"
INVITE_TTL_SECONDS = 15 * 60
_INVITE_CONTEXT = "portal.invitation_shown"


@dataclass
class ShownInvitation:
    """An invitation code on its way from the form that made it to the page that shows it once
    (post/redirect/get): encrypted and authenticated in a short-lived cookie, cleared when shown."""

    patient_id: str
    invitation_id: str
    code: str
    issued_at: int = field(default_factory=lambda: int(time.time()))

    @classmethod
    def of(cls, issued: Any) -> ShownInvitation:
        return cls(patient_id=issued.patient.id, invitation_id=issued.invitation.id, code=issued.invite_code)

    def save(self, response: Response, request: Request) -> None:
        sealed = get_cipher().encrypt(json.dumps(asdict(self), separators=(",", ":")), _INVITE_CONTEXT)
        set_cookie(response, request, INVITE_COOKIE, sealed, max_age=INVITE_TTL_SECONDS)

    @classmethod
    def load(cls, request: Request) -> ShownInvitation | None:
        sealed = request.cookies.get(INVITE_COOKIE)
        if not sealed or len(sealed) > 2048:
            return None
        try:
            shown = cls(**json.loads(get_cipher().decrypt(sealed, _INVITE_CONTEXT)))
        except (DecryptionError, ValueError, TypeError):
            return None
        if time.time() - shown.issued_at > INVITE_TTL_SECONDS:
            return None
        return shown

    @staticmethod
    def clear(response: Response, request: Request) -> None:
        clear_cookie(response, request, INVITE_COOKIE)


def expected_csrf(request: Request) -> list[str]:
    """Every CSRF token this browser may legitimately send back: its session's and its sign-in flow's."""
    tokens = []
    token = session_token(request)
    if token:
        tokens.append(csrf_for_session(token))
    flow = SigninFlow.load(request)
    if flow is not None:
        tokens.append(flow.csrf)
    return tokens


async def csrf_protect(request: Request) -> None:
    """Refuse any state-changing request whose form does not carry this browser's CSRF token."""
    if request.method in SAFE_METHODS:
        return
    form = await request.form()
    supplied = form.get("csrf_token")
    if not isinstance(supplied, str) or not supplied:
        raise CsrfRejected
    if not any(hmac.compare_digest(supplied, expected) for expected in expected_csrf(request)):
        raise CsrfRejected


UNSAFE_INPUT = "some of what was sent contains characters that cannot be accepted"


async def input_hygiene(request: Request) -> None:
    """The shared input check, run before anything else; its answer names no field and quotes nothing."""
    try:
        await reject_unsafe_input(request)
    except Invalid:
        raise Invalid(UNSAFE_INPUT) from None


def browser_locale(request: Request) -> str:
    """The visitor's language before sign-in: their pick, else the browser's first supported one."""
    flow = SigninFlow.load(request)
    if flow is not None and flow.locale in SUPPORTED_LOCALES:
        return flow.locale
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if tag and pick_locale(tag) == tag.split("-")[0].lower():
            return pick_locale(tag)
    return pick_locale(None)


def safe_next(target: str | None, root_path: str) -> str | None:
    """Only same-portal paths may be a post-login destination (no open redirects)."""
    if not target or not target.startswith(root_path + "/") or target.startswith("//") or "\\" in target:
        return None
    return target


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Headers on every portal answer; pages are never stored by browsers or proxies (patient data)."""

    def __init__(self, app: ASGIApp, *, static_prefix: str = "/static/") -> None:
        self.app = app
        self.static_prefix = static_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope["path"].removeprefix(scope.get("root_path", "")).startswith(self.static_prefix)
        headers = [
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
            (b"cache-control", b"public, max-age=86400" if is_static else b"no-store"),
        ]
        if get_settings().uses_https:
            headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        names = {name for name, _ in headers}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
