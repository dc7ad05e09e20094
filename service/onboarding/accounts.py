"""A staff member's own account: password, authenticator and recovery codes, language.

Accounts that sign in with single sign-on follow their identity provider's rules: they get no
local password here and no authenticator of Tandem's (the provider asks for its own factors).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyotp
from pyotp import OTPVerificationError
from sqlmodel import Session

from service import audit
from service.config import get_settings
from service.db import unit_of_work
from service.errors import Invalid, Unauthenticated
from service.kit.context import Actor
from service.kit.i18n import check_locale
from service.models import Clinic, PortalSession, Staff
from service.models.base import utcnow
from service.security import staff_auth
from service.security.passwords import check_strength, hash_password, verify_password

WRONG_PASSWORD = "the current password is incorrect"
NOT_THE_SAME = "the two new passwords are not the same"
SSO_ACCOUNT = "this account signs in with single sign-on; its password and codes are managed by the identity provider"
WRONG_CODE = "the authentication code is not right; check the time on your phone and try again"
NO_PENDING = "start the authenticator set-up again"
TOO_SHORT = "the new password is too short"


@dataclass(frozen=True)
class PendingAuthenticator:
    secret: str
    uri: str


def is_sso(staff: Staff) -> bool:
    return staff.oidc_subject is not None


def _refuse_sso(staff: Staff) -> None:
    if is_sso(staff):
        raise Invalid(SSO_ACCOUNT)


def change_password(
    session: Session, *, staff: Staff, keep: PortalSession, current: str, new: str, confirm: str
) -> None:
    """A new password, the current one required; every other session of this person ends."""
    _refuse_sso(staff)
    if new != confirm:
        raise Invalid(NOT_THE_SAME)
    if len(new) < get_settings().password_min_length:
        raise Invalid(TOO_SHORT)
    with unit_of_work(session):
        ok = verify_password(staff.password_hash, current)
        actor = Actor.staff(staff)
        if not ok:
            audit.record(session, actor=actor, action="staff.password_change_failed", entity=staff)
        else:
            check_strength(new, user_inputs=[staff.email, staff.email.split("@")[0], staff.name])
            staff.password_hash = hash_password(new)
            staff.password_must_change = False
            session.add(staff)
            ended = staff_auth.revoke_all(session, staff_id=staff.id, keep=keep.id)
            audit.record(session, actor=actor, action="staff.password_change", entity=staff, detail={"sessions": ended})
    if not ok:
        raise Unauthenticated(WRONG_PASSWORD)


def start_authenticator(session: Session, *, staff: Staff) -> PendingAuthenticator:
    """A new secret to add to an authenticator app; the current one keeps working until it is confirmed."""
    _refuse_sso(staff)
    with unit_of_work(session):
        if not staff.totp_pending_secret:
            staff.totp_pending_secret = pyotp.random_base32()
            session.add(staff)
    return pending_authenticator(session, staff=staff)  # type: ignore[return-value]


def pending_authenticator(session: Session, *, staff: Staff) -> PendingAuthenticator | None:
    secret = staff.totp_pending_secret
    if not secret:
        return None
    clinic = session.get(Clinic, staff.clinic_id)
    issuer = f"{staff_auth.TOTP_ISSUER} {clinic.name}" if clinic else staff_auth.TOTP_ISSUER
    return PendingAuthenticator(secret, pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=issuer))


def confirm_authenticator(session: Session, *, staff: Staff, code: str) -> list[str]:
    """Switch to the new authenticator once a code from it is right; returns fresh recovery codes (shown once)."""
    _refuse_sso(staff)
    secret = staff.totp_pending_secret
    if not secret:
        raise Invalid(NO_PENDING)
    code = code.replace(" ", "").strip()
    try:
        good = len(code) == 6 and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)
    except OTPVerificationError:
        good = False
    if not good:
        raise Invalid(WRONG_CODE)
    with unit_of_work(session):
        first = staff.totp_confirmed_at is None
        staff.totp_secret = secret
        staff.totp_pending_secret = None
        staff.totp_confirmed_at = utcnow()
        codes = staff_auth.new_recovery_codes(staff)
        session.add(staff)
        action = "staff.mfa_enrol" if first else "staff.mfa_reset"
        audit.record(session, actor=Actor.staff(staff), action=action, entity=staff, detail={"by": "self"})
    return codes


def cancel_authenticator(session: Session, *, staff: Staff) -> None:
    with unit_of_work(session):
        staff.totp_pending_secret = None
        session.add(staff)


def new_recovery_codes(session: Session, *, staff: Staff, current: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working); the current password is asked again."""
    _refuse_sso(staff)
    if staff.totp_confirmed_at is None:
        raise Invalid("set up an authenticator app first")
    with unit_of_work(session):
        ok = verify_password(staff.password_hash, current)
        if ok:
            codes = staff_auth.new_recovery_codes(staff)
            session.add(staff)
            audit.record(session, actor=Actor.staff(staff), action="staff.recovery_codes", entity=staff)
        else:
            audit.record(session, actor=Actor.staff(staff), action="staff.password_change_failed", entity=staff)
    if not ok:
        raise Unauthenticated(WRONG_PASSWORD)
    return codes


def set_language(session: Session, *, staff: Staff, portal_session: PortalSession, locale: str) -> None:
    """The language of the portal and of the emails Tandem sends this person, from now on."""
    with unit_of_work(session):
        staff.locale = check_locale(locale)
        portal_session.locale = staff.locale
        session.add(staff)
        session.add(portal_session)
        audit.record(
            session, actor=Actor.staff(staff), action="staff.language", entity=staff, detail={"locale": locale}
        )
