"""Client sign-in: access tokens plus rotating refresh tokens, where reuse revokes the whole family."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from service import audit
from service.config import get_settings
from service.crypto import blind_index, token_digest
from service.db import unit_of_work
from service.errors import Forbidden, Unauthenticated
from service.kit.context import Actor
from service.kit.i18n import Multilingual, gettext
from service.models import Patient, PatientStatus, RefreshToken
from service.models.base import utcnow
from service.security.passwords import hash_password, needs_rehash, verify_password
from service.security.tokens import AccessClaims, issue_access_token, verify_access_token

log = logging.getLogger(__name__)
BAD_CREDENTIALS = "email or password is incorrect"
BAD_REFRESH = "refresh token is invalid or expired; sign in again"
SIGN_IN_STATUSES = (PatientStatus.ACTIVE, PatientStatus.PAUSED)
CARE_ENDED = (
    "Your care in Tandem has ended: nothing sent here would be read by your care team. You can still "
    "download your data (POST /api/v1/auth/export with your email and password). If you need help now, "
    "call your local emergency number or a crisis line."
)


def care_ended(patient: Patient) -> Multilingual:
    """In every language: the client API answers in the one the request asks for, then the profile's."""
    return Multilingual(lambda locale: gettext(locale, CARE_ENDED), patient.locale)


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"

    def to_dict(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


def issue_tokens(session: Session, *, patient: Patient, family_id: str | None = None) -> Tokens:
    """New access and refresh tokens; the caller owns the transaction."""
    refresh = secrets.token_urlsafe(32)
    family_id = family_id or str(uuid.uuid4())
    session.add(
        RefreshToken(
            patient_id=patient.id,
            family_id=family_id,
            token_hash=token_digest(refresh),
            expires_at=utcnow() + timedelta(days=get_settings().refresh_token_ttl_days),
        )
    )
    access, ttl = issue_access_token(patient.id, family_id)
    return Tokens(access, refresh, ttl)


def login(session: Session, *, email: str, password: str) -> Tokens:
    tokens: Tokens | None = None
    care_ended_for: Patient | None = None
    with unit_of_work(session):
        patient = session.exec(
            select(Patient).where(Patient.email_index == blind_index(email, "patient.email"))
        ).first()
        ok = verify_password(patient.password_hash if patient else None, password)
        if patient is not None and ok and patient.status == PatientStatus.DISCHARGED and patient.erased_at is None:
            # The right password: say why, rather than "incorrect" (only the account holder learns it).
            audit.record(session, actor=Actor.client(patient), action="client.login_after_care", entity=patient)
            care_ended_for = patient
        elif patient is not None and ok and patient.status in SIGN_IN_STATUSES:
            if patient.password_hash and needs_rehash(patient.password_hash):
                patient.password_hash = hash_password(password)
            tokens = issue_tokens(session, patient=patient)
            audit.record(session, actor=Actor.client(patient), action="client.login", entity=patient)
        elif patient is not None:
            # Committed with the failure, so repeated guessing shows in the audit log.
            audit.record(session, actor=Actor.client(patient), action="client.login_failed", entity=patient)
    if care_ended_for is not None:
        raise Forbidden(care_ended(care_ended_for))
    if tokens is None:
        raise Unauthenticated(BAD_CREDENTIALS)
    return tokens


def verify_for_export(session: Session, *, email: str, password: str) -> Patient:
    """A client whose care ended proves who they are to download their data (GDPR art. 15 and 20);
    every other failure is the same answer as a wrong password."""
    patient = session.exec(select(Patient).where(Patient.email_index == blind_index(email, "patient.email"))).first()
    ok = verify_password(patient.password_hash if patient else None, password)
    if patient is None or not ok or patient.erased_at is not None:
        raise Unauthenticated(BAD_CREDENTIALS)
    if patient.status not in (*SIGN_IN_STATUSES, PatientStatus.DISCHARGED):
        raise Unauthenticated(BAD_CREDENTIALS)
    return patient


def refresh(session: Session, *, refresh_token: str) -> Tokens:
    """Swap a refresh token for a new pair. Presenting a spent token revokes its whole family."""
    tokens: Tokens | None = None
    with unit_of_work(session):
        row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))).first()
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
            raise Unauthenticated(BAD_REFRESH)
        patient = session.get(Patient, row.patient_id)
        if row.used_at is not None:
            # Reuse means the token leaked: end the family, and commit that even though the request fails.
            _revoke_family(session, row.family_id)
            if patient is not None:
                audit.record(
                    session,
                    actor=Actor.client(patient),
                    action="client.refresh_reuse",
                    entity=patient,
                    detail={"family_id": row.family_id},
                )
            log.warning("refresh token reuse; family %s revoked", row.family_id)
        elif patient is not None and patient.status in SIGN_IN_STATUSES:
            # Only one concurrent refresh of the same token may win.
            claimed = session.execute(
                update(RefreshToken)
                .where(col(RefreshToken.id) == row.id, col(RefreshToken.used_at).is_(None))
                .values(used_at=utcnow())
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                tokens = issue_tokens(session, patient=patient, family_id=row.family_id)
    if tokens is None:
        raise Unauthenticated(BAD_REFRESH)
    return tokens


def logout(session: Session, *, refresh_token: str) -> None:
    with unit_of_work(session):
        row = session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_digest(refresh_token))).first()
        if row is None:
            return
        _revoke_family(session, row.family_id)
        patient = session.get(Patient, row.patient_id)
        if patient is not None:
            audit.record(session, actor=Actor.client(patient), action="client.logout", entity=patient)


def revoke_all(session: Session, *, patient_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.patient_id) == patient_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def _revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )


def authenticate(session: Session, *, access_token: str) -> Patient:
    """The patient behind a bearer token, if the token is valid, its sign-in not ended, and the account
    may use the API.

    An access token belongs to a refresh-token family; logout, refresh-token reuse and erasure revoke
    the family, which ends its access tokens at once (checked in the same statement that loads the patient).
    """
    return patient_behind(session, claims=verify_access_token(access_token))


def patient_behind(session: Session, *, claims: AccessClaims) -> Patient:
    """The patient of verified access-token claims, if their sign-in is not ended and the account may
    use the API (one statement). ``authenticate`` verifies the token first."""
    # Revoking a family marks every row of it, so a family is live while any row is unmarked; the
    # patient and that check come back in one statement (it runs on every API request).
    live_family = (
        select(RefreshToken.id)
        .where(
            RefreshToken.family_id == claims.family_id,
            RefreshToken.patient_id == Patient.id,
            col(RefreshToken.revoked_at).is_(None),
        )
        .exists()
    )
    patient = session.exec(select(Patient).where(Patient.id == claims.patient_id, live_family)).first()
    if patient is not None and patient.status == PatientStatus.DISCHARGED and patient.erased_at is None:
        # Still 401 (the token no longer opens anything), with the reason a client app can show.
        raise Unauthenticated(care_ended(patient))
    if patient is None or patient.status not in SIGN_IN_STATUSES or patient.erased_at is not None:
        raise Unauthenticated("invalid or expired access token")
    return patient
