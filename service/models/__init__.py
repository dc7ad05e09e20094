"""Every table of Tandem. Importing this package registers them all on ``SQLModel.metadata``."""

from service.models.alert import Alert, AlertEvent, AlertSignal, AlertStatus, Severity
from service.models.audit import AuditEvent
from service.models.auth import RefreshToken
from service.models.clinic import Clinic
from service.models.exercise import (
    Assignment,
    AssignmentStatus,
    ExerciseMessage,
    ExerciseSession,
    ExerciseSessionStatus,
    MessageRole,
)
from service.models.notify import OutboxMessage, OutboxStatus, WebhookEndpoint
from service.models.patient import ConsentRecord, Invitation, Patient, PatientStatus
from service.models.staff import Role, Staff

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertSignal",
    "AlertStatus",
    "Assignment",
    "AssignmentStatus",
    "AuditEvent",
    "Clinic",
    "ConsentRecord",
    "ExerciseMessage",
    "ExerciseSession",
    "ExerciseSessionStatus",
    "Invitation",
    "MessageRole",
    "OutboxMessage",
    "OutboxStatus",
    "Patient",
    "PatientStatus",
    "RefreshToken",
    "Role",
    "Severity",
    "Staff",
    "WebhookEndpoint",
]
