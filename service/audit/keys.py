"""The audit log's keys: one secret outside the database, from which the chain's HMAC key and the
checkpoints' Ed25519 signing key are derived (HKDF), so neither can be recomputed from the data."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from service.config import Settings, get_settings


@dataclass(frozen=True)
class AuditKeys:
    chain: bytes
    signing: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.signing.public_key()

    @property
    def public_bytes(self) -> bytes:
        return self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        """Names the signing key in each checkpoint: a checkpoint from another key is told apart."""
        return hashlib.sha256(self.public_bytes).hexdigest()[:16]


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


@lru_cache(maxsize=8)
def keys_from_secret(secret: str) -> AuditKeys:
    material = secret.encode()
    return AuditKeys(
        chain=_derive(material, "tandem audit chain v1"),
        signing=Ed25519PrivateKey.from_private_bytes(_derive(material, "tandem audit checkpoint v1")),
    )


def audit_secret(settings: Settings) -> str:
    """TANDEM_AUDIT_KEY; outside prod (where it is required) a value derived from the secret key."""
    if settings.audit_key:
        return settings.audit_key
    return hmac.new(settings.secret_key.encode(), b"tandem audit key", hashlib.sha256).hexdigest()


def audit_keys(settings: Settings | None = None) -> AuditKeys:
    return keys_from_secret(audit_secret(settings or get_settings()))
