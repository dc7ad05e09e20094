"""Retry protection for client POSTs: a retried request with the same Idempotency-Key gets the
first answer back and writes nothing. The same key with a different body is a client bug (409).

Used by check-ins and questionnaire responses; each use names its scope so keys never cross.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from sqlmodel import Session, select

from service.crypto import derive_key
from service.errors import Conflict, Invalid
from service.models import IdempotencyKey, Patient

_KEY_SHAPE = re.compile(r"^[\x21-\x7e]{1,200}$")  # visible ASCII, as HTTP header values should be


def check_key(key: str) -> str:
    if not _KEY_SHAPE.match(key):
        raise Invalid("Idempotency-Key must be 1 to 200 visible ASCII characters (a UUID is a good choice)")
    return key


def fingerprint(payload: dict[str, Any]) -> str:
    """A keyed hash of the request body: comparable across retries, and it does not reveal a note."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(derive_key("idempotency-request"), canonical, hashlib.sha256).hexdigest()


def lookup(session: Session, *, patient: Patient, key: str, scope: str, request_hash: str) -> str | None:
    """The id of what the first request with this key created, or None if the key is new."""
    row = session.exec(
        select(IdempotencyKey).where(IdempotencyKey.patient_id == patient.id, IdempotencyKey.key == key)
    ).first()
    if row is None:
        return None
    if row.scope != scope or row.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was already used for a different request; use a new key")
    return row.resource_id


def remember(session: Session, *, patient: Patient, key: str, scope: str, request_hash: str, resource_id: str) -> None:
    """Keep the key in the caller's transaction; a concurrent twin fails on the unique constraint when
    the caller's unit of work flushes (with its other rows, in one go) or commits."""
    session.add(
        IdempotencyKey(patient_id=patient.id, key=key, scope=scope, request_hash=request_hash, resource_id=resource_id)
    )
