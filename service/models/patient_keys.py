"""Each patient's data key: created with their first sealed value, cached unwrapped in memory for a
few minutes, destroyed at erasure.

Reads come from a column type, which sees no session: a key missing from the cache is read with a
connection of its own (a key is committed before anything sealed under it can be read by others).
Writes look the key up inside the writer's transaction, so a key created by a transaction that
rolled back is never used.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from service.crypto import (
    DecryptionError,
    new_data_key,
    open_for_patient,
    patient_of,
    unwrap_data_key,
    wrap_data_key,
)
from service.errors import Conflict
from service.models.base import utcnow
from service.models.patient import PatientKey

# How long an unwrapped key stays in memory. Erasure evicts it at once in the process that carries
# it out; other replicas stop using it within this time.
CACHE_SECONDS = 300.0

_cache: dict[str, tuple[bytes | None, float]] = {}
_lock = threading.Lock()


def _remember(patient_id: str, key: bytes | None) -> None:
    with _lock:
        _cache[patient_id] = (key, time.monotonic() + CACHE_SECONDS)


def forget(patient_id: str) -> None:
    with _lock:
        _cache.pop(patient_id, None)


def _cached(patient_id: str) -> tuple[bool, bytes | None]:
    with _lock:
        hit = _cache.get(patient_id)
    if hit is None or hit[1] < time.monotonic():
        return False, None
    return True, hit[0]


def _fetch(conn: Connection, patient_id: str, *, remember: bool = True) -> tuple[bool, bytes | None]:
    """(exists, key): a key row with no key is a destroyed one."""
    row = conn.execute(text("SELECT wrapped_key FROM patient_key WHERE patient_id = :p"), {"p": patient_id}).first()
    if row is None:
        return False, None
    key = None if row[0] is None else unwrap_data_key(row[0], patient_id)
    if remember:
        _remember(patient_id, key)
    return True, key


def _load_for_read(patient_id: str) -> bytes | None:
    from service.db import get_engine

    with get_engine().connect() as conn:
        exists, key = _fetch(conn, patient_id)
    if not exists:
        raise DecryptionError(f"no data key for patient {patient_id}")
    return key


def open_sealed(token: str, context: str, *, erased: str) -> str:
    """The plain text of a value sealed under a patient's key; ``erased`` once the key is destroyed."""
    patient_id = patient_of(token)
    hit, key = _cached(patient_id)
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


def key_for_write(session: Session, patient_id: str, *, patient_is_new: bool) -> bytes:
    """The patient's data key as this transaction sees it, created if the patient has none yet.

    A key this transaction creates reaches the process's cache only once committed, so a creation
    that rolls back is never used. A new patient's key row is added through the session, so the
    flush inserts the patient first.
    """
    keys: dict[str, bytes] = session.info.setdefault("patient_keys", {})
    if patient_id in keys:
        return keys[patient_id]
    hit, cached = _cached(patient_id)
    if hit and cached is not None:
        keys[patient_id] = cached
        return cached
    if patient_is_new:
        key = new_data_key()
        session.add(PatientKey(patient_id=patient_id, wrapped_key=wrap_data_key(key, patient_id)))
    else:
        conn = session.connection()
        exists, found = _fetch(conn, patient_id, remember=False)
        if not exists:
            # Two first writes for the same patient may race: one key wins, both use it.
            conn.execute(
                text(
                    "INSERT INTO patient_key (patient_id, wrapped_key, created_at) VALUES (:p, :w, :t) "
                    "ON CONFLICT (patient_id) DO NOTHING"
                ),
                {"p": patient_id, "w": wrap_data_key(new_data_key(), patient_id), "t": _now_for(conn)},
            )
            exists, found = _fetch(conn, patient_id, remember=False)
        if found is None:
            raise Conflict("this client's data was erased; nothing more can be recorded for them")
        key = found
    keys[patient_id] = key
    return key


def create_for_new_patient(session: Session, patient_id: str) -> None:
    """Give a patient being enrolled their data key in the same transaction."""
    key_for_write(session, patient_id, patient_is_new=True)


def _now_for(conn: Connection) -> object:
    now = utcnow()
    return now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now


def destroy(session: Session, patient_id: str) -> None:
    """Erase the patient's data key in this transaction (and from this process's memory)."""
    session.connection().execute(
        text("UPDATE patient_key SET wrapped_key = NULL, destroyed_at = :t WHERE patient_id = :p"),
        {"p": patient_id, "t": _now_for(session.connection())},
    )
    session.info.setdefault("patient_keys", {}).pop(patient_id, None)
    session.info.setdefault("destroyed_keys", set()).add(patient_id)
    forget(patient_id)


def committed(session: Session) -> None:
    """The transaction committed: its keys are real, and may serve later transactions."""
    for patient_id, key in session.info.get("patient_keys", {}).items():
        _remember(patient_id, key)


def clear_transaction(session: Session) -> None:
    session.info.pop("patient_keys", None)
    for patient_id in session.info.pop("destroyed_keys", set()):
        forget(patient_id)


__all__ = [
    "clear_transaction",
    "committed",
    "create_for_new_patient",
    "destroy",
    "forget",
    "key_for_write",
    "open_sealed",
]
