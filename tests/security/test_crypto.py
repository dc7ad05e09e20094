from __future__ import annotations

import base64
import os

import pytest
from sqlalchemy import text
from sqlmodel import Session

from service.config import get_settings
from service.crypto import DecryptionError, FieldCipher, get_cipher
from tests.factories import create_clinic, invite_patient


def _key() -> bytes:
    return os.urandom(32)


def test_ciphertext_is_bound_to_its_column() -> None:
    cipher = FieldCipher({"k1": _key()})
    token = cipher.encrypt("I felt low today", "checkin.note")
    assert cipher.decrypt(token, "checkin.note") == "I felt low today"
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, "patient.display_name")


def test_tampered_ciphertext_is_refused() -> None:
    cipher = FieldCipher({"k1": _key()})
    token = cipher.encrypt("secret", "patient.email")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(DecryptionError):
        cipher.decrypt(tampered, "patient.email")


def test_rotated_keys_still_decrypt_old_values_and_encrypt_with_the_new_one() -> None:
    old, new = _key(), _key()
    before = FieldCipher({"old": old})
    token = before.encrypt("sleep was bad", "checkin.note")
    after = FieldCipher({"new": new, "old": old})
    assert after.decrypt(token, "checkin.note") == "sleep was bad"
    assert after.key_id_of(after.encrypt("x", "checkin.note")) == "new"
    with pytest.raises(DecryptionError, match="no key"):
        FieldCipher({"new": new}).decrypt(token, "checkin.note")


def test_names_are_encrypted_in_the_database(session: Session) -> None:
    setup = create_clinic(session)
    patient, _ = invite_patient(session, setup, name="Zoé Lefèvre")
    raw = session.execute(text("SELECT display_name FROM patient WHERE id = :id"), {"id": patient.id}).scalar_one()
    assert "Zoé" not in raw and raw.startswith("v1.")
    assert get_cipher().decrypt(raw, "patient.display_name") == "Zoé Lefèvre"
    session.expire_all()
    assert session.get(type(patient), patient.id).display_name == "Zoé Lefèvre"  # type: ignore[union-attr]


def test_key_ring_format_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANDEM_ENCRYPTION_KEYS", "k1:" + base64.urlsafe_b64encode(b"short").decode())
    get_settings.cache_clear()
    try:
        with pytest.raises(ValueError, match="32 bytes"):
            get_settings().key_ring()
    finally:
        get_settings.cache_clear()
