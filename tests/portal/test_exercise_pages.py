"""Exercises in the portal: assigning, pausing, resuming and ending an exercise from the patient's
page, reading a guided session (answers, before/after, transcript), and adherence on the caseload."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service.exercises import assignments
from service.models import Assignment, AuditEvent, Patient
from service.models.base import utcnow
from tests.exercises.conftest import BALANCED, THOUGHT_RECORD
from tests.factories import ClinicSetup, active_patient, bearer, create_clinic
from tests.portal.conftest import Portal, actions, reload


@pytest.fixture
def zoe(session: Session, clinic: ClinicSetup) -> tuple[Patient, dict[str, object]]:
    return active_patient(session, clinic, name="Zoé Zimmer", email="zoe@example.org")


def _panel(html: str) -> str:
    found = re.search(r'<section class="card panel" id="exercises">(.*?)</section>', html, re.S)
    assert found, "no exercises section"
    return found.group(1)


def _assign(portal: Portal, patient: Patient, **fields: str) -> object:
    page = f"/portal/patients/{patient.id}"
    return portal.submit(page, f"{page}/assignments", {"every_days": "1", "instructions": "", **fields})


def _complete_thought_record(client: TestClient, tokens: dict[str, object], assignment_id: str) -> str:
    opened = client.post(f"/api/v1/assignments/{assignment_id}/sessions", headers=bearer(tokens))
    assert opened.status_code == 201, opened.text
    session_id = opened.json()["session_id"]
    for answer in THOUGHT_RECORD["en"]:
        said = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": answer}, headers=bearer(tokens))
        assert said.status_code == 200, said.text
    assert said.json()["done"] is True
    return str(session_id)


def test_a_clinician_assigns_an_exercise_with_a_frequency_and_personal_instructions(
    portal: Portal, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]], session: Session
) -> None:
    patient, _ = zoe
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    form = _panel(portal.get(f"/portal/patients/{patient.id}").text)
    assert "No exercise assigned yet." in form and 'value="thought_record"' in form and "Thought record" in form
    answer = _assign(
        portal, patient, exercise_code="thought_record", every_days="2", instructions="Try Monday's meeting."
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == f"/portal/patients/{patient.id}?saved=assigned#exercises"  # type: ignore[attr-defined]
    page = portal.get(f"/portal/patients/{patient.id}?saved=assigned").text
    assert "The exercise is assigned; the patient sees it in their app." in page
    panel = _panel(page)
    assert "Every 2 days" in panel and "Try Monday&#39;s meeting." in panel and "Due now" in panel
    row = session.exec(select(Assignment).where(Assignment.patient_id == patient.id)).one()
    assert (row.exercise_code, row.every_days, row.assigned_by) == ("thought_record", 2, clinic.clinician.id)
    assert "assignment.create" in actions(session, actor_id=clinic.clinician.id)


def test_a_refused_assignment_says_why_and_keeps_what_was_typed(
    portal: Portal, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]]
) -> None:
    patient, _ = zoe
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    unchosen = _assign(portal, patient, exercise_code="", instructions="Keep this text")
    assert unchosen.status_code == 422 and "Choose an exercise." in unchosen.text  # type: ignore[attr-defined]
    assert "Keep this text</textarea>" in unchosen.text  # type: ignore[attr-defined]
    too_rare = _assign(portal, patient, exercise_code="breathing", every_days="365")
    assert too_rare.status_code == 422 and "Choose how often: every 1 to 90 days." in too_rare.text  # type: ignore[attr-defined]
    assert _assign(portal, patient, exercise_code="breathing").status_code == 303  # type: ignore[attr-defined]
    twice = _assign(portal, patient, exercise_code="breathing")
    assert twice.status_code == 409  # type: ignore[attr-defined]
    assert "This exercise is already assigned to this patient" in twice.text  # type: ignore[attr-defined]


def test_pausing_resuming_and_ending_an_assignment(
    portal: Portal, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]], session: Session
) -> None:
    patient, _ = zoe
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    _assign(portal, patient, exercise_code="grounding")
    row = session.exec(select(Assignment).where(Assignment.patient_id == patient.id)).one()
    page = f"/portal/patients/{patient.id}"
    for change, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
        answer = portal.submit(page, f"/portal/assignments/{row.id}/{change}")
        assert answer.status_code == 303 and answer.headers["location"].endswith(
            f"?saved={change.rstrip('e')}ed#exercises"
        )
        assert reload(session, row).status == status
    panel = _panel(portal.get(page).text)
    assert "Ended" in panel and ">Pause<" not in panel and ">End<" not in panel
    again = portal.submit(page, f"/portal/assignments/{row.id}/end")
    assert again.status_code == 409 and "This assignment has already ended." in again.text
    mine = actions(session, actor_id=clinic.clinician.id)
    assert {"assignment.pause", "assignment.resume", "assignment.end"} <= set(mine)


def test_exercise_forms_need_the_csrf_token_and_another_caseload_is_out_of_reach(
    portal: Portal, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]], session: Session
) -> None:
    patient, _ = zoe
    row = assignments.create_assignment(
        session, staff=clinic.clinician, patient_id=patient.id, exercise_code="breathing"
    )
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    for path in (f"/portal/patients/{patient.id}/assignments", f"/portal/assignments/{row.id}/pause"):
        refused = portal.client.post(path, data={"exercise_code": "grounding"}, follow_redirects=False)
        assert refused.status_code == 403 and "This form has expired" in refused.text
    assert reload(session, row).status == "active"

    elsewhere = create_clinic(session, name="Other Clinic")
    portal.client.cookies.clear()
    portal.login_ok(elsewhere.admin.email, elsewhere.admin_password)
    assert portal.submit("/portal/", f"/portal/assignments/{row.id}/end").status_code == 404
    assert (
        portal.submit(
            "/portal/", f"/portal/patients/{patient.id}/assignments", {"exercise_code": "grounding"}
        ).status_code
        == 404
    )
    assert reload(session, row).status == "active"


def test_a_completed_thought_record_shows_its_answers_before_and_after_and_the_transcript(
    portal: Portal, client: TestClient, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]], session: Session
) -> None:
    patient, tokens = zoe
    row = assignments.create_assignment(
        session, staff=clinic.clinician, patient_id=patient.id, exercise_code="thought_record"
    )
    session_id = _complete_thought_record(client, tokens, row.id)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    panel = _panel(portal.get(f"/portal/patients/{patient.id}").text)
    assert f'href="/portal/sessions/{session_id}"' in panel and "Completed" in panel
    assert "1 session completed" in panel and "Adherence, last 4 weeks" in panel and "1/1" in panel

    page = portal.get(f"/portal/sessions/{session_id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    balanced = re.search(r'data-field="balanced_thought">([^<]*)<', text)
    assert balanced is not None and balanced.group(1) == BALANCED["en"].replace("'", "&#39;")
    assert "Before and after" in text and "Emotions" in text
    assert "anxious (80) and ashamed (60)" in text and "anxious (40) and ashamed (20)" in text
    # Questions read as the client read them, with their earlier answers filled in.
    assert "Earlier you noted: anxious (80) and ashamed (60)." in text and "{emotions_before}" not in text
    assert text.count('class="line line-client"') == len(THOUGHT_RECORD["en"])
    assert "Everyone thinks I&#39;m incompetent." in text and "Coach" in text
    viewed = session.exec(select(AuditEvent).where(AuditEvent.action == "exercise_session.view")).one()
    assert viewed.actor_id == clinic.clinician.id and viewed.entity_id == session_id

    elsewhere = create_clinic(session, name="Other Clinic")
    portal.client.cookies.clear()
    portal.login_ok(elsewhere.admin.email, elsewhere.admin_password)
    assert portal.get(f"/portal/sessions/{session_id}").status_code == 404


def test_the_caseload_shows_sorts_and_filters_by_exercise_adherence(
    portal: Portal, clinic: ClinicSetup, client: TestClient, session: Session
) -> None:
    done, done_tokens = active_patient(session, clinic, name="Amélie Adam", email="amelie@example.org")
    behind, _ = active_patient(session, clinic, name="Bruno Brun", email="bruno@example.org")
    active_patient(session, clinic, name="Chloé Carré", email="chloe@example.org")  # nothing assigned
    week_ago = utcnow() - timedelta(days=6)
    for patient in (done, behind):
        for attr in ("activated_at", "created_at"):
            setattr(patient, attr, week_ago - timedelta(days=1))
        session.add(patient)
    session.commit()
    assignments.create_assignment(
        session, staff=clinic.clinician, patient_id=behind.id, exercise_code="breathing", now=week_ago
    )
    mine = assignments.create_assignment(
        session, staff=clinic.clinician, patient_id=done.id, exercise_code="thought_record", every_days=7
    )
    _complete_thought_record(client, done_tokens, mine.id)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)

    page = portal.get("/portal/?sort=adherence").text
    names = re.findall(r'<th scope="row"><a href="/portal/patients/[^"]+">([^<]+)</a>', page)
    assert names == ["Bruno Brun", "Amélie Adam", "Chloé Carré"]  # least done first, nothing due last
    assert "100%" in page and "0%" in page and "Exercises, last 4 weeks" in page
    low = portal.get("/portal/?exercises=low").text
    assert "Bruno Brun" in low and "Amélie Adam" not in low
    unassigned = portal.get("/portal/?exercises=unassigned").text
    assert "Chloé Carré" in unassigned and "Bruno Brun" not in unassigned


def test_the_exercise_pages_speak_french(session: Session, portal: Portal, client: TestClient) -> None:
    lyon = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    patient, tokens = active_patient(session, lyon, name="Léa Bernard", email="lea@example.org", locale="fr")
    row = assignments.create_assignment(
        session, staff=lyon.clinician, patient_id=patient.id, exercise_code="thought_record", every_days=3
    )
    opened = client.post(f"/api/v1/assignments/{row.id}/sessions", headers=bearer(tokens))
    session_id = opened.json()["session_id"]
    portal.login_ok(lyon.clinician.email, lyon.clinician_password)
    panel = _panel(portal.get(f"/portal/patients/{patient.id}").text)
    assert "Exercices attribués" in panel and "Tous les 3 jours" in panel and "Attribuer un exercice" in panel
    assert "Séances guidées" in panel and "En cours" in panel
    page = portal.get(f"/portal/sessions/{session_id}").text
    assert "Transcription" in page and "étape 0 sur" in page


@pytest.mark.parametrize(
    ("locale", "question", "shown"),
    [
        (
            "en",
            "Should I double my sertraline dose? The doctor is away.",
            ("Questions the coach left for you", "Medication question"),
        ),
        (
            "fr",
            "Je peux arrêter mon traitement ?",
            ("Questions que le coach vous a laissées", "Question sur un médicament"),
        ),
    ],
)
def test_a_medication_question_the_coach_did_not_answer_is_shown_on_the_patients_page(
    session: Session, portal: Portal, client: TestClient, locale: str, question: str, shown: tuple[str, str]
) -> None:
    clinic = create_clinic(session, name="Clinic", locale=locale, country="FR" if locale == "fr" else "GB")
    patient, tokens = active_patient(session, clinic, name="Sam Roy", email="sam@example.org", locale=locale)
    row = assignments.create_assignment(
        session, staff=clinic.clinician, patient_id=patient.id, exercise_code="thought_record"
    )
    session_id = client.post(f"/api/v1/assignments/{row.id}/sessions", headers=bearer(tokens)).json()["session_id"]
    for text in (question, "At the bus stop, my friend ignored me."):
        said = client.post(f"/api/v1/sessions/{session_id}/messages", json={"text": text}, headers=bearer(tokens))
        assert said.status_code == 200 and said.json()["crisis"] is None
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    panel = _panel(portal.get(f"/portal/patients/{patient.id}").text)
    notes = panel[panel.index(shown[0]) :]
    notes = notes[: notes.index("</table>")]
    assert shown[1] in notes and question.replace("'", "&#39;") in notes
    assert f'href="/portal/sessions/{session_id}"' in notes
    assert "bus stop" not in notes  # an answer to the exercise is not a question for the clinician
    viewed = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.view")).all()[-1]
    assert viewed.detail["coach_notes"] == 1


def test_no_coach_question_section_when_the_coach_noted_nothing(
    portal: Portal, clinic: ClinicSetup, zoe: tuple[Patient, dict[str, object]]
) -> None:
    patient, _ = zoe
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert "Questions the coach left for you" not in portal.get(f"/portal/patients/{patient.id}").text
