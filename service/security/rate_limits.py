"""Rate limits on sign-in and code guessing, counted in the database so every replica sees every attempt.

Each rule allows ``limit`` attempts per ``period`` seconds for one key (an address, an account, or
both). Counting is a sliding-window estimate over two fixed windows (this one, and the previous one
weighted by how much of it still falls in the last ``period`` seconds): one upsert per attempt, no
lock, no background process. Keys are keyed hashes, so no address or email is stored in the clear.
Rules and their numbers are settings (``TANDEM_RATE_LIMIT_<RULE>``, written ``N/PERIOD`` such as
``10/15m``); see the README.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlmodel import col
from starlette.requests import Request

from service.config import get_settings, parse_rate
from service.crypto import derive_key
from service.db import get_engine
from service.errors import RateLimited
from service.models import RateLimitBucket

TOO_MANY = "too many attempts; try again later"


@dataclass(frozen=True)
class Rule:
    name: str
    limit: int
    period: int  # seconds


def rule(name: str) -> Rule:
    limit, period = parse_rate(getattr(get_settings(), f"rate_limit_{name}"))
    return Rule(name, limit, period)


def client_address(request: Request) -> str:
    """The caller's address as the server sees it (behind a proxy, uvicorn's --forwarded-allow-ips sets it)."""
    return request.client.host if request.client else "unknown"


def _key(rule: Rule, parts: tuple[str, ...]) -> str:
    message = "\x1f".join((rule.name, *(part.strip().casefold() for part in parts))).encode("utf-8", "replace")
    return hmac.new(derive_key("rate-limit"), message, hashlib.sha256).hexdigest()


def _estimate(conn: Connection, key: str, rule: Rule, now: float) -> tuple[float, int]:
    window = int(now // rule.period) * rule.period
    rows = conn.execute(
        select(RateLimitBucket.window_start, RateLimitBucket.hits).where(  # type: ignore[call-overload]
            RateLimitBucket.key == key,
            RateLimitBucket.window_start.in_([window, window - rule.period]),  # type: ignore[attr-defined]
        )
    ).all()
    counts = {int(start): int(hits) for start, hits in rows}
    elapsed = (now - window) / rule.period
    estimate = counts.get(window, 0) + counts.get(window - rule.period, 0) * (1 - elapsed)
    return estimate, window


def _retry_after(rule: Rule, now: float, window: int) -> int:
    return max(1, math.ceil(window + rule.period - now))


def check(name: str, *parts: str, now: float | None = None) -> None:
    """Refuse (RateLimited) when this key has used up its attempts; counts nothing."""
    current = rule(name)
    moment = time.time() if now is None else now
    with get_engine().connect() as conn:
        estimate, window = _estimate(conn, _key(current, parts), current, moment)
    if estimate >= current.limit:
        raise RateLimited(TOO_MANY, _retry_after(current, moment, window))


def hit(name: str, *parts: str, now: float | None = None) -> None:
    """Count one attempt for this key, then refuse it if it goes over the limit.

    Committed on its own connection, so the count stands even when the request then fails.
    """
    current = rule(name)
    moment = time.time() if now is None else now
    key = _key(current, parts)
    window = int(moment // current.period) * current.period
    engine = get_engine()
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(RateLimitBucket).values(key=key, window_start=window, hits=1)
    upsert = upsert.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"hits": col(RateLimitBucket.hits) + 1}
    )
    with engine.begin() as conn:
        conn.execute(upsert)
        estimate, _ = _estimate(conn, key, current, moment)
    if estimate > current.limit:
        raise RateLimited(TOO_MANY, _retry_after(current, moment, window))


def purge_expired(*, now: float | None = None, keep_seconds: int = 2 * 86400) -> int:
    """Forget windows too old to count for any rule (a periodic job)."""
    cutoff = int((time.time() if now is None else now) - keep_seconds)
    with get_engine().begin() as conn:
        result = conn.execute(delete(RateLimitBucket).where(RateLimitBucket.window_start < cutoff))  # type: ignore[arg-type]
    return int(result.rowcount or 0)
