"""outbox recipients sealed by the key ring, found by a keyed blind index; dedup keys without addresses

Revision ID: 0019
Revises: 0018

Data migration, in batches: every outbox row's recipient (an email address, a webhook URL, a push
subscription) is sealed by the key ring into ``recipient_sealed`` with its blind index (HMAC-SHA-256
under a key derived from TANDEM_SECRET_KEY) in ``recipient_index``; the plain ``recipient`` column
goes. A text message still waiting has its number moved from the payload into the sealed recipient.

No message is sent twice because of the upgrade: every row keeps its dedup identity, rewritten into
the form the code now computes (the address, or the unkeyed hash of the number, replaced by the
blind index), so queuing the same notification again is refused. A waiting email keeps the
Message-ID it had (in its payload until it is sent), so a receiver still drops a repeat of a
delivery the upgrade interrupted. The one identity that cannot be rewritten is a text message
already sent: its number was dropped, so only the unkeyed hash in its dedup key is known; that hash
is replaced by a keyed hash of it, and queuing a text message also refuses that form.

The blind-index purposes below are frozen here on purpose; they match service/notify/outbox.py.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
CONTEXT = "outbox_message.recipient"
INDEX_PURPOSE = "outbox_message.recipient"
LEGACY_SMS_PURPOSE = "outbox_message.legacy_sms"
MESSAGE_ID = "message_id"
DEDUP_INDEX_CHARS = 32
ERASED = "erased"
SMS_DONE = "sms"
_OLD_SMS_KEY = re.compile(r"^(sms:.*):([0-9a-f]{16})$")


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        value = json.loads(value)
    return dict(value or {})


def _rows(conn: sa.engine.Connection, columns: str, after: str) -> list[Any]:
    return list(
        conn.execute(
            sa.text(
                f"SELECT id, kind, status, dedup_key, payload, {columns} FROM outbox_message "  # noqa: S608 (fixed names)
                f"WHERE id > :after ORDER BY id LIMIT {BATCH}"
            ),
            {"after": after},
        ).all()
    )


def _free(conn: sa.engine.Connection, key: str, row_id: str) -> str:
    """The key, unless another row already holds it (two spellings of one address): then the row's own."""
    taken = conn.execute(
        sa.text("SELECT 1 FROM outbox_message WHERE dedup_key = :k AND id != :id"), {"k": key, "id": row_id}
    ).first()
    return key if taken is None else f"{key}:{row_id[:8]}"


def upgrade() -> None:
    # Added and dropped in place (ALTER TABLE ... ADD/DROP COLUMN on SQLite 3.35+), never a table copy.
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.add_column(sa.Column("recipient_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("recipient_index", sa.String(length=64), nullable=True))
    op.create_index("ix_outbox_message_recipient_index", "outbox_message", ["recipient_index"])
    _seal_recipients()
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.drop_column("recipient")


def _seal_recipients() -> None:
    from service.crypto import blind_index, get_cipher

    conn = op.get_bind()
    cipher = get_cipher()
    update = sa.text(
        "UPDATE outbox_message SET recipient_sealed = :sealed, recipient_index = :index, dedup_key = :key, "
        "payload = :payload WHERE id = :id"
    ).bindparams(sa.bindparam("payload", type_=sa.JSON))
    after = ""
    while True:
        rows = _rows(conn, "recipient", after)
        if not rows:
            break
        for row_id, kind, status, key, raw_payload, recipient in rows:
            payload, original = _payload(raw_payload), key
            index: str | None = None
            if recipient == ERASED:
                pass  # a row that forgot its recipient: nothing to seal or find
            elif kind == "sms":
                number = payload.pop("to", None)
                old = _OLD_SMS_KEY.match(key)
                if number:
                    recipient, index = str(number), blind_index(str(number), INDEX_PURPOSE)
                    old_hash = hashlib.sha256(recipient.encode()).hexdigest()[:16]
                    if old and old.group(2) == old_hash:
                        key = f"{old.group(1)}:{index[:DEDUP_INDEX_CHARS]}"
                else:
                    recipient = SMS_DONE
                    if old:  # sent: the number is gone, only its unkeyed hash is known; key that hash
                        mark = "h" + blind_index(old.group(2), LEGACY_SMS_PURPOSE)[: DEDUP_INDEX_CHARS - 1]
                        key = f"{old.group(1)}:{mark}"
            else:
                index = blind_index(recipient, INDEX_PURPOSE)
                if kind == "email" and key.endswith(f":{recipient}"):
                    if status == "pending":  # the Message-ID it may already have gone out with
                        payload[MESSAGE_ID] = hashlib.sha256(key.encode()).hexdigest()[:40]
                    key = f"{key[: -len(recipient)]}{index[:DEDUP_INDEX_CHARS]}"
            conn.execute(
                update,
                {
                    "sealed": cipher.encrypt(recipient, CONTEXT),
                    "index": index,
                    "key": key if key == original else _free(conn, key, row_id),
                    "payload": payload,
                    "id": row_id,
                },
            )
        after = rows[-1][0]


def downgrade() -> None:
    """Back to the plain recipient. A text message sent since (or before) the upgrade has no number
    left, so its dedup key keeps its keyed form; every other row gets back the key it had."""
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.add_column(sa.Column("recipient", sa.String(length=500), nullable=True))
    _open_recipients()
    if op.get_bind().dialect.name != "sqlite":  # SQLite cannot add NOT NULL in place; the values are all there
        op.alter_column("outbox_message", "recipient", nullable=False)
    op.drop_index("ix_outbox_message_recipient_index", table_name="outbox_message")
    with op.batch_alter_table("outbox_message", recreate="never") as batch:
        batch.drop_column("recipient_index")
        batch.drop_column("recipient_sealed")


def _open_recipients() -> None:
    from service.crypto import get_cipher

    conn = op.get_bind()
    cipher = get_cipher()
    update = sa.text(
        "UPDATE outbox_message SET recipient = :recipient, dedup_key = :key, payload = :payload WHERE id = :id"
    ).bindparams(sa.bindparam("payload", type_=sa.JSON))
    after = ""
    while True:
        rows = _rows(conn, "recipient_sealed, recipient_index", after)
        if not rows:
            break
        for row_id, kind, status, key, raw_payload, sealed, index in rows:
            payload = _payload(raw_payload)
            recipient = cipher.decrypt(sealed, CONTEXT) if sealed else ERASED
            named = f":{index[:DEDUP_INDEX_CHARS]}" if index else None
            if kind == "sms" and recipient not in (SMS_DONE, ERASED):
                payload["to"] = recipient  # where the code before this migration reads it
                if named and key.endswith(named):
                    key = key[: -len(named)] + ":" + hashlib.sha256(recipient.encode()).hexdigest()[:16]
                recipient = SMS_DONE
            elif kind == "sms":
                recipient = SMS_DONE if recipient != ERASED else ERASED
            elif kind == "email" and named and key.endswith(named):
                key = key[: -len(named)] + ":" + recipient
                payload.pop(MESSAGE_ID, None)
            conn.execute(update, {"recipient": recipient, "key": key, "payload": payload, "id": row_id})
        after = rows[-1][0]
