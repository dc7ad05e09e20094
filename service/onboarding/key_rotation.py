"""After a key-ring rotation: seal again, under the ring's current key, everything the ring protects.

The ring (``TANDEM_ENCRYPTION_KEYS``, first key current) protects, directly:
- each patient's data key (``patient_key.wrapped_key``): the patient's own text is sealed under that
  data key, so re-wrapping the key is all that text needs, and none of it is decrypted here;
- every ``EncryptedText`` value stored as a key-ring token (``v1.<kid>.``): names and sign-in emails
  of patients, staff TOTP secrets, SMS numbers, webhook secrets, the recipients of outbox messages
  (``outbox_message.recipient_sealed``: addresses, numbers, webhook URLs), and any per-patient value
  written before per-patient keys;
- each clinic's single sign-on client secret (in ``clinic.settings``).

Blind indexes (``*_index`` columns, the outbox's dedup keys) are keyed by TANDEM_SECRET_KEY, not by
the ring: a ring rotation leaves them as they are.

Values already under the current key are left alone, so a second run changes nothing. Each batch
is its own transaction, and every update is conditional on the value read (an erasure that destroys
a data key meanwhile is never undone). A value under a key the ring no longer holds is counted as
unreadable and left as it is.

The run ends by counting afresh what is still under another key (``remaining``): a value written
meanwhile by a server still running with the old key first (after the run passed its table), or a
row passed over because another transaction held it, is found there, and the old key must not leave
the ring until a run ends with nothing remaining.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, SQLModel, select

from service import audit
from service.crypto import FORMAT, DecryptionError, FieldCipher, get_cipher
from service.db import unit_of_work
from service.kit.context import Actor
from service.models import Clinic
from service.models.base import EncryptedText
from service.onboarding.clinic_settings import SECRET_CONTEXT

BATCH_SIZE = 500
WRAP_CONTEXT = "patient_key.wrapped_key"


@dataclass
class RewrapReport:
    key: str  # the ring's current key id: everything is now under it
    patient_keys: int = 0
    values: Counter[str] = field(default_factory=Counter)  # "table.column" -> values sealed again
    clinic_secrets: int = 0
    unreadable: Counter[str] = field(default_factory=Counter)  # where values under a missing key remain
    # Counted once the run is over: values still under another key, wherever they came from.
    remaining: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return self.patient_keys + sum(self.values.values()) + self.clinic_secrets

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "patient_keys": self.patient_keys,
            "values": dict(sorted(self.values.items())),
            "clinic_secrets": self.clinic_secrets,
            "total": self.total,
            "unreadable": dict(sorted(self.unreadable.items())),
            "remaining": dict(sorted(self.remaining.items())),
        }


def rewrap(session: Session, *, actor: Actor, batch_size: int = BATCH_SIZE) -> RewrapReport:
    """Seal again under the current key every value the ring protects that another key sealed."""
    cipher = get_cipher()
    report = RewrapReport(key=cipher.active_kid)
    report.patient_keys = _rewrap_column(
        session,
        cipher,
        _table("patient_key"),
        "wrapped_key",
        lambda row_id: f"{WRAP_CONTEXT}:{row_id}",
        report,
        batch_size,
    )
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                context_of = _fixed(column.type.context)
                count = _rewrap_column(session, cipher, table, column.name, context_of, report, batch_size)
                if count:
                    report.values[f"{table.name}.{column.name}"] = count
    report.clinic_secrets = _rewrap_clinic_secrets(session, cipher, report)
    report.remaining = _remaining(session, cipher)
    with unit_of_work(session):
        audit.record(
            session,
            actor=actor,
            action="keys.rewrap",
            entity_type="key_ring",
            entity_id=report.key,
            detail={
                "key": report.key,
                "patient_keys": report.patient_keys,
                "values": report.total - report.patient_keys,
                "unreadable": sum(report.unreadable.values()),
                "remaining": sum(report.remaining.values()),
            },
        )
    return report


def _fixed(context: str) -> Callable[[str], str]:
    return lambda _row_id: context


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _like_escaped(value: str) -> str:
    return value.replace("!", "!!").replace("%", "!%").replace("_", "!_")


def _stale(token: str, cipher: FieldCipher) -> bool:
    return token.startswith(f"{FORMAT}.") and not token.startswith(f"{FORMAT}.{cipher.active_kid}.")


def _rewrap_column(
    session: Session,
    cipher: FieldCipher,
    table: Table,
    column: str,
    context_of: Callable[[str], str],
    report: RewrapReport,
    batch_size: int,
) -> int:
    """One column, in batches in primary-key order; returns how many values were sealed again."""
    [key] = table.primary_key.columns
    current = f"{FORMAT}.{_like_escaped(cipher.active_kid)}.%"
    query = text(
        f"SELECT {key.name}, {column} FROM {table.name} "  # noqa: S608 (names from the metadata, not input)
        f"WHERE {column} LIKE :ring AND {column} NOT LIKE :current ESCAPE '!' AND {key.name} > :after "
        f"ORDER BY {key.name} LIMIT :limit"
    )
    update = text(f"UPDATE {table.name} SET {column} = :new WHERE {key.name} = :id AND {column} = :old")  # noqa: S608
    count, after = 0, ""
    while True:
        with unit_of_work(session):
            rows = session.execute(
                query, {"ring": f"{FORMAT}.%", "current": current, "after": after, "limit": batch_size}
            ).all()
            for row_id, old in rows:
                if not _stale(old, cipher):
                    continue
                context = context_of(str(row_id))
                try:
                    new = cipher.encrypt(cipher.decrypt(old, context), context)
                except DecryptionError:
                    report.unreadable[f"{table.name}.{column}"] += 1
                    continue
                result = session.execute(update, {"new": new, "id": row_id, "old": old})
                count += int(getattr(result, "rowcount", 0) or 0)
        if len(rows) < batch_size:
            return count
        after = str(rows[-1][0])


def _resealed(cipher: FieldCipher, token: str, context: str, report: RewrapReport, where: str) -> str | None:
    try:
        return cipher.encrypt(cipher.decrypt(token, context), context)
    except DecryptionError:
        report.unreadable[where] += 1
        return None


def _rewrap_clinic_secrets(session: Session, cipher: FieldCipher, report: RewrapReport) -> int:
    count = 0
    with unit_of_work(session):
        for clinic in session.exec(select(Clinic).with_for_update()).all():
            own = (clinic.settings or {}).get("oidc")
            if not isinstance(own, dict):
                continue
            sealed = own.get("client_secret_encrypted")
            if not (isinstance(sealed, str) and _stale(sealed, cipher)):
                continue
            new = _resealed(cipher, sealed, f"{SECRET_CONTEXT}:{clinic.id}", report, "clinic.settings.oidc")
            if new is not None:
                clinic.settings = {**(clinic.settings or {}), "oidc": {**own, "client_secret_encrypted": new}}
                flag_modified(clinic, "settings")
                session.add(clinic)
                count += 1
    return count


def _remaining(session: Session, cipher: FieldCipher) -> Counter[str]:
    """Where values under a key other than the current one are, counted afresh (not from the run)."""
    found: Counter[str] = Counter()
    current = f"{FORMAT}.{_like_escaped(cipher.active_kid)}.%"
    with unit_of_work(session):
        columns = [(_table("patient_key"), "wrapped_key")] + [
            (table, column.name)
            for table in SQLModel.metadata.sorted_tables
            for column in table.columns
            if isinstance(column.type, EncryptedText)
        ]
        for table, column in columns:
            count = session.execute(
                text(
                    f"SELECT COUNT(*) FROM {table.name} "  # noqa: S608 (names from the metadata, not input)
                    f"WHERE {column} LIKE :ring AND {column} NOT LIKE :current ESCAPE '!'"
                ),
                {"ring": f"{FORMAT}.%", "current": current},
            ).scalar_one()
            if count:
                found[f"{table.name}.{column}"] = int(count)
        for settings in session.exec(select(Clinic.settings)).all():
            own = (settings or {}).get("oidc")
            sealed = own.get("client_secret_encrypted") if isinstance(own, dict) else None
            if isinstance(sealed, str) and _stale(sealed, cipher):
                found["clinic.settings.oidc"] += 1
    return found
