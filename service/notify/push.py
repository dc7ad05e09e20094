"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), via pywebpush.

A general sender of one short text to one browser subscription: client reminders use it, and so
can staff alerts. The text never carries health data ("Time for your check-in"), because a push
service and a locked phone's screen both see it.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from service.config import get_settings
from service.crypto import derive_key

MAX_TEXT = 200
TIMEOUT_SECONDS = 10


class PushError(Exception):
    """The push service refused or could not be reached; worth retrying."""


class SubscriptionGone(PushError):
    """The push service says the subscription no longer exists (404 or 410): stop using it."""


@dataclass(frozen=True)
class PushTarget:
    endpoint: str
    p256dh: str
    auth: str


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


@lru_cache
def _private_key(configured: str | None, secret_key: str) -> ec.EllipticCurvePrivateKey:
    if configured:
        raw = _b64url_decode(configured.strip())
        if len(raw) == 32:
            return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
        key = serialization.load_der_private_key(raw, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError("TANDEM_VAPID_PRIVATE_KEY must be a P-256 key")
        return key
    # A scalar derived from the secret key; reduce it into the curve's range (never zero).
    order = int("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551", 16)
    scalar = int.from_bytes(derive_key("web-push-vapid"), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def vapid_key() -> ec.EllipticCurvePrivateKey:
    settings = get_settings()
    return _private_key(settings.vapid_private_key, settings.secret_key)


def application_server_key() -> str:
    """The VAPID public key, base64url of the uncompressed point: what a browser's subscribe() needs."""
    point = (
        vapid_key().public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def send(
    target: PushTarget, *, title: str, text: str, url: str = "/app/", ttl: int = 3600, tag: str | None = None
) -> None:
    """Encrypt and deliver one notification. Raises SubscriptionGone or PushError."""
    payload = {"title": title[:MAX_TEXT], "body": text[:MAX_TEXT], "url": url}
    if tag:
        payload["tag"] = tag
    try:
        webpush(
            {"endpoint": target.endpoint, "keys": {"p256dh": target.p256dh, "auth": target.auth}},
            data=json.dumps(payload),
            vapid_private_key=Vapid(private_key=vapid_key()),
            vapid_claims={"sub": get_settings().vapid_subject},
            ttl=ttl,
            timeout=TIMEOUT_SECONDS,
            content_encoding="aes128gcm",
        )
    except WebPushException as exc:
        status = exc.response.status_code if exc.response is not None else None
        if status in (404, 410):
            raise SubscriptionGone(f"push service answered {status}") from exc
        raise PushError(f"push service answered {status}") from exc
    except Exception as exc:  # network failures from requests: retried by the outbox
        raise PushError(type(exc).__name__) from exc
