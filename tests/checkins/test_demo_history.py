"""The demo patients' two months of history look like real care: the right language, the right shape."""

from __future__ import annotations

from sqlmodel import Session, select

from service.demo.history import HISTORY_DAYS, history, seed_history
from service.measures import schedules
from service.measures.service import progress
from service.models import CheckIn, ConsentRecord, MeasureResponse
from tests.checkins.fixtures import SignedIn


def _checkins(session: Session, me: SignedIn) -> list[CheckIn]:
    return list(session.exec(select(CheckIn).where(CheckIn.patient_id == me.patient.id)).all())


def test_an_improving_patient_gets_sixty_days_of_french_checkins_and_recovers(session: Session, sign_in) -> None:
    me = sign_in(locale="fr", country="FR", timezone="Europe/Paris")
    counts = seed_history(session, me.patient, "improving", seed=1)
    rows = _checkins(session, me)
    assert counts.checkins == len(rows) and 45 <= len(rows) <= 90
    days = {row.local_date for row in rows}
    assert (max(days) - min(days)).days >= HISTORY_DAYS - 3
    notes = [row.note for row in rows if row.note]
    french = {note for bucket in history()["notes"]["fr"].values() for note in bucket}
    assert len(notes) >= 10 and set(notes) <= french
    assert all(row.risk_engine_version for row in rows)
    result = progress(session, patient=me.patient)
    assert result.phq9.reliable_improvement and result.recovery.recovery
    consent = session.exec(select(ConsentRecord).where(ConsentRecord.patient_id == me.patient.id)).one()
    assert me.patient.activated_at is not None and consent.accepted_at == me.patient.activated_at
    assert all(row.recorded_at >= me.patient.activated_at for row in rows)


def test_a_deteriorating_patient_is_asked_the_cssrs(session: Session, sign_in) -> None:
    me = sign_in()
    counts = seed_history(session, me.patient, "deteriorating", seed=2)
    assert counts.responses == 10
    result = progress(session, patient=me.patient)
    assert result.phq9.reliable_deterioration and result.gad7.reliable_deterioration
    due = {d.instrument: d for d in schedules.due_list(session, me.patient)}
    assert due["cssrs"].due and due["cssrs"].requested_reason == "phq9_item9"
    latest = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == me.patient.id, MeasureResponse.instrument == "phq9")
        .order_by(MeasureResponse.completed_at.desc())  # type: ignore[attr-defined]
    ).first()
    assert latest is not None and latest.answers[8] == 1 and latest.risk_level != "none"


def test_the_concerning_patients_worrying_note_is_screened_as_a_risk(session: Session, sign_in) -> None:
    me = sign_in()
    seed_history(session, me.patient, "concerning", seed=3)
    flagged = [row for row in _checkins(session, me) if row.risk_level in ("moderate", "high")]
    assert len(flagged) == 1
    assert "better off without me" in (flagged[0].note or "")
