"""Signed webhooks: ``Tandem-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">``.

Receivers recompute the HMAC with their secret, compare in constant time, and refuse a timestamp
older than a few minutes (replay). ``Tandem-Event-Id`` is stable across retries for deduplication.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx


class WebhookError(Exception):
    pass


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance_seconds: int = 300, now: float | None = None) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


def deliver(url: str, secret: str, body: bytes, *, timeout: float = 10.0) -> None:
    event_id = json.loads(body).get("id", "")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Tandem-Webhooks/1",
        "Tandem-Event-Id": event_id,
        "Tandem-Signature": sign(secret, body, int(time.time())),
    }
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        raise WebhookError(f"{type(exc).__name__}") from exc
    if not 200 <= response.status_code < 300:
        raise WebhookError(f"HTTP {response.status_code}")
