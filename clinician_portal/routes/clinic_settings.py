"""The clinic's settings page (administrators): identity, place, hours, crisis instructions, alert
deadlines, sign-in policy and single sign-on, retention. Post/redirect/get; bad input gives the
form back with each field's error (422) and changes nothing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from clinician_portal.deps import SessionDep, SignedIn, require_role
from clinician_portal.forms import LANGUAGE_NAMES, country_choices, timezone_choices
from clinician_portal.pages import page, see_other
from service.alerts.policy import policy
from service.errors import Invalid
from service.kit.i18n import SUPPORTED_LOCALES
from service.models import Role
from service.onboarding import clinic_settings
from service.onboarding.clinic_settings import DAYS, SEVERITIES, InvalidSettings, SettingsForm

router = APIRouter(dependencies=[Depends(require_role(Role.ADMIN))])
Admin = Annotated[SignedIn, Depends(require_role(Role.ADMIN))]
LONGEST_FIELD = 4000


async def posted_form(request: Request) -> dict[str, str]:
    """The posted fields as text (already read once by the CSRF check, so this costs nothing)."""
    form = await request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    if any(len(value) > LONGEST_FIELD for value in values.values()):
        raise Invalid("some of what was sent is too long")
    return values


Posted = Annotated[dict[str, str], Depends(posted_form)]


def _defaults() -> dict[str, int]:
    return {str(severity): int(minutes) for severity, minutes in policy().deadline_minutes.items()}


def _current(current: SignedIn) -> SettingsForm:
    """What is in force now: the clinic's own settings, else the alert policy's defaults."""
    return clinic_settings.current(current.clinic, _defaults(), dict(policy().hours or {}))


def _form_of(posted: dict[str, str]) -> SettingsForm:
    hours = {
        day: (posted.get(f"opens_{day}", ""), posted.get(f"closes_{day}", ""))
        for day in DAYS
        if posted.get(f"open_{day}")
    }
    return SettingsForm(
        name=posted.get("name", ""),
        locale=posted.get("locale", ""),
        country=posted.get("country", ""),
        timezone=posted.get("timezone", ""),
        hours=hours,
        crisis={locale: posted.get(f"crisis_{locale}", "") for locale in SUPPORTED_LOCALES},
        deadlines={severity: posted.get(f"deadline_{severity}", "") for severity in SEVERITIES},
        mfa_required=bool(posted.get("mfa_required")),
        sso_issuer=posted.get("sso_issuer", ""),
        sso_client_id=posted.get("sso_client_id", ""),
        sso_client_secret=posted.get("sso_client_secret", ""),
        sso_remove=bool(posted.get("sso_remove")),
        retention_years=posted.get("retention_years", ""),
    )


def _page(
    request: Request,
    current: SignedIn,
    form: SettingsForm,
    *,
    saved: bool = False,
    unchanged: bool = False,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    return page(
        request,
        "clinic_settings.html",
        signed_in=current,
        status=status,
        form=form,
        saved=saved,
        unchanged=unchanged,
        errors=errors or {},
        days=DAYS,
        severities=SEVERITIES,
        ranges=clinic_settings.DEADLINE_RANGES,
        retention_range=clinic_settings.RETENTION_RANGE,
        languages=LANGUAGE_NAMES,
        countries=country_choices(current.locale),
        timezones=timezone_choices(),
        locales=SUPPORTED_LOCALES,
        sso_link=f"{request.scope.get('root_path', '')}/login/oidc?clinic={current.clinic.id}",
    )


@router.get("/clinic/settings", name="clinic_settings", response_class=HTMLResponse)
def settings_page(request: Request, current: Admin, saved: str | None = None) -> Response:
    form = _current(current)
    return _page(request, current, form, saved=saved == "1", unchanged=saved == "0")


@router.post("/clinic/settings", name="clinic_settings_save", response_class=HTMLResponse)
def save_settings(request: Request, current: Admin, session: SessionDep, posted: Posted) -> Response:
    form = _form_of(posted)
    try:
        changed = clinic_settings.update(session, admin=current.staff, clinic_id=current.clinic.id, form=form)
    except InvalidSettings as exc:
        shown = _current(current)
        form.sso_client_secret = ""  # never sent back, even as typed
        form.sso_secret_set = shown.sso_secret_set
        return _page(request, current, form, errors=exc.errors, status=422)
    return see_other(request, "clinic_settings", query="saved=1" if changed else "saved=0")
