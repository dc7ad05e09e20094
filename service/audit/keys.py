"""The audit log's keys: secrets outside the database, from each of which the chain's HMAC key and
the checkpoints' Ed25519 signing key are derived (HKDF), so neither can be recomputed from the data.

Keys rotate as a ring: ``TANDEM_AUDIT_KEY`` seals new rows and signs new checkpoints;
``TANDEM_AUDIT_RETIRED_KEYS`` (oldest first) only verify what was sealed and signed before. Every
sealed row and every checkpoint names its key by id (a digest of the key's public half, never the
secret), and along the chain keys only ever move forward in the ring: a row sealed with a retired key
after a newer one is forged (a leaked old key cannot extend the log).
"""

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
        """Names the key in each sealed row and checkpoint: what it sealed is told apart."""
        return hashlib.sha256(self.public_bytes).hexdigest()[:16]


@dataclass(frozen=True)
class AuditKeyRing:
    """The current key (seals and signs) and the retired ones (verify only), oldest first."""

    current: AuditKeys
    retired: tuple[AuditKeys, ...] = ()

    @property
    def all(self) -> tuple[AuditKeys, ...]:
        """Oldest first: the order keys may follow one another along the chain."""
        return (*self.retired, self.current)

    def get(self, key_id: str | None) -> AuditKeys | None:
        return next((keys for keys in self.all if keys.key_id == key_id), None)

    def rank(self, key_id: str | None) -> int | None:
        """The key's place in the ring (0 the oldest), or None when the ring does not hold it."""
        return next((n for n, keys in enumerate(self.all) if keys.key_id == key_id), None)


def _derive(secret: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)


@lru_cache(maxsize=16)
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


def retired_secrets(settings: Settings) -> list[str]:
    """TANDEM_AUDIT_RETIRED_KEYS: comma-separated, oldest first."""
    return [part.strip() for part in (settings.audit_retired_keys or "").split(",") if part.strip()]


def audit_keys(settings: Settings | None = None) -> AuditKeys:
    """The current key: the one that seals and signs."""
    return keys_from_secret(audit_secret(settings or get_settings()))


def ring_of(current: AuditKeys, retired: tuple[AuditKeys, ...] = ()) -> AuditKeyRing:
    return AuditKeyRing(current, tuple(k for k in retired if k.key_id != current.key_id))


def audit_key_ring(settings: Settings | None = None) -> AuditKeyRing:
    settings = settings or get_settings()
    return ring_of(audit_keys(settings), tuple(keys_from_secret(s) for s in retired_secrets(settings)))
