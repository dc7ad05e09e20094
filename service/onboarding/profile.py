"""What a client sees about their own account, and their GDPR rights (export, erasure request)."""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from service import audit
from service.db import unit_of_work
from service.kit.context import Actor
from service.kit.i18n import check_locale, check_timezone, gettext
from service.models import Clinic, ConsentRecord, ErasureRequest, ErasureStatus, Patient, Staff
from service.models.base import utcnow
from service.onboarding.schemas import ClinicianOut, ClinicOut, ErasureOut, ProfileOut
from service.security.client_sessions import revoke_all


def profile(session: Session, *, patient: Patient) -> ProfileOut:
    clinic = session.get(Clinic, patient.clinic_id)
    clinician = session.get(Staff, patient.clinician_id)
    assert clinic is not None and clinician is not None  # foreign keys
    latest = session.exec(
        select(ConsentRecord.version)
        .where(ConsentRecord.patient_id == patient.id)
        .order_by(ConsentRecord.accepted_at.desc())  # type: ignore[attr-defined]
    ).first()
    return ProfileOut(
        id=patient.id,
        display_name=patient.display_name,
        email=patient.email,
        locale=patient.locale,
        timezone=patient.timezone,
        country=patient.country,
        status=str(patient.status),
        clinic=ClinicOut(name=clinic.name, country=clinic.country, timezone=clinic.timezone),
        clinician=ClinicianOut(name=clinician.name),
        consent_version=latest,
        next_appointment_at=patient.next_appointment_at,
        activated_at=patient.activated_at,
        erasure_requested_at=patient.erasure_requested_at,
    )


def account_export(session: Session, *, patient: Patient) -> dict[str, Any]:
    """The account part of the client's export: profile and every consent they gave."""
    consents = session.exec(
        select(ConsentRecord).where(ConsentRecord.patient_id == patient.id).order_by(ConsentRecord.accepted_at)  # type: ignore[arg-type]
    ).all()
    return {
        "profile": profile(session, patient=patient).model_dump(mode="json"),
        "consents": [
            {
                "version": c.version,
                "locale": c.locale,
                "text_sha256": c.text_sha256,
                "accepted_at": c.accepted_at.isoformat(),
            }
            for c in consents
        ],
    }


def one_month_after(when: datetime) -> datetime:
    """The deadline of art. 12(3): the same day next month (or that month's last day)."""
    year, month = (when.year + 1, 1) if when.month == 12 else (when.year, when.month + 1)
    return when.replace(year=year, month=month, day=min(when.day, calendar.monthrange(year, month)[1]))


def years_after(when: datetime, years: int) -> datetime:
    day = min(when.day, calendar.monthrange(when.year + years, when.month)[1])
    return when.replace(year=when.year + years, day=day)


def open_request(session: Session, *, patient: Patient) -> ErasureRequest:
    """The client's pending request, made now if there is none (in the caller's transaction)."""
    pending = session.exec(
        select(ErasureRequest).where(
            ErasureRequest.patient_id == patient.id, ErasureRequest.status == ErasureStatus.PENDING
        )
    ).first()
    if pending is not None:
        return pending
    now = utcnow()
    row = ErasureRequest(
        clinic_id=patient.clinic_id, patient_id=patient.id, requested_at=now, due_at=one_month_after(now)
    )
    session.add(row)
    return row


def request_erasure(session: Session, *, patient: Patient) -> ErasureOut:
    """Record the request and sign the client out everywhere; the clinic's team carries it out."""
    with unit_of_work(session):
        if patient.erasure_requested_at is None:
            patient.erasure_requested_at = utcnow()
            audit.record(session, actor=Actor.client(patient), action="client.erasure_request", entity=patient)
        # In the clinic administrators' queue, due within a month (GDPR art. 12(3)).
        open_request(session, patient=patient)
        revoke_all(session, patient_id=patient.id)
        requested_at = patient.erasure_requested_at
    return ErasureOut(
        status="requested",
        requested_at=requested_at,
        detail=gettext(
            patient.locale,
            "Your request to erase your data was recorded. Your clinic will confirm what is erased and "
            "anything the law requires them to keep.",
        ),
    )


def update_profile(session: Session, *, patient: Patient, locale: str | None, timezone: str | None) -> ProfileOut:
    """The client changes their language or time zone (reminders and dates follow the time zone)."""
    with unit_of_work(session):
        if locale is not None:
            patient.locale = check_locale(locale)
        if timezone is not None:
            patient.timezone = check_timezone(timezone)
        session.add(patient)
        audit.record(session, actor=Actor.client(patient), action="client.profile_update", entity=patient)
    return profile(session, patient=patient)
