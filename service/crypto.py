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
