"""Reading the audit log: a clinic administrator's filtered, paginated view of their clinic's rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from service.db import unit_of_work
from service.errors import Forbidden, Invalid
from service.kit.context import Actor
from service.models import AuditEvent, Patient, Role, Staff

from .log import record

MAX_PER_PAGE = 200


@dataclass(frozen=True)
class AuditFilter:
    actor_id: str | None = None
    patient_id: str | None = None
    action: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    page: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def search(session: Session, staff: Staff, filters: AuditFilter, *, page: int = 1, per_page: int = 50) -> AuditPage:
    """The clinic's audit rows matching ``filters``, newest first. The search itself is audited."""
    if not staff.active or staff.role != Role.ADMIN:
        raise Forbidden("only a clinic administrator can read the audit log")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"page must be 1 or more and per_page between 1 and {MAX_PER_PAGE}")
    if filters.since and filters.until and filters.since >= filters.until:
        raise Invalid("the start of the date range must be before its end")
    # Rows about the clinic's patients belong to the clinic even when written by the system
    # (the CLI, the scheduler), whose rows may carry no clinic id of their own.
    clinic_patients = select(Patient.id).where(Patient.clinic_id == staff.clinic_id)
    query = select(AuditEvent).where(
        or_(col(AuditEvent.clinic_id) == staff.clinic_id, col(AuditEvent.patient_id).in_(clinic_patients))
    )
    if filters.actor_id:
        query = query.where(AuditEvent.actor_id == filters.actor_id)
    if filters.patient_id:
        query = query.where(AuditEvent.patient_id == filters.patient_id)
    if filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.since:
        query = query.where(col(AuditEvent.at) >= filters.since)
    if filters.until:
        query = query.where(col(AuditEvent.at) < filters.until)
    with unit_of_work(session):
        # One extra row tells whether a next page exists without counting the whole log.
        rows = list(
            session.exec(
                query.order_by(col(AuditEvent.id).desc()).offset((page - 1) * per_page).limit(per_page + 1)
            ).all()
        )
        record(
            session,
            actor=Actor.staff(staff),
            action="audit.search",
            entity_type="audit_event",
            patient_id=filters.patient_id,
            detail={"page": page, **{k: v for k, v in _describe(filters).items() if v is not None}},
        )
    return AuditPage(rows[:per_page], page, per_page, len(rows) > per_page)


def _describe(filters: AuditFilter) -> dict[str, str | None]:
    return {
        "actor_id": filters.actor_id,
        "action": filters.action,
        "since": filters.since.isoformat() if filters.since else None,
        "until": filters.until.isoformat() if filters.until else None,
    }


def actions_in_clinic(session: Session, clinic_id: str) -> list[str]:
    """Every action code that occurs in the clinic's log, for the filter's choices."""
    clinic_patients = select(Patient.id).where(Patient.clinic_id == clinic_id)
    found = session.exec(
        select(AuditEvent.action)
        .where(or_(col(AuditEvent.clinic_id) == clinic_id, col(AuditEvent.patient_id).in_(clinic_patients)))
        .distinct()
    ).all()
    return sorted(found)
