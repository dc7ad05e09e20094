"""Erasure requests (GDPR art. 17): the admins' queue, carrying a request out, or keeping the
records for a reason art. 17(3) admits.

Carrying out: in one transaction the account is closed (sign-ins revoked, no password, no email,
no way to sign in), every per-patient column of the client's rows is overwritten, and the client's
data key is destroyed, so the copies of their text in replicas and backups can no longer be read
(crypto-shredding). Identifiers go: the name becomes a pseudonym, contact details, devices,
reminders and stored summaries are deleted. The audit log keeps its rows (they hold ids, never
text), so the chain still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select, update

from service import audit, notify
from service.db import unit_of_work
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.models import (
    KEEP_REASONS,
    Alert,
    AlertSignal,
    AlertStatus,
    Clinic,
    ErasureRequest,
    ErasureStatus,
    ExerciseMessage,
    ExerciseSession,
    Invitation,
    OutboxMessage,
    OutboxStatus,
    PasswordResetToken,
    Patient,
    PatientContact,
    PatientStatus,
    PatientSummary,
    PushSubscription,
    ReminderPreference,
    Role,
    Staff,
    patient_keys,
)
from service.models.base import EncryptedText, utcnow
from service.models.sealing import SEALED_TABLES, SealedTable
from service.onboarding.profile import years_after
from service.security.client_sessions import revoke_all


@dataclass(frozen=True)
class QueuedRequest:
    request: ErasureRequest
    patient: Patient
    overdue: bool

    @property
    def pending(self) -> bool:
        return self.request.status == ErasureStatus.PENDING


def _admin(staff: Staff) -> None:
    if staff.role != Role.ADMIN or not staff.active:
        raise Forbidden("only a clinic administrator handles erasure requests")


def queue(session: Session, *, admin: Staff) -> list[QueuedRequest]:
    """The clinic's requests: pending ones first, nearest deadline first; then the decided ones."""
    _admin(admin)
    rows = session.exec(
        select(ErasureRequest, Patient)
        .join(Patient, col(Patient.id) == col(ErasureRequest.patient_id))
        .where(ErasureRequest.clinic_id == admin.clinic_id)
    ).all()
    now = utcnow()
    found = [QueuedRequest(r, p, r.status == ErasureStatus.PENDING and r.due_at < now) for r, p in rows]
    pending = sorted((q for q in found if q.pending), key=lambda q: q.request.due_at)
    decided = sorted((q for q in found if not q.pending), key=lambda q: q.request.decided_at or now, reverse=True)
    return pending + decided


def _request_for(session: Session, admin: Staff, request_id: str) -> tuple[ErasureRequest, Patient]:
    _admin(admin)
    request = session.get(ErasureRequest, request_id)
    if request is None or request.clinic_id != admin.clinic_id:
        raise NotFound("no such erasure request")
    patient = session.get(Patient, request.patient_id)
    assert patient is not None  # foreign key
    return request, patient


def keep(session: Session, *, admin: Staff, request_id: str, reason: str) -> ErasureRequest:
    """Refuse the erasure for a reason of art. 17(3); the records are kept for the clinic's
    retention period after care ends. The account is closed to new entries (discharged) and the
    client is told why and until when."""
    if reason not in KEEP_REASONS:
        raise Invalid("choose the legal reason to keep the records")
    now = utcnow()
    with unit_of_work(session):
        request, patient = _request_for(session, admin, request_id)
        if request.status != ErasureStatus.PENDING:
            raise Conflict("this request was already answered")
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None  # foreign key
        if patient.status != PatientStatus.DISCHARGED:
            patient.status = PatientStatus.DISCHARGED
            patient.discharged_at = now
            patient.discharge_reason = "client_request"
        request.status = ErasureStatus.KEPT
        request.decided_at = now
        request.decided_by = admin.id
        request.keep_reason = reason
        request.keep_until = years_after(patient.discharged_at or now, clinic.record_retention_years)
        session.add_all([request, patient])
        audit.record(
            session,
            actor=Actor.staff(admin),
            action="erasure.keep",
            entity=patient,
            detail={"request_id": request.id, "reason": reason, "keep_until": request.keep_until.date().isoformat()},
        )
        _tell(session, patient, clinic, kept_until=request.keep_until, reason=reason)
    return request


def carry_out(session: Session, *, admin: Staff, request_id: str) -> ErasureRequest:
    """Erase the client: refused while an alert about them is unresolved (a person closes every
    risk signal first)."""
    now = utcnow()
    with unit_of_work(session):
        request, patient = _request_for(session, admin, request_id)
        if request.status == ErasureStatus.CARRIED_OUT:
            raise Conflict("this request was already carried out")
        open_alert = session.exec(
            select(Alert.id).where(Alert.patient_id == patient.id, col(Alert.status) != AlertStatus.RESOLVED)
        ).first()
        if open_alert is not None:
            raise Conflict("resolve this patient's open alerts before erasing their data")
        clinic = session.get(Clinic, patient.clinic_id)
        assert clinic is not None  # foreign key
        email, locale = patient.email, patient.locale
        overwritten = _overwrite_text(session, patient.id)
        _remove_identifiers(session, patient, now)
        if email:
            _forget_address(session, email)
        session.flush()
        patient_keys.destroy(session, patient.id)
        request.status = ErasureStatus.CARRIED_OUT
        request.decided_at = now
        request.decided_by = admin.id
        session.add(request)
        audit.record(
            session,
            actor=Actor.staff(admin),
            action="erasure.carry_out",
            entity=patient,
            detail={"request_id": request.id, "rows_overwritten": overwritten},
        )
        if email:
            _tell_erased(session, email, locale, clinic)
    return request


def _rows_of(session: Session, table: SealedTable, patient_id: str) -> list[object]:
    query: Any
    if table.through is None:
        query = select(table.model).where(table.model.patient_id == patient_id)  # type: ignore[attr-defined]
    elif table.model is ExerciseMessage:
        query = (
            select(ExerciseMessage)
            .join(ExerciseSession, col(ExerciseSession.id) == col(ExerciseMessage.session_id))
            .where(ExerciseSession.patient_id == patient_id)
        )
    elif table.model is AlertSignal:
        query = (
            select(AlertSignal)
            .join(Alert, col(Alert.id) == col(AlertSignal.alert_id))
            .where(Alert.patient_id == patient_id)
        )
    else:  # a new table reached through a parent: name it above
        raise NotImplementedError(table.model.__name__)
    return list(session.exec(query).all())


def _overwrite_text(session: Session, patient_id: str) -> int:
    """Every per-patient value of the client becomes what an erased value reads as, sealed under the
    key about to be destroyed: nothing written before per-patient keys survives in the key ring's
    format either."""
    count = 0
    for table in SEALED_TABLES:
        erased = {
            attr: column.type.erased
            for attr in table.columns
            for column in [table.model.__table__.columns[_column_name(table, attr)]]  # type: ignore[attr-defined]
            if isinstance(column.type, EncryptedText)
        }
        for row in _rows_of(session, table, patient_id):
            for attr, value in erased.items():
                if getattr(row, attr) is not None:
                    setattr(row, attr, value)
            session.add(row)
            count += 1
    return count


def _column_name(table: SealedTable, attr: str) -> str:
    from sqlalchemy import inspect

    return str(inspect(table.model).column_attrs[attr].columns[0].name)


def _remove_identifiers(session: Session, patient: Patient, now: datetime) -> None:
    revoke_all(session, patient_id=patient.id)
    session.execute(
        update(Invitation)
        .where(
            col(Invitation.patient_id) == patient.id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    for model in (PatientContact, PasswordResetToken, PushSubscription, ReminderPreference, PatientSummary):
        session.execute(delete(model).where(model.patient_id == patient.id))  # type: ignore[attr-defined, arg-type]
    patient.display_name = f"#{patient.id[:8]}"
    patient.email = None
    patient.email_index = None
    patient.password_hash = None
    patient.enrolment_key = None
    patient.next_appointment_at = None
    if patient.status != PatientStatus.DISCHARGED:
        patient.status = PatientStatus.DISCHARGED
        patient.discharged_at = now
        patient.discharge_reason = "client_request"
    patient.erased_at = now
    session.add(patient)


def _forget_address(session: Session, email: str) -> None:
    """Messages already sent to the client keep no trace of their address."""
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.recipient) == email, col(OutboxMessage.status) != OutboxStatus.PENDING)
        .values(recipient="erased", dedup_key="erased:" + OutboxMessage.id, payload={})
    )


def _tell_erased(session: Session, email: str, locale: str, clinic: Clinic) -> None:
    notify.enqueue_email(
        session,
        to=email,
        subject=gettext(locale, "[Tandem] Your data was erased"),
        text=gettext(
            locale,
            "As you asked, %(clinic)s erased your data from Tandem: your account is closed and what you "
            "wrote can no longer be read, including in backups. This is the last message you receive from "
            "Tandem.",
            clinic=clinic.name,
        ),
        dedup_key=f"erasure-done:{utcnow().isoformat()}",
        clinic_id=clinic.id,
    )


def _tell(session: Session, patient: Patient, clinic: Clinic, *, kept_until: datetime, reason: str) -> None:
    if not patient.email:
        return
    reasons = {
        "legal_obligation": gettext(patient.locale, "the law requires health records to be kept"),
        "public_health": gettext(patient.locale, "the records are needed for reasons of public health"),
        "legal_claims": gettext(patient.locale, "the records are needed for a legal claim"),
    }
    notify.enqueue_email(
        session,
        to=patient.email,
        subject=gettext(patient.locale, "[Tandem] Your erasure request"),
        text=gettext(
            patient.locale,
            "%(clinic)s answered your request to erase your data. Your care records are kept, because "
            "%(reason)s, until %(date)s; they are then erased. Your account no longer takes new entries; "
            "you can still sign in to read and download your data.",
            clinic=clinic.name,
            reason=reasons[reason],
            date=kept_until.date().isoformat(),
        ),
        dedup_key=f"erasure-kept:{patient.id}",
        clinic_id=clinic.id,
    )
