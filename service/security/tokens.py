"""Short-lived signed access tokens (JWT, HS256, via joserfc) for the client API."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from service.config import get_settings
from service.crypto import derive_key
from service.errors import Unauthenticated

ALGORITHM = "HS256"


@dataclass(frozen=True)
class AccessClaims:
    patient_id: str
    token_id: str
    expires_at: int
    family_id: str  # the refresh-token family it was issued with: revoking the family ends it


def _key_bytes() -> bytes:
    return derive_key("client-access-token")


def _key(raw: bytes | None = None) -> OctKey:
    return OctKey.import_key(raw if raw is not None else _key_bytes())


def issue_access_token(patient_id: str, family_id: str, *, now: float | None = None) -> tuple[str, int]:
    settings = get_settings()
    issued = int(now if now is not None else time.time())
    ttl = settings.access_token_ttl_seconds
    claims = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": patient_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + ttl,
        "jti": str(uuid.uuid4()),
        "typ": "access",
        "fam": family_id,
    }
    return jwt.encode({"alg": ALGORITHM, "typ": "JWT"}, claims, _key(), algorithms=[ALGORITHM]), ttl


# Claims of tokens whose signature was checked, by key and token: a client sends the same access
# token with every request until it expires, and checking its signature again each time costs more
# than the rest of the check. The claims are still validated (issuer, audience, expiry) every time.
_VERIFIED_SIGNATURES = 4096
_verified: dict[tuple[bytes, str], dict[str, Any]] = {}


def verify_access_token(token: str, *, now: float | None = None) -> AccessClaims:
    settings = get_settings()
    try:
        claims = _signed_claims(token)
        registry = jwt.JWTClaimsRegistry(
            now=int(now) if now is not None else None,
            leeway=5,
            iss={"essential": True, "value": settings.token_issuer},
            aud={"essential": True, "value": settings.token_audience},
            sub={"essential": True},
            exp={"essential": True},
            typ={"essential": True, "value": "access"},
            fam={"essential": True},
        )
        registry.validate(claims)
    except (JoseError, ValueError) as exc:
        raise Unauthenticated("invalid or expired access token") from exc
    return AccessClaims(
        patient_id=str(claims["sub"]),
        token_id=str(claims["jti"]),
        expires_at=int(claims["exp"]),
        family_id=str(claims["fam"]),
    )


def _signed_claims(token: str) -> dict[str, Any]:
    """The token's claims once its signature is checked under the current key (a copy: callers
    cannot change what is remembered)."""
    key = _key_bytes()
    remembered = _verified.get((key, token))
    if remembered is None:
        remembered = dict(jwt.decode(token, _key(key), algorithms=[ALGORITHM]).claims)
        if len(_verified) >= _VERIFIED_SIGNATURES:
            _verified.clear()
        _verified[(key, token)] = remembered
    return dict(remembered)
