"""The client's data export (GET /api/v1/me/export), section by section.

Every model forbids unknown keys, so the builder (``client_export``) and this schema cannot drift
apart without a test failing: nothing is dropped from an export silently.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.checkins.schemas import CheckinOut
from service.measures.schemas import ResponseOut
from service.onboarding.schemas import ProfileOut


class _Exact(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExportedConsent(_Exact):
    version: str
    locale: str
    text_sha256: str
    accepted_at: datetime


class ExportedAssignment(_Exact):
    id: str
    exercise_code: str
    exercise_version: int
    every_days: int
    starts_on: date
    ends_on: date | None
    instructions: str | None
    status: str
    created_at: datetime


class ExportedLine(_Exact):
    role: str
    text: str
    at: datetime
    risk_level: str | None


class ExportedSession(_Exact):
    id: str
    assignment_id: str
    exercise_code: str
    status: str
    started_at: datetime
    completed_at: datetime | None
    answers: dict[str, Any]
    transcript: list[ExportedLine]


class ExportedSchedule(_Exact):
    instrument: str
    interval_days: int | None
    active: bool
    requested_at: datetime | None
    requested_reason: str | None
    updated_at: datetime | None


class ExportedSignal(_Exact):
    source_type: str = Field(description="checkin, measure_response, coach_message or trend")
    source_id: str | None = Field(description="The row that raised it; none for a trend over several.")
    level: str
    categories: list[str]
    at: datetime


class ExportedAlert(_Exact):
    id: str
    reason: str
    reason_label: str
    severity: str
    status: str
    raised_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    resolution_label: str | None
    signals: list[ExportedSignal]


class ExportedToken(_Exact):
    """An invitation, or one link of a sign-in session: when, never the secret."""

    created_at: datetime
    expires_at: datetime | None
    used_at: datetime | None
    revoked_at: datetime | None


class ExportedRequestKey(_Exact):
    key: str
    scope: str
    resource_id: str
    created_at: datetime


class ExportedReminders(_Exact):
    enabled: bool
    times: list[str]
    days: list[int]
    measures: bool
    exercises: bool
    quiet_start: str | None
    quiet_end: str | None
    email_fallback: bool
    updated_at: datetime


class ExportedPushDevice(_Exact):
    endpoint: str
    created_at: datetime


class ExportedPasswordReset(_Exact):
    requested_at: datetime
    expires_at: datetime
    used_at: datetime | None


class ExportedContact(_Exact):
    """How the clinic reaches the client and whom it calls in an emergency."""

    date_of_birth: str | None
    phone: str | None
    email: str | None
    contact_times: str | None
    emergency_name: str | None
    emergency_relation: str | None
    emergency_phone: str | None
    updated_at: datetime


class ExportedErasureRequest(_Exact):
    requested_at: datetime
    due_at: datetime
    status: str
    decided_at: datetime | None
    keep_reason: str | None
    keep_until: datetime | None


class ExportedDataKey(_Exact):
    """That the client's text is sealed under a key of their own (never the key itself)."""

    created_at: datetime
    destroyed_at: datetime | None


class ExportedCaseloadFigures(_Exact):
    last_checkin_at: datetime | None
    phq9_latest: int | None
    phq9_first: int | None
    gad7_latest: int | None
    gad7_first: int | None
    phq9_latest_at: datetime | None
    phq9_first_at: datetime | None
    gad7_latest_at: datetime | None
    gad7_first_at: datetime | None


class ExportedSafetyPlanVersion(_Exact):
    version: int
    saved_at: datetime
    written_by: str
    sections_changed: list[str]
    sections: dict[str, list[str]]


class ExportedSummary(_Exact):
    id: str
    reason: str
    appointment_at: datetime | None
    period_start: date
    period_end: date
    created_at: datetime


class AccessLogEntry(_Exact):
    at: datetime
    action: str
    by: str
    record: str | None


class ClientExport(_Exact):
    """Everything Tandem stores about the client, decrypted (GDPR art. 15 and 20)."""

    format: str
    exported_at: datetime
    profile: ProfileOut
    consents: list[ExportedConsent]
    checkins: list[CheckinOut]
    measure_responses: list[ResponseOut]
    assignments: list[ExportedAssignment]
    exercise_sessions: list[ExportedSession]
    questionnaire_schedules: list[ExportedSchedule]
    alerts: list[ExportedAlert]
    invitations: list[ExportedToken]
    sign_ins: list[ExportedToken]
    request_keys: list[ExportedRequestKey]
    summaries: list[ExportedSummary]
    reminders: list[ExportedReminders]
    push_devices: list[ExportedPushDevice]
    password_resets: list[ExportedPasswordReset]
    caseload_figures: list[ExportedCaseloadFigures]
    safety_plan_versions: list[ExportedSafetyPlanVersion]
    access_log: list[AccessLogEntry]
    contact_details: list[ExportedContact]
    erasure_requests: list[ExportedErasureRequest]
    data_keys: list[ExportedDataKey]
