"""Field encryption at rest (AES-256-GCM) with key ids so keys can rotate, and blind indexes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from service.config import get_settings, parse_key_ring

FORMAT = "v1"


class DecryptionError(Exception):
    """A stored value cannot be decrypted: unknown key id, tampering, or the wrong column."""


class FieldCipher:
    def __init__(self, ring: dict[str, bytes]) -> None:
        if not ring:
            raise ValueError("an encryption key ring needs at least one key")
        self._ring = {kid: AESGCM(key) for kid, key in ring.items()}
        self.active_kid = next(iter(ring))

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._ring[self.active_kid].encrypt(nonce, plaintext.encode(), self._aad(context))
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{FORMAT}.{self.active_kid}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        try:
            fmt, kid, body = token.split(".", 2)
        except ValueError as exc:
            raise DecryptionError("not an encrypted value") from exc
        if fmt != FORMAT or kid not in self._ring:
            raise DecryptionError(f"no key {kid!r} in the key ring")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return self._ring[kid].decrypt(raw[:12], raw[12:], self._aad(context)).decode()
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not authenticate for this column") from exc

    def key_id_of(self, token: str) -> str:
        return token.split(".", 2)[1]

    @staticmethod
    def _aad(context: str) -> bytes:
        return f"tandem:{context}".encode()


@lru_cache(maxsize=4)
def _cipher_for(spec: str) -> FieldCipher:
    return FieldCipher(parse_key_ring(spec))


def get_cipher() -> FieldCipher:
    return _cipher_for(get_settings().encryption_keys)


def derive_key(purpose: str, length: int = 32) -> bytes:
    """A key for one purpose, derived from TANDEM_SECRET_KEY (tokens, blind indexes, webhooks...)."""
    return _derive(get_settings().secret_key, purpose, length)


@lru_cache(maxsize=32)
def _derive(secret: str, purpose: str, length: int) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"tandem", info=purpose.encode())
    return hkdf.derive(secret.encode())


def blind_index(value: str, purpose: str) -> str:
    """A keyed hash that lets us find a row by an encrypted value (an email) without decrypting."""
    key = derive_key(f"blind-index:{purpose}")
    return hmac.new(key, value.strip().lower().encode(), hashlib.sha256).hexdigest()


def token_digest(token: str) -> str:
    """Hash of a high-entropy secret (invite code, refresh token) as stored in the database."""
    return hashlib.sha256(token.encode()).hexdigest()


# Per-patient data keys (crypto-shredding). Each patient's free text is sealed under a data key of
# their own; the database keeps that key only wrapped by the key ring (table patient_key). Erasure
# destroys the wrapped key, so every copy of the patient's text (replicas, dumps, backups taken
# since) becomes unreadable without touching the copies. Tokens look like "p1.<patient_id>.<body>".
PATIENT_FORMAT = "p1"
_WRAP_CONTEXT = "patient_key.wrapped_key"


def new_data_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def wrap_data_key(key: bytes, patient_id: str) -> str:
    """The data key sealed by the key ring, bound to its patient (a wrapped key moved to another
    patient's row does not unwrap)."""
    return get_cipher().encrypt(base64.b64encode(key).decode(), f"{_WRAP_CONTEXT}:{patient_id}")


def unwrap_data_key(wrapped: str, patient_id: str) -> bytes:
    return base64.b64decode(get_cipher().decrypt(wrapped, f"{_WRAP_CONTEXT}:{patient_id}"))


def is_patient_sealed(token: str) -> bool:
    return token.startswith(PATIENT_FORMAT + ".")


def patient_of(token: str) -> str:
    return token.split(".", 2)[1]


def seal_for_patient(plaintext: str, context: str, patient_id: str, key: bytes) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), _patient_aad(context, patient_id))
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{PATIENT_FORMAT}.{patient_id}.{body}"


def open_for_patient(token: str, context: str, key: bytes) -> str:
    try:
        fmt, patient_id, body = token.split(".", 2)
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except ValueError as exc:
        raise DecryptionError("not an encrypted value") from exc
    if fmt != PATIENT_FORMAT:
        raise DecryptionError("not a patient-sealed value")
    try:
        return AESGCM(key).decrypt(raw[:12], raw[12:], _patient_aad(context, patient_id)).decode()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate for this column and patient") from exc


def _patient_aad(context: str, patient_id: str) -> bytes:
    return f"tandem:{context}:{patient_id}".encode()
