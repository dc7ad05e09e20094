"""Staff sign-in for the clinician portal.

Local accounts use an argon2id password plus a TOTP code (required unless the clinic turned MFA
off); OpenID Connect identities map to existing accounts only. Failures are counted and audited
but never lock the account: guessing is slowed per address by the portal's rate limits, so a
stranger who knows a clinician's email cannot keep them out. A successful sign-in opens a server-side session: the
browser holds a random token, the database only its hash, and the session ends after an idle
period, at an absolute limit, at logout, or when the account is deactivated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
from email_validator import EmailNotValidError, validate_email
from pyotp import OTPVerificationError
from sqlalchemy import update
from sqlmodel import Session, col, select

from service import audit
from service.config import get_settings
from service.crypto import token_digest
from service.db import unit_of_work
from service.errors import Conflict, Invalid, Unauthenticated
from service.kit.context import Actor
from service.kit.i18n import check_locale
from service.models import Clinic, PortalSession, SessionStage, Staff
from service.models.base import utcnow
from service.security.passwords import check_strength, hash_password, needs_rehash, verify_password

# One message for every failed sign-in, so nobody learns which part was wrong or that an account exists.
BAD_LOGIN = "sign-in failed; check your email, password and authentication code"
SESSION_ENDED = "your session has ended; sign in again"
UNKNOWN_IDENTITY = "no active staff account matches this identity"
WRONG_CODE = "the authentication code is not right; check the time on your phone and try again"
SAME_PASSWORD = "choose a new password, different from the one-time password"

ANONYMOUS = Actor("anonymous", None)
# last_seen_at is written at most this often, so browsing does not write on every request.
TOUCH_EVERY = timedelta(seconds=30)
TOTP_ISSUER = "Tandem"
RECOVERY_CODES = 10
# No 0/o, 1/l/i: a code copied from paper is read back without doubt (31 letters: about 49 bits per code).
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie only; never stored
    portal_session: PortalSession
    staff: Staff
    # Made when an authenticator was just confirmed: shown once, only their digests are kept.
    recovery_codes: tuple[str, ...] = ()

    @property
    def needs_enrolment(self) -> bool:
        return self.portal_session.stage == SessionStage.ENROLMENT


@dataclass(frozen=True)
class OidcIdentity:
    """What a validated ID token says about the person signing in."""

    issuer: str
    subject: str
    email: str | None = None
    email_verified: bool = False


@dataclass(frozen=True)
class Enrolment:
    """What a staff member must still do before using the portal, with their new TOTP secret."""

    needs_password: bool
    needs_totp: bool
    totp_secret: str | None
    totp_uri: str | None


# --- password sign-in --------------------------------------------------------------------------


def password_login(
    session: Session,
    *,
    email: str,
    password: str,
    totp: str | None = None,
    replacing: str | None = None,
    locale: str | None = None,
) -> OpenedSession:
    """Check the credentials and open a session (in the enrolment stage when MFA setup is due).

    ``replacing`` is the token of a session the browser already had; it is revoked, so a
    session id never survives a sign-in. Failures are committed before Unauthenticated is raised.
    """
    with unit_of_work(session):
        opened = _attempt_password_login(session, email, password, totp, replacing, locale)
    if opened is None:
        raise Unauthenticated(BAD_LOGIN)
    return opened


def _attempt_password_login(
    session: Session, email: str, password: str, totp: str | None, replacing: str | None, locale: str | None
) -> OpenedSession | None:
    staff = session.exec(select(Staff).where(Staff.email == _email_key(email))).first()
    # Always pay for one hash, so a missing account answers as slowly as a wrong password.
    password_ok = verify_password(staff.password_hash if staff else None, password)
    now = utcnow()
    if staff is None:
        audit.record(session, actor=ANONYMOUS, action="staff.login_failed", detail={"reason": "unknown_account"})
        return None
    if not staff.active:
        _audit_failure(session, staff, "deactivated")
        return None
    if not password_ok:
        _count_failure(session, staff, "password", now)
        return None
    totp_step = None
    if staff.totp_confirmed_at is not None:
        totp_step = _verified_step(session, staff, totp, now)
        if totp_step is None and not _spend_recovery_code(session, staff, totp):
            _count_failure(session, staff, "code", now)
            return None
    clinic = session.get(Clinic, staff.clinic_id)
    assert clinic is not None  # foreign key
    needs_totp = clinic.mfa_required and staff.totp_confirmed_at is None
    stage = SessionStage.ENROLMENT if needs_totp or staff.password_must_change else SessionStage.ACTIVE
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    if staff.password_hash and needs_rehash(staff.password_hash):
        staff.password_hash = hash_password(password)
    opened = _open(session, staff, stage=stage, method="password", totp_step=totp_step, replacing=replacing)
    if locale:
        opened.portal_session.locale = check_locale(locale)
    audit.record(
        session,
        actor=Actor.staff(staff),
        action="staff.login",
        entity=staff,
        detail={"method": "password", "stage": str(stage)},
    )
    return opened


def _email_key(email: str) -> str:
    """Staff emails are stored normalized and lower-cased (see onboarding.staff.normalize_email)."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return email.strip().lower()


def _audit_failure(session: Session, staff: Staff, reason: str) -> None:
    audit.record(
        session, actor=Actor.staff(staff), action="staff.login_failed", entity=staff, detail={"reason": reason}
    )


def _count_failure(session: Session, staff: Staff, reason: str, now: datetime) -> None:
    """One more failure in a row, for the audit log and the team page; it locks nothing."""
    # Counted in SQL so parallel guesses cannot overwrite each other's increments.
    session.execute(update(Staff).where(col(Staff.id) == staff.id).values(failed_logins=col(Staff.failed_logins) + 1))
    session.refresh(staff)
    _audit_failure(session, staff, reason)


def _verified_step(session: Session, staff: Staff, code: str | None, now: datetime) -> int | None:
    """The TOTP time step that ``code`` matches, unless it was already used to open a session."""
    code = (code or "").replace(" ", "").strip()
    if not staff.totp_secret or len(code) != 6 or not code.isdigit():
        return None
    try:
        step = int(pyotp.TOTP(staff.totp_secret).verify_and_get_timecode(code, for_time=now, valid_window=1))
    except OTPVerificationError:
        return None
    replayed = session.exec(
        select(PortalSession.id).where(PortalSession.staff_id == staff.id, col(PortalSession.totp_step) >= step)
    ).first()
    return None if replayed else step


def new_recovery_codes(staff: Staff) -> list[str]:
    """Replace the staff member's recovery codes; returns them as shown once (``xxxxx-xxxxx``)."""
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    staff.recovery_codes = [token_digest(code) for code in codes]
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def _spend_recovery_code(session: Session, staff: Staff, code: str | None) -> bool:
    """A recovery code, typed in place of the authenticator's code, works once."""
    typed = (code or "").replace("-", "").replace(" ", "").strip().lower()
    if len(typed) != 10 or not staff.recovery_codes:
        return False
    digest = token_digest(typed)
    if digest not in staff.recovery_codes:
        return False
    staff.recovery_codes = [kept for kept in staff.recovery_codes if kept != digest]
    session.add(staff)
    audit.record(
        session,
        actor=Actor.staff(staff),
        action="staff.recovery_code_used",
        entity=staff,
        detail={"left": len(staff.recovery_codes)},
    )
    return True


# --- OpenID Connect sign-in --------------------------------------------------------------------


def oidc_login(
    session: Session,
    *,
    identity: OidcIdentity,
    clinic_id: str | None = None,
    replacing: str | None = None,
    locale: str | None = None,
) -> OpenedSession:
    """Open a session for the active staff account behind a validated identity; never create one.

    The account is found by (issuer, subject), or else by a verified email address, and then the
    subject is remembered so later sign-ins no longer depend on the email.
    """
    with unit_of_work(session):
        staff = _match_identity(session, identity, clinic_id)
        opened = None
        if staff is None:
            audit.record(
                session,
                actor=ANONYMOUS,
                action="staff.login_failed",
                clinic_id=clinic_id,
                detail={"reason": "unknown_identity", "method": "oidc"},
            )
        elif not staff.active:
            _audit_failure(session, staff, "deactivated")
        else:
            opened = _open_oidc_session(session, staff, identity, replacing, locale)
    if opened is None:
        raise Unauthenticated(UNKNOWN_IDENTITY)
    return opened


def _match_identity(session: Session, identity: OidcIdentity, clinic_id: str | None) -> Staff | None:
    query = select(Staff).where(Staff.oidc_issuer == identity.issuer, Staff.oidc_subject == identity.subject)
    if clinic_id:
        query = query.where(Staff.clinic_id == clinic_id)
    staff = session.exec(query).first()
    if staff is not None or not (identity.email and identity.email_verified):
        return staff
    by_email = select(Staff).where(Staff.email == _email_key(identity.email))
    if clinic_id:
        by_email = by_email.where(Staff.clinic_id == clinic_id)
    staff = session.exec(by_email).first()
    if staff is not None and staff.oidc_subject is not None:
        return None  # already linked to another identity: an email match must not take it over
    return staff


def _open_oidc_session(
    session: Session, staff: Staff, identity: OidcIdentity, replacing: str | None, locale: str | None
) -> OpenedSession:
    actor = Actor.staff(staff)
    if staff.oidc_subject is None:
        staff.oidc_issuer = identity.issuer
        staff.oidc_subject = identity.subject
        # From now on the identity provider's rules apply: no local password (nor Tandem's own
        # authenticator) is kept that could open the account around them.
        had_password = staff.password_hash is not None
        staff.password_hash = None
        staff.password_must_change = False
        staff.totp_secret = staff.totp_pending_secret = None
        staff.totp_confirmed_at = None
        staff.recovery_codes = []
        audit.record(
            session,
            actor=actor,
            action="staff.oidc_link",
            entity=staff,
            detail={"issuer": identity.issuer, "local_password_removed": had_password},
        )
    staff.last_login_at = utcnow()
    opened = _open(session, staff, stage=SessionStage.ACTIVE, method="oidc", replacing=replacing)
    if locale:
        opened.portal_session.locale = check_locale(locale)
    audit.record(session, actor=actor, action="staff.login", entity=staff, detail={"method": "oidc", "stage": "active"})
    return opened


# --- sessions ----------------------------------------------------------------------------------


def _open(
    session: Session,
    staff: Staff,
    *,
    stage: SessionStage,
    method: str,
    totp_step: int | None = None,
    replacing: str | None = None,
) -> OpenedSession:
    now = utcnow()
    if replacing:
        session.execute(
            update(PortalSession)
            .where(col(PortalSession.token_hash) == token_digest(replacing), col(PortalSession.revoked_at).is_(None))
            .values(revoked_at=now)
        )
    token = secrets.token_urlsafe(32)
    row = PortalSession(
        token_hash=token_digest(token),
        staff_id=staff.id,
        stage=stage,
        auth_method=method,
        totp_step=totp_step,
        locale=staff.locale,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=get_settings().portal_absolute_timeout_hours),
    )
    session.add(row)
    session.flush()
    return OpenedSession(token, row, staff)


def resolve(session: Session, *, token: str | None, touch: bool = True) -> tuple[Staff, PortalSession]:
    """The staff member and session behind a cookie token, if the session is still open.

    ``touch=False`` is for what the page does on its own (a live feed, a refresh of the alert
    rows): only what the person does keeps their session from ending when idle.
    """
    if not token or len(token) > 128:
        raise Unauthenticated(SESSION_ENDED)
    row = session.exec(select(PortalSession).where(PortalSession.token_hash == token_digest(token))).first()
    now = utcnow()
    idle = timedelta(minutes=get_settings().portal_idle_timeout_minutes)
    if row is None or row.revoked_at is not None or row.expires_at <= now or row.last_seen_at + idle <= now:
        raise Unauthenticated(SESSION_ENDED)
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        raise Unauthenticated(SESSION_ENDED)
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        with unit_of_work(session):
            row.last_seen_at = now
    return staff, row


def logout(session: Session, *, token: str | None) -> None:
    if not token:
        return
    with unit_of_work(session):
        row = session.exec(select(PortalSession).where(PortalSession.token_hash == token_digest(token))).first()
        if row is None or row.revoked_at is not None:
            return
        row.revoked_at = utcnow()
        staff = session.get(Staff, row.staff_id)
        if staff is not None:
            audit.record(session, actor=Actor.staff(staff), action="staff.logout", entity=staff)


def revoke_all(session: Session, *, staff_id: str, keep: str | None = None) -> int:
    """End every open session of a staff member (deactivation, a new password), except ``keep``
    (the browser where the person changed their own password); the caller owns the transaction."""
    query = update(PortalSession).where(
        col(PortalSession.staff_id) == staff_id, col(PortalSession.revoked_at).is_(None)
    )
    if keep is not None:
        query = query.where(col(PortalSession.id) != keep)
    result = session.execute(query.values(revoked_at=utcnow()))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def purge_ended(session: Session, *, older_than: timedelta = timedelta(days=30)) -> int:
    """Delete session rows that ended long ago (for a periodic job); TOTP replay needs only recent ones."""
    cutoff = utcnow() - older_than
    with unit_of_work(session):
        rows = session.exec(select(PortalSession).where(col(PortalSession.expires_at) < cutoff)).all()
        for row in rows:
            session.delete(row)
    return len(rows)


def set_locale(session: Session, *, portal_session: PortalSession, locale: str) -> None:
    with unit_of_work(session):
        portal_session.locale = check_locale(locale)
        session.add(portal_session)


# --- first sign-in: new password and TOTP enrolment -------------------------------------------


def enrolment(session: Session, *, staff: Staff) -> Enrolment:
    """What is left to set up; the TOTP secret is made on first sight and kept until confirmed."""
    clinic = session.get(Clinic, staff.clinic_id)
    assert clinic is not None  # foreign key
    needs_totp = clinic.mfa_required and staff.totp_confirmed_at is None
    if not needs_totp:
        return Enrolment(staff.password_must_change, False, None, None)
    with unit_of_work(session):
        if not staff.totp_secret:
            staff.totp_secret = pyotp.random_base32()
            session.add(staff)
    secret = staff.totp_secret
    assert secret is not None
    uri = pyotp.TOTP(secret).provisioning_uri(name=staff.email, issuer_name=f"{TOTP_ISSUER} {clinic.name}")
    return Enrolment(staff.password_must_change, True, secret, uri)


def complete_enrolment(
    session: Session, *, token: str, new_password: str | None = None, totp: str | None = None
) -> OpenedSession:
    """Set the chosen password and confirm the authenticator, then swap to a fully open session."""
    with unit_of_work(session):
        staff, row = resolve(session, token=token)
        if row.stage != SessionStage.ENROLMENT:
            raise Conflict("this account is already set up")
        plan = enrolment(session, staff=staff)
        step = None
        if plan.needs_totp:
            step = _verified_step(session, staff, totp, utcnow())
            if step is None:
                raise Invalid(WRONG_CODE)
        if plan.needs_password:
            _set_first_password(session, staff, new_password or "")
        actor = Actor.staff(staff)
        codes: list[str] = []
        if plan.needs_totp:
            staff.totp_confirmed_at = utcnow()
            codes = new_recovery_codes(staff)
            audit.record(session, actor=actor, action="staff.mfa_enrol", entity=staff)
        opened = _open(
            session, staff, stage=SessionStage.ACTIVE, method=row.auth_method, totp_step=step, replacing=token
        )
        opened.portal_session.locale = row.locale
    return OpenedSession(opened.token, opened.portal_session, opened.staff, tuple(codes))


def _set_first_password(session: Session, staff: Staff, password: str) -> None:
    if verify_password(staff.password_hash, password):
        raise Invalid(SAME_PASSWORD)
    check_strength(password, user_inputs=[staff.email, staff.email.split("@")[0], staff.name])
    staff.password_hash = hash_password(password)
    staff.password_must_change = False
    audit.record(session, actor=Actor.staff(staff), action="staff.password_change", entity=staff)
