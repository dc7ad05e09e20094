"""Every table of Tandem. Importing this package registers them all on ``SQLModel.metadata``."""

from service.models.audit import AuditEvent
from service.models.auth import RefreshToken
from service.models.checkin import CheckIn, IdempotencyKey
from service.models.clinic import Clinic
from service.models.measure import MeasureResponse, MeasureSchedule
from service.models.patient import ConsentRecord, Invitation, Patient, PatientStatus
from service.models.staff import Role, Staff

__all__ = [
    "AuditEvent",
    "CheckIn",
    "Clinic",
    "ConsentRecord",
    "IdempotencyKey",
    "Invitation",
    "MeasureResponse",
    "MeasureSchedule",
    "Patient",
    "PatientStatus",
    "RefreshToken",
    "Role",
    "Staff",
]
