"""Someone who forgot their password: a single-use emailed link, then a new password.

One mechanism for clients (the app, ``/api/v1/auth/password-reset``) and staff (the portal,
``/portal/password-reset``): a random token of which only the hash is stored, valid for
``TANDEM_PASSWORD_RESET_TTL_MINUTES``, claimed once by a conditional update, and on use every
session of the account ends. The request answers the same whether or not the address is known.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import update
from sqlmodel import Session, SQLModel, col, select

from service import audit, notify
from service.config import get_settings
from service.crypto import blind_index, token_digest
from service.db import unit_of_work
from service.errors import Invalid, Unauthenticated
from service.kit.context import Actor
from service.kit.i18n import gettext
from service.models import Clinic, PasswordResetToken, Patient, Staff, StaffPasswordReset
from service.models.base import utcnow
from service.onboarding.staff import normalize_email
from service.security import staff_auth
from service.security.client_sessions import SIGN_IN_STATUSES, revoke_all
from service.security.passwords import check_strength, hash_password, verify_password

Link = TypeVar("Link", PasswordResetToken, StaffPasswordReset)

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
        row, token = _new_link(session, PasswordResetToken(patient_id=patient.id, token_hash="", expires_at=utcnow()))
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
        row = _live_link(session, PasswordResetToken, token)
        patient = session.get(Patient, row.patient_id)
        if patient is None or patient.status not in SIGN_IN_STATUSES:
            raise Invalid(INVALID_LINK)
        check_strength(password, user_inputs=[patient.email or "", patient.display_name])
        _claim(session, row)
        patient.password_hash = hash_password(password)
        revoke_all(session, patient_id=patient.id)
        audit.record(session, actor=Actor.client(patient), action="client.password_reset", entity=patient)


def _new_link(session: Session, row: Link) -> tuple[Link, str]:
    """Give ``row`` a fresh random token and its expiry; the token goes in the email, only its hash stays."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row.token_hash = token_digest(token)
    row.created_at = now
    row.expires_at = now + timedelta(minutes=get_settings().password_reset_ttl_minutes)
    session.add(row)
    session.flush()
    return row, token


def _live_link(session: Session, model: type[Link], token: str) -> Link:
    """The unused, unexpired link behind ``token``; one answer for every reason it is not."""
    if not token or len(token) > 128:
        raise Invalid(INVALID_LINK)
    row = session.exec(select(model).where(model.token_hash == token_digest(token))).first()  # type: ignore[arg-type]
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise Invalid(INVALID_LINK)
    return row


def _claim(session: Session, row: SQLModel) -> None:
    """Mark the link used, once: of two requests racing with the same link, one wins."""
    model = type(row)
    claimed = session.execute(
        update(model)
        .where(col(model.id) == row.id, col(model.used_at).is_(None))  # type: ignore[attr-defined]
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid(INVALID_LINK)


# --- staff ----------------------------------------------------------------------------------


def request_staff_reset(session: Session, *, email: str) -> None:
    """Mail a portal reset link to an active local account. Says nothing either way.

    Accounts that sign in with single sign-on get no local password: their identity provider's
    rules apply, so no link is sent.
    """
    try:
        email = normalize_email(email).lower()
    except Invalid:
        return
    with unit_of_work(session):
        staff = session.exec(select(Staff).where(Staff.email == email)).first()
        if staff is None or not staff.active or staff.oidc_subject is not None:
            return
        _send_staff_link(session, staff, requested_by=None)
        audit.record(session, actor=Actor.staff(staff), action="staff.password_reset_request", entity=staff)


def send_staff_link(session: Session, *, staff: Staff, requested_by: Staff) -> None:
    """An administrator sends a staff member a reset link (the caller owns the transaction)."""
    _send_staff_link(session, staff, requested_by=requested_by.id)


def _send_staff_link(session: Session, staff: Staff, *, requested_by: str | None) -> None:
    settings = get_settings()
    clinic = session.get(Clinic, staff.clinic_id)
    locale = staff.locale or (clinic.locale if clinic else "en")
    _, token = _new_link(
        session, StaffPasswordReset(staff_id=staff.id, token_hash="", expires_at=utcnow(), requested_by=requested_by)
    )
    link = f"{settings.base_url.rstrip('/')}/portal/password-reset/new?token={token}"
    notify.enqueue_email(
        session,
        to=staff.email,
        subject=gettext(locale, "[Tandem] Choose a new password for the portal"),
        text=gettext(
            locale,
            "Someone asked to reset your password for the Tandem portal. To choose a new one, open this link "
            "within %(minutes)s minutes; it works once:\n\n%(link)s\n\nIf you did not ask, ignore this "
            "email: your password stays the same.",
            minutes=settings.password_reset_ttl_minutes,
            link=link,
        ),
        dedup_key=f"staff-password-reset:{token_digest(token)}",
        clinic_id=staff.clinic_id,
    )


def staff_link_is_live(session: Session, *, token: str) -> bool:
    """Whether the form for this link should be offered (the answer to the form decides)."""
    try:
        row = _live_link(session, StaffPasswordReset, token)
    except Invalid:
        return False
    staff = session.get(Staff, row.staff_id)
    return staff is not None and staff.active


def confirm_staff_reset(session: Session, *, token: str, password: str) -> None:
    """Set the new password once per link, and end every portal session of the account.

    The authenticator stays: a reset password alone does not open a session where the clinic asks for a code.
    """
    with unit_of_work(session):
        row = _live_link(session, StaffPasswordReset, token)
        staff = session.get(Staff, row.staff_id)
        if staff is None or not staff.active or staff.oidc_subject is not None:
            raise Invalid(INVALID_LINK)
        if len(password) < get_settings().password_min_length:
            raise Invalid("the new password is too short")
        check_strength(password, user_inputs=[staff.email, staff.email.split("@")[0], staff.name])
        _claim(session, row)
        staff.password_hash = hash_password(password)
        staff.password_must_change = False
        staff.failed_logins = 0
        session.add(staff)
        ended = staff_auth.revoke_all(session, staff_id=staff.id)
        audit.record(
            session, actor=Actor.staff(staff), action="staff.password_reset", entity=staff, detail={"sessions": ended}
        )


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
            revoke_all(session, patient_id=patient.id)
            audit.record(session, actor=Actor.client(patient), action="client.password_change", entity=patient)
    if failed:
        raise Unauthenticated(WRONG_PASSWORD)


def export_rows(session: Session, *, patient: Patient) -> list[dict[str, object]]:
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
