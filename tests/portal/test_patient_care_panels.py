"""A patient's page: charts with their text alternatives, the check-in notes, questionnaire answers
item by item, progress over the episode, alert history and the PDF link; audited, in French too."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from service.db import get_engine
from service.models import AuditEvent, Patient
from tests.factories import ClinicSetup, active_patient, create_clinic, invite_patient
from tests.portal.clinical import add_checkin, add_response, raise_alert
from tests.portal.conftest import Portal, actions

PHQ9_START = [3, 3, 2, 2, 2, 2, 2, 2, 0]  # 18
PHQ9_NOW = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # 6
GAD7_START = [2, 2, 2, 2, 1, 1, 1]  # 11
GAD7_NOW = [1, 1, 0, 0, 0, 0, 0]  # 2
CSSRS_PASSIVE = [1, 0, 0, 0, 0, 0, 0]  # wish to be dead, nothing else asked after item 2's "no"


@pytest.fixture
def zoe(session: Session, clinic: ClinicSetup) -> Patient:
    patient, _ = active_patient(session, clinic, name="Zoé Zimmer", email="zoe@example.org")
    add_checkin(session, patient, days=3, mood=4, anxiety=7, sleep_hours=5.5, note="Hard day at work", tags=["work"])
    add_checkin(session, patient, days=2, mood=5, anxiety=6, sleep_hours=6)
    add_checkin(session, patient, days=1, mood=7, anxiety=3, sleep_hours=8, note="Walked by the river with Sam")
    add_response(session, patient, "phq9", PHQ9_START, days=21)
    add_response(session, patient, "gad7", GAD7_START, days=21)
    add_response(session, patient, "phq9", PHQ9_NOW, days=1)
    add_response(session, patient, "gad7", GAD7_NOW, days=1)
    add_response(session, patient, "cssrs", CSSRS_PASSIVE, days=1)
    return patient


def _section(html: str, key: str) -> str:
    found = re.search(rf'<section class="card panel" id="{key}">(.*?)</section>', html, re.S)
    assert found, f"no {key} section"
    return found.group(1)


def test_the_charts_are_drawn_on_the_server_with_a_title_a_description_and_a_data_table(
    portal: Portal, clinic: ClinicSetup, zoe: Patient
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{zoe.id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    checkins = _section(page.text, "checkins")
    assert checkins.count('<svg class="chart"') == 3 and "<script" not in page.text.split("</head>")[1]
    for metric, title in (("mood", "Mood"), ("anxiety", "Anxiety"), ("sleep_hours", "Sleep (hours)")):
        svg = re.search(
            rf'<svg class="chart"[^>]*aria-labelledby="chart-{metric}-svg-title chart-{metric}-svg-desc"', checkins
        )
        assert svg, metric
        assert f'<title id="chart-{metric}-svg-title">{title}</title>' in checkins
        assert f"Data table: {title}" in checkins
    assert checkins.count('<circle class="dot"') == 3 * 3  # three days, three charts
    questionnaires = _section(page.text, "questionnaires")
    assert questionnaires.count('<svg class="chart"') == 2
    assert 'class="band band-moderately_severe"' in questionnaires and ">Moderately severe</text>" in questionnaires
    assert "Data table: PHQ-9 total over time" in questionnaires


def test_the_check_in_notes_are_shown_decrypted_and_the_read_is_audited(
    portal: Portal, clinic: ClinicSetup, zoe: Patient, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    checkins = _section(portal.get(f"/portal/patients/{zoe.id}").text, "checkins")
    assert "Hard day at work" in checkins and "Walked by the river with Sam" in checkins
    assert '<span class="chip">Work</span>' in checkins and "3 check-ins in all." in checkins
    # One audit row for the whole page, saying how much of each kind of data it showed.
    read = session.exec(
        select(AuditEvent).where(AuditEvent.action == "patient.view", AuditEvent.patient_id == zoe.id)
    ).one()
    assert read.actor_id == clinic.clinician.id and read.detail["notes"] == 3 and read.detail["responses"] == 5
    assert "Walked" not in str(read.detail)  # the audit log keeps facts, never the patient's words
    assert actions(session, patient_id=zoe.id, actor_id=clinic.clinician.id) == ["patient.view"]


def test_progress_over_the_episode_is_summarised(portal: Portal, clinic: ClinicSetup, zoe: Patient) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    panel = _section(portal.get(f"/portal/patients/{zoe.id}").text, "questionnaires")
    phq9 = re.search(r"<th scope=\"row\">PHQ-9</th>(.*?)</tr>", panel, re.S).group(1)  # type: ignore[union-attr]
    assert "18" in phq9 and "<strong>6</strong> Mild" in phq9 and "−12" in phq9 and "Reliable improvement" in phq9
    assert "Yes → No" in phq9 and "6 points or more" in phq9 and "10 or more" in phq9
    gad7 = re.search(r"<th scope=\"row\">GAD-7</th>(.*?)</tr>", panel, re.S).group(1)  # type: ignore[union-attr]
    assert "−9" in gad7 and "Reliable improvement" in gad7
    assert "reliable recovery." in panel


def test_questionnaire_answers_are_shown_item_by_item(portal: Portal, clinic: ClinicSetup, zoe: Patient) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    panel = _section(portal.get(f"/portal/patients/{zoe.id}").text, "questionnaires")
    assert "Answers, question by question" in panel
    assert "Little interest or pleasure in doing things" in panel and "Nearly every day" in panel
    assert "Feeling nervous, anxious, or on edge" in panel
    # The C-SSRS: item 1 answered yes, items 3 to 5 never asked after item 2's "no".
    assert "Have you wished you were dead" in panel and panel.count("Not asked") >= 3


def test_the_alert_history_and_the_pdf_summary_link_are_on_the_page(
    portal: Portal, clinic: ClinicSetup, zoe: Patient, session: Session
) -> None:
    alert = raise_alert(session, zoe)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{zoe.id}").text
    alerts = _section(page, "alerts")
    assert f'href="/portal/alerts/{alert.id}"' in alerts and "Suicide risk" in alerts and "Urgent" in alerts
    assert f'href="/portal/patients/{zoe.id}/summary.pdf?days=28"' in page
    assert '<a href="#alerts">Alerts</a>' in page and '<a href="#questionnaires">Questionnaires</a>' in page


def test_a_patient_without_history_gets_calm_empty_sections_and_no_data_reads(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    patient, _ = invite_patient(session, clinic, name="Nina Neuve")
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/patients/{patient.id}").text
    assert "No check-ins yet." in page and "No alerts for this patient." in page
    assert "No questionnaire answered yet." in page and "Not answered yet." in page
    assert actions(session, patient_id=patient.id).count("patient.view") == 1
    assert "checkin.view" not in actions(session, patient_id=patient.id)


def test_another_caseloads_patient_reveals_nothing(
    portal: Portal, clinic: ClinicSetup, zoe: Patient, session: Session
) -> None:
    elsewhere = create_clinic(session, name="Other Clinic")
    portal.login_ok(elsewhere.admin.email, elsewhere.admin_password)
    answer = portal.get(f"/portal/patients/{zoe.id}")
    assert answer.status_code == 404 and "Walked by the river" not in answer.text
    assert not {"checkin.view", "measure_response.view"} & set(actions(session, actor_id=elsewhere.admin.id))


def test_the_patient_page_speaks_french_with_the_questionnaires_french_texts(session: Session, portal: Portal) -> None:
    lyon = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    patient, _ = active_patient(session, lyon, name="Léa Bernard", email="lea@example.org")
    add_checkin(session, patient, days=1, mood=5, sleep_hours=6.5, tags=["family"])
    add_response(session, patient, "phq9", PHQ9_START, days=1)
    portal.login_ok(lyon.clinician.email, lyon.clinician_password)
    page = portal.get(f"/portal/patients/{patient.id}").text
    assert "Suivis quotidiens" in page and "Humeur" in page and "Sommeil (heures)" in page
    assert "Peu d&#39;intérêt ou de plaisir à faire les choses" in page and "Presque tous les jours" in page
    assert "Modérément sévère" in page and "Famille" in page and "6,5" in page
    assert "Synthèse PDF (28 derniers jours)" in page and "Tableau des données\u00a0: Humeur" in page


def test_the_patient_page_is_read_in_one_transaction_with_one_commit_and_one_audit_row(
    portal: Portal, clinic: ClinicSetup, zoe: Patient, session: Session
) -> None:
    raise_alert(session, zoe)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.get(f"/portal/patients/{zoe.id}")  # warm caches (catalog, templates) so the count is the page's own
    engine = get_engine()
    statements: list[str] = []
    commits: list[object] = []

    def on_statement(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    def on_commit(conn: object) -> None:
        commits.append(conn)

    event.listen(engine, "before_cursor_execute", on_statement)
    event.listen(engine, "commit", on_commit)
    try:
        page = portal.get(f"/portal/patients/{zoe.id}")
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
        event.remove(engine, "commit", on_commit)
    assert page.status_code == 200 and "Walked by the river with Sam" in page.text
    writes = [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]
    print(f"\npatient page: {len(statements)} statements, {len(commits)} commit, writes: {writes}")
    # One: the sign-in check still hands its connection back before the page waits for a thread (issue
    # 17), but ends its read-only transaction without a commit; the page's unit of work is the commit.
    assert len(commits) == 1
    assert len(writes) == 1 and "audit_event" in writes[0]
    assert len(statements) <= 30  # 20 measured on SQLite: one query per kind of data, not one per row
    views = session.exec(
        select(AuditEvent).where(AuditEvent.action == "patient.view", AuditEvent.patient_id == zoe.id)
    ).all()
    assert len(views) == 2  # the warm-up view and this one: one row per page view
    assert views[-1].detail == {"alerts": 1, "notes": 4, "responses": 5}  # raise_alert adds a check-in
