"""The alert queue and an alert's page: who sees which alert, the evidence, acknowledging and
resolving (with CSRF), the recently resolved view, the menu badge, audit rows and French."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from service.alerts import escalation, lifecycle
from service.models import Alert, AlertEvent, AuditEvent
from service.models.base import utcnow
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient, create_clinic
from tests.portal.clinical import PASSIVE, raise_alert
from tests.portal.conftest import Portal, actions, reload, sessions_of


@pytest.fixture
def world(session: Session, clinic: ClinicSetup) -> dict[str, object]:
    """Chris's patients with an urgent and a routine alert, Dana's patient with an alert, and an
    alert in another clinic."""
    made = add_staff(
        session,
        clinic=clinic.clinic,
        email="dana@test-clinic.example.org",
        name="Dana Doctor",
        role="clinician",
        actor=SYSTEM,
    )
    dana = made.staff
    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer", email="zoe@example.org")
    amelie, _ = active_patient(session, clinic, name="Amélie Adam", email="amelie@example.org")
    bruno, _ = active_patient(session, clinic, name="Bruno Brun", email="bruno@example.org", clinician=dana)
    elsewhere = create_clinic(session, name="Other Clinic")
    olga, _ = active_patient(session, elsewhere, name="Olga Other", email="olga@example.org")
    return {
        "routine": raise_alert(session, amelie, PASSIVE),  # older, but less severe
        "urgent": raise_alert(session, zoe),
        "dana": raise_alert(session, bruno),
        "foreign": raise_alert(session, olga),
        "zoe": zoe,
        "dana_staff": dana,
        "dana_password": made.password,
        "elsewhere": elsewhere,
    }


def _queue_names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/portal/alerts/[0-9a-f-]+">([^<]+)</a>', html)


def test_the_queue_lists_a_clinicians_alerts_most_severe_first_with_their_evidence(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object]
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get("/portal/alerts")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert _queue_names(page.text) == ["Zoé Zimmer", "Amélie Adam"]  # urgent before the older routine one
    text = page.text
    assert "Urgent" in text and "Routine" in text and "Suicide risk" in text
    assert "Saying goodbye" in text and "<q>goodbye letters</q>" in text and "en.goodbye.farewell" in text
    assert "Acknowledge within 15 minutes" in text and "Chris Clinician" in text
    assert "2 open alerts" in text
    assert "Bruno Brun" not in text and "Olga Other" not in text


def test_an_admin_sees_every_alert_of_the_clinic_and_none_of_another(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object]
) -> None:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/alerts").text
    assert _queue_names(page) == ["Zoé Zimmer", "Bruno Brun", "Amélie Adam"]
    assert "Dana Doctor" in page and "Olga Other" not in page
    foreign = world["foreign"]
    assert portal.get(f"/portal/alerts/{foreign.id}").status_code == 404  # type: ignore[attr-defined]


@pytest.mark.parametrize("whose", ["dana", "foreign"])
def test_a_clinician_cannot_open_or_act_on_an_alert_outside_their_caseload(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session, whose: str
) -> None:
    alert = world[whose]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.get(f"/portal/alerts/{alert.id}")  # type: ignore[attr-defined]
    assert answer.status_code == 404 and "goodbye" not in answer.text
    for action, data in (("acknowledge", {}), ("resolve", {"resolution": "called_client"})):
        answer = portal.submit("/portal/alerts", f"/portal/alerts/{alert.id}/{action}", data)  # type: ignore[attr-defined]
        assert answer.status_code == 404
    assert reload(session, alert).status == "open"
    assert "alert.view" not in actions(session, entity_id=alert.id)  # type: ignore[attr-defined]


def test_the_alert_page_shows_every_signal_and_the_history_and_is_audited(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    zoe = world["zoe"]
    alert = raise_alert(session, zoe, "I have been looking up how many pills it would take")  # type: ignore[arg-type]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get(f"/portal/alerts/{alert.id}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "2 signals" in text and "<q>goodbye letters</q>" in text and "Preparing to act" in text
    assert "Check-in note" in text and "High risk" in text and "Tandem (automatic)" in text
    assert "Alert raised (Urgent)" in text and "Signal added: Check-in note" in text
    assert f'href="/portal/patients/{zoe.id}"' in text  # type: ignore[attr-defined]
    view = session.exec(
        select(AuditEvent).where(AuditEvent.action == "alert.view", AuditEvent.entity_id == alert.id)
    ).one()
    assert view.actor_id == clinic.clinician.id and view.patient_id == zoe.id  # type: ignore[attr-defined]


def test_acknowledging_and_resolving_an_alert(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    alert = world["urgent"]
    path = f"/portal/alerts/{alert.id}"  # type: ignore[attr-defined]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)

    answer = portal.submit(path, f"{path}/acknowledge")
    assert answer.status_code == 303 and answer.headers["location"] == f"{path}?done=acknowledged"
    page = portal.get(f"{path}?done=acknowledged").text
    assert "You acknowledged this alert." in page and "Acknowledged by Chris Clinician" in page
    assert reload(session, alert).status == "acknowledged"

    again = portal.submit(path, f"{path}/acknowledge")  # a second click, or a colleague's
    assert again.status_code == 409 and "This alert is already acknowledged." in again.text

    refused = portal.submit(path, f"{path}/resolve", {"resolution": "other", "note": "  "})
    assert refused.status_code == 422 and "A note is required when the resolution is &#39;other&#39;." in refused.text
    unchosen = portal.submit(path, f"{path}/resolve", {"resolution": "", "note": "called"})
    assert unchosen.status_code == 422 and "Choose how the alert was resolved." in unchosen.text

    done = portal.submit(
        path, f"{path}/resolve", {"resolution": "called_client", "note": "Safe at home with her sister."}
    )
    assert done.status_code == 303
    row = reload(session, alert)
    assert row.status == "resolved" and row.resolution == "called_client" and row.resolved_by == clinic.clinician.id
    page = portal.get(path).text
    assert "The alert is resolved." not in page  # only right after resolving
    assert "Called the patient" in page and "Safe at home with her sister." in page
    assert "Resolve the alert" not in page  # nothing left to do
    kinds = [e.kind for e in session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()]  # type: ignore[attr-defined]
    assert kinds[-2:] == ["acknowledged", "resolved"]
    mine = actions(session, actor_id=clinic.clinician.id)
    assert "alert.acknowledge" in mine and "alert.resolve" in mine

    assert "Zoé Zimmer" not in portal.get("/portal/alerts").text  # left the queue...
    resolved = portal.get("/portal/alerts/resolved").text  # ...for the recently resolved
    assert "Zoé Zimmer" in resolved and "Called the patient" in resolved and "by Chris Clinician" in resolved


def test_every_alert_form_needs_the_pages_csrf_token(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    alert = world["urgent"]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    for action, data in (("acknowledge", {}), ("resolve", {"resolution": "called_client"})):
        for token in (None, "forged-token"):
            form = {**data, **({"csrf_token": token} if token else {})}
            answer = portal.client.post(f"/portal/alerts/{alert.id}/{action}", data=form, follow_redirects=False)  # type: ignore[attr-defined]
            assert answer.status_code == 403 and "This form has expired" in answer.text
    assert reload(session, alert).status == "open"


def test_the_menu_badge_counts_the_open_alerts_the_viewer_may_see(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, world: dict[str, object]
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    home = portal.get("/portal/").text
    badge = re.search(r'<span class="nav-badge severity-(\w+)" data-alert-badge>.*?</span></span>', home, re.S)
    assert badge is not None and badge.group(1) == "urgent"
    assert "data-badge-count>2</span>" in badge.group(0) and "2 open alerts" in badge.group(0)
    other_portal.login_ok(clinic.admin.email, clinic.admin_password)
    assert "data-badge-count>3</span>" in other_portal.get("/portal/").text


def test_the_queue_rows_fragment_is_the_viewers_rows_and_is_audited(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    rows = portal.get("/portal/alerts/rows")
    assert rows.status_code == 200 and rows.headers["cache-control"] == "no-store"
    assert "<html" not in rows.text and _queue_names(rows.text) == ["Zoé Zimmer", "Amélie Adam"]
    zoe = world["zoe"]
    listed = session.exec(
        select(AuditEvent).where(AuditEvent.action == "alert.list", AuditEvent.patient_id == zoe.id)  # type: ignore[attr-defined]
    ).all()
    assert listed and all(row.actor_id == clinic.clinician.id for row in listed)


def test_fetching_the_rows_does_not_keep_an_idle_session_open(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    [row] = sessions_of(session, clinic.clinician)
    row.last_seen_at = utcnow() - timedelta(minutes=10)
    session.add(row)
    session.commit()
    assert portal.get("/portal/alerts/rows").status_code == 200
    [after] = sessions_of(session, clinic.clinician)
    assert after.last_seen_at <= utcnow() - timedelta(minutes=9)
    assert portal.get("/portal/alerts").status_code == 200  # what the person opens does count
    [touched] = sessions_of(session, clinic.clinician)
    assert touched.last_seen_at > utcnow() - timedelta(minutes=1)


def test_an_overdue_alert_shows_its_escalation(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    alert = world["urgent"]
    escalation.escalate_due(session, now=utcnow() + timedelta(minutes=40))
    row = reload(session, alert)
    row.ack_deadline_at = utcnow() - timedelta(minutes=20)
    session.add(row)
    session.commit()
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get("/portal/alerts").text
    assert "Overdue by 20 minutes" in page and "Escalated (step 1)" in page
    detail = portal.get(f"/portal/alerts/{alert.id}").text  # type: ignore[attr-defined]
    assert "Escalated (step 1) to Ada Admin" in detail


def test_an_on_call_clinician_sees_an_escalated_alert_but_not_the_patients_page(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    dana = reload(session, world["dana_staff"])
    dana.on_call = True
    session.add(dana)
    session.commit()
    alert = world["urgent"]
    escalation.escalate_due(session, now=utcnow() + timedelta(minutes=40))
    portal.login_ok("dana@test-clinic.example.org", str(world["dana_password"]))
    page = portal.get(f"/portal/alerts/{alert.id}")  # type: ignore[attr-defined]
    assert page.status_code == 200 and "Zoé Zimmer" in page.text
    assert "Open the patient&#39;s page" not in page.text
    assert portal.get(f"/portal/patients/{world['zoe'].id}").status_code == 404  # type: ignore[attr-defined]


def test_reassigning_a_patient_moves_their_open_alerts_to_the_new_clinician(
    portal: Portal, clinic: ClinicSetup, world: dict[str, object], session: Session
) -> None:
    alert, zoe, dana = world["urgent"], world["zoe"], world["dana_staff"]
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    answer = portal.submit(
        f"/portal/patients/{zoe.id}",
        f"/portal/patients/{zoe.id}/clinician",
        {"clinician_id": dana.id},  # type: ignore[attr-defined]
    )
    assert answer.status_code == 303
    assert reload(session, alert).assigned_to == dana.id  # type: ignore[attr-defined]
    kinds = [e.kind for e in session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id)).all()]  # type: ignore[attr-defined]
    assert kinds[-1] == "reassigned"
    assert "Reassigned to Dana Doctor" in portal.get(f"/portal/alerts/{alert.id}").text  # type: ignore[attr-defined]
    assert session.exec(select(Alert).where(Alert.patient_id == zoe.id)).one().id == alert.id  # type: ignore[attr-defined]
    assert lifecycle.open_counts(session, staff=dana)[alert.severity] == 2  # type: ignore[attr-defined,index]


def test_the_alert_pages_speak_french_in_a_french_clinic(session: Session, portal: Portal) -> None:
    lyon = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    patient, _ = active_patient(session, lyon, name="Léa Bernard", email="lea@example.org")
    alert = raise_alert(session, patient, "J'ai écrit mes lettres d'adieu")
    portal.login_ok(lyon.clinician.email, lyon.clinician_password)
    queue = portal.get("/portal/alerts").text
    assert "File des alertes" in queue and "Urgente" in queue and "Risque suicidaire" in queue
    assert (
        "Adieux" in queue
        and "<q>lettres d&#39;adieu</q>" in queue
        and "Accuser réception dans les 15 minutes" in queue
        and "1 alerte ouverte" in queue
    )
    page = portal.get(f"/portal/alerts/{alert.id}").text
    assert "À propos de cette alerte" in page and "Patient appelé" in page and "Historique" in page
    assert "Tandem (automatique)" in page and "Alerte déclenchée (Urgente)" in page
