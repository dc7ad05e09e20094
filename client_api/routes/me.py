from __future__ import annotations

from fastapi import APIRouter, Response

from client_api.deps import CurrentClient, SessionDep
from service.onboarding import password_reset, profile
from service.onboarding.schemas import ErasureOut, PasswordChangeIn, ProfileOut, ProfileUpdateIn
from service.reminders import service as reminders
from service.reminders.schemas import ReminderSettingsIn, ReminderSettingsOut
from service.summaries.client_export import export_patient
from service.summaries.schemas import ClientExport

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=ProfileOut)
def me(client: CurrentClient, session: SessionDep) -> ProfileOut:
    return profile.profile(session, patient=client)


@router.patch("", response_model=ProfileOut)
def update_me(body: ProfileUpdateIn, client: CurrentClient, session: SessionDep) -> ProfileOut:
    """Change the client's language (en, fr) or time zone."""
    return profile.update_profile(session, patient=client, locale=body.locale, timezone=body.timezone)


@router.post("/password", status_code=204)
def change_password(body: PasswordChangeIn, client: CurrentClient, session: SessionDep) -> Response:
    """Change the password; every refresh token of the account stops working (sign in again elsewhere)."""
    password_reset.change_password(session, patient=client, current=body.current_password, new=body.new_password)
    return Response(status_code=204)


@router.get("/reminders", response_model=ReminderSettingsOut)
def get_reminders(client: CurrentClient, session: SessionDep) -> ReminderSettingsOut:
    """When the client wants a check-in reminder, in their own time zone."""
    return reminders.get_settings_for(session, patient=client)


@router.put("/reminders", response_model=ReminderSettingsOut)
def put_reminders(body: ReminderSettingsIn, client: CurrentClient, session: SessionDep) -> ReminderSettingsOut:
    """Choose local times and weekdays for check-in reminders, quiet hours, and what else to mention.
    Reminders stop while care is paused or after discharge."""
    return reminders.save_settings(session, patient=client, data=body)


@router.get("/export", response_model=ClientExport)
def export(client: CurrentClient, session: SessionDep) -> ClientExport:
    """Everything Tandem stores about the client, as JSON (GDPR art. 15 and 20)."""
    return export_patient(session, client)


@router.delete("", status_code=202, response_model=ErasureOut)
def request_erasure(client: CurrentClient, session: SessionDep) -> ErasureOut:
    return profile.request_erasure(session, patient=client)
