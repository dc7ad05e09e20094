"""Every table of Tandem. Importing this package registers them all on ``SQLModel.metadata``."""

from service.models.alert import Alert, AlertEvent, AlertSignal, AlertStatus, Severity
from service.models.audit import AuditEvent
from service.models.auth import RefreshToken
from service.models.checkin import CheckIn, IdempotencyKey
from service.models.clinic import Clinic
from service.models.exercise import (
    Assignment,
    AssignmentStatus,
    ExerciseMessage,
    ExerciseSession,
    ExerciseSessionStatus,
    MessageRole,
)
from service.models.measure import MeasureResponse, MeasureSchedule
from service.models.notify import OutboxMessage, OutboxStatus, WebhookEndpoint
from service.models.oncall import AlertFeedback, OnCallShift, StaffChannels, StaffPushSubscription
from service.models.patient import (
    DISCHARGE_REASONS,
    KEEP_REASONS,
    ConsentRecord,
    ErasureRequest,
    ErasureStatus,
    Invitation,
    Patient,
    PatientContact,
    PatientFigures,
    PatientKey,
    PatientStatus,
)
from service.models.portal import PortalSession, SessionStage
from service.models.ratelimit import RateLimitBucket
from service.models.reminder import PasswordResetToken, PushSubscription, ReminderPreference
from service.models.safety_plan import SafetyPlanVersion
from service.models.staff import Role, Staff, StaffPasswordReset
from service.models.summary import PatientSummary

__all__ = [
    "DISCHARGE_REASONS",
    "KEEP_REASONS",
    "Alert",
    "AlertEvent",
    "AlertFeedback",
    "AlertSignal",
    "AlertStatus",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "CheckIn",
    "Clinic",
    "ConsentRecord",
    "ErasureRequest",
    "ErasureStatus",
    "ExerciseMessage",
    "ExerciseSession",
    "ExerciseSessionStatus",
    "IdempotencyKey",
    "Invitation",
    "MeasureResponse",
    "MeasureSchedule",
    "MessageRole",
    "OnCallShift",
    "OutboxMessage",
    "OutboxStatus",
    "PasswordResetToken",
    "Patient",
    "PatientContact",
    "PatientFigures",
    "PatientKey",
    "PatientStatus",
    "PatientSummary",
    "PortalSession",
    "PushSubscription",
    "RateLimitBucket",
    "RefreshToken",
    "ReminderPreference",
    "Role",
    "SafetyPlanVersion",
    "SessionStage",
    "Severity",
    "Staff",
    "StaffChannels",
    "StaffPasswordReset",
    "StaffPushSubscription",
    "WebhookEndpoint",
]

from service.models.sealing import install as _install_sealing

_install_sealing()
