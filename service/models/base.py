"""Column types and helpers shared by every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.types import TypeDecorator


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Sealed(str):
    """A value already encrypted under its patient's data key, still reading as its plain text.

    The flush seals per-patient columns into ``Sealed`` values (service/models/sealing.py); the
    column type then stores ``token`` instead of encrypting with the key ring.
    """

    token: str
    context: str

    def __new__(cls, plaintext: str, token: str, context: str) -> Sealed:
        value = super().__new__(cls, plaintext)
        value.token = token
        value.context = context
        return value


class EncryptedText(TypeDecorator[str]):
    """Client-written text and names, encrypted with AES-GCM before they reach the database.

    ``context`` (``"table.column"``) is bound into the ciphertext as associated data, so a value
    copied into another column or table does not decrypt.

    ``per_patient`` columns hold a patient's own words or details: the flush seals them under that
    patient's data key (crypto-shredding at erasure); ``erased`` is what such a column reads as once
    that key is destroyed. Values written before per-patient keys (key-ring tokens) still read.
    """

    impl = Text
    cache_ok = True

    def __init__(self, context: str, *, per_patient: bool = False, erased: str = "") -> None:
        super().__init__()
        self.context = context
        self.per_patient = per_patient
        self.erased = erased

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        from service.crypto import get_cipher

        if value is None:
            return None
        if isinstance(value, Sealed) and value.context == self.context:
            return value.token
        return get_cipher().encrypt(str(value), self.context)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        from service.crypto import get_cipher, is_patient_sealed

        if value is None:
            return None
        if is_patient_sealed(value):
            from service.models.data_key_cache import open_sealed

            return open_sealed(value, self.context, erased=self.erased)
        return get_cipher().decrypt(value, self.context)
