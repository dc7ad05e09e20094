"""A client who forgot their password: a single-use emailed link, then a new password."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service import audit, notify
from service.config import get_settings
from service.crypto import blind_index, token_digest
from service.db import unit_of_work
from service.errors import Invalid, Unauthenticated
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.models import PasswordResetToken, Patient
from service.models.base import utcnow
from service.onboarding.staff import normalize_email
from service.security.client_sessions import SIGN_IN_STATUSES, revoke_all
from service.security.passwords import check_strength, hash_password, verify_password

log = logging.getLogger(__name__)
INVALID_LINK = "this password reset link is invalid, used or expired; ask for a new one"
WRONG_PASSWORD = "the current password is incorrect"


def request_reset(session: Session, *, email: str) -> None:
    """Mail a reset link when the address belongs to an account. Says nothing either way."""
    try:
        email = normalize_email(email)
    except Invalid:
        return
    settings = get_settings()
    with unit_of_work(session):
        patient = session.exec(
            select(Patient).where(Patient.email_index == blind_index(email, "patient.email"))
        ).first()
        if patient is None or patient.status not in SIGN_IN_STATUSES or not patient.email:
            return
        token = secrets.token_urlsafe(32)
        now = utcnow()
        row = PasswordResetToken(
            patient_id=patient.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.password_reset_ttl_minutes),
        )
        session.add(row)
        session.flush()
        # In the fragment, so the token never reaches a server log or a Referer header.
        link = f"{settings.base_url.rstrip('/')}/app/#/reset?token={token}"
        notify.enqueue_email(
            session,
            to=patient.email,
            subject=gettext(patient.locale, "[Tandem] Choose a new password"),
            text=gettext(
                patient.locale,
                "Someone asked to reset the password of your Tandem account. To choose a new one, open this "
                "link within %(minutes)s minutes; it works once:\n\n%(link)s\n\nIf you did not ask, ignore "
                "this email: your password stays the same.",
                minutes=settings.password_reset_ttl_minutes,
                link=link,
            ),
            dedup_key=f"password-reset:{row.id}",
            clinic_id=patient.clinic_id,
        )
        audit.record(session, actor=Actor.client(patient), action="client.password_reset_request", entity=patient)


def confirm_reset(session: Session, *, token: str, password: str) -> None:
    """Set the new password once per link, and sign the account out everywhere."""
    with unit_of_work(session):
        row = session.exec(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == token_digest(token))
        ).first()
        if row is None or row.used_at is not None or row.expires_at <= utcnow():
            raise Invalid(INVALID_LINK)
        patient = session.get(Patient, row.patient_id)
        if patient is None or patient.status not in SIGN_IN_STATUSES:
            raise Invalid(INVALID_LINK)
        check_strength(password, user_inputs=[patient.email or "", patient.display_name])
        claimed = session.execute(
            update(PasswordResetToken)
            .where(col(PasswordResetToken.id) == row.id, col(PasswordResetToken.used_at).is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise Invalid(INVALID_LINK)
        patient.password_hash = hash_password(password)
        revoke_all(session, patient.id)
        audit.record(session, actor=Actor.client(patient), action="client.password_reset", entity=patient)


def change_password(session: Session, *, patient: Patient, current: str, new: str) -> None:
    """A signed-in client changes their password; every other session of theirs ends."""
    with unit_of_work(session):
        if not verify_password(patient.password_hash, current):
            audit.record(session, actor=Actor.client(patient), action="client.password_change_failed", entity=patient)
            failed = True
        else:
            failed = False
            check_strength(new, user_inputs=[patient.email or "", patient.display_name])
            patient.password_hash = hash_password(new)
            session.add(patient)
            revoke_all(session, patient.id)
            audit.record(session, actor=Actor.client(patient), action="client.password_change", entity=patient)
    if failed:
        raise Unauthenticated(WRONG_PASSWORD)


def export_rows(session: Session, patient: Patient) -> list[dict[str, object]]:
    """When the client asked for a password reset link and whether it was used (never the token)."""
    rows = session.exec(
        select(PasswordResetToken)
        .where(PasswordResetToken.patient_id == patient.id)
        .order_by(col(PasswordResetToken.created_at))
    ).all()
    return [
        {
            "requested_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat(),
            "used_at": row.used_at.isoformat() if row.used_at else None,
        }
        for row in rows
    ]
