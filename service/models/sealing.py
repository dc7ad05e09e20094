"""Seal per-patient columns under the patient's data key as the session flushes.

One definition says what is a patient's text: a column of type ``EncryptedText(per_patient=True)``.
Every mapped table with such a column is sealed here and destroyed by erasure
(service/caseload/erasure.py); nothing lists those tables by hand. A table finds its patient by its
own ``patient_id`` column, or through the one foreign key that leads to a table that has one (an
exercise message through its session, an alert signal through its alert). A table with
per-patient columns and no such path stops the service at import, so it cannot be missed.

Before a flush, every new or changed value of a per-patient column becomes a ``Sealed`` string: it
still reads as its plain text in Python, and the column type stores its ciphertext.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, SQLModel

from service.crypto import seal_for_patient
from service.models.base import EncryptedText, Sealed
from service.models.patient import Patient
from service.models.patient_keys import clear_transaction, committed, key_for_write


@dataclass(frozen=True)
class SealedTable:
    model: type[SQLModel]
    columns: dict[str, str]  # attribute -> encryption context
    # The parent row that carries patient_id, when the row does not: (parent model, attribute here).
    through: tuple[type[SQLModel], str] | None = None


def _sealed_columns(model: type[Any]) -> dict[str, str]:
    found = {}
    for attr in inspect(model).column_attrs:
        column = attr.columns[0]
        if isinstance(column.type, EncryptedText) and column.type.per_patient:
            found[attr.key] = column.type.context
    return found


def _has_patient_id(model: type[Any]) -> bool:
    return "patient_id" in inspect(model).column_attrs


def _through(model: type[Any], models: dict[str, type[Any]]) -> tuple[type[Any], str]:
    """The one foreign key of ``model`` that leads to a table with a ``patient_id``."""
    paths = []
    for attr in inspect(model).column_attrs:
        for key in attr.columns[0].foreign_keys:
            parent = models.get(key.column.table.name)
            if parent is not None and _has_patient_id(parent):
                paths.append((parent, attr.key))
    if len(paths) != 1:
        raise TypeError(
            f"{model.__name__} has per-patient columns but {len(paths)} ways to its patient: give it a "
            "patient_id column, or exactly one foreign key to a table that has one"
        )
    return paths[0]


def sealed_tables(models: Iterable[type[Any]]) -> tuple[SealedTable, ...]:
    """Every model with per-patient columns, and how its rows find their patient."""
    mapped = list(models)
    by_table = {inspect(m).local_table.name: m for m in mapped}
    found = []
    for model in sorted(mapped, key=lambda m: inspect(m).local_table.name):
        columns = _sealed_columns(model)
        if columns:
            through = None if _has_patient_id(model) else _through(model, by_table)
            found.append(SealedTable(model, columns, through))
    return tuple(found)


def _mapped_models() -> list[type[Any]]:
    registry = SQLModel._sa_registry  # type: ignore[attr-defined]
    return [mapper.class_ for mapper in registry.mappers]


# Every table with per-patient columns, read from the column types. service/models/__init__.py
# imports this module after every table, so all of them are mapped by now.
SEALED_TABLES: tuple[SealedTable, ...] = sealed_tables(_mapped_models())
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
