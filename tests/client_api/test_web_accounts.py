"""What the web app needs from the API: the refresh cookie, password reset, password change,
language, and where the app and the offline API docs are served."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service import notify
from service.models import PasswordResetToken
from service.models.base import utcnow
from tests.factories import CLIENT_PASSWORD, active_patient, bearer, create_clinic

NEW_PASSWORD = "lantern-meadow-quartz-58"


def _sign_in(client: TestClient, email: str = "pat@example.org", password: str = CLIENT_PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_sign_in_sets_an_httponly_strict_refresh_cookie_scoped_to_the_refresh_path(
    client: TestClient, session: Session
) -> None:
    active_patient(session, create_clinic(session))
    answer = _sign_in(client)
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("tandem_refresh=")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/api/v1/auth/refresh" in cookie
    assert "Secure" not in cookie  # plain http in tests; Secure over https and in production


def test_refresh_accepts_the_cookie_and_rotates_it(client: TestClient, session: Session) -> None:
    active_patient(session, create_clinic(session))
    first = _sign_in(client).json()
    renewed = client.post("/api/v1/auth/refresh", json={})  # no token in the body: the cookie counts
    assert renewed.status_code == 200, renewed.text
    assert client.get("/api/v1/me", headers=bearer(renewed.json())).status_code == 200
    # The cookie's token was the body's token: it is spent now, and reuse revokes the family.
    reused = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401


def test_signing_out_the_browser_revokes_the_cookie_token(client: TestClient, session: Session) -> None:
    active_patient(session, create_clinic(session))
    tokens = _sign_in(client).json()
    out = client.delete("/api/v1/auth/refresh")
    assert out.status_code == 204
    assert 'tandem_refresh=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={}).status_code == 401


def _reset_link(mailbox) -> str:  # type: ignore[no-untyped-def]
    notify.deliver_due()
    messages = mailbox.wait_for(1)
    body = messages[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"(http\S+/app/#/reset\?token=\S+)", body).group(1)  # type: ignore[union-attr]


def test_password_reset_answers_the_same_for_unknown_and_known_addresses(
    client: TestClient, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    active_patient(session, create_clinic(session))
    unknown = client.post("/api/v1/auth/password-reset", json={"email": "nobody@example.org"})
    known = client.post("/api/v1/auth/password-reset", json={"email": "PAT@example.org"})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    notify.deliver_due()
    assert [m["To"] for m in mailbox.wait_for(1)] == ["pat@example.org"]


def test_password_reset_link_sets_a_new_password_once_and_signs_out_everywhere(
    client: TestClient, session: Session, mailbox
) -> None:  # type: ignore[no-untyped-def]
    _, tokens = active_patient(session, create_clinic(session))
    client.post("/api/v1/auth/password-reset", json={"email": "pat@example.org"})
    link = _reset_link(mailbox)
    token = link.split("token=")[1]
    weak = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": "password1"})
    assert weak.status_code == 422  # the activation policy; the link stays usable
    done = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert done.status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    assert _sign_in(client).status_code == 401
    assert _sign_in(client, password=NEW_PASSWORD).status_code == 200
    again = client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "password": "another-" + NEW_PASSWORD}
    )
    assert again.status_code == 422


def test_an_expired_password_reset_link_is_refused(client: TestClient, session: Session, mailbox) -> None:  # type: ignore[no-untyped-def]
    active_patient(session, create_clinic(session))
    client.post("/api/v1/auth/password-reset", json={"email": "pat@example.org"})
    token = _reset_link(mailbox).split("token=")[1]
    row = session.exec(select(PasswordResetToken)).one()
    assert row.expires_at - row.created_at == timedelta(minutes=30)
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    answer = client.post("/api/v1/auth/password-reset/confirm", json={"token": token, "password": NEW_PASSWORD})
    assert answer.status_code == 422
    assert _sign_in(client).status_code == 200


def test_a_client_changes_password_and_language(client: TestClient, session: Session) -> None:
    _, tokens = active_patient(session, create_clinic(session))
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it", "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    assert wrong.status_code == 401
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": CLIENT_PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(tokens),
    )
    assert changed.status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    fresh = _sign_in(client, password=NEW_PASSWORD).json()
    french = client.patch("/api/v1/me", json={"locale": "fr"}, headers=bearer(fresh))
    assert french.status_code == 200 and french.json()["locale"] == "fr"
    crisis = client.get("/api/v1/crisis-resources", headers=bearer(fresh)).json()
    assert "appelez" in crisis["message"].lower()
    assert client.patch("/api/v1/me", json={"locale": "de"}, headers=bearer(fresh)).status_code == 422


def test_the_app_is_served_under_a_strict_content_security_policy(client: TestClient) -> None:
    page = client.get("/app/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'self'" in policy
    assert '<script type="module" src="/app/app.js">' in page.text
    assert "<script>" not in page.text and "style=" not in page.text  # nothing inline
    assert client.get("/app/manifest.webmanifest").json()["start_url"] == "/app/"
    assert client.get("/app/sw.js").status_code == 200


def test_the_servers_address_shows_the_way_to_the_app_the_portal_and_the_api_docs(client: TestClient) -> None:
    root = client.get("/", follow_redirects=False)
    assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    assert "unsafe-inline" not in root.headers["content-security-policy"] and "style=" not in root.text
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', root.text)
    assert [href for href, _ in links] == ["/app/", "/portal/login", "/api/docs", "/app/#/help"]
    assert links[0][1] == "The Tandem app for patients" and links[3][1] == "Get help now"
    for href in ("/app/", "/portal/login", "/api/docs", "/app/landing.css"):
        assert client.get(href).status_code == 200
    french = client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
    assert '<html lang="fr">' in french.text and "Le portail des soignants" in french.text


def test_api_docs_load_their_assets_from_the_service_itself(client: TestClient) -> None:
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert sources and all(s.startswith("/api/docs-assets/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200
