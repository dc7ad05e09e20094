"""Input hygiene: the one check every piece of client input passes before anything touches the database.

Refused anywhere: NUL and other control characters (newline, carriage return and tab are allowed in
free text only), lone UTF-16 surrogates (they cannot be stored or encoded), non-finite numbers, dates
outside the years Tandem can store and compute with, and path ids longer than an id (a 404); id
filters in query strings must be UUIDs. Error messages say which field is wrong and why, never what
the client wrote, so nothing sent comes back or reaches a log.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator
from starlette.requests import Request

from service.errors import Invalid, NotFound

# The dates a client may send: anything outside is a typing slip or a probe, and year 1 or 9999
# overflow as soon as a time zone is applied.
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)

MAX_ID = 36  # the id columns' width: a longer id names nothing, and must not reach an audit row
MAX_QUERY_VALUE = 2000  # the longest query value any page needs (a post-login destination)
MAX_JSON_DEPTH = 32
# Query parameters that name a row: a UUID or nothing.
ID_QUERY_NAMES = frozenset({"actor", "patient", "clinic", "staff"})

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# C0 controls, DEL and C1 controls; newline, carriage return and tab are judged separately.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LINE_BREAKS = re.compile(r"[\t\n\r]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def text_problem(value: str, *, multiline: bool = True) -> str | None:
    """Why ``value`` cannot be accepted as text, or None when it can (the reason never quotes it)."""
    if _SURROGATE.search(value):
        return "contains characters that are not valid Unicode"
    if _CONTROL.search(value):
        return "contains control characters"
    if not multiline and _LINE_BREAKS.search(value):
        return "must be a single line"
    return None


def check_text(value: str, *, field: str = "text", multiline: bool = True) -> str:
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise Invalid(f"{field} {problem}")
    return value


def is_uuid(value: str) -> bool:
    return bool(_UUID.match(value))


def check_date(value: date, *, field: str = "date") -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise Invalid(f"{field} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


def check_json(value: Any, *, path: str = "body", depth: int = 0) -> None:
    """Walk a decoded JSON document: every key and string clean, every number finite, depth bounded."""
    if depth > MAX_JSON_DEPTH:
        raise Invalid(f"{path} is nested too deeply")
    if isinstance(value, str):
        check_text(value, field=path)
    elif isinstance(value, float) and not math.isfinite(value):
        raise Invalid(f"{path} must be a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, field=f"{path} key", multiline=False)
            check_json(item, path=f"{path}.{key}" if len(key) <= 40 and key.isidentifier() else path, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_json(item, path=path, depth=depth + 1)


def _refuse_constant(name: str) -> Any:
    raise Invalid("body must be a finite number where a number is expected (no NaN or Infinity)")


def check_json_bytes(body: bytes) -> None:
    if not body:
        return
    try:
        decoded = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):
        return  # not JSON: the route's own parsing answers 422
    check_json(decoded)


def check_request_line(request: Request) -> None:
    """Path ids: unclean or longer than an id column (36) is a 404 here; a clean short one goes on to
    the route, which answers exactly as for any unknown id (the same 404 as another client's row, the
    portal's sign-in page when signed out). Query names and values: clean and bounded."""
    for name, value in request.path_params.items():
        if not isinstance(value, str):
            continue
        if text_problem(value, multiline=False) is not None:
            raise NotFound("not found")
        if name.endswith("_id") and len(value) > MAX_ID:
            raise NotFound("not found")
    for name, value in request.query_params.multi_items():
        check_text(name, field="query parameter name", multiline=False)
        check_text(value, field=f"query parameter {_safe_name(name)}", multiline=False)
        if len(value) > MAX_QUERY_VALUE:
            raise Invalid(f"query parameter {_safe_name(name)} is too long")
        if value and (name in ID_QUERY_NAMES or name.endswith("_id")) and not is_uuid(value):
            raise Invalid(f"query parameter {_safe_name(name)} must be an id")


def _safe_name(name: str) -> str:
    return name if len(name) <= 40 and name.replace("_", "").isalnum() and name.isascii() else "(unnamed)"


async def reject_unsafe_input(request: Request) -> None:
    """A dependency of both faces, run before any other: the URL, then a JSON or form body.

    What the client sent is remembered on the request (``request.state``), so error answers can
    leave it out (``without_echo``).
    """
    sent = _remember(request)
    sent.extend(str(value) for value in request.path_params.values())
    sent.extend(value for _, value in request.query_params.multi_items())
    check_request_line(request)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        check_json_bytes(body)
        sent.extend(_strings_in(body))
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        for name, value in form.multi_items():
            check_text(name, field="form field name", multiline=False)
            if isinstance(value, str):
                check_text(value, field=f"form field {_safe_name(name)}")
                sent.append(value)


_SENT = "client_text"
MIN_ECHO = 3  # shorter values ("en", "1") are too common in sentences to be an echo worth hiding


def _remember(request: Request) -> list[str]:
    sent: list[str] = []
    setattr(request.state, _SENT, sent)
    return sent


def _strings_in(body: bytes) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                found.append(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    with contextlib.suppress(ValueError, RecursionError):
        walk(json.loads(body))
    return found


def without_echo(detail: str, request: Request) -> str:
    """An error message with anything the client sent taken out: some domain messages quote the
    value they refuse (``unknown time zone 'X'``), and the client's text must not come back."""
    sent: list[str] = getattr(request.state, _SENT, [])
    # Codes picked from a list (a resolution, a role, a language) are the service's words, not the client's.
    quoted = {v for v in sent if len(v) >= MIN_ECHO and not _CODE.match(v)}
    for value in sorted(quoted, key=len, reverse=True):
        detail = detail.replace(repr(value), "(the value sent)").replace(value, "(the value sent)")
    return detail


# --- Pydantic types for schemas ------------------------------------------------------------------


def _clean_text(value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(f"text {problem}")
    return value


def _clean_line(value: str) -> str:
    problem = text_problem(value, multiline=False)
    if problem is not None:
        raise ValueError(f"text {problem}")
    return value


def _iso_date_only(value: Any) -> Any:
    # "0" or 0 would otherwise be read as a Unix time (1970-01-01).
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("dates are written YYYY-MM-DD")
    if not isinstance(value, str | date):
        raise ValueError("dates are written YYYY-MM-DD")
    return value


def _date_in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"dates must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}")
    return value


def _moment_in_range(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must include a UTC offset")
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:
        raise ValueError(f"moments must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}") from None
    _date_in_range(day)
    return value


# Free text (newlines and tabs allowed) and single-line text.
Text = Annotated[str, AfterValidator(_clean_text)]
Line = Annotated[str, AfterValidator(_clean_line)]
# A calendar date written YYYY-MM-DD, within the years Tandem stores.
IsoDate = Annotated[date, BeforeValidator(_iso_date_only), AfterValidator(_date_in_range)]
# A moment with its UTC offset, within the same years.
Moment = Annotated[datetime, AfterValidator(_moment_in_range)]
