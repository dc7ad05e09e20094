"""The unwrapped data keys a process holds, and reading a value sealed under one.

Reads come from a column type, which sees no session: a key missing from the cache is read with a
connection of its own (a key is committed before anything sealed under it can be read by others).
This module imports no table, so the column types can use it.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection

from service.crypto import DecryptionError, open_for_patient, patient_of, unwrap_data_key

# How long an unwrapped key stays in memory. Erasure evicts it at once in the process that carries
# it out; other replicas stop using it within this time.
CACHE_SECONDS = 300.0

_cache: dict[str, tuple[bytes | None, float]] = {}
_lock = threading.Lock()


def remember(patient_id: str, key: bytes | None) -> None:
    with _lock:
        _cache[patient_id] = (key, time.monotonic() + CACHE_SECONDS)


def forget(patient_id: str) -> None:
    with _lock:
        _cache.pop(patient_id, None)


def cached(patient_id: str) -> tuple[bool, bytes | None]:
    with _lock:
        hit = _cache.get(patient_id)
    if hit is None or hit[1] < time.monotonic():
        return False, None
    return True, hit[0]


def fetch(conn: Connection, patient_id: str, *, keep: bool = True) -> tuple[bool, bytes | None]:
    """(exists, key): a key row with no key is a destroyed one."""
    row = conn.execute(text("SELECT wrapped_key FROM patient_key WHERE patient_id = :p"), {"p": patient_id}).first()
    if row is None:
        return False, None
    key = None if row[0] is None else unwrap_data_key(row[0], patient_id)
    if keep:
        remember(patient_id, key)
    return True, key


def _load_for_read(patient_id: str) -> bytes | None:
    from service.db import get_engine

    with get_engine().connect() as conn:
        exists, key = fetch(conn, patient_id)
    if not exists:
        raise DecryptionError(f"no data key for patient {patient_id}")
    return key


def open_sealed(token: str, context: str, *, erased: str) -> str:
    """The plain text of a value sealed under a patient's key; ``erased`` once the key is destroyed."""
    patient_id = patient_of(token)
    hit, key = cached(patient_id)
    if not hit:
        key = _load_for_read(patient_id)
    if key is None:
        return erased
    try:
        return open_for_patient(token, context, key)
    except DecryptionError:
        if not hit:
            raise
    # A cached key may be stale (a rolled-back creation): read it again once.
    key = _load_for_read(patient_id)
    if key is None:
        return erased
    return open_for_patient(token, context, key)


def clear() -> None:
    """Forget every key held (tests: read what the database alone allows)."""
    with _lock:
        _cache.clear()
