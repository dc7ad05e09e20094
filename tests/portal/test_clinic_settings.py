"""The clinic settings page: administrators only, post/redirect/get, every change audited with
before and after (never the single sign-on secret), bad input gives the form back (422) and changes
nothing, and what is saved is what the rest of Tandem uses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from clinician_portal import oidc
from service.alerts.policy import deadline
from service.alerts.timing import opening_hours
from service.models import AuditEvent, Severity
from service.onboarding.clinic_settings import retention_years
from tests.factories import ClinicSetup
from tests.portal.conftest import Portal, reload

SECRET = "s3cret-of-the-idp-Qx81"


def _form(**changes: str) -> dict[str, str]:
    form = {
        "name": "Centre Tandem Lyon",
        "locale": "fr",
        "country": "FR",
        "timezone": "Europe/Paris",
        "open_mon": "1",
        "opens_mon": "08:30",
        "closes_mon": "18:00",
        "open_tue": "1",
        "opens_tue": "08:30",
        "closes_tue": "18:00",
        "crisis_en": "Call the clinic on +33 4 00 00 00 00.",
        "crisis_fr": "Appelez le centre au +33 4 00 00 00 00.",
        "deadline_urgent": "10",
        "deadline_priority": "120",
        "deadline_routine": "1440",
        "mfa_required": "1",
        "sso_issuer": "https://login.example.org/realms/lyon",
        "sso_client_id": "tandem-lyon",
        "sso_client_secret": SECRET,
        "retention_years": "25",
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


def _settings_events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "clinic.settings")).all())


@pytest.fixture
def admin(portal: Portal, clinic: ClinicSetup) -> Portal:
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    return portal


def test_only_administrators_reach_the_settings(portal: Portal, clinic: ClinicSetup) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    assert portal.get("/portal/clinic/settings").status_code == 403
    assert "Clinic settings" not in portal.get("/portal/").text


def test_saving_redirects_with_a_message_and_the_rest_of_tandem_uses_the_settings(
    admin: Portal, clinic: ClinicSetup, session: Session
) -> None:
    saved = admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form())
    assert saved.status_code == 303 and saved.headers["location"] == "/portal/clinic/settings?saved=1"
    shown = admin.get(saved.headers["location"])
    assert "Les paramètres du centre sont enregistrés." in shown.text  # the clinic now speaks French
    row = reload(session, clinic.clinic)
    assert (row.name, row.locale, row.country, row.timezone) == ("Centre Tandem Lyon", "fr", "FR", "Europe/Paris")
    assert row.crisis_instructions["fr"].startswith("Appelez")
    assert deadline(row, Severity.URGENT) == timedelta(minutes=10)
    assert deadline(row, Severity.PRIORITY) == timedelta(minutes=120)
    hours = opening_hours(row)
    assert set(hours) == {0, 1} and hours[0][0].strftime("%H:%M") == "08:30"
    # The erasure queue keeps records under art. 17(3) for the period set here.
    assert retention_years(row) == 25 == row.record_retention_years and row.mfa_required
    provider = oidc.provider_for(row)
    assert provider is not None and provider.client_secret == SECRET and provider.client_id == "tandem-lyon"


def test_the_secret_is_stored_encrypted_never_shown_and_never_audited(
    admin: Portal, clinic: ClinicSetup, session: Session
) -> None:
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form())
    row = reload(session, clinic.clinic)
    assert SECRET not in json.dumps(row.settings)
    page = admin.get("/portal/clinic/settings")
    assert SECRET not in page.text
    assert "Un secret est enregistré" in page.text  # the clinic speaks French now
    # Saving again with the secret left empty keeps it.
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form(sso_client_secret="", name="Lyon"))
    assert oidc.provider_for(reload(session, clinic.clinic)).client_secret == SECRET  # type: ignore[union-attr]
    events = _settings_events(session)
    assert len(events) == 2
    assert all(SECRET not in json.dumps(event.detail) for event in events)
    first = events[0].detail["changes"]
    assert first["timezone"] == {"before": "America/New_York", "after": "Europe/Paris"}
    assert first["sso_client_secret"] == {"before": "not set", "after": "set"}
    assert events[1].detail["changes"] == {"name": {"before": "Centre Tandem Lyon", "after": "Lyon"}}


def test_saving_without_a_change_writes_no_audit_row(admin: Portal, clinic: ClinicSetup, session: Session) -> None:
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form())
    again = admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form(sso_client_secret=""))
    assert again.headers["location"] == "/portal/clinic/settings?saved=0"
    assert len(_settings_events(session)) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("timezone", "Europe/Atlantis"),
        ("timezone", "../../etc/passwd"),
        ("locale", "de"),
        ("country", "ZZ"),
        ("name", "   "),
        ("deadline_urgent", "1"),
        ("deadline_urgent", "abc"),
        ("deadline_priority", "99999"),
        ("deadline_routine", "-5"),
        ("retention_years", "0"),
        ("retention_years", "1e3"),
        ("closes_mon", "07:00"),
        ("opens_mon", "25:99"),
        ("sso_issuer", "http://idp.example.org"),
        ("sso_issuer", "javascript:alert(1)"),
        ("sso_client_id", ""),
        ("crisis_fr", "x" * 2001),
    ],
)
def test_bad_input_gives_the_form_back_with_the_error_and_changes_nothing(
    admin: Portal, clinic: ClinicSetup, session: Session, field: str, value: str
) -> None:
    answer = admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form(**{field: value}))
    assert answer.status_code == 422, answer.text
    assert "Some settings need correcting; nothing was saved." in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert SECRET not in answer.text  # the typed secret is not sent back either
    row = reload(session, clinic.clinic)
    assert (row.name, row.timezone, row.locale) == ("Test Clinic", "America/New_York", "en")
    assert _settings_events(session) == []


def test_deadlines_must_keep_their_order(admin: Portal, clinic: ClinicSetup, session: Session) -> None:
    answer = admin.submit(
        "/portal/clinic/settings",
        "/portal/clinic/settings",
        _form(deadline_urgent="60", deadline_priority="30", deadline_routine="1440"),
    )
    assert answer.status_code == 422
    assert reload(session, clinic.clinic).escalation_minutes == {}


def test_a_clinic_without_opening_hours_is_told_only_the_deadline(
    admin: Portal, clinic: ClinicSetup, session: Session
) -> None:
    form = {k: v for k, v in _form().items() if not k.startswith("open_")}
    assert admin.submit("/portal/clinic/settings", "/portal/clinic/settings", form).status_code == 303
    assert opening_hours(reload(session, clinic.clinic)) == {}


def test_turning_single_sign_on_off_forgets_the_secret(admin: Portal, clinic: ClinicSetup, session: Session) -> None:
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form())
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form(sso_client_secret="", sso_remove="1"))
    row = reload(session, clinic.clinic)
    assert "oidc" not in row.settings
    changes = _settings_events(session)[-1].detail["changes"]
    assert changes["sso_client_secret"] == {"before": "set", "after": "not set"}


def test_the_settings_page_in_both_languages(admin: Portal, clinic: ClinicSetup, session: Session) -> None:
    english = admin.get("/portal/clinic/settings")
    assert english.status_code == 200 and "Alert deadlines" in english.text and "Wednesday" in english.text
    admin.submit("/portal/clinic/settings", "/portal/clinic/settings", _form())
    french = admin.get("/portal/clinic/settings")
    assert "Délais des alertes" in french.text and "Mercredi" in french.text


def test_the_form_shows_the_policy_defaults_in_force_before_the_clinic_sets_its_own(admin: Portal) -> None:
    page = admin.get("/portal/clinic/settings").text
    assert 'name="open_mon" value="1" aria-labelledby="day-mon open-label-mon" checked' in page
    assert 'name="open_sat" value="1" aria-labelledby="day-sat open-label-sat">' in page
    assert 'name="deadline_urgent" type="number"' in page and 'value="15"' in page
