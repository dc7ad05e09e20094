"""A client turns an invitation into an account: email, password, and consent, all in one step."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from service import audit
from service.crypto import blind_index
from service.db import unit_of_work
from service.errors import Conflict, Invalid
from service.kit.context import Actor
from service.models import ConsentRecord, Invitation, Patient, PatientStatus
from service.models.base import utcnow
from service.onboarding import consent, invitations
from service.onboarding.staff import normalize_email
from service.security.client_sessions import Tokens, issue_tokens
from service.security.passwords import check_strength, hash_password


def consent_for_invite(session: Session, *, invite_code: str) -> consent.ConsentText:
    _, patient = invitations.find_usable(session, code=invite_code)
    return consent.consent_text(patient.locale)


def activate(session: Session, *, invite_code: str, email: str, password: str, consent_version: str) -> Tokens:
    email = normalize_email(email)
    with unit_of_work(session):
        invitation, patient = invitations.find_usable(session, code=invite_code)
        text = consent.consent_text(patient.locale)
        if consent_version != text.version:
            raise Invalid(
                f"consent version {consent_version!r} is not the current one ({text.version}); read and accept it again"
            )
        check_strength(password, user_inputs=[email, email.split("@")[0], patient.display_name])
        index = blind_index(email, "patient.email")
        if session.exec(select(Patient.id).where(Patient.email_index == index, Patient.id != patient.id)).first():
            raise Conflict("an account with this email already exists")
        now = utcnow()
        # Single use even when two activations race: only one conditional update can match.
        claimed = session.execute(
            update(Invitation)
            .where(col(Invitation.id) == invitation.id, col(Invitation.used_at).is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Invalid(invitations.INVALID_CODE)
        patient.email = email
        patient.email_index = index
        patient.password_hash = hash_password(password)
        patient.status = PatientStatus.ACTIVE
        patient.activated_at = now
        record = ConsentRecord(patient_id=patient.id, version=text.version, locale=text.locale, text_sha256=text.sha256)
        session.add(record)
        session.flush()
        actor = Actor.client(patient)
        audit.record(session, actor=actor, action="consent.accept", entity=record, detail={"version": text.version})
        audit.record(session, actor=actor, action="client.activate", entity=patient)
        tokens = issue_tokens(session, patient=patient)
    return tokens
