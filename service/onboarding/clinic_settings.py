"""A clinic's own settings, as its administrators edit them: identity, language and place, opening
hours, crisis instructions, alert deadlines, sign-in policy (MFA, single sign-on) and retention.

Every change is one audit row with each changed field before and after; the single sign-on client
secret is stored encrypted (AES-GCM, bound to the clinic) and never shown or audited, only whether
it is set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from service import audit
from service.crypto import DecryptionError, get_cipher
from service.db import unit_of_work
from service.errors import Forbidden, Invalid
from service.kit.context import Actor
from service.kit.i18n import SUPPORTED_LOCALES, check_country, check_locale, check_timezone
from service.models import Clinic, Role, Staff

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SEVERITIES = ("urgent", "priority", "routine")
# Minutes before an unacknowledged alert escalates: below the floor nobody can reasonably answer,
# above the ceiling the severity loses its meaning (shared/clinical.md: minutes, hours, next day).
DEADLINE_RANGES = {"urgent": (5, 60), "priority": (30, 1440), "routine": (60, 10080)}
RETENTION_RANGE = (1, 100)
# Clinical records: 20 years is the common floor for adult mental-health records (France, England).
DEFAULT_RETENTION_YEARS = 20
CRISIS_MAX = 2000
SECRET_CONTEXT = "clinic.oidc_client_secret"
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class InvalidSettings(Invalid):
    """Some fields are wrong: ``errors`` maps each field name to its message (English msgids)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("some settings need correcting")
        self.errors = errors


@dataclass
class SettingsForm:
    """The settings page's fields, as text; what the form shows and what it posts."""

    name: str = ""
    locale: str = "en"
    country: str = "US"
    timezone: str = "UTC"
    hours: dict[str, tuple[str, str]] = field(default_factory=dict)  # open days only: day -> (opens, closes)
    crisis: dict[str, str] = field(default_factory=dict)  # locale -> text
    deadlines: dict[str, str] = field(default_factory=dict)  # severity -> minutes
    mfa_required: bool = True
    sso_issuer: str = ""
    sso_client_id: str = ""
    sso_client_secret: str = ""  # posted only; blank keeps the stored one
    sso_remove: bool = False
    retention_years: str = str(DEFAULT_RETENTION_YEARS)
    sso_secret_set: bool = False  # shown only


def _require_admin(staff: Staff) -> None:
    if not staff.active or staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can change the clinic's settings")


def retention_years(clinic: Clinic) -> int:
    """How many years the clinic keeps clinical records after care ends (its legal duty): the column
    the erasure queue reads when a request is kept under art. 17(3)."""
    return int(clinic.record_retention_years or DEFAULT_RETENTION_YEARS)


def sso_client_secret(clinic: Clinic) -> str | None:
    """The clinic's own identity provider's client secret, decrypted for the token request only."""
    own = (clinic.settings or {}).get("oidc")
    if not isinstance(own, dict):
        return None
    sealed = own.get("client_secret_encrypted")
    if isinstance(sealed, str) and sealed:
        try:
            return get_cipher().decrypt(sealed, f"{SECRET_CONTEXT}:{clinic.id}")
        except DecryptionError:
            return None
    legacy = own.get("client_secret")  # written by hand before the settings page existed
    return str(legacy) if legacy else None


def current(
    clinic: Clinic, deadline_defaults: dict[str, int], default_hours: dict[str, list[str]] | None = None
) -> SettingsForm:
    """The form filled with what is in force: the clinic's own values, else the alert policy's
    defaults (``deadline_defaults``, ``default_hours``); the secret only as "set" or not."""
    settings = clinic.settings or {}
    hours = settings["hours"] if isinstance(settings.get("hours"), dict) else default_hours
    stored = settings.get("oidc")
    own: dict[str, Any] = stored if isinstance(stored, dict) else {}
    return SettingsForm(
        name=clinic.name,
        locale=clinic.locale,
        country=clinic.country,
        timezone=clinic.timezone,
        hours={d: (str(span[0]), str(span[1])) for d, span in (hours or {}).items() if d in DAYS},
        crisis={loc: (clinic.crisis_instructions or {}).get(loc, "") for loc in SUPPORTED_LOCALES},
        deadlines={
            sev: str((clinic.escalation_minutes or {}).get(sev) or deadline_defaults.get(sev) or "")
            for sev in SEVERITIES
        },
        mfa_required=clinic.mfa_required,
        sso_issuer=str(own.get("issuer") or ""),
        sso_client_id=str(own.get("client_id") or ""),
        retention_years=str(retention_years(clinic)),
        sso_secret_set=sso_client_secret(clinic) is not None,
    )


def _hours(form: SettingsForm, errors: dict[str, str]) -> dict[str, list[str]]:
    spans: dict[str, list[str]] = {}
    for day, (opens, closes) in form.hours.items():
        if day not in DAYS:
            continue
        try:
            start, end = time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())
        except ValueError:
            errors[f"hours_{day}"] = "enter opening and closing times such as 09:00 and 17:30"
            continue
        if start >= end:
            errors[f"hours_{day}"] = "the closing time must be after the opening time"
            continue
        spans[day] = [start.strftime("%H:%M"), end.strftime("%H:%M")]
    return {day: spans[day] for day in DAYS if day in spans}


def _deadlines(form: SettingsForm, errors: dict[str, str]) -> dict[str, int]:
    minutes: dict[str, int] = {}
    for severity in SEVERITIES:
        text = form.deadlines.get(severity, "").strip()
        low, high = DEADLINE_RANGES[severity]
        if not text.isdigit() or not low <= int(text) <= high:
            errors[f"deadline_{severity}"] = "enter a whole number of minutes within the range shown"
            continue
        minutes[severity] = int(text)
    if len(minutes) == 3 and not minutes["urgent"] <= minutes["priority"] <= minutes["routine"]:
        errors["deadline_priority"] = (
            "an urgent alert's deadline cannot be longer than a priority one's, "
            "nor a priority one's than a routine one's"
        )
    return minutes


def _issuer_ok(issuer: str) -> bool:
    parts = urlsplit(issuer)
    if not parts.netloc or parts.query or parts.fragment:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOCAL_HOSTS)


def _sso(clinic: Clinic, form: SettingsForm, errors: dict[str, str]) -> dict[str, Any] | None:
    """The new ``settings["oidc"]``, or None for no clinic-specific single sign-on."""
    issuer, client_id, secret = form.sso_issuer.strip().rstrip("/"), form.sso_client_id.strip(), form.sso_client_secret
    if form.sso_remove or (not issuer and not client_id):
        return None
    if not _issuer_ok(issuer) or len(issuer) > 300:
        errors["sso_issuer"] = "enter the identity provider's address (issuer), starting with https://"
    if not client_id or len(client_id) > 200:
        errors["sso_client_id"] = "enter the client id the identity provider gave Tandem"
    if len(secret) > 500:
        errors["sso_client_secret"] = "the client secret is too long"
    before = (clinic.settings or {}).get("oidc")
    own: dict[str, Any] = {"issuer": issuer, "client_id": client_id}
    if isinstance(before, dict) and before.get("scopes"):
        own["scopes"] = before["scopes"]
    if secret.strip():
        own["client_secret_encrypted"] = get_cipher().encrypt(secret.strip(), f"{SECRET_CONTEXT}:{clinic.id}")
    elif isinstance(before, dict) and before.get("client_secret_encrypted"):
        own["client_secret_encrypted"] = before["client_secret_encrypted"]
    elif isinstance(before, dict) and before.get("client_secret"):  # a hand-written plain secret gets sealed
        own["client_secret_encrypted"] = get_cipher().encrypt(
            str(before["client_secret"]), f"{SECRET_CONTEXT}:{clinic.id}"
        )
    return own


def _validated(clinic: Clinic, form: SettingsForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    name = " ".join(form.name.split())
    if not name or len(name) > 200:
        errors["name"] = "the clinic's name must be 1 to 200 characters"
    values["name"] = name
    for key, check in (("locale", check_locale), ("country", check_country), ("timezone", check_timezone)):
        try:
            values[key] = check(getattr(form, key).strip())
        except Invalid:
            errors[key] = {
                "locale": "choose a language from the list",
                "country": "choose a country from the list",
                "timezone": "choose a time zone from the list, such as Europe/Paris",
            }[key]
    values["hours"] = _hours(form, errors)
    crisis = {}
    for locale in SUPPORTED_LOCALES:
        text = form.crisis.get(locale, "").strip().replace("\r\n", "\n")
        if len(text) > CRISIS_MAX:
            errors[f"crisis_{locale}"] = "keep the instructions to 2000 characters at most"
        if text:
            crisis[locale] = text
    values["crisis_instructions"] = crisis
    values["escalation_minutes"] = _deadlines(form, errors)
    values["mfa_required"] = bool(form.mfa_required)
    years = form.retention_years.strip()
    low, high = RETENTION_RANGE
    if not years.isdigit() or not low <= int(years) <= high:
        errors["retention_years"] = "enter a whole number of years within the range shown"
    else:
        values["retention_years"] = int(years)
    values["oidc"] = _sso(clinic, form, errors)
    if errors:
        raise InvalidSettings(errors)
    return values


def _stored(clinic: Clinic) -> dict[str, Any]:
    """The settings as the audit row records them; the secret only as set or not."""
    settings = clinic.settings or {}
    own = settings.get("oidc") if isinstance(settings.get("oidc"), dict) else None
    return {
        "name": clinic.name,
        "locale": clinic.locale,
        "country": clinic.country,
        "timezone": clinic.timezone,
        "hours": settings.get("hours"),
        "crisis_instructions": dict(clinic.crisis_instructions or {}),
        "escalation_minutes": dict(clinic.escalation_minutes or {}),
        "mfa_required": clinic.mfa_required,
        "retention_years": retention_years(clinic),
        "sso_issuer": own.get("issuer") if own else None,
        "sso_client_id": own.get("client_id") if own else None,
        "sso_client_secret": "set" if own and sso_client_secret(clinic) else "not set",
    }


def update(session: Session, *, admin: Staff, clinic_id: str, form: SettingsForm) -> list[str]:
    """Save the settings; returns the names of the fields that changed (none: nothing is written).

    Raises InvalidSettings, changing nothing, when any field is wrong.
    """
    _require_admin(admin)
    if admin.clinic_id != clinic_id:
        raise Forbidden("only a clinic administrator can change the clinic's settings")
    with unit_of_work(session):
        clinic = session.get(Clinic, clinic_id)
        assert clinic is not None  # the admin's own clinic
        before = _stored(clinic)
        old_sealed = ((clinic.settings or {}).get("oidc") or {}).get("client_secret_encrypted")
        values = _validated(clinic, form)
        clinic.name = values["name"]
        clinic.locale = values["locale"]
        clinic.country = values["country"]
        clinic.timezone = values["timezone"]
        clinic.crisis_instructions = values["crisis_instructions"]
        clinic.escalation_minutes = values["escalation_minutes"]
        clinic.mfa_required = values["mfa_required"]
        settings = {key: value for key, value in (clinic.settings or {}).items() if key not in ("oidc", "hours")}
        settings["hours"] = values["hours"]
        clinic.record_retention_years = values["retention_years"]
        if values["oidc"] is not None:
            settings["oidc"] = values["oidc"]
        clinic.settings = settings  # a new dict: JSON columns do not see changes made in place
        after = _stored(clinic)
        changes = {key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]}
        new_secret = form.sso_client_secret.strip() and values["oidc"] is not None
        if new_secret and old_sealed:
            changes["sso_client_secret"] = {"before": "set", "after": "replaced"}
        if not changes:
            return []
        session.add(clinic)
        audit.record(
            session,
            actor=Actor.staff(admin),
            action="clinic.settings",
            entity=clinic,
            clinic_id=clinic.id,
            detail={"changes": changes},
        )
    return sorted(changes)
