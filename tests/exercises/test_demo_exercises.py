"""`tandem demo` gives each active patient assigned exercises and a few weeks of guided sessions."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from service.config import get_settings
from service.db import new_session, reset_engine
from service.demo.seed import seed_demo
from service.exercises import assignments
from service.exercises import review as exercise_review
from service.models import AlertSignal, Assignment, ExerciseMessage, ExerciseSession, Patient, PatientStatus, Staff


@pytest.fixture
def demo_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    monkeypatch.setenv("TANDEM_ENV", "test")
    monkeypatch.setenv("TANDEM_DATABASE_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    get_settings.cache_clear()
    reset_engine()
    seed_demo(base_url="http://127.0.0.1:8000")
    with new_session() as session:
        yield session
    reset_engine()
    get_settings.cache_clear()


@pytest.mark.slow
def test_every_active_demo_patient_has_assignments_and_completed_sessions_in_their_language(
    demo_session: Session,
) -> None:
    active = demo_session.exec(select(Patient).where(Patient.status == PatientStatus.ACTIVE)).all()
    assert len(active) == 10
    for patient in active:
        rows = demo_session.exec(select(Assignment).where(Assignment.patient_id == patient.id)).all()
        assert 1 <= len(rows) <= 3
        report = assignments.adherence(demo_session, patient)
        assert report.completed >= 2 and 0 < (report.rate or 0) <= 1
        clinician = demo_session.get(Staff, patient.clinician_id)
        assert clinician is not None
        done = demo_session.exec(
            select(ExerciseSession).where(
                ExerciseSession.patient_id == patient.id, ExerciseSession.status == "completed"
            )
        ).first()
        assert done is not None
        detail = exercise_review.session_detail(demo_session, staff=clinician, session_id=done.id)
        opening = detail.transcript[0].text
        expected = "guide automatisé" if patient.locale == "fr" else "automated guide"
        assert expected in opening
        assert len(detail.fields) == len(json.loads(done.answers_json)) >= 3
    # Some clinicians wrote personal notes, and one session is waiting to be resumed.
    notes = demo_session.exec(select(Assignment).where(col(Assignment.instructions).is_not(None))).all()
    assert notes
    assert demo_session.exec(select(ExerciseSession).where(ExerciseSession.status == "in_progress")).all()
    # Ordinary answers: none was screened above "none", so none raised an alert.
    assert demo_session.exec(select(AlertSignal).where(AlertSignal.source_type == "coach_message")).all() == []
    levels = demo_session.exec(select(ExerciseMessage.risk_level).where(ExerciseMessage.role == "client")).all()
    assert set(levels) == {"none"}
