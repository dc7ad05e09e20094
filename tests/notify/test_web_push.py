"""Web Push end to end: the app's subscription, the outbox, a stand-in push service on loopback
(RFC 8030), the message decrypted as a browser would (RFC 8291) and the VAPID signature checked (RFC 8292)."""

from __future__ import annotations

import base64
import json
import os
import time
from datetime import UTC, datetime

import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from service import notify
from service.models import OutboxMessage, OutboxStatus, PushSubscription, ReminderPreference
from service.reminders.service import queue_due_reminders
from tests.factories import active_patient, bearer, create_clinic
from tests.support.push_service import push_service


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """The keys a browser makes when PushManager.subscribe() is called."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict[str, object]:
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(point), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, object]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        return json.loads(plain)


def check_vapid(authorization: str, server_key: str, audience: str) -> dict[str, object]:
    """Verify `vapid t=<JWT>, k=<key>` as a push service does; returns the JWT claims."""
    scheme, _, params = authorization.partition(" ")
    assert scheme == "vapid"
    parts = dict(p.strip().split("=", 1) for p in params.split(","))
    assert parts["k"] == server_key
    header, payload, signature = parts["t"].split(".")
    raw = unb64url(signature)
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parts["k"]))
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    assert json.loads(unb64url(header))["alg"] == "ES256"
    claims = json.loads(unb64url(payload))
    assert claims["aud"] == audience and claims["exp"] > time.time() and claims["sub"].startswith("mailto:")
    return claims


def test_a_reminder_reaches_the_browser_encrypted_signed_and_without_health_data(
    client: TestClient, session: Session
) -> None:
    patient, tokens = active_patient(session, create_clinic(session))
    with push_service() as service:
        browser = Browser(f"{service.base}/push/device-1")
        server_key = client.get("/api/v1/push/vapid-key").json()["application_server_key"]
        made = client.post("/api/v1/push/subscriptions", json=browser.subscription(), headers=bearer(tokens))
        assert made.status_code == 201, made.text
        assert made.json()["application_server_key"] == server_key
        saved = client.put("/api/v1/me/reminders", json={"enabled": True, "times": ["09:00"]}, headers=bearer(tokens))
        assert saved.json()["push_devices"] == 1
        session.expire_all()

        # 09:00 in New York (the patient's zone) on a winter day is 14:00 UTC.
        assert queue_due_reminders(session, now=datetime(2026, 1, 14, 14, 1, tzinfo=UTC)) == 1
        report = notify.deliver_due()
        assert len(report.sent) == 1 and not report.retried

        [message] = service.received
        assert message.path == "/push/device-1"
        assert message.headers["content-encoding"] == "aes128gcm" and int(message.headers["ttl"]) > 0
        check_vapid(message.headers["authorization"], server_key, service.base)
        shown = browser.decrypt(message.body)
        assert shown["title"] == "Tandem"
        assert shown["body"].startswith("Time for your check-in")
        assert patient.display_name not in json.dumps(shown)

        # Nothing twice: the job runs again a minute later.
        assert queue_due_reminders(session, now=datetime(2026, 1, 14, 14, 2, tzinfo=UTC)) == 0
        notify.deliver_due()
        assert len(service.received) == 1


def test_a_reminder_in_french_for_a_french_client(client: TestClient, session: Session) -> None:
    _, tokens = active_patient(session, create_clinic(session), locale="fr")
    with push_service() as service:
        browser = Browser(f"{service.base}/push/fr")
        client.post("/api/v1/push/subscriptions", json=browser.subscription(), headers=bearer(tokens))
        client.put("/api/v1/me/reminders", json={"enabled": True, "times": ["09:00"]}, headers=bearer(tokens))
        session.expire_all()
        queue_due_reminders(session, now=datetime(2026, 1, 14, 14, 1, tzinfo=UTC))
        notify.deliver_due()
        assert browser.decrypt(service.received[0].body)["body"].startswith("C'est l'heure de votre point du jour")


def test_a_subscription_the_push_service_calls_gone_is_dropped(client: TestClient, session: Session) -> None:
    patient, tokens = active_patient(session, create_clinic(session))
    with push_service() as service:
        browser = Browser(f"{service.base}/push/old-phone")
        service.gone.add("/push/old-phone")
        client.post("/api/v1/push/subscriptions", json=browser.subscription(), headers=bearer(tokens))
        subscription = session.exec(select(PushSubscription)).one()
        notify.enqueue_push(
            session, subscription=subscription, title="Tandem", text="Time for your check-in", dedup_key="t"
        )
        session.commit()
        report = notify.deliver_due()
        assert len(report.dead) == 1 and not report.retried
        session.expire_all()
        assert session.exec(select(PushSubscription)).all() == []
        assert session.exec(select(OutboxMessage)).one().status == OutboxStatus.DEAD
        assert session.get(ReminderPreference, patient.id) is None


def test_subscriptions_are_checked_before_they_are_kept(client: TestClient, session: Session) -> None:
    _, tokens = active_patient(session, create_clinic(session))
    good = Browser("https://push.example.net/wpush/abc").subscription()
    bad_cases = [
        {**good, "endpoint": "ftp://push.example.net/x"},
        {**good, "endpoint": "http://push.example.net/not-loopback"},
        {**good, "keys": {"p256dh": "not base64!", "auth": good["keys"]["auth"]}},  # type: ignore[index]
        {"endpoint": good["endpoint"]},
    ]
    for body in bad_cases:
        answer = client.post("/api/v1/push/subscriptions", json=body, headers=bearer(tokens))
        assert answer.status_code == 422, body
    assert client.post("/api/v1/push/subscriptions", json=good).status_code == 401
    assert client.post("/api/v1/push/subscriptions", json=good, headers=bearer(tokens)).status_code == 201
    removed = client.post(
        "/api/v1/push/subscriptions/remove", json={"endpoint": good["endpoint"]}, headers=bearer(tokens)
    )
    assert removed.status_code == 204
    assert session.exec(select(PushSubscription)).all() == []
