"""Each patient's data key: created with their first sealed value, cached unwrapped in memory for a
few minutes, destroyed at erasure.

Reads come from a column type, which sees no session: a key missing from the cache is read with a
connection of its own (a key is committed before anything sealed under it can be read by others).
Writes look the key up inside the writer's transaction, so a key created by a transaction that
rolled back is never used.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import Session

from service.crypto import new_data_key, wrap_data_key
from service.errors import Conflict
from service.models.base import utcnow
from service.models.data_key_cache import cached, fetch, forget, open_sealed, remember
from service.models.patient import PatientKey


def key_for_write(session: Session, patient_id: str, *, patient_is_new: bool) -> bytes:
    """The patient's data key as this transaction sees it, created if the patient has none yet.

    A key this transaction creates reaches the process's cache only once committed, so a creation
    that rolls back is never used. A new patient's key row is added through the session, so the
    flush inserts the patient first.
    """
    keys: dict[str, bytes] = session.info.setdefault("patient_keys", {})
    if patient_id in keys:
        return keys[patient_id]
    hit, held = cached(patient_id)
    if hit and held is not None:
        keys[patient_id] = held
        return held
    if patient_is_new:
        key = new_data_key()
        session.add(PatientKey(patient_id=patient_id, wrapped_key=wrap_data_key(key, patient_id)))
    else:
        conn = session.connection()
        exists, found = fetch(conn, patient_id, keep=False)
        if not exists:
            # Two first writes for the same patient may race: one key wins, both use it.
            conn.execute(
                text(
                    "INSERT INTO patient_key (patient_id, wrapped_key, created_at) VALUES (:p, :w, :t) "
                    "ON CONFLICT (patient_id) DO NOTHING"
                ),
                {"p": patient_id, "w": wrap_data_key(new_data_key(), patient_id), "t": _now_for(conn)},
            )
            exists, found = fetch(conn, patient_id, keep=False)
        if found is None:
            raise Conflict("this patient's data was erased; nothing more can be recorded for them")
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
        remember(patient_id, key)


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
