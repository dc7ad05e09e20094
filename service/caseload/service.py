"""What staff do with their patients: the caseload list, enrolment, invitations, the next
appointment and reassignment (reading one patient's record: ``record.py``). Every function checks
what the staff member may see through ``patients.visible_to``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import audit
from service.alerts import lifecycle
from service.db import unit_of_work
from service.errors import Conflict, Forbidden, Invalid, NotFound
from service.kit.context import Actor
from service.kit.text import fold
from service.models import Invitation, Patient, PatientStatus, Role, Staff
from service.models.base import utcnow
from service.onboarding import contacts, invitations
from service.onboarding.contacts import ContactDetails, PossibleDuplicate
from service.onboarding.patients import enrolled_with_key, get_for_staff, onboard_patient, visible_to


class InvitationState(StrEnum):
    NONE = "none"
    PENDING = "pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class InvitationStatus:
    state: InvitationState
    invitation: Invitation | None = None

    @property
    def expires_at(self) -> datetime | None:
        return self.invitation.expires_at if self.invitation else None

    @property
    def can_resend(self) -> bool:
        return self.state is not InvitationState.ACCEPTED

    @property
    def can_revoke(self) -> bool:
        return self.state is InvitationState.PENDING


@dataclass(frozen=True)
class CaseloadEntry:
    patient: Patient
    clinician: Staff
    invitation: InvitationStatus


SORTS = ("name", "status", "appointment", "created")


def caseload(
    session: Session,
    *,
    staff: Staff,
    name: str | None = None,
    status: PatientStatus | str | None = None,
    sort: str = "name",
) -> list[CaseloadEntry]:
    """The patients this staff member may see, filtered by name (accent- and case-blind) and status.

    Names are encrypted at rest, so the name filter and sort run here rather than in SQL; a
    caseload is at most a clinic's patients.
    """
    if not staff.active:
        raise Forbidden("this account is deactivated")
    if sort not in SORTS:
        raise Invalid(f"sort must be one of {', '.join(SORTS)}")
    query = visible_to(staff)
    if status:
        query = query.where(Patient.status == PatientStatus(status))
    found = list(session.exec(query).all())
    if name and name.strip():
        needle = fold(name)
        found = [p for p in found if needle in fold(p.display_name)]
    found.sort(key=_SORT_KEYS[sort])
    clinicians = _staff_by_id(session, {p.clinician_id for p in found})
    states = invitation_states(session, patient_ids=[p.id for p in found])
    return [CaseloadEntry(p, clinicians[p.clinician_id], states[p.id]) for p in found]


_STATUS_ORDER = {s: i for i, s in enumerate(PatientStatus)}
_FAR_FUTURE = datetime.max.replace(tzinfo=utcnow().tzinfo)
_SORT_KEYS = {
    "name": lambda p: fold(p.display_name),
    "status": lambda p: (_STATUS_ORDER.get(PatientStatus(p.status), 99), fold(p.display_name)),
    "appointment": lambda p: (p.next_appointment_at or _FAR_FUTURE, fold(p.display_name)),
    "created": lambda p: p.created_at,
}


def _staff_by_id(session: Session, ids: Iterable[str]) -> dict[str, Staff]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(wanted))).all()}


def invitation_states(session: Session, *, patient_ids: Sequence[str]) -> dict[str, InvitationStatus]:
    """The state of each patient's most recent invitation."""
    latest: dict[str, Invitation] = {}
    if patient_ids:
        rows = session.exec(
            select(Invitation)
            .where(col(Invitation.patient_id).in_(list(patient_ids)))
            .order_by(col(Invitation.created_at))
        ).all()
        for row in rows:
            latest[row.patient_id] = row  # ordered oldest first, so the last one wins
    now = utcnow()
    return {pid: _state(latest.get(pid), now) for pid in patient_ids}


def _state(invitation: Invitation | None, now: datetime) -> InvitationStatus:
    if invitation is None:
        return InvitationStatus(InvitationState.NONE)
    if invitation.used_at is not None:
        return InvitationStatus(InvitationState.ACCEPTED, invitation)
    if invitation.revoked_at is not None:
        return InvitationStatus(InvitationState.REVOKED, invitation)
    if invitation.expires_at <= now:
        return InvitationStatus(InvitationState.EXPIRED, invitation)
    return InvitationStatus(InvitationState.PENDING, invitation)


@dataclass(frozen=True)
class IssuedInvitation:
    patient: Patient
    invitation: Invitation
    invite_code: str  # shown once
    clinician_name: str  # for the letter


class PossibleDuplicates(Conflict):
    """The patient may already be enrolled: the form asks to confirm before a second record is made."""

    def __init__(self, matches: list[PossibleDuplicate]) -> None:
        super().__init__("a patient with the same details may already be enrolled")
        self.matches = matches


class AlreadyEnrolled(Conflict):
    """This very form was already submitted (a double click, a resent request): no second patient.

    ``reissued`` is a new invitation code when the first answer may never have been seen (see
    ``DOUBLE_SUBMIT_WINDOW``); None when the code already issued stands."""

    def __init__(self, patient: Patient, reissued: IssuedInvitation | None = None) -> None:
        super().__init__("this patient was just enrolled")
        self.patient = patient
        self.reissued = reissued


# A double click sends the form twice and the browser follows the second answer, dropping the first
# one's (the code) when that answer was still on its way. Within this window after the patient was
# added, the same form again gets a new code (the unseen one stops working); later, the code already
# shown (perhaps already printed) is kept and never replaced by a resubmitted form.
DOUBLE_SUBMIT_WINDOW = timedelta(seconds=30)


def enrol_patient(
    session: Session,
    *,
    staff: Staff,
    display_name: str,
    locale: str | None = None,
    timezone: str | None = None,
    country: str | None = None,
    clinician_id: str | None = None,
    contact: ContactDetails | None = None,
    enrolment_key: str | None = None,
    confirmed_not_duplicate: bool = False,
) -> IssuedInvitation:
    """Enrol a patient with an invitation. Clinicians enrol into their own caseload; admins choose.

    ``enrolment_key`` is the form's one-time key: a second submission of the same form raises
    ``AlreadyEnrolled`` with the patient the first one made (the database's unique index decides
    when both arrive at once), and with a new code within ``DOUBLE_SUBMIT_WINDOW``. Same name and
    date of birth, or the same contact phone or email, as a patient of the clinic raises
    ``PossibleDuplicates`` unless confirmed.
    """
    if not staff.active:
        raise Forbidden("this account is deactivated")
    earlier = _enrolled_by_this_form(session, staff, enrolment_key)
    if earlier is not None:
        raise _enrolled_again(session, staff, earlier)
    if contact is not None and not confirmed_not_duplicate:
        matches = contacts.possible_duplicates(session, staff=staff, display_name=display_name, details=contact)
        if matches:
            # The other submission of this very form may have committed since its key was looked up:
            # the "duplicate" is then the patient it enrolled, not another person.
            earlier = _enrolled_by_this_form(session, staff, enrolment_key)
            if earlier is not None:
                raise _enrolled_again(session, staff, earlier)
            raise PossibleDuplicates(matches)
    if staff.role == Role.ADMIN:
        if not clinician_id:
            raise Invalid("choose the patient's clinician")
        clinician = assignable_clinician(session, staff=staff, clinician_id=clinician_id)
    else:
        if clinician_id and clinician_id != staff.id:
            raise Forbidden("clinicians enrol patients into their own caseload")
        clinician = staff
    try:
        made = onboard_patient(
            session,
            clinic_id=staff.clinic_id,
            clinician=clinician,
            display_name=display_name,
            actor=Actor.staff(staff),
            locale=locale or None,
            timezone=timezone or None,
            country=country or None,
            contact=contact,
            enrolment_key=enrolment_key or None,
        )
    except IntegrityError:
        # The same form, submitted twice at once: the other submission enrolled the patient.
        earlier = _enrolled_by_this_form(session, staff, enrolment_key)
        if earlier is None:
            raise
        raise _enrolled_again(session, staff, earlier) from None
    return IssuedInvitation(made.patient, made.invitation, made.invite_code, clinician.name)


def _enrolled_by_this_form(session: Session, staff: Staff, enrolment_key: str | None) -> Patient | None:
    if not enrolment_key:
        return None
    return enrolled_with_key(session, clinic_id=staff.clinic_id, enrolment_key=enrolment_key)


def _enrolled_again(session: Session, staff: Staff, patient: Patient) -> AlreadyEnrolled:
    """The answer to a second submission of the same form: within the window, while the patient has
    not activated, a new code; otherwise (or if the other submission is still writing) the one issued."""
    created = patient.created_at if patient.created_at.tzinfo else patient.created_at.replace(tzinfo=UTC)
    if patient.status != PatientStatus.INVITED or utcnow() - created > DOUBLE_SUBMIT_WINDOW:
        return AlreadyEnrolled(patient)
    session.rollback()  # two submissions at once: the losing insert's transaction is over
    try:
        reissued = resend_invitation(session, staff=staff, patient_id=patient.id)
    except (Conflict, IntegrityError):  # activated, or the other submission still writing: keep its code
        session.rollback()
        return AlreadyEnrolled(patient)
    return AlreadyEnrolled(patient, reissued)


def assignable_clinicians(session: Session, *, staff: Staff) -> list[Staff]:
    """The active staff of the clinic a patient may be assigned to, by name."""
    rows = session.exec(select(Staff).where(Staff.clinic_id == staff.clinic_id, col(Staff.active).is_(True))).all()
    return sorted(rows, key=lambda s: fold(s.name))


def assignable_clinician(session: Session, *, staff: Staff, clinician_id: str) -> Staff:
    clinician = session.get(Staff, clinician_id)
    if clinician is None or clinician.clinic_id != staff.clinic_id:
        raise NotFound("no such clinician in this clinic")
    if not clinician.active:
        raise Invalid("this clinician's account is deactivated")
    return clinician


def resend_invitation(session: Session, *, staff: Staff, patient_id: str) -> IssuedInvitation:
    """A new invitation code for a patient who has not activated yet; the earlier code stops working."""
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        if patient.status != PatientStatus.INVITED:
            raise Conflict("this patient has already activated their account")
        actor = Actor.staff(staff)
        for pending in _pending_invitations(session, patient.id):
            invitations.revoke(session, invitation_id=pending.id, actor=actor)
        invitation, code = invitations.issue(session, patient=patient, actor=actor)
        clinician = session.get(Staff, patient.clinician_id)
        assert clinician is not None  # foreign key
    return IssuedInvitation(patient, invitation, code, clinician.name)


def patient_for_staff(session: Session, *, staff: Staff, patient_id: str) -> Patient:
    """One patient this staff member may see (NotFound otherwise)."""
    return get_for_staff(session, staff=staff, patient_id=patient_id)


def invitation_to_show(
    session: Session, *, staff: Staff, patient_id: str, invitation_id: str, code: str
) -> IssuedInvitation | None:
    """The invitation just issued (its code carried over the redirect by the browser), if it is still
    the patient's pending one: after use, revocation or a newer code there is nothing to show."""
    patient = get_for_staff(session, staff=staff, patient_id=patient_id)
    invitation = session.get(Invitation, invitation_id)
    if invitation is None or invitation.patient_id != patient.id:
        return None
    if invitation.used_at is not None or invitation.revoked_at is not None or invitation.expires_at <= utcnow():
        return None
    clinician = session.get(Staff, patient.clinician_id)
    assert clinician is not None  # foreign key
    return IssuedInvitation(patient, invitation, code, clinician.name)


def revoke_invitation(session: Session, *, staff: Staff, patient_id: str) -> Patient:
    """Stop the patient's pending invitation code from working."""
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        pending = _pending_invitations(session, patient.id)
        if not pending:
            raise Conflict("this patient has no pending invitation")
        for invitation in pending:
            invitations.revoke(session, invitation_id=invitation.id, actor=Actor.staff(staff))
    return patient


def _pending_invitations(session: Session, patient_id: str) -> list[Invitation]:
    return list(
        session.exec(
            select(Invitation).where(
                Invitation.patient_id == patient_id,
                col(Invitation.used_at).is_(None),
                col(Invitation.revoked_at).is_(None),
                col(Invitation.expires_at) > utcnow(),
            )
        ).all()
    )


def set_next_appointment(session: Session, *, staff: Staff, patient_id: str, when: datetime | None) -> Patient:
    """Record (or clear, with None) the patient's next appointment."""
    if when is not None:
        if when.tzinfo is None:
            raise Invalid("the appointment time needs a time zone")
        if when <= utcnow():
            raise Invalid("the next appointment must be in the future")
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        patient.next_appointment_at = when
        session.add(patient)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="patient.update",
            entity=patient,
            detail={"fields": ["next_appointment_at"]},
        )
    return patient


def change_clinician(session: Session, *, staff: Staff, patient_id: str, clinician_id: str) -> Patient:
    """Move a patient to another clinician of the clinic (administrators only)."""
    if staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can change a patient's clinician")
    with unit_of_work(session):
        patient = get_for_staff(session, staff=staff, patient_id=patient_id)
        clinician = assignable_clinician(session, staff=staff, clinician_id=clinician_id)
        if clinician.id != patient.clinician_id:
            previous = patient.clinician_id
            patient.clinician_id = clinician.id
            session.add(patient)
            audit.record(
                session,
                actor=Actor.staff(staff),
                action="patient.reassign",
                entity=patient,
                detail={"from": previous, "to": clinician.id},
            )
            # An unresolved alert must never stay with someone who no longer looks after the patient.
            lifecycle.reassign_open(session, patient=patient, clinician=clinician, actor=Actor.staff(staff))
    return patient
