"""The client web app in Debian's Chromium at phone size (390x844), against one server for the whole
module (the app `tandem serve` runs, scheduler included, in this process: the subject is the app, not
the process): every step through the accessible names a person (or a screen reader) meets."""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlmodel import Session, col, select

from service.caseload import care
from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.config import get_settings
from service.db import new_session, reset_engine
from service.exercises.assignments import create_assignment
from service.models import CheckIn, Patient
from tests.conftest import PG_ADMIN_URL, _pg_conninfo, _sqlalchemy_url
from tests.factories import CLIENT_PASSWORD, active_patient, create_clinic, invite_patient
from tests.portal.layout import AXE, DESKTOP, PHONE, axe_violations, preload_axe
from tests.portal.live import serving_configured
from tests.support.smtp import Mailbox, smtp_server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow(seconds=4),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

# What two clients wrote before their care ended, in their export afterwards.
AFTER_CARE_NOTES = {
    "en": ["Slept well after the walk", "Lunch with my brother"],
    "fr": ["Bien dormi après la promenade", "Déjeuner avec mon frère"],
}
HIGH_RISK_NOTE = {
    "en": "I have decided to kill myself tonight, I have the pills ready",
    "fr": "J'ai décidé de me suicider ce soir, j'ai préparé les médicaments",
}


@dataclass
class World:
    base: str
    mailbox: Mailbox
    invite_code: str
    invited_id: str
    emails: dict[str, str]  # who -> email of an active client


@pytest.fixture(scope="module")
def world(template_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One migrated database and one server for the module, seeded with a clinic and its clients."""
    if PG_ADMIN_URL:
        name = f"tandem_app_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        url = _sqlalchemy_url(PG_ADMIN_URL, name)
    else:
        target = tmp_path_factory.mktemp("app") / "tandem.db"
        shutil.copyfile(template_database, target)
        url = f"sqlite:///{target}"
    with pytest.MonkeyPatch.context() as patch, smtp_server() as (mailbox, smtp_port):
        patch.setenv("TANDEM_DATABASE_URL", url)
        get_settings.cache_clear()
        reset_engine()
        with new_session() as session:
            seeded = _seed(session)
        env = {
            "TANDEM_SMTP_HOST": "127.0.0.1",
            "TANDEM_SMTP_PORT": str(smtp_port),
            "TANDEM_SCHEDULER_ENABLED": "true",
        }
        with serving_configured(**env) as base:
            yield World(base=base, mailbox=mailbox, **seeded)
        reset_engine()
        get_settings.cache_clear()
    if PG_ADMIN_URL:
        with psycopg.connect(_pg_conninfo(PG_ADMIN_URL), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _seed(session: Session) -> dict[str, object]:
    setup = create_clinic(session, name="Riverside", country="US", timezone="America/New_York")
    invited, code = invite_patient(session, setup, name="Alex Martin")
    create_assignment(session, staff=setup.clinician, patient_id=invited.id, exercise_code="breathing")
    emails = {}
    for who, locale, country in [
        ("en", "en", "US"),
        ("fr", "fr", "FR"),
        ("offline", "en", "US"),
        ("reset", "en", "US"),
        ("keys", "en", "US"),
        ("axe-en", "en", "US"),
        ("axe-fr", "fr", "FR"),
    ]:
        email = f"{who}@example.org"
        patient, _ = active_patient(session, setup, email=email, name=f"Client {who}", locale=locale, country=country)
        create_assignment(session, staff=setup.clinician, patient_id=patient.id, exercise_code="breathing")
        emails[who] = email
    for language, country in (("en", "US"), ("fr", "FR")):
        email = f"ended-{language}@example.org"
        patient, _ = active_patient(
            session, setup, email=email, name=f"Client ended {language}", locale=language, country=country
        )
        for mood, note in zip((6, 7), AFTER_CARE_NOTES[language], strict=True):
            checkins.submit(session, patient=patient, data=CheckinIn(mood=mood, anxiety=3, note=note))
        care.discharge(session, staff=setup.clinician, patient_id=patient.id, reason="completed")
        emails[f"ended-{language}"] = email
    return {"invite_code": code, "invited_id": invited.id, "emails": emails}


@pytest.fixture
def browser(chromium: Browser) -> Browser:
    """The worker's Chromium; each test opens its own context."""
    return chromium


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=PHONE, locale="en-US", service_workers="block")
    made.set_default_timeout(15_000)
    yield made
    made.close()


def _errors(page: Page) -> list[str]:
    """Script errors on the page: none are expected, whatever the screen."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


def sign_in(page: Page, base: str, email: str, password: str = CLIENT_PASSWORD) -> None:
    page.goto(f"{base}/app/#/signin")
    page.get_by_label(re.compile("^(Email|E-mail)$")).fill(email)
    page.get_by_label(re.compile("^(Password|Mot de passe)$")).fill(password)
    page.get_by_role("button", name=re.compile("^(Sign in|Se connecter)$")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile("Hello|Bonjour"))


def check_in(page: Page, mood: str, note: str) -> None:
    page.get_by_role("navigation").get_by_role("link", name=re.compile("^(Check in|Faire le point)$")).click()
    page.get_by_label(re.compile("^(Mood|Humeur)$")).fill(mood)
    page.get_by_label(re.compile("^Note$")).fill(note)
    page.get_by_role("button", name=re.compile("^(Save|Enregistrer)$")).click()


def _checkins(world: World, email: str) -> list[CheckIn]:
    with new_session() as session:
        patient = next(p for p in session.exec(select(Patient)).all() if p.email == email)
        return list(session.exec(select(CheckIn).where(col(CheckIn.patient_id) == patient.id)).all())


def test_a_new_client_goes_from_the_invitation_to_a_checkin_a_questionnaire_and_an_exercise(
    world: World, context: BrowserContext
) -> None:
    page = context.new_page()
    errors = _errors(page)
    page.goto(f"{world.base}/")  # the server's own address shows the way to the app
    page.get_by_role("link", name="The Tandem app for patients").click()
    expect(page.get_by_role("link", name="Get help now")).to_be_visible()
    page.get_by_role("link", name="I have an invitation code").click()
    page.get_by_label("Invitation code").fill(world.invite_code.lower())
    page.get_by_role("button", name="Show the consent information").click()
    expect(page.get_by_role("heading", name="Consent information")).to_be_visible()
    page.get_by_label("Email").fill("alex@example.org")
    page.get_by_label("Password").fill("amber-lighthouse-violin-42")
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Activate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Alex Martin")
    expect(page.get_by_text("not a person and not a therapist")).to_be_visible()  # the AI disclosure
    expect(page.get_by_text("You have not checked in yet today.")).to_be_visible()

    check_in(page, "7", "A calm walk by the river")
    expect(page.get_by_role("status").first).to_have_text("Your check-in is saved.")
    expect(page.get_by_text("You have checked in today.")).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("7")  # the 4-week chart's data table

    page.get_by_role("link", name=re.compile("PHQ-9")).click()
    for number in range(1, 10):
        expect(page.get_by_text(f"Question {number} of 9")).to_be_visible()
        page.get_by_label("Not at all").check()
        page.get_by_role("button", name="Send my answers" if number == 9 else "Next").click()
    expect(page.get_by_role("status").first).to_have_text("Your answers are saved.")

    page.get_by_role("link", name="Paced breathing").click()
    expect(page.get_by_text("The coach is automated").first).to_be_visible()
    for answer in ["5", "ok", "done", "3", "yes", "done", "4"]:
        if page.get_by_text("this exercise is complete").count():
            break
        page.get_by_label("Your answer").fill(answer)
        page.get_by_role("button", name="Send").click()
        expect(page.get_by_role("log").locator("li.client").last).to_have_text(re.compile(re.escape(answer)))
    expect(page.get_by_text("Well done: this exercise is complete.")).to_be_visible()

    page.get_by_role("link", name="My data").click()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Tandem")
    page.reload()  # the refresh cookie was revoked: nobody is signed in any more
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome to Tandem")
    assert errors == []


@pytest.mark.parametrize(
    ("who", "heading", "line", "help_link"),
    [
        ("en", "You don't have to face this alone", "tel:988", "Get help now"),
        ("fr", "Vous n’avez pas à traverser cela seul·e", "tel:3114", "Obtenir de l’aide maintenant"),
    ],
)
def test_a_high_risk_note_shows_the_crisis_lines_of_the_clients_country_at_once(
    world: World, context: BrowserContext, who: str, heading: str, line: str, help_link: str
) -> None:
    page = context.new_page()
    sign_in(page, world.base, world.emails[who])
    check_in(page, "2", HIGH_RISK_NOTE[who])
    alert = page.get_by_role("alert")
    expect(alert.get_by_role("heading", level=1)).to_have_text(heading)
    expect(alert.locator(f'a[href="{line}"]')).to_be_visible()
    assert alert.locator('a[href^="tel:"]').count() >= 2  # the crisis line and the emergency number
    expect(alert).to_contain_text("Your care team will see this" if who == "en" else "Votre équipe de soin verra")

    # "Get help now" works with no network at all: the lines were kept on the phone at sign-in.
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    context.set_offline(True)
    page.get_by_role("link", name=help_link).click()
    expect(page.locator(f'a[href="{line}"]')).to_be_visible()
    context.set_offline(False)
    assert [url for url in requests if "/api/" in url] == []


def test_an_offline_checkin_waits_on_the_phone_and_is_sent_once(world: World, context: BrowserContext) -> None:
    page = context.new_page()
    sign_in(page, world.base, world.emails["offline"])
    context.set_offline(True)
    # A note with no risk words at all: the learned risk screen reads "Written on the train" as
    # moderate (a known false alarm, tests/risk/labelled/README.md), and a crisis block comes first.
    check_in(page, "6", "Written on the sofa with a cup of tea")
    expect(page.get_by_text("You are offline")).to_be_visible()
    expect(page.locator("#pending")).to_have_text(re.compile("Waiting to be sent: 1"))
    assert _checkins(world, world.emails["offline"]) == []
    context.set_offline(False)
    expect(page.get_by_text("Sent now: 1")).to_be_visible()
    expect(page.locator("#pending")).to_be_hidden()
    page.evaluate("window.dispatchEvent(new Event('online'))")  # a second "online" sends nothing again
    page.reload()
    expect(page.get_by_text("You have checked in today.")).to_be_visible()
    [saved] = _checkins(world, world.emails["offline"])
    assert saved.mood == 6


def test_a_forgotten_password_is_reset_from_the_emailed_link(world: World, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{world.base}/app/#/signin")
    page.get_by_role("link", name="Forgot your password?").click()
    # The sign-in screen has an Email field too: type only once the new screen is there, as a person would.
    expect(page.get_by_role("heading", level=1)).to_have_text("Forgotten password")
    page.get_by_label("Email").fill(world.emails["reset"])
    before = len(world.mailbox.messages)
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_text("a link is on its way")).to_be_visible()
    message = world.mailbox.wait_for_one_to(world.emails["reset"], after=before, timeout=30)
    link = re.search(r"http\S+#/reset\?token=\S+", message.get_body(preferencelist=("plain",)).get_content())
    assert link is not None
    page.goto(link.group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    expect(page).not_to_have_url(re.compile("token="))  # taken out of the address bar and history
    page.get_by_label("New password").fill("copper-orchard-sailing-93")
    page.get_by_role("button", name="Save the new password").click()
    expect(page.get_by_text("Your password is changed.")).to_be_visible()
    sign_in(page, world.base, world.emails["reset"], "copper-orchard-sailing-93")


def test_every_action_is_reachable_with_the_keyboard_alone(world: World, context: BrowserContext) -> None:
    page = context.new_page()
    page.goto(f"{world.base}/app/#/signin")
    focused = lambda: page.evaluate("document.activeElement.id || document.activeElement.textContent")  # noqa: E731

    def tab_to(predicate: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"(() => {{ const e = document.activeElement; return {predicate}; }})()"):
                return
        raise AssertionError(f"never reached {predicate}; last focus {focused()}")

    tab_to("e.type === 'email'")
    page.keyboard.type(world.emails["keys"])
    tab_to("e.type === 'password'")
    page.keyboard.type(CLIENT_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Client keys")
    tab_to("e.textContent === 'Check in' && e.closest('nav') !== null")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check-in")
    tab_to("e.id === 'mood'")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    tab_to("e.name === 'note'")
    page.keyboard.type("Typed without a mouse")
    tab_to("e.type === 'submit'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_have_text("Your check-in is saved.")
    assert [c.mood for c in _checkins(world, world.emails["keys"])] == [8]
    page.keyboard.press("Shift+Tab")  # from the heading, back up to the frame
    tab_to("e.textContent === 'Get help now'")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Get help now")


@pytest.mark.parametrize(
    ("language", "title", "line", "download"),
    [
        ("en", "Your care with Riverside has ended", "tel:988", "Download my data"),
        ("fr", "Votre suivi avec Riverside a pris fin", "tel:3114", "Télécharger mes données"),
    ],
)
def test_a_client_whose_care_ended_is_told_so_and_downloads_their_data(
    world: World, browser: Browser, language: str, title: str, line: str, download: str
) -> None:
    """Signing in after discharge opens a screen that says care has ended, where help is, and keeps
    the client's data within reach as a file; on a phone and a desktop, with no axe-core violation."""
    # axe is injected as a script, which the app's own CSP rightly refuses: this context bypasses it.
    context = browser.new_context(
        viewport=PHONE,
        locale="fr-FR" if language == "fr" else "en-US",
        bypass_csp=True,
        service_workers="block",
        accept_downloads=True,
    )
    context.set_default_timeout(15_000)
    try:
        page = preload_axe(context).new_page()
        errors = _errors(page)
        page.goto(f"{world.base}/app/#/signin")
        page.get_by_label(re.compile("^(Email|E-mail)$")).fill(world.emails[f"ended-{language}"])
        page.get_by_label(re.compile("^(Password|Mot de passe)$")).fill(CLIENT_PASSWORD)
        page.get_by_role("button", name=re.compile("^(Sign in|Se connecter)$")).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(title)
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator(f'a[href="{line}"]')).to_be_visible()  # the crisis line of their country
        expect(page.get_by_role("navigation").get_by_role("link")).to_have_count(0)  # nothing else to open

        found: list[str] = []
        for size in (PHONE, DESKTOP):
            page.set_viewport_size(size)
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                found.append(f"{size['width']}px: the screen is {widths[0]}px wide in a {widths[1]}px window")
            found += _axe(page, f"after care {size['width']}px")
        assert found == []

        with page.expect_download() as downloading:
            page.get_by_role("button", name=download).click()
        file = downloading.value
        assert file.suggested_filename == "tandem-my-data.json"
        exported = json.loads(Path(file.path()).read_text(encoding="utf-8"))
        assert sorted(entry["note"] for entry in exported["checkins"]) == sorted(AFTER_CARE_NOTES[language])
        assert exported["profile"]["status"] == "discharged"
        expect(page.get_by_role("status").first).to_have_text(
            "Your data is downloaded." if language == "en" else "Vos données sont téléchargées."
        )
        assert errors == []
    finally:
        context.close()


def _axe(page: Page, screen: str) -> list[str]:
    expect(page.locator('a[href="#/help"]')).to_have_count(1)  # "Get help now" on every screen
    return [f"{screen}: {violation}" for violation in axe_violations(page)]


@pytest.mark.parametrize("language", ["en", "fr"])
def test_no_screen_has_a_serious_accessibility_violation(world: World, browser: Browser, language: str) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing; run `npm ci` (make test does)")
    # axe is injected as a script, which the app's own CSP rightly refuses: this context bypasses it.
    context = browser.new_context(
        viewport=PHONE, locale="fr-FR" if language == "fr" else "en-US", bypass_csp=True, service_workers="block"
    )
    context.set_default_timeout(15_000)
    page = preload_axe(context).new_page()
    found: list[str] = []
    try:
        page.goto(f"{world.base}/app/#/welcome")
        expect(page.locator("html")).to_have_attribute("lang", language)
        found += _axe(page, "welcome")
        for screen in ("activate", "signin", "forgot", "reset", "help"):
            page.goto(f"{world.base}/app/#/{screen}")
            page.locator("#screen-title").wait_for()
            found += _axe(page, screen)
        sign_in(page, world.base, world.emails[f"axe-{language}"])
        found += _axe(page, "home")
        for screen in ("checkin", "data", "measure/phq9"):
            page.goto(f"{world.base}/app/#/{screen}")
            page.locator("#screen-title").wait_for()
            page.wait_for_function("!document.getElementById('main').hasAttribute('aria-busy')")
            found += _axe(page, screen)
        page.goto(f"{world.base}/app/#/home")
        page.locator("ul.cards a[href^='#/exercise/']").first.click()
        page.get_by_role("log").wait_for()
        found += _axe(page, "exercise")
        check_in(page, "2", HIGH_RISK_NOTE[language])
        page.get_by_role("alert").wait_for()
        found += _axe(page, "crisis")
    finally:
        context.close()
    assert found == []


def test_the_installed_app_opens_offline_and_still_shows_the_crisis_lines(world: World, browser: Browser) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US")  # service workers allowed here
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, world.base, world.emails["en"])
        page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("caches.keys().then(keys => keys.length > 0)")
        manifest = page.evaluate("fetch('/app/manifest.webmanifest').then(r => r.json())")
        assert manifest["display"] == "standalone" and manifest["icons"]
        context.set_offline(True)
        page.reload()
        page.get_by_role("link", name="Get help now").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Get help now")
        expect(page.locator('a[href="tel:988"]')).to_be_visible()
    finally:
        context.close()
