"""Key-ring rotation to the end: `tandem keys rewrap` seals again under the new key everything the
old key protected (patients' data keys, names, secrets), so the old key can leave the ring and every
patient's text, and every secret, still reads."""

from __future__ import annotations

import base64
import os
import subprocess

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from service.alerts.oncall import save_channels
from service.config import DEV_ENCRYPTION_KEYS, get_settings
from service.crypto import get_cipher
from service.db import unit_of_work
from service.models import AuditEvent, Clinic, OutboxMessage, Staff, WebhookEndpoint, data_key_cache
from service.notify import enqueue_sms
from service.notify.outbox import sms_number
from service.onboarding import clinic_settings
from service.onboarding.clinic_settings import SECRET_CONTEXT
from tests.security.test_erasure import ROBIN_NOTE, readable_text, robin_with_a_history
from tests.support.server import TANDEM, tandem_env, tandem_json

pytestmark = pytest.mark.slow(seconds=5)  # runs `tandem keys rewrap` processes: started first (tests/conftest.py)

NEW_KEY = "k2:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
TOTP = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def use_ring(monkeypatch: pytest.MonkeyPatch, ring: str) -> None:
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", ring)
    get_settings.cache_clear()
    data_key_cache.clear()


def raw(session: Session, sql: str) -> list[str]:
    return [value for (value,) in session.execute(text(sql)) if value]


def test_after_a_rewrap_the_old_key_leaves_the_ring_and_everything_still_reads(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup, _robin, _tokens, _other = robin_with_a_history(client, session)
    clinic = session.get(Clinic, setup.clinic.id)
    assert clinic is not None
    with unit_of_work(session):
        clinic.settings = {
            **(clinic.settings or {}),
            "oidc": {
                "issuer": "https://id.example.org",
                "client_id": "tandem",
                "client_secret_encrypted": get_cipher().encrypt("sso-s3cret", f"{SECRET_CONTEXT}:{clinic.id}"),
            },
        }
        setup.clinician.totp_secret = TOTP
        session.add_all([clinic, setup.clinician])
        session.add(WebhookEndpoint(clinic_id=clinic.id, url="https://ehr.example.org/hook", secret="whsec-1"))
        enqueue_sms(session, to="+447700900123", text="Urgent alert", dedup_key="a1")
    channels = {"email": True, "push": False, "sms": True, "routine_digest": False}
    save_channels(session, staff=setup.clinician, sms_number="+44 7700 900123", **channels)  # type: ignore[arg-type]
    before = sorted(readable_text(session))
    assert ROBIN_NOTE in before and "Robin Fox" in before and TOTP in before
    assert all(w.startswith("v1.dev1.") for w in raw(session, "SELECT wrapped_key FROM patient_key"))

    # Rotation: the new key first, the old one still in the ring.
    use_ring(monkeypatch, f"{NEW_KEY},{DEV_ENCRYPTION_KEYS}")
    report = tandem_json("keys", "rewrap", "--batch-size", "2")
    assert report["key"] == "k2" and report["unreadable"] == {}
    assert report["patient_keys"] == 2  # Robin's and the other patient's
    assert report["values"]["patient.display_name"] == 2 and report["values"]["staff.totp_secret"] == 1
    assert report["values"]["webhook_endpoint.secret"] == 1 and report["values"]["staff_channels.sms_number"] == 1
    assert report["clinic_secrets"] == 1 and "outbox_numbers" not in report  # numbers are sealed recipients now
    outbox_rows = len(raw(session, "SELECT id FROM outbox_message"))
    assert outbox_rows > 1 and report["values"]["outbox_message.recipient_sealed"] == outbox_rows
    assert all(r.startswith("v1.k2.") for r in raw(session, "SELECT recipient_sealed FROM outbox_message"))
    assert "checkin.note" not in report["values"]  # patients' text is under their data key: not touched
    assert all(w.startswith("v1.k2.") for w in raw(session, "SELECT wrapped_key FROM patient_key"))
    # Idempotent: a second run finds nothing left under the old key.
    again = tandem_json("keys", "rewrap")
    assert again["total"] == 0 and again["patient_keys"] == 0 and again["values"] == {}
    rows = session.exec(select(AuditEvent).where(AuditEvent.action == "keys.rewrap")).all()
    assert [(r.actor_type, r.detail["key"]) for r in rows] == [("system", "k2"), ("system", "k2")]

    # The old key leaves the ring: every patient's text, every name and secret still reads.
    use_ring(monkeypatch, NEW_KEY)
    session.expire_all()
    assert sorted(readable_text(session)) == before
    clinic = session.get(Clinic, setup.clinic.id)
    assert clinic is not None and clinic_settings.sso_client_secret(clinic) == "sso-s3cret"
    clinician = session.get(Staff, setup.clinician.id)
    assert clinician is not None and clinician.totp_secret == TOTP
    [sms] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sms")).all()
    assert sms_number(sms) == sms.recipient == "+447700900123"


def test_values_under_a_key_the_ring_no_longer_holds_are_reported_and_left_alone(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import active_patient, create_clinic

    setup = create_clinic(session, slug="lost-key-clinic")
    active_patient(session, setup, name="Robin Fox", email="robin@example.org")
    stored = raw(session, "SELECT wrapped_key FROM patient_key")
    use_ring(monkeypatch, NEW_KEY)  # the old key removed before any rewrap
    done = subprocess.run(
        [TANDEM, "keys", "rewrap", "--json"], capture_output=True, text=True, env=tandem_env(), timeout=120
    )
    assert done.returncode == 1, done.stderr
    assert '"patient_key.wrapped_key": 1' in done.stdout
    assert raw(session, "SELECT wrapped_key FROM patient_key") == stored


def test_a_value_sealed_under_the_old_key_while_the_rewrap_runs_keeps_the_old_key_in_the_ring(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server not yet restarted with the new ring writes under the old key after its column was
    passed: the run must not say the old key can go, and the next run seals that value too."""
    from service.config import parse_key_ring
    from service.crypto import FieldCipher
    from service.kit.context import Actor
    from service.onboarding import key_rotation
    from tests.factories import create_clinic

    setup = create_clinic(session, slug="late-writer-clinic")
    use_ring(monkeypatch, f"{NEW_KEY},{DEV_ENCRYPTION_KEYS}")
    old_first = FieldCipher(parse_key_ring(f"{DEV_ENCRYPTION_KEYS},{NEW_KEY}"))
    secrets_pass = key_rotation._rewrap_clinic_secrets

    def meanwhile(*args: object) -> int:  # the staff table was passed already: a late write lands there
        with unit_of_work(session):
            session.execute(
                text("UPDATE staff SET totp_secret = :v WHERE id = :id"),
                {"v": old_first.encrypt(TOTP, "staff.totp_secret"), "id": setup.clinician.id},
            )
        return secrets_pass(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(key_rotation, "_rewrap_clinic_secrets", meanwhile)
    report = key_rotation.rewrap(session, actor=Actor.system("test"))
    assert report.unreadable == {} and report.remaining == {"staff.totp_secret": 1}
    [audited] = session.exec(select(AuditEvent).where(AuditEvent.action == "keys.rewrap")).all()
    assert audited.detail["remaining"] == 1

    monkeypatch.setattr(key_rotation, "_rewrap_clinic_secrets", secrets_pass)
    again = tandem_json("keys", "rewrap")
    assert again["values"] == {"staff.totp_secret": 1} and again["remaining"] == {}
    use_ring(monkeypatch, NEW_KEY)
    session.expire_all()
    clinician = session.get(Staff, setup.clinician.id)
    assert clinician is not None and clinician.totp_secret == TOTP


def test_a_malformed_key_ring_is_refused_with_a_clear_error_that_shows_no_key(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import create_clinic

    create_clinic(session, slug="typo-clinic")
    stored = raw(session, "SELECT wrapped_key FROM patient_key") + raw(session, "SELECT display_name FROM patient")
    secret = base64.urlsafe_b64encode(os.urandom(16)).decode()  # 16 bytes: too short for AES-256
    for ring, said in (
        (f"k2{secret},{DEV_ENCRYPTION_KEYS}", "entries must look like 'key_id:base64key'"),
        (f"k2:{secret},{DEV_ENCRYPTION_KEYS}", "encryption key 'k2' must be 32 bytes"),
    ):
        done = subprocess.run(
            [TANDEM, "keys", "rewrap"],
            capture_output=True,
            text=True,
            env=tandem_env(TANDEM_ENCRYPTION_KEYS=ring),
            timeout=120,
        )
        printed = " ".join((done.stdout + done.stderr).split())  # the console wraps long lines
        assert done.returncode == 2
        assert said in printed and "nothing was changed" in printed and "Traceback" not in printed
        assert secret not in printed.replace(" ", "")
    assert (
        raw(session, "SELECT wrapped_key FROM patient_key") + raw(session, "SELECT display_name FROM patient") == stored
    )
