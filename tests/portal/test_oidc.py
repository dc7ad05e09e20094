"""Single sign-on against a real OpenID provider on loopback: code flow, PKCE, state, nonce, mapping."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from clinician_portal import oidc
from service.config import get_settings
from service.models import Staff
from tests.factories import ClinicSetup
from tests.portal.conftest import Portal, actions, reload
from tests.portal.oidc_provider import RunningProvider, User, running_provider, s256

CLIENT_ID = "tandem-portal-tests"
# The mock provider (not Tandem) calls an Authlib API that Authlib marks as deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch, clinic: ClinicSetup) -> Iterator[RunningProvider]:
    users = [
        User(sub="sso-chris", claims={"email": clinic.clinician.email, "email_verified": True, "name": "Chris"}),
        User(sub="sso-unverified", claims={"email": clinic.admin.email, "email_verified": False}),
        User(sub="sso-stranger", claims={"email": "stranger@elsewhere.example.org", "email_verified": True}),
    ]
    with running_provider(users) as running:
        monkeypatch.setenv("TANDEM_OIDC_ISSUER", running.issuer)
        monkeypatch.setenv("TANDEM_OIDC_CLIENT_ID", CLIENT_ID)
        monkeypatch.setenv("TANDEM_OIDC_CLIENT_SECRET", "client-secret-for-tests")
        monkeypatch.setenv("TANDEM_BASE_URL", "http://testserver")
        get_settings.cache_clear()
        yield running
    get_settings.cache_clear()


def _sign_in_at_provider(portal: Portal, provider: RunningProvider, subject: str, start: str = "/portal/login/oidc"):  # type: ignore[no-untyped-def]
    begun = portal.get(start)
    assert begun.status_code == 302, begun.text
    authorize_url = begun.headers["location"]
    assert authorize_url.startswith(f"{provider.issuer}/oauth2/authorize?")
    back = provider.authorize_url_answer(authorize_url, subject)
    assert back.startswith("http://testserver/portal/login/oidc/callback?")
    return portal.get(back.removeprefix("http://testserver"))


def test_sso_is_explained_when_not_configured(portal: Portal) -> None:
    answer = portal.get("/portal/login/oidc")
    assert answer.status_code == 200
    assert "Single sign-on is not set up" in answer.text
    assert "Sign in with single sign-on" not in portal.get("/portal/login").text


def test_sso_not_configured_page_speaks_french(portal: Portal) -> None:
    answer = portal.get("/portal/login/oidc", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "L’authentification unique n’est pas configurée" in answer.text
    assert '<html lang="fr">' in answer.text


def test_authorization_request_uses_pkce_s256_state_and_nonce(portal: Portal, provider: RunningProvider) -> None:
    begun = portal.get("/portal/login/oidc")
    query = parse_qs(urlparse(begun.headers["location"]).query)
    assert query["response_type"] == ["code"]
    assert query["client_id"] == [CLIENT_ID]
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) >= 20 and len(query["nonce"][0]) >= 20
    assert "openid" in query["scope"][0].split()
    assert query["redirect_uri"] == ["http://testserver/portal/login/oidc/callback"]
    assert "Sign in with single sign-on" in portal.get("/portal/login").text


def test_first_sso_login_matches_the_verified_email_and_remembers_the_subject(
    portal: Portal, provider: RunningProvider, clinic: ClinicSetup, session: Session
) -> None:
    answer = _sign_in_at_provider(portal, provider, "sso-chris")
    assert answer.status_code == 303 and answer.headers["location"] == "/portal/"
    home = portal.get("/portal/")
    assert home.status_code == 200 and "My caseload" in home.text
    staff = reload(session, clinic.clinician)
    assert (staff.oidc_issuer, staff.oidc_subject) == (provider.issuer, "sso-chris")
    done = actions(session, actor_id=staff.id)  # then the caseload it opened ("patient.list")
    assert done.count("staff.oidc_link") == 1 and done[done.index("staff.oidc_link") + 1] == "staff.login"
    assert provider.pkce.refused_token_requests == 0  # the verifier matched the challenge


def test_later_sso_logins_match_the_subject_even_if_the_email_changes(
    portal: Portal, other_portal: Portal, provider: RunningProvider, clinic: ClinicSetup
) -> None:
    _sign_in_at_provider(portal, provider, "sso-chris")
    provider.set_user("sso-chris", {"email": "chris.new@elsewhere.example.org", "email_verified": True})
    answer = _sign_in_at_provider(other_portal, provider, "sso-chris")
    assert answer.status_code == 303 and other_portal.get("/portal/").status_code == 200


def test_an_unknown_identity_is_refused_and_no_account_is_created(
    portal: Portal, provider: RunningProvider, session: Session
) -> None:
    before = session.exec(select(func.count()).select_from(Staff)).one()
    answer = _sign_in_at_provider(portal, provider, "sso-stranger")
    assert answer.status_code == 403
    assert "No Tandem account for this identity" in answer.text
    assert "tandem_portal_session" not in answer.cookies
    assert session.exec(select(func.count()).select_from(Staff)).one() == before
    assert portal.get("/portal/").status_code == 303  # still signed out
    assert "staff.login_failed" in actions(session)


def test_an_unverified_email_does_not_match_an_account(
    portal: Portal, provider: RunningProvider, clinic: ClinicSetup, session: Session
) -> None:
    answer = _sign_in_at_provider(portal, provider, "sso-unverified")
    assert answer.status_code == 403
    assert reload(session, clinic.admin).oidc_subject is None


def test_a_deactivated_account_cannot_sign_in_with_sso(
    portal: Portal, provider: RunningProvider, clinic: ClinicSetup, session: Session
) -> None:
    staff = reload(session, clinic.clinician)
    staff.active = False
    session.add(staff)
    session.commit()
    assert _sign_in_at_provider(portal, provider, "sso-chris").status_code == 403


def test_a_callback_with_a_forged_state_is_refused(portal: Portal, provider: RunningProvider) -> None:
    begun = portal.get("/portal/login/oidc")
    back = provider.authorize_url_answer(begun.headers["location"], "sso-chris")
    forged = back.replace("state=", "state=x")
    answer = portal.get(forged.removeprefix("http://testserver"))
    assert answer.status_code == 400 and "did not complete" in answer.text
    assert portal.get("/portal/").status_code == 303


def test_a_callback_in_another_browser_is_refused(
    portal: Portal, other_portal: Portal, provider: RunningProvider
) -> None:
    begun = portal.get("/portal/login/oidc")
    back = provider.authorize_url_answer(begun.headers["location"], "sso-chris")
    answer = other_portal.get(back.removeprefix("http://testserver"))
    assert answer.status_code == 400 and "expired" in answer.text


def test_a_callback_cannot_be_replayed(portal: Portal, provider: RunningProvider) -> None:
    begun = portal.get("/portal/login/oidc")
    back = provider.authorize_url_answer(begun.headers["location"], "sso-chris").removeprefix("http://testserver")
    assert portal.get(back).status_code == 303
    assert portal.get(back).status_code == 400


def test_the_provider_refuses_a_wrong_code_verifier(provider: RunningProvider) -> None:
    # Proves the PKCE check in front of the mock is real, so the successful logins above prove ours.
    url, remembered = oidc.start(oidc.provider_for(), "http://testserver/portal/login/oidc/callback")  # type: ignore[arg-type]
    assert parse_qs(urlparse(url).query)["code_challenge"] == [s256(remembered["code_verifier"])]
    code = parse_qs(urlparse(provider.authorize_url_answer(url, "sso-chris")).query)["code"][0]
    answer = httpx.post(
        f"{provider.issuer}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": remembered["redirect_uri"],
            "code_verifier": "not-the-verifier-" + "x" * 40,
            "client_id": CLIENT_ID,
        },
    )
    assert answer.status_code == 400 and provider.pkce.refused_token_requests == 1


def test_an_id_token_with_another_nonce_is_refused(provider: RunningProvider) -> None:
    settings_provider = oidc.provider_for()
    assert settings_provider is not None
    url, remembered = oidc.start(settings_provider, "http://testserver/portal/login/oidc/callback")
    back = provider.authorize_url_answer(url, "sso-chris")
    params = {k: v[0] for k, v in parse_qs(urlparse(back).query).items()}
    with pytest.raises(oidc.SingleSignOnFailed) as refused:
        oidc.finish(settings_provider, {**remembered, "nonce": "a-different-nonce"}, params)
    assert refused.value.reason.startswith("invalid_token")


def test_an_id_token_for_another_client_is_refused(provider: RunningProvider) -> None:
    ours = oidc.provider_for()
    assert ours is not None
    url, remembered = oidc.start(ours, "http://testserver/portal/login/oidc/callback")
    back = provider.authorize_url_answer(url, "sso-chris")
    params = {k: v[0] for k, v in parse_qs(urlparse(back).query).items()}
    impostor = oidc.Provider(ours.issuer, "another-client", ours.client_secret, ours.scopes)
    with pytest.raises(oidc.SingleSignOnFailed):
        oidc.finish(impostor, remembered, params)


def test_an_unreachable_provider_gives_a_clear_page(
    portal: Portal, monkeypatch: pytest.MonkeyPatch, clinic: ClinicSetup
) -> None:
    from tests.support.server import free_port

    monkeypatch.setenv("TANDEM_OIDC_ISSUER", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("TANDEM_OIDC_CLIENT_ID", CLIENT_ID)
    get_settings.cache_clear()
    answer = portal.get("/portal/login/oidc")
    assert answer.status_code == 502 and "not answering" in answer.text


def test_a_clinic_can_have_its_own_identity_provider(
    portal: Portal, clinic: ClinicSetup, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_provider([User(sub="own-1", claims={"email": clinic.admin.email, "email_verified": True})]) as own:
        monkeypatch.setenv("TANDEM_BASE_URL", "http://testserver")
        get_settings.cache_clear()
        row = reload(session, clinic.clinic)
        row.settings = {"oidc": {"issuer": own.issuer, "client_id": "clinic-client", "client_secret": "s"}}
        session.add(row)
        session.commit()
        answer = _sign_in_at_provider(portal, own, "own-1", start=f"/portal/login/oidc?clinic={clinic.clinic.id}")
        assert answer.status_code == 303
        assert reload(session, clinic.admin).oidc_issuer == own.issuer


def test_single_sign_on_set_up_on_the_settings_page_signs_staff_in_and_leaves_no_local_password(
    portal: Portal, other_portal: Portal, clinic: ClinicSetup, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.portal.test_clinic_settings import _form

    users = [User(sub="lyon-chris", claims={"email": clinic.clinician.email, "email_verified": True})]
    with running_provider(users) as own:
        monkeypatch.setenv("TANDEM_BASE_URL", "http://testserver")
        get_settings.cache_clear()
        portal.login_ok(clinic.admin.email, clinic.admin_password)
        form = _form(locale="en", sso_issuer=own.issuer, sso_client_id="clinic-lyon", sso_client_secret="lyon-secret")
        assert portal.submit("/portal/clinic/settings", "/portal/clinic/settings", form).status_code == 303
        assert f"/portal/login/oidc?clinic={clinic.clinic.id}" in portal.get("/portal/clinic/settings").text

        start = f"/portal/login/oidc?clinic={clinic.clinic.id}"
        answer = _sign_in_at_provider(other_portal, own, "lyon-chris", start=start)
        assert answer.status_code == 303 and answer.headers["location"] == "/portal/"
        page = other_portal.get("/portal/account")
        assert "You sign in with single sign-on" in page.text and 'name="new_password"' not in page.text
    staff = reload(session, clinic.clinician)
    assert staff.oidc_issuer == own.issuer and staff.password_hash is None
    stranger = Portal(other_portal.client)
    assert stranger.login(clinic.clinician.email, clinic.clinician_password).status_code == 401
