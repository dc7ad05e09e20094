"""Seal per-patient columns under the patient's data key as the session flushes.

Each table holding a patient's text says how its rows find their patient (directly, or through
the exercise session or alert they belong to). Before a flush, every new or changed value of a
per-patient column becomes a ``Sealed`` string: it still reads as its plain text in Python, and the
column type stores its ciphertext.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from service.crypto import seal_for_patient
from service.models.alert import Alert, AlertSignal
from service.models.base import EncryptedText, Sealed
from service.models.checkin import CheckIn
from service.models.exercise import Assignment, ExerciseMessage, ExerciseSession
from service.models.patient import Patient, PatientContact
from service.models.patient_keys import clear_transaction, committed, key_for_write
from service.models.safety_plan import SafetyPlanVersion
from service.models.summary import PatientSummary


@dataclass(frozen=True)
class SealedTable:
    model: type[SQLModel]
    columns: dict[str, str]  # attribute -> encryption context
    # The parent row that carries patient_id, when the row does not: (parent model, attribute here).
    through: tuple[type[SQLModel], str] | None = None


def _sealed_columns(model: type[SQLModel]) -> dict[str, str]:
    found = {}
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        if isinstance(column.type, EncryptedText) and column.type.per_patient:
            found[attr.key] = column.type.context
    return found


def _table(model: type[SQLModel], through: tuple[type[SQLModel], str] | None = None) -> SealedTable:
    return SealedTable(model, _sealed_columns(model), through)


# Every table with per-patient columns; tests/security/test_erasure.py checks none is missing.
SEALED_TABLES: tuple[SealedTable, ...] = (
    _table(CheckIn),
    _table(Assignment),
    _table(ExerciseSession),
    _table(ExerciseMessage, (ExerciseSession, "session_id")),
    _table(SafetyPlanVersion),
    _table(PatientSummary),
    _table(Alert),
    _table(AlertSignal, (Alert, "alert_id")),
    _table(PatientContact),
)
_BY_MODEL = {table.model: table for table in SEALED_TABLES}


def _find(session: Session, model: type[SQLModel], row_id: str) -> Any:
    for pending in session.new:
        if isinstance(pending, model) and getattr(pending, "id", None) == row_id:
            return pending
    return session.get(model, row_id)


def patient_id_of(session: Session, table: SealedTable, row: Any) -> str:
    if table.through is None:
        return str(row.patient_id)
    parent_model, attr = table.through
    parent = _find(session, parent_model, getattr(row, attr))
    if parent is None:
        raise LookupError(f"{table.model.__name__} {getattr(row, 'id', '?')} has no {parent_model.__name__}")
    return str(parent.patient_id)


def _patient_is_new(session: Session, patient_id: str) -> bool:
    return any(isinstance(row, Patient) and row.id == patient_id for row in session.new)


def _to_seal(row: Any, table: SealedTable, is_new: bool) -> Iterable[str]:
    state = inspect(row)
    for attr in table.columns:
        value = getattr(row, attr)
        if not isinstance(value, str) or isinstance(value, Sealed):
            continue
        if is_new or state.attrs[attr].history.has_changes():
            yield attr


def seal_pending(session: Session) -> None:
    new = {id(row) for row in session.new}
    for row in list(session.new) + list(session.dirty):
        table = _BY_MODEL.get(type(row))
        if table is None:
            continue
        attrs = list(_to_seal(row, table, id(row) in new))
        if not attrs:
            continue
        patient_id = patient_id_of(session, table, row)
        key = key_for_write(session, patient_id, patient_is_new=_patient_is_new(session, patient_id))
        for attr in attrs:
            plain = getattr(row, attr)
            context = table.columns[attr]
            setattr(row, attr, Sealed(plain, seal_for_patient(plain, context, patient_id, key), context))


def _before_flush(session: OrmSession, _context: object, _instances: object) -> None:
    if isinstance(session, Session):
        seal_pending(session)


def _after_commit(session: OrmSession) -> None:
    if isinstance(session, Session):
        committed(session)


def _after_transaction_end(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None and isinstance(session, Session):
        clear_transaction(session)


def install() -> None:
    if not event.contains(OrmSession, "before_flush", _before_flush):
        event.listen(OrmSession, "before_flush", _before_flush)
        event.listen(OrmSession, "after_commit", _after_commit)
        event.listen(OrmSession, "after_transaction_end", _after_transaction_end)
