"""Who is acting: a client, a staff member, or the system itself (scheduler, CLI)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.models import Patient, Staff


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
