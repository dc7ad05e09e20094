"""Every portal page in Debian's Chromium, on a phone (390x844) and a desktop (1440x900), in English
and in French, against one real `tandem serve` seeded like the demo: nothing wider than the window,
no word broken in the middle, every table column in view at desktop width, the suicidal note on
the patient's page in view on the phone, and no serious or critical axe-core violation.

One seeded server for the module (the app `tandem serve` runs, in this process: the subject is the
pages, not the process), the worker's browser, and one test per language and size, each loading
every page once, so that two workers share the four. A page added on a branch joins ``PAGES`` (a
path, with ``{patient}``, ``{alert}`` or ``{session}`` filled in)."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, col, select

from service.alerts import lifecycle, oncall
from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.config import get_settings
from service.db import new_session, reset_engine
from service.demo import seed as demo
from service.kit.context import Actor
from service.models import Alert, ExerciseSession, Patient, Staff
from service.models.base import utcnow
from service.safety_plan import service as safety_plans
from tests.conftest import PG_ADMIN_URL, _pg_conninfo, _sqlalchemy_url
from tests.factories import create_clinic
from tests.portal.layout import AXE, DESKTOP, PHONE, hidden_sideways, page_problems, preload_axe
from tests.portal.live import serving_configured

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow(seconds=25),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

SUICIDAL_NOTE = {
    "en": "I have decided to kill myself tonight, I have the pills ready and I wrote the letters",
    "fr": "J'ai décidé de me suicider ce soir, j'ai préparé les médicaments et écrit les lettres",
}
# Every page of the portal that exists on main, as the clinic's administrator sees it (the widest:
# the caseload has its "Clinician" column).
PAGES = [
    ("caseload", "/portal/"),
    ("add a patient", "/portal/patients/new"),
    ("patient", "/portal/patients/{patient}"),
    ("safety plan", "/portal/patients/{patient}/safety-plan"),
    ("alert queue", "/portal/alerts"),
    ("resolved alerts", "/portal/alerts/resolved"),
    ("alert", "/portal/alerts/{alert}"),
    ("screening figures", "/portal/screening"),
    ("exercise session", "/portal/sessions/{session}"),
    ("account", "/portal/account"),
    ("on-call rota", "/portal/oncall"),
    ("team", "/portal/staff"),
    ("audit log", "/portal/audit"),
    ("exports", "/portal/exports"),
    ("clinic settings", "/portal/clinic/settings"),
    ("erasure requests", "/portal/erasure"),
    ("audit checkpoints", "/portal/audit/checkpoints"),
    ("not found", "/portal/patients/no-such-patient"),
]
# Pages nobody can link to: single sign-on's refusals (no provider set up; an answer without a
# sign-in in progress), shown signed out.
SIGNED_OUT_PAGES = [
    ("single sign-on not set up", "/portal/login/oidc"),
    ("single sign-on failed", "/portal/login/oidc/callback?state=stale&code=stale"),
]


@dataclass
class Clinic:
    admin_email: str
    admin_password: str
    ids: dict[str, str]  # patient, alert, session
    # Two staff of a clinic that requires an authenticator, not yet set up (one per window size):
    # their first sign-in shows the set-up page (own password and TOTP), then the recovery codes.
    newcomers: list[tuple[str, str]]


@dataclass
class World:
    base: str
    clinics: dict[str, Clinic] = field(default_factory=dict)  # by language, seeded when first needed

    def clinic(self, language: str) -> Clinic:
        """The demo's clinic in ``language``, seeded by the first test that needs it."""
        if language not in self.clinics:
            spec = next(spec for spec in demo.CLINICS if spec["locale"] == language)
            with new_session() as session:
                self.clinics[language] = _seed(session, spec)
        return self.clinics[language]


@pytest.fixture(scope="module")
def world(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if PG_ADMIN_URL:
        name = f"tandem_layout_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        url = _sqlalchemy_url(PG_ADMIN_URL, name)
    else:
        target = tmp_path_factory.mktemp("layout") / "tandem.db"
        shutil.copyfile(template_database, target)
        url = f"sqlite:///{target}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TANDEM_DATABASE_URL", url)
        get_settings.cache_clear()
        reset_engine()
        with serving_configured() as base:
            yield World(base)
        reset_engine()
        get_settings.cache_clear()
    if PG_ADMIN_URL:
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(session: Session, spec: dict) -> Clinic:
    """The demo's clinic, plus what fills every page: a suicidal note and its urgent alert, a
    resolved alert with the clinician's verdict, a safety plan and an on-call shift."""
    summary = demo.DemoSummary("http://127.0.0.1")
    enrolled = demo._seed_clinic(session, spec, summary)
    language = spec["locale"]
    _, role, admin_email, admin_password = summary.staff_logins[0]
    assert role == "admin"
    admin = session.exec(select(Staff).where(Staff.email == admin_email)).one()
    patient = enrolled[0]
    checkins.submit(session, patient=patient, data=CheckinIn(mood=1, anxiety=9, note=SUICIDAL_NOTE[language]))
    alert = session.exec(
        select(Alert).where(Alert.patient_id == patient.id).order_by(col(Alert.created_at).desc())
    ).first()
    assert alert is not None
    other = session.exec(select(Alert).where(col(Alert.patient_id).in_([p.id for p in enrolled[1:]]))).first()
    if other is not None:
        lifecycle.resolve(
            session, alert_id=other.id, staff=admin, resolution="called_client", note="Safe.", verdict="confirmed"
        )
    safety_plans.save(
        session,
        patient=patient,
        actor=Actor.staff(admin),
        sections={"warning_signs": ["Not sleeping"], "people_to_ask": ["My sister Lou 07700 900123"]},
    )
    clinician = session.exec(select(Staff).where(Staff.clinic_id == admin.clinic_id, Staff.role == "clinician")).one()
    now = utcnow().replace(tzinfo=None, microsecond=0)
    oncall.add_shift(session, admin=admin, staff_id=clinician.id, starts_local=now, ends_local=now + timedelta(days=1))
    exercise = session.exec(
        select(ExerciseSession)
        .join(Patient, col(Patient.id) == ExerciseSession.patient_id)
        .where(Patient.clinic_id == admin.clinic_id)
    ).first()
    assert exercise is not None
    strict = create_clinic(
        session, name=f"Clinique MFA {language}", locale=language, mfa_required=True, slug=f"mfa-{language}"
    )
    newcomers = [(strict.admin.email, strict.admin_password), (strict.clinician.email, strict.clinician_password)]
    ids = {"patient": patient.id, "alert": alert.id, "session": exercise.id}
    return Clinic(admin_email, admin_password, ids, newcomers)


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    """The worker's Chromium; each test opens its own context."""
    if not AXE.exists():
        pytest.fail("axe-core is missing; run `npm ci` (make test does)")
    return chromium


def _sign_in(page: Page, base: str, clinic: Clinic) -> None:
    page.goto(f"{base}/portal/login")
    page.fill("#email", clinic.admin_email)
    page.fill("#password", clinic.admin_password)
    page.click("form[action='/portal/login'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/")


# The tests of one language run on one worker (tests/conftest.py deals them), which seeds that clinic alone.
@pytest.mark.parametrize(
    "language",
    [pytest.param(language, marks=pytest.mark.xdist_group(f"layout-{language}")) for language in ("en", "fr")],
)
@pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_every_portal_page_fits_a_phone_and_a_desktop(
    world: World, browser: Browser, language: str, size: dict[str, int]
) -> None:
    clinic = world.clinic(language)
    # axe-core is injected as a script, which the portal's CSP rightly refuses: this context bypasses it.
    context = browser.new_context(
        viewport=size, locale="fr-FR" if language == "fr" else "en-GB", bypass_csp=True, service_workers="block"
    )
    context.set_default_timeout(15_000)
    page = preload_axe(context).new_page()
    found: list[str] = []
    try:
        wide = size == DESKTOP
        label = f"{language} {size['width']}px"
        page.goto(f"{world.base}/")  # the landing page at the server's address
        expect(page.locator("html")).to_have_attribute("lang", language)
        found += page_problems(page, f"{label} landing", wide=wide)
        page.goto(f"{world.base}/portal/login")
        expect(page.locator("html")).to_have_attribute("lang", language)
        found += page_problems(page, f"{label} login", wide=wide)
        _sign_in(page, world.base, clinic)
        for name, path in PAGES:
            page.goto(world.base + path.format(**clinic.ids))
            expect(page.locator("html")).to_have_attribute("lang", language)
            found += page_problems(page, f"{label} {name}", wide=wide)
            if name == "patient":
                note = page.locator("td.note-text", has_text=SUICIDAL_NOTE[language][:20]).first
                expect(note).to_be_visible()
                if hidden_sideways(note):
                    found.append(f"{label} patient: the suicidal note is cut off")
            if name == "caseload" and wide:  # on a phone the table scrolls in its box
                last = page.locator("table.caseload thead th").last
                if hidden_sideways(last):
                    found.append(f"{label} caseload: the last column is cut off")
        found += _pages_after_a_form(page, world.base, label, wide=wide, size=size["width"])
        page.context.clear_cookies()
        for name, path in SIGNED_OUT_PAGES:
            page.goto(world.base + path)
            expect(page.locator("html")).to_have_attribute("lang", language)
            found += page_problems(page, f"{label} {name}", wide=wide)
        email, password = clinic.newcomers[0 if size == PHONE else 1]
        found += _first_sign_in_with_an_authenticator(page, world.base, label, email, password, wide=wide)
    finally:
        context.close()
    assert found == [], "\n".join(found)


def _pages_after_a_form(page: Page, base: str, label: str, *, wide: bool, size: int) -> list[str]:
    """The pages only a form leads to: the new patient's invitation code, the new staff member's
    one-time password, and setting up an authenticator app from the account page."""
    found: list[str] = []
    page.goto(f"{base}/portal/patients/new")
    page.fill("#display_name", f"Camille Layout-{size}")
    page.select_option("#clinician_id", index=1)
    page.click("form[action$='/portal/patients'] button[type=submit]")
    expect(page.locator("#invite-code")).to_be_visible()
    found += page_problems(page, f"{label} invitation code", wide=wide)

    page.goto(f"{base}/portal/staff")
    page.fill("#staff-name", f"Dominique Layout-{size}")
    page.fill("#staff-email", f"dominique.{size}.{uuid.uuid4().hex[:6]}@example.org")
    page.click("form[action$='/portal/staff'] button[type=submit]")
    expect(page.locator("#one-time-password")).to_be_visible()
    found += page_problems(page, f"{label} staff invited", wide=wide)

    page.goto(f"{base}/portal/account")
    page.click("form[action$='/portal/account/authenticator'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/account/authenticator")
    found += page_problems(page, f"{label} authenticator set-up", wide=wide)
    page.click("form[action$='/portal/account/authenticator/cancel'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/portal/account\?saved=.*"))
    return found


def _first_sign_in_with_an_authenticator(
    page: Page, base: str, label: str, email: str, password: str, *, wide: bool
) -> list[str]:
    page.goto(f"{base}/portal/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action='/portal/login'] button[type=submit]")
    page.wait_for_url(f"{base}/portal/enrol")
    found = page_problems(page, f"{label} account set-up", wide=wide)
    page.fill("#new_password", "amber-lighthouse-violin-42")
    page.fill("#confirm_password", "amber-lighthouse-violin-42")
    page.fill("#totp", pyotp.TOTP(page.locator("#totp-secret").inner_text().strip()).now())
    page.click("form[action='/portal/enrol'] button[type=submit]")
    expect(page.locator("#recovery-codes")).to_be_visible()
    found += page_problems(page, f"{label} recovery codes", wide=wide)
    return found
