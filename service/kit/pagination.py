"""Keyset pagination, newest first: a page of rows and an opaque cursor to the next page.

A cursor carries the (moment, id) of the last row given out, so a page never repeats or skips a row
when new rows arrive between two requests, which offset pagination would.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import or_
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from service.errors import Invalid
from service.kit.hygiene import EARLIEST, LATEST

Row = TypeVar("Row")

_BAD_CURSOR = "cursor is not one this API gave out; start again without it"


def check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and start > end:
        raise Invalid("from must be on or before to")


def check_limit(limit: int, maximum: int) -> None:
    if not 1 <= limit <= maximum:
        raise Invalid(f"limit must be from 1 to {maximum}")


def keyset_page(
    session: Session,
    query: SelectOfScalar[Row],
    *,
    moment: Any,
    row_id: Any,
    day: Any,
    limit: int,
    cursor: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> tuple[Sequence[Row], str | None]:
    """Up to ``limit`` rows of ``query``, newest ``moment`` first, from ``start`` to ``end`` on the
    ``day`` column, after ``cursor``; and the cursor of the next page, or None on the last one."""
    check_range(start, end)
    if start is not None:
        query = query.where(col(day) >= start)
    if end is not None:
        query = query.where(col(day) <= end)
    if cursor is not None:
        after_at, after_id = decode_cursor(cursor)
        query = query.where(or_(col(moment) < after_at, (col(moment) == after_at) & (col(row_id) < after_id)))
    rows = session.exec(query.order_by(col(moment).desc(), col(row_id).desc()).limit(limit + 1)).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, moment.key), getattr(last, row_id.key))


def encode_cursor(at: datetime, row_id: str) -> str:
    return base64.urlsafe_b64encode(f"{at.astimezone(UTC).isoformat()}|{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|", 1)
        moment = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise Invalid(_BAD_CURSOR) from None
    if moment.tzinfo is None or not EARLIEST <= moment.date() <= LATEST:
        raise Invalid(_BAD_CURSOR)
    return moment, row_id
