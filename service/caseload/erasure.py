"""Erasure requests (GDPR art. 17): the admins' queue, carrying a request out, or keeping the
records for a reason art. 17(3) admits.

Carrying out: in one transaction the account is closed (sign-ins revoked, no password, no email,
no way to sign in), every per-patient column of the client's rows is overwritten, and the client's
data key is destroyed, so the copies of their text in replicas and backups can no longer be read
(crypto-shredding). Identifiers go: the name becomes a pseudonym, contact details, devices,
reminders and stored summaries are deleted, and so is every outbox message to the client; the last
email, telling them it is done, forgets their address once sent. The audit log keeps its rows
(they hold ids, never text), so the chain still verifies.

A request kept for a reason of art. 17(3) is carried out, by the same code, when the clinic's
retention period ends (``carry_out_kept_due``, run hourly by the scheduler's leader).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select, update

from service import audit, notify
from service.db import unit_of_work
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.models import (
    KEEP_REASONS,
    Alert,
    AlertStatus,
    Clinic,
    ErasureRequest,
    ErasureStatus,
    Invitation,
    OutboxMessage,
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

log = logging.getLogger(__name__)
# Who carries out a kept request when its retention period ends (the audit log's actor).
RETENTION_ACTOR = "retention"


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
    request = _locked(session, request_id)
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
    with unit_of_work(session):
        request, patient = _request_for(session, admin, request_id)
        _erase(session, request, patient, actor=Actor.staff(admin), decided_by=admin.id)
    return request


def carry_out_kept_due(session: Session, *, now: datetime | None = None) -> list[str]:
    """Carry out every kept request whose retention period has ended (``keep_until`` passed), as an
    admin's "carry out" would, with the system as the actor. One transaction per request; a request
    blocked by an open alert, or one that fails, waits for the next run while the others go ahead.
    Returns the ids of the requests carried out."""
    moment = now or utcnow()
    due = session.exec(
        select(ErasureRequest.id)
        .where(ErasureRequest.status == ErasureStatus.KEPT, col(ErasureRequest.keep_until) <= moment)
        .order_by(col(ErasureRequest.keep_until))
    ).all()
    done = []
    for request_id in due:
        try:
            with unit_of_work(session):
                request = _locked(session, request_id)
                if request is None or request.status != ErasureStatus.KEPT:
                    continue  # carried out meanwhile, by an admin or another run
                patient = session.get(Patient, request.patient_id)
                assert patient is not None  # foreign key
                _erase(
                    session,
                    request,
                    patient,
                    actor=Actor.system(RETENTION_ACTOR),
                    decided_by=request.decided_by,
                    now=moment,
                )
        except Conflict as exc:
            log.warning("kept erasure request %s is due but waits: %s", request_id, exc.detail)
            continue
        except Exception as exc:  # one request that fails must not hold back the requests due after it
            # The kind of failure only: a database error's message can quote the values it wrote.
            log.error(
                "kept erasure request %s is due but failed (%s); the next run tries again",
                request_id,
                type(exc).__name__,
            )
            continue
        done.append(request_id)
    return done


def _locked(session: Session, request_id: str) -> ErasureRequest | None:
    """The request read afresh, its row locked until the transaction ends (PostgreSQL): an admin's
    click and the scheduled run cannot both erase."""
    query = (
        select(ErasureRequest)
        .where(ErasureRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


def _erase(
    session: Session,
    request: ErasureRequest,
    patient: Patient,
    *,
    actor: Actor,
    decided_by: str | None,
    now: datetime | None = None,
) -> None:
    now = now or utcnow()
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
    devices = session.exec(select(PushSubscription.id).where(PushSubscription.patient_id == patient.id)).all()
    overwritten = _overwrite_text(session, patient.id)
    _remove_identifiers(session, patient, now)
    purged = _purge_outbox(session, email, devices)
    session.flush()
    patient_keys.destroy(session, patient.id)
    kept_until = request.keep_until
    request.status = ErasureStatus.CARRIED_OUT
    request.decided_at = now
    request.decided_by = decided_by
    session.add(request)
    detail: dict[str, Any] = {"request_id": request.id, "rows_overwritten": overwritten, "messages_purged": purged}
    if actor.kind == "system" and kept_until is not None:
        detail["keep_until"] = kept_until.date().isoformat()
    audit.record(session, actor=actor, action="erasure.carry_out", entity=patient, detail=detail)
    if email:
        _tell_erased(session, email, locale, clinic)


def _rows_of(session: Session, table: SealedTable, patient_id: str) -> list[object]:
    query: Any
    if table.through is None:
        query = select(table.model).where(table.model.patient_id == patient_id)  # type: ignore[attr-defined]
    else:
        parent, attr = table.through
        query = (
            select(table.model)
            .join(parent, col(parent.id) == getattr(table.model, attr))  # type: ignore[attr-defined]
            .where(parent.patient_id == patient_id)  # type: ignore[attr-defined]
        )
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


def _purge_outbox(session: Session, email: str | None, devices: Sequence[str]) -> int:
    """Every message to the client, waiting or sent, leaves the outbox: the address (and a device
    of theirs) is no longer held anywhere. Only the last email, queued after this, is sent; its row
    forgets the address once it is sent."""
    to_client = []
    index = col(OutboxMessage.recipient_index)  # the recipient is sealed: rows are found by its blind index
    if email:
        to_client.append((col(OutboxMessage.kind) == "email") & (index == notify.recipient_index(email)))
    if devices:
        pushes = [notify.recipient_index(f"push-subscription:{device}") for device in devices]
        to_client.append((col(OutboxMessage.kind) == "push") & index.in_(pushes))
    if not to_client:
        return 0
    result = session.execute(delete(OutboxMessage).where(or_(*to_client)))
    return int(getattr(result, "rowcount", 0) or 0)


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
        forget_after_sending=True,
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
