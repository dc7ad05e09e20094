"""The same enrolment form submitted again, as the service answers it (no web layer): the same patient,
a fresh working code while the first answer may have gone unseen, and the code already shown after."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service import caseload
from service.caseload.service import DOUBLE_SUBMIT_WINDOW, AlreadyEnrolled
from service.errors import Invalid
from service.models import Patient, Staff
from service.onboarding import invitations
from tests.factories import create_clinic

KEY = "form-key-0b6f3c1e5d2a4f7b"


def _enrol(session: Session, staff: Staff) -> caseload.IssuedInvitation:
    return caseload.enrol_patient(session, staff=staff, display_name="Noor Haddad", enrolment_key=KEY)


def test_a_second_submission_at_once_gets_a_new_working_code_and_the_first_stops(session: Session) -> None:
    setup = create_clinic(session)
    first = _enrol(session, setup.clinician)

    with pytest.raises(AlreadyEnrolled) as again:
        _enrol(session, setup.clinician)

    assert again.value.patient.id == first.patient.id
    reissued = again.value.reissued
    assert reissued is not None and reissued.invite_code != first.invite_code
    _, patient = invitations.find_usable(session, code=reissued.invite_code)
    assert patient.id == first.patient.id
    with pytest.raises(Invalid):
        invitations.find_usable(session, code=first.invite_code)
    assert len(session.exec(select(Patient)).all()) == 1


def test_a_submission_after_the_window_keeps_the_code_already_shown(session: Session) -> None:
    setup = create_clinic(session)
    first = _enrol(session, setup.clinician)
    patient = session.get(Patient, first.patient.id)
    assert patient is not None
    patient.created_at = patient.created_at - DOUBLE_SUBMIT_WINDOW - timedelta(seconds=1)
    session.add(patient)
    session.commit()

    with pytest.raises(AlreadyEnrolled) as again:
        _enrol(session, setup.clinician)

    assert again.value.patient.id == first.patient.id and again.value.reissued is None
    assert invitations.find_usable(session, code=first.invite_code)[1].id == first.patient.id


def test_a_second_submission_whose_twin_commits_between_its_checks_is_not_called_a_duplicate(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The twin commits after this submission looked its key up and before it looked for people with
    the same name and birthday: it then finds the twin's patient, who is the same form, not another person."""
    from datetime import date

    from service.db import new_session
    from service.onboarding import contacts
    from service.onboarding.contacts import ContactDetails

    setup = create_clinic(session)
    details = ContactDetails(date_of_birth=date(1990, 4, 2))
    look_for_duplicates = contacts.possible_duplicates
    twin: list[caseload.IssuedInvitation] = []
    started: list[bool] = []

    def twin_commits_first(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not started:  # the twin's own look for duplicates finds nobody and goes on
            started.append(True)
            with new_session() as other:
                staff = other.get(Staff, setup.clinician.id)
                assert staff is not None
                twin.append(
                    caseload.enrol_patient(
                        other, staff=staff, display_name="Noor Haddad", contact=details, enrolment_key=KEY
                    )
                )
        return look_for_duplicates(*args, **kwargs)

    monkeypatch.setattr(contacts, "possible_duplicates", twin_commits_first)
    with pytest.raises(AlreadyEnrolled) as again:
        caseload.enrol_patient(
            session, staff=setup.clinician, display_name="Noor Haddad", contact=details, enrolment_key=KEY
        )
    assert again.value.patient.id == twin[0].patient.id
    assert len(session.exec(select(Patient)).all()) == 1
