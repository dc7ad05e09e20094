from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, select

from service.kit.context import Actor
from service.models import AuditEvent, ConsentRecord, Invitation, Patient, RefreshToken
from service.models.base import utcnow
from service.onboarding import invitations
from service.onboarding.consent import current_version
from tests.factories import CLIENT_PASSWORD, active_patient, bearer, create_clinic, invite_patient


def _activate(client: TestClient, code: str, **overrides: object):  # type: ignore[no-untyped-def]
    body = {
        "invite_code": code,
        "email": "new@example.org",
        "password": CLIENT_PASSWORD,
        "consent_version": current_version(),
    }
    body.update(overrides)
    return client.post("/api/v1/auth/activate", json=body)


def _count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_consent_text_comes_in_the_patients_language(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, code_fr = invite_patient(session, setup, name="Inès", locale="fr")
    answer = client.get("/api/v1/consent", params={"invite_code": code_fr})
    assert answer.status_code == 200
    assert answer.json()["version"] == current_version()
    assert "Consentement" in answer.json()["text"]


def test_activation_records_consent_and_returns_tokens(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    patient, code = invite_patient(session, setup)
    answer = _activate(client, code.lower().replace("-", " "))  # typed loosely from a letter
    assert answer.status_code == 201, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] > 0
    me = client.get("/api/v1/me", headers=bearer(tokens)).json()
    assert me["id"] == patient.id and me["status"] == "active" and me["consent_version"] == current_version()
    assert me["clinician"]["name"] == "Chris Clinician"
    consent = session.exec(select(ConsentRecord).where(ConsentRecord.patient_id == patient.id)).one()
    assert consent.version == current_version()
    actions = set(session.exec(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all())
    assert {"patient.create", "invitation.issue", "consent.accept", "client.activate"} <= actions


def test_a_used_invitation_cannot_activate_twice(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, code = invite_patient(session, setup)
    assert _activate(client, code).status_code == 201
    again = _activate(client, code, email="other@example.org")
    assert again.status_code == 422
    assert "not valid" in again.json()["detail"]


def test_expired_revoked_and_unknown_codes_are_refused_without_writing(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, expired = invite_patient(session, setup, name="A")
    _, revoked = invite_patient(session, setup, name="B")
    expired_patient = session.exec(
        select(Patient).where(
            Patient.id.in_(  # type: ignore[attr-defined]
                select(Invitation.patient_id)
            )
        )
    ).all()
    by_name = {p.display_name: p for p in expired_patient}
    expired_row = session.exec(select(Invitation).where(Invitation.patient_id == by_name["A"].id)).one()
    expired_row.expires_at = utcnow() - timedelta(minutes=1)
    revoked_row = session.exec(select(Invitation).where(Invitation.patient_id == by_name["B"].id)).one()
    invitations.revoke(session, invitation_id=revoked_row.id, actor=Actor.system("tests"))
    session.commit()
    before = _count(session, AuditEvent)
    for code in (expired, revoked, "ZZZZ-ZZZZ-ZZZZ"):
        answer = _activate(client, code)
        assert answer.status_code == 422
        assert answer.json()["detail"] == invitations.INVALID_CODE
        assert client.get("/api/v1/consent", params={"invite_code": code}).status_code == 422
    session.expire_all()
    assert _count(session, AuditEvent) == before
    assert _count(session, RefreshToken) == 0


def test_weak_passwords_and_wrong_consent_versions_are_refused(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    patient, code = invite_patient(session, setup)
    for password, reason in (("short", "at least"), ("password1234", "too common"), ("aaaaaaaaaaaa", "too common")):
        answer = _activate(client, code, password=password)
        assert answer.status_code == 422 and reason in answer.json()["detail"]
    wrong = _activate(client, code, consent_version="1999-01-01")
    assert wrong.status_code == 422 and "consent version" in wrong.json()["detail"]
    session.expire_all()
    assert session.get(Patient, patient.id).status == "invited"  # type: ignore[union-attr]
    assert _activate(client, code).status_code == 201  # the code is still usable after the refusals


def test_an_email_can_hold_only_one_account(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    active_patient(session, setup, email="taken@example.org")
    _, code = invite_patient(session, setup, name="Second")
    answer = _activate(client, code, email="Taken@Example.org")
    assert answer.status_code == 409
    assert "already exists" in answer.json()["detail"]


def test_login_failures_do_not_say_which_part_was_wrong(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    active_patient(session, setup, email="pat@example.org")
    wrong_password = client.post("/api/v1/auth/token", json={"email": "pat@example.org", "password": "nope-nope-nope"})
    unknown_email = client.post("/api/v1/auth/token", json={"email": "who@example.org", "password": CLIENT_PASSWORD})
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup)
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200
    newer = first.json()
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert replay.status_code == 401
    # The thief replayed an old token: the legitimate newer token is revoked too.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": newer["refresh_token"]}).status_code == 401


def test_logout_ends_the_refresh_family(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup)
    assert client.post("/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}).status_code == 204
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401


def test_me_needs_a_valid_token(client: TestClient, session: Session) -> None:
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401


def test_bad_bodies_get_a_4xx_and_never_a_500(client: TestClient, session: Session) -> None:
    malformed = client.post("/api/v1/auth/token", content=b"{not json", headers={"Content-Type": "application/json"})
    assert malformed.status_code == 422 and "detail" in malformed.json()
    wrong_type = client.post("/api/v1/auth/token", json={"email": 5, "password": ["x"]})
    assert wrong_type.status_code == 422
    extra = client.post("/api/v1/auth/token", json={"email": "a@b.c", "password": "x", "admin": True})
    assert extra.status_code == 422
    huge = client.post("/api/v1/auth/token", content=b"x" * 200_000, headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "larger than" in huge.json()["detail"]


def test_erasure_request_is_recorded_and_signs_the_client_out(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup)
    answer = client.delete("/api/v1/me", headers=bearer(tokens))
    assert answer.status_code == 202 and answer.json()["status"] == "requested"
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code == 401
    session.expire_all()
    assert session.get(Patient, patient.id).erasure_requested_at is not None  # type: ignore[union-attr]


def test_export_holds_the_profile_and_consents(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup, name="Robin Fox")
    data = client.get("/api/v1/me/export", headers=bearer(tokens)).json()
    assert data["profile"]["display_name"] == "Robin Fox"
    assert data["consents"][0]["version"] == current_version()


def test_failed_logins_and_token_reuse_stay_in_the_audit_log(client: TestClient, session: Session) -> None:
    setup = create_clinic(session)
    patient, tokens = active_patient(session, setup)
    client.post("/api/v1/auth/token", json={"email": "pat@example.org", "password": "wrong-wrong-wrong"})
    client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    session.expire_all()
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.patient_id == patient.id)).all()
    assert "client.login_failed" in actions and "client.refresh_reuse" in actions
