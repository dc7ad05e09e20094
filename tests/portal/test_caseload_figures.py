"""The caseload's figures: last check-in, mood sparkline, latest PHQ-9 and GAD-7 with reliable
change, open alerts; sorting and filtering by them; a few grouped queries whatever the size."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from service.caseload import overview
from service.caseload.overview import OverviewFilters
from service.db import get_engine
from service.models import AuditEvent
from tests.factories import ClinicSetup, active_patient, create_clinic, invite_patient
from tests.portal.clinical import PASSIVE, add_checkin, add_response, raise_alert
from tests.portal.conftest import Portal

PHQ9_MILD = [1, 1, 1, 1, 1, 1, 0, 0, 0]  # 6
PHQ9_SEVERE = [3, 3, 2, 2, 2, 2, 2, 2, 0]  # 18: moderately severe
GAD7_MODERATE = [2, 2, 2, 2, 1, 1, 1]  # 11
GAD7_MILD = [1, 1, 1, 1, 1, 0, 0]  # 5


@pytest.fixture
def caseload(session: Session, clinic: ClinicSetup) -> dict[str, object]:
    """Amélie improving, Bruno deteriorating with an urgent alert, Chloé silent for two weeks, Zoé invited."""
    amelie, _ = active_patient(session, clinic, name="Amélie Adam", email="amelie@example.org")
    bruno, _ = active_patient(session, clinic, name="Bruno Brun", email="bruno@example.org")
    chloe, _ = active_patient(session, clinic, name="Chloé Carré", email="chloe@example.org")
    zoe, _ = invite_patient(session, clinic, name="Zoé Zimmer")
    for days, mood in ((6, 4), (4, 5), (2, 6), (1, 7)):
        add_checkin(session, amelie, days=days, mood=mood, anxiety=4, sleep_hours=7)
    for days, mood in ((5, 5), (3, 3), (1, 2)):
        add_checkin(session, bruno, days=days, mood=mood, anxiety=8, sleep_hours=4.5)
    add_checkin(session, chloe, days=14, mood=5)
    add_response(session, amelie, "phq9", PHQ9_SEVERE, days=20)
    add_response(session, amelie, "phq9", PHQ9_MILD, days=2)  # 18 -> 6: reliable improvement
    add_response(session, bruno, "phq9", PHQ9_MILD, days=20)
    add_response(session, bruno, "phq9", PHQ9_SEVERE, days=2)  # 6 -> 18: reliable deterioration
    add_response(session, bruno, "gad7", GAD7_MILD, days=20)
    add_response(session, bruno, "gad7", GAD7_MODERATE, days=2)
    raise_alert(session, bruno)
    raise_alert(session, amelie, PASSIVE, mood=6)
    return {"amelie": amelie, "bruno": bruno, "chloe": chloe, "zoe": zoe}


def _names(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/portal/patients/[^"]+">([^<]+)</a>', html)


def _row(html: str, name: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]+>{name}</a>.*?</tr>", html, re.S)
    assert found, name
    return found.group(0)


def test_each_patient_shows_their_latest_figures(portal: Portal, clinic: ClinicSetup, caseload: dict) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = portal.get("/portal/")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    bruno = _row(page.text, "Bruno Brun")
    assert '<span class="score">18</span>' in bruno and "Moderately severe" in bruno and "Reliably worse" in bruno
    assert '<span class="score">11</span>' in bruno and "Moderate" in bruno  # GAD-7: 5 -> 11, reliably worse too
    assert "severity-urgent" in bruno and re.search(r">\d+ seconds? ago</time>", bruno)  # the alerting check-in
    assert '<svg class="sparkline"' in bruno and "mean of the last 7 days: 3 out of 10" in bruno  # 5, 3, 2 and 2 today
    amelie = _row(page.text, "Amélie Adam")
    assert '<span class="score">6</span>' in amelie and "Reliably better" in amelie and "severity-routine" in amelie
    chloe = _row(page.text, "Chloé Carré")
    assert "2 weeks ago" in chloe and "mean of the last 7 days: — out of 10" in chloe  # one point, none this week
    zoe = _row(page.text, "Zoé Zimmer")
    assert "Never" in zoe and "Invitation:" in zoe


def test_the_caseload_sorts_by_the_figures(portal: Portal, clinic: ClinicSetup, caseload: dict) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert _names(portal.get("/portal/?sort=phq9").text) == ["Bruno Brun", "Amélie Adam", "Chloé Carré", "Zoé Zimmer"]
    assert _names(portal.get("/portal/?sort=mood").text) == ["Bruno Brun", "Amélie Adam", "Chloé Carré", "Zoé Zimmer"]
    assert _names(portal.get("/portal/?sort=alerts").text)[:2] == ["Bruno Brun", "Amélie Adam"]
    assert _names(portal.get("/portal/?sort=last_checkin").text) == [
        "Zoé Zimmer",  # never
        "Chloé Carré",  # two weeks ago
        "Bruno Brun",  # just now, when his note raised the alert...
        "Amélie Adam",  # ...and Amélie's right after
    ]


def test_the_caseload_filters_by_the_figures(portal: Portal, clinic: ClinicSetup, caseload: dict) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert _names(portal.get("/portal/?alerts=urgent").text) == ["Bruno Brun"]
    assert _names(portal.get("/portal/?alerts=open").text) == ["Amélie Adam", "Bruno Brun"]
    assert _names(portal.get("/portal/?measures=deteriorated").text) == ["Bruno Brun"]
    assert _names(portal.get("/portal/?measures=improved").text) == ["Amélie Adam"]
    assert _names(portal.get("/portal/?measures=case").text) == ["Bruno Brun"]
    assert _names(portal.get("/portal/?checkins=quiet").text) == ["Chloé Carré", "Zoé Zimmer"]
    assert _names(portal.get("/portal/?alerts=open&measures=improved").text) == ["Amélie Adam"]
    junk = portal.get("/portal/?alerts=bogus&measures=bogus&checkins=bogus&sort=bogus")
    assert junk.status_code == 200 and len(_names(junk.text)) == 4


def test_listing_the_caseload_audits_each_patient_shown(
    portal: Portal, clinic: ClinicSetup, caseload: dict, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    portal.get("/portal/?alerts=open")
    listed = session.exec(
        select(AuditEvent).where(AuditEvent.action == "patient.list", AuditEvent.actor_id == clinic.clinician.id)
    ).all()
    # One row for the page (not one per patient), naming exactly the patients shown on it.
    assert len(listed) == 1
    assert sorted(listed[0].detail["patient_ids"]) == sorted([caseload["amelie"].id, caseload["bruno"].id])
    assert listed[0].detail["matched"] == 2 and listed[0].detail["filters"] == {"name": False, "alerts": "open"}


def test_the_caseload_is_paged_in_the_order_chosen_and_each_page_audited(
    portal: Portal, clinic: ClinicSetup, caseload: dict, session: Session
) -> None:
    from service.caseload.overview import overview_page

    everyone = [row.patient.id for row in overview_page(session, staff=clinic.clinician, sort="name").rows]
    first = overview_page(session, staff=clinic.clinician, sort="name", page=1, page_size=2)
    second = overview_page(session, staff=clinic.clinician, sort="name", page=2, page_size=2)
    assert first.total == second.total == len(everyone) == 4 and first.pages == 2
    assert [row.patient.id for row in first.rows + second.rows] == everyone
    assert first.has_next and not second.has_next and second.has_previous
    listed = session.exec(select(AuditEvent).where(AuditEvent.action == "patient.list")).all()
    assert [sorted(row.detail["patient_ids"]) for row in listed[-2:]] == [
        sorted(everyone[:2]),
        sorted(everyone[2:]),
    ]
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert portal.get("/portal/?page=0").status_code == 422


def test_an_administrator_sees_every_clinicians_patients_with_their_figures(
    portal: Portal, clinic: ClinicSetup, caseload: dict, session: Session
) -> None:
    from service.onboarding.staff import add_staff
    from tests.factories import SYSTEM

    dana = add_staff(
        session,
        clinic=clinic.clinic,
        email="dana@test-clinic.example.org",
        name="Dana Doctor",
        role="clinician",
        actor=SYSTEM,
    )
    other, _ = active_patient(session, clinic, name="Dora Dupont", email="dora@example.org", clinician=dana.staff)
    raise_alert(session, other)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/?alerts=urgent").text
    assert _names(page) == ["Bruno Brun", "Dora Dupont"] and "Dana Doctor" in page


@contextmanager
def counting_selects() -> Iterator[list[str]]:
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def test_the_caseload_reads_its_figures_in_the_same_few_queries_whatever_its_size(
    session: Session, clinic: ClinicSetup
) -> None:
    def selects_for_caseload() -> int:
        session.expire_all()
        with counting_selects() as statements:
            rows = overview.overview(session, staff=clinic.clinician, filters=OverviewFilters(), sort="phq9")
        assert rows
        return len(statements)

    def add_patients(count: int, start: int) -> None:
        for index in range(start, start + count):
            patient, _ = active_patient(session, clinic, name=f"Patient {index}", email=f"p{index}@example.org")
            add_checkin(session, patient, days=1, mood=5, note="a quiet day")
            add_response(session, patient, "phq9", PHQ9_MILD, days=3)
            add_response(session, patient, "gad7", GAD7_MILD, days=3)
            raise_alert(session, patient, PASSIVE)

    add_patients(2, 0)
    small = selects_for_caseload()
    add_patients(10, 2)
    large = selects_for_caseload()
    assert large == small  # no query per patient
    assert small <= 12


def test_the_caseload_speaks_french(session: Session, portal: Portal) -> None:
    lyon = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    patient, _ = active_patient(session, lyon, name="Léa Bernard", email="lea@example.org")
    add_checkin(session, patient, days=1, mood=5)
    add_checkin(session, patient, days=2, mood=6)
    add_response(session, patient, "phq9", PHQ9_SEVERE, days=2)
    portal.login_ok(lyon.clinician.email, lyon.clinician_password)
    page = portal.get("/portal/").text
    assert "Dernier suivi quotidien" in page and "Humeur, 28 derniers jours" in page
    assert "Modérément sévère" in page and "moyenne des 7 derniers jours\u00a0: 5,5 sur 10" in page
    assert "Humeur la plus basse cette semaine" in page and "Avec une alerte urgente" in page


def test_the_mood_order_reads_the_week_from_the_figures_kept_at_each_check_in(
    session: Session, clinic: ClinicSetup
) -> None:
    """The week's mean mood that orders the caseload counts every check-in of the last 7 days and
    nothing older, whatever order check-ins arrive in, and follows a check-in's removal."""
    ada, _ = active_patient(session, clinic, name="Ada Aubert", email="ada@example.org")
    bea, _ = active_patient(session, clinic, name="Bea Bernard", email="bea@example.org")
    cal, _ = active_patient(session, clinic, name="Cal Colin", email="cal@example.org")
    dan, _ = active_patient(session, clinic, name="Dan Durand", email="dan@example.org")
    add_checkin(session, ada, days=3, mood=8)
    add_checkin(session, ada, days=10, mood=0)  # written late, a week older than a day already kept
    add_checkin(session, bea, days=0, mood=3)
    add_checkin(session, bea, days=0, mood=9)  # two the same day both count
    dropped = add_checkin(session, bea, days=3, mood=9)  # week: 7
    add_checkin(session, cal, days=12, mood=1)  # nothing this week
    add_checkin(session, dan, days=9, mood=0)  # out of the week, replaced by a day a week later...
    add_checkin(session, dan, days=2, mood=6)  # ...week: 6

    def by_mood() -> list[str]:
        session.expire_all()
        return [row.patient.display_name for row in overview.overview(session, staff=clinic.clinician, sort="mood")]

    assert by_mood() == ["Dan Durand", "Bea Bernard", "Ada Aubert", "Cal Colin"]
    session.delete(dropped)
    session.commit()
    assert by_mood() == ["Bea Bernard", "Dan Durand", "Ada Aubert", "Cal Colin"]  # 6 each: then by name
