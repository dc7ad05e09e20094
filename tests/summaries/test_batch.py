"""`tandem summaries generate`: a clinic's batch on a process pool, run as the real command."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from service.models import AuditEvent, PatientSummary
from service.summaries.service import stored_pdf
from tests.factories import active_patient, create_clinic, invite_patient
from tests.summaries.history import seed_story
from tests.summaries.reading import pdf_text
from tests.support.cli import tandem
from tests.support.server import tandem_json


@pytest.mark.slow(seconds=15)  # the batch on a pool of processes: started first (tests/conftest.py)
def test_the_batch_summarises_every_active_patient_on_two_processes(session: Session, tmp_path: Path) -> None:
    setup = create_clinic(session, slug="batch-clinic", locale="fr", country="FR", timezone="Europe/Paris")
    patients = []
    for number in range(3):
        patient, _ = active_patient(session, setup, name=f"Patient {number}", email=f"p{number}@example.org")
        seed_story(session, patient, days=20, seed=number, with_alerts=False)
        patients.append(patient)
    invite_patient(session, setup, name="Not yet active")
    elsewhere = create_clinic(session, name="Other Clinic", slug="other-clinic")
    active_patient(session, elsewhere, name="Someone else", email="else@example.org")
    since = date.today() - timedelta(days=10)

    result = tandem_json(
        "summaries",
        "generate",
        "--clinic",
        setup.clinic.id,
        "--since",
        since.isoformat(),
        "--out",
        str(tmp_path),
        "--workers",
        "2",
    )

    assert result["made"] == 3 and result["failed"] == []
    assert {item["patient_id"] for item in result["summaries"]} == {p.id for p in patients}
    files = sorted(tmp_path.glob("*.pdf"))
    assert len(files) == 3 and all(f.read_bytes().startswith(b"%PDF-") for f in files)
    assert all("Patient" not in f.name for f in files)  # file names carry no names
    assert "Résumé avant la séance" in pdf_text(files[0].read_bytes())
    session.expire_all()
    stored = session.exec(select(PatientSummary)).all()
    assert len(stored) == 3 and {s.reason for s in stored} == {"batch"}
    assert {s.period_start for s in stored} == {since}
    by_path = {item["summary_id"]: Path(item["path"]) for item in result["summaries"]}
    for row in stored:
        assert stored_pdf(row) == by_path[row.id].read_bytes()
    audits = session.exec(select(AuditEvent).where(AuditEvent.action == "summary.generate")).all()
    assert len(audits) == 3 and {a.actor_id for a in audits} == {"cli"}


def test_an_unknown_clinic_is_an_error(session: Session) -> None:
    done = tandem("summaries", "generate", "--clinic", "no-such-clinic")  # in this process: tests/support/cli.py
    assert done.exit_code == 2 and "no clinic 'no-such-clinic'" in done.stderr
