"""Invitation codes: random, shown once, stored hashed, expiring, single use, revocable."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session, col, select

from service import audit
from service.config import get_settings
from service.crypto import token_digest
from service.errors import Conflict, Invalid, NotFound
from service.kit.context import Actor
from service.models import Invitation, Patient
from service.models.base import utcnow

# Crockford base32: no I, L, O or U, so a code read aloud or typed from paper survives.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_GROUPS, _GROUP_LEN = 3, 4  # 12 symbols = 60 bits
_TRANSLATE = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
INVALID_CODE = "this invitation code is not valid; ask your clinic for a new one"


def generate_code() -> str:
    symbols = "".join(secrets.choice(_ALPHABET) for _ in range(_GROUPS * _GROUP_LEN))
    return "-".join(symbols[i : i + _GROUP_LEN] for i in range(0, len(symbols), _GROUP_LEN))


def normalize_code(code: str) -> str:
    return code.strip().upper().translate(_TRANSLATE)


def issue(session: Session, *, patient: Patient, actor: Actor) -> tuple[Invitation, str]:
    """A new code for the patient; any earlier unused code stops working. Caller owns the transaction."""
    now = utcnow()
    for earlier in session.exec(
        select(Invitation).where(
            Invitation.patient_id == patient.id,
            col(Invitation.used_at).is_(None),
            col(Invitation.revoked_at).is_(None),
        )
    ):
        earlier.revoked_at = now
    code = generate_code()
    invitation = Invitation(
        patient_id=patient.id,
        code_hash=token_digest(normalize_code(code)),
        created_by=actor.id if actor.kind == "staff" else None,
        expires_at=now + timedelta(days=get_settings().invite_ttl_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(session, actor=actor, action="invitation.issue", entity=invitation)
    return invitation, code


def find_usable(session: Session, *, code: str) -> tuple[Invitation, Patient]:
    """The invitation behind ``code`` if it can still be used. Every failure reads the same."""
    if not code or len(code) > 64:
        raise Invalid(INVALID_CODE)
    invitation = session.exec(
        select(Invitation).where(Invitation.code_hash == token_digest(normalize_code(code)))
    ).first()
    if invitation is None or invitation.used_at or invitation.revoked_at or invitation.expires_at <= utcnow():
        raise Invalid(INVALID_CODE)
    patient = session.get(Patient, invitation.patient_id)
    if patient is None or patient.status == "discharged":
        raise Invalid(INVALID_CODE)
    return invitation, patient


def revoke(session: Session, *, invitation_id: str, actor: Actor) -> Invitation:
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound("no such invitation")
    if invitation.used_at:
        raise Conflict("this invitation was already used")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
        audit.record(session, actor=actor, action="invitation.revoke", entity=invitation)
    return invitation
