"""The context of one request: who is acting (a client, a staff member, or the system itself:
scheduler, CLI) and the request id that audit rows and log lines carry."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.models import Patient, Staff

# Set by the HTTP middleware for each request; None outside a request (scheduler, CLI).
current_request_id: ContextVar[str | None] = ContextVar("tandem_request_id", default=None)


@dataclass(frozen=True, slots=True)
class Actor:
    kind: str  # "client", "staff" or "system"
    id: str | None
    clinic_id: str | None = None
    role: str | None = None

    @classmethod
    def client(cls, patient: Patient) -> Actor:
        return cls("client", patient.id, patient.clinic_id)

    @classmethod
    def staff(cls, staff: Staff) -> Actor:
        return cls("staff", staff.id, staff.clinic_id, str(staff.role))

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls("system", name)
