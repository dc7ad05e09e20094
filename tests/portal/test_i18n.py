"""Every portal text exists in French, and pages speak the clinic's language or the one picked."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlmodel import Session

import clinician_portal
from service.kit.i18n import LOCALES_DIR
from tests.factories import ClinicSetup, create_clinic, invite_patient
from tests.portal.conftest import Portal, reload, sessions_of

PORTAL = Path(clinician_portal.__file__).parent
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def _portal_messages() -> list[str | tuple[str, ...]]:
    found: dict[object, None] = {}
    for _, _, message, _, _ in extract_from_dir(
        str(PORTAL),
        [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")],
        options_map={"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}},
    ):
        found[message] = None
    return list(found)  # type: ignore[arg-type]


def test_every_portal_message_has_a_french_translation_with_the_same_placeholders() -> None:
    with (LOCALES_DIR / "fr" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    messages = _portal_messages()
    assert len(messages) > 150
    problems = []
    for message in messages:
        key = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(key)
        if entry is None or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            problems.append(f"untranslated: {key!r}")
            continue
        for translated in entry.string if isinstance(entry.string, tuple) else (entry.string,):
            if sorted(_PLACEHOLDER.findall(translated)) != sorted(_PLACEHOLDER.findall(key)):
                problems.append(f"placeholders differ: {key!r}")
    assert problems == []


def test_the_invitation_letter_has_the_same_parts_in_english_and_french() -> None:
    with (PORTAL / "letters" / "invitation.toml").open("rb") as source:
        letter = tomllib.load(source)
    assert letter["en"].keys() == letter["fr"].keys()
    assert len(letter["en"]["steps"]) == len(letter["fr"]["steps"])
    for key, english in letter["en"].items():
        french = letter["fr"][key]
        english_text = " ".join(english) if isinstance(english, list) else english
        french_text = " ".join(french) if isinstance(french, list) else french
        assert set(_PLACEHOLDER.findall(english_text)) == set(_PLACEHOLDER.findall(french_text)), key


@pytest.fixture
def lyon(session: Session) -> ClinicSetup:
    setup = create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris")
    invite_patient(session, setup, name="Léa Bernard")
    return setup


def test_a_french_clinic_gets_french_pages(portal: Portal, lyon: ClinicSetup, session: Session) -> None:
    portal.login_ok(lyon.clinician.email, lyon.clinician_password)
    home = portal.get("/portal/")
    assert '<html lang="fr">' in home.text
    assert "Ma file active" in home.text and "Ajouter un patient" in home.text and "1 patient" in home.text
    assert "En attente jusqu’au" in home.text and "Invité" in home.text
    patient_id = re.search(r'href="/portal/patients/([0-9a-f-]{36})"', home.text).group(1)  # type: ignore[union-attr]
    page = portal.get(f"/portal/patients/{patient_id}").text
    assert "Prochain rendez-vous" in page and "Fuseau horaire" in page and "France" in page
    assert "Français" in page  # the patient's language, named in itself
    missing = portal.get("/portal/patients/not-a-patient")
    assert missing.status_code == 404 and "Page introuvable" in missing.text and "Patient introuvable." in missing.text


def test_a_french_patient_letter_and_french_dates(portal: Portal, lyon: ClinicSetup) -> None:
    portal.login_ok(lyon.admin.email, lyon.admin_password)
    answer = portal.follow(
        portal.submit(
            "/portal/patients/new",
            "/portal/patients",
            {"display_name": "Hugo Moreau", "clinician_id": lyon.clinician.id},
        )
    )
    assert answer.status_code == 200
    assert "Ce code n’est affiché qu’une seule fois." in answer.text
    assert "Votre invitation à Tandem" in answer.text and "Bonjour Hugo Moreau," in answer.text
    assert re.search(r"expire le \d{1,2} \w+ \d{4}", answer.text)


def test_an_english_letter_for_an_english_patient_of_a_french_clinic(portal: Portal, lyon: ClinicSetup) -> None:
    portal.login_ok(lyon.admin.email, lyon.admin_password)
    answer = portal.follow(
        portal.submit(
            "/portal/patients/new",
            "/portal/patients",
            {"display_name": "Alex Morgan", "locale": "en", "clinician_id": lyon.clinician.id},
        )
    )
    assert "Nouvelle invitation" not in answer.text and "Ce code n’est affiché qu’une seule fois." in answer.text
    assert '<article class="letter" lang="en">' in answer.text and "Dear Alex Morgan," in answer.text


def test_the_language_switch_changes_the_pages_for_this_session(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert "My caseload" in portal.get("/portal/").text
    switched = portal.submit("/portal/", "/portal/language", {"locale": "fr", "next": "/portal/?sort=status"})
    assert switched.status_code == 303 and switched.headers["location"] == "/portal/?sort=status"
    assert "Ma file active" in portal.get("/portal/").text
    assert sessions_of(session, clinic.clinician)[0].locale == "fr"
    portal.submit("/portal/", "/portal/language", {"locale": "en"})
    assert "My caseload" in portal.get("/portal/").text


def test_the_language_picked_before_sign_in_is_kept_after_it(portal: Portal, clinic: ClinicSetup) -> None:
    portal.submit("/portal/login", "/portal/language", {"locale": "fr", "next": "/portal/login"})
    login = portal.get("/portal/login")
    assert "Connexion au portail des thérapeutes" in login.text
    failed = portal.login(clinic.clinician.email, "wrong-password-here")
    assert "La connexion a échoué." in failed.text
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert "Ma file active" in portal.get("/portal/").text


def test_the_browser_language_is_used_before_sign_in(portal: Portal) -> None:
    french = portal.get("/portal/login", headers={"Accept-Language": "fr-CA,fr;q=0.9,en;q=0.5"})
    assert "Connexion au portail des thérapeutes" in french.text
    german = portal.get("/portal/login", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert "Sign in to the clinician portal" in german.text


def test_an_unknown_language_is_refused(portal: Portal, clinic: ClinicSetup) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    answer = portal.submit("/portal/", "/portal/language", {"locale": "de"})
    assert answer.status_code == 422


def test_french_mfa_setup_and_admin_pages(portal: Portal, session: Session) -> None:
    setup = create_clinic(
        session, name="Centre Sûr", locale="fr", country="FR", timezone="Europe/Paris", mfa_required=True
    )
    portal.login_ok(setup.admin.email, setup.admin_password)
    enrol = portal.get("/portal/enrol").text
    assert "Configurer votre compte" in enrol and "application d’authentification" in enrol
    assert reload(session, setup.admin).totp_secret in enrol
