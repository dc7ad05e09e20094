"""Escalation: an alert nobody acknowledged by its deadline goes to the clinic's on-call staff
(or its administrators when nobody is on call), and again, wider, each time the deadline passes."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from service import audit
from service.alerts import notifications, oncall
from service.alerts.policy import deadline
from service.db import unit_of_work
from service.kit.context import Actor
from service.models import Alert, AlertEvent, AlertStatus, Clinic, Role, Staff
from service.models.base import utcnow

SYSTEM = Actor.system("escalation")


def recipients(session: Session, *, alert: Alert, now: datetime | None = None) -> list[Staff]:
    """Step 1: whoever the rota has on call now (else staff marked on call), else administrators:
    a gap in the rota pages the admins. Step 2 and later: on-call staff and administrators."""
    staff = session.exec(select(Staff).where(Staff.clinic_id == alert.clinic_id, col(Staff.active).is_(True))).all()
    on_shift = [
        s for s in oncall.on_shift(session, clinic_id=alert.clinic_id, now=now or utcnow()) if s.id != alert.assigned_to
    ]
    on_call = on_shift or [s for s in staff if s.on_call and s.id != alert.assigned_to]
    admins = [s for s in staff if s.role == Role.ADMIN]
    chosen = (on_call or admins) if alert.escalation_level <= 1 else on_call + admins
    unique = {s.id: s for s in chosen}
    return list(unique.values())


def escalate_due(session: Session, *, now: datetime | None = None) -> list[str]:
    """Escalate every open alert past its deadline; returns their ids. One transaction per alert."""
    now = now or utcnow()
    due = session.exec(
        select(Alert.id).where(Alert.status == AlertStatus.OPEN, col(Alert.ack_deadline_at) <= now)
    ).all()
    escalated = []
    for alert_id in due:
        with unit_of_work(session):
            query = select(Alert).where(Alert.id == alert_id)
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            alert = session.exec(query).first()
            # Re-check under the lock: somebody may have acknowledged it meanwhile.
            if alert is None or alert.status != AlertStatus.OPEN or alert.ack_deadline_at > now:
                continue
            clinic = session.get(Clinic, alert.clinic_id)
            assert clinic is not None
            alert.escalation_level += 1
            alert.last_escalated_at = alert.updated_at = now
            alert.ack_deadline_at = now + deadline(clinic, alert.severity)
            people = recipients(session, alert=alert, now=now)
            session.add(
                AlertEvent(
                    alert_id=alert.id,
                    at=now,
                    kind="escalated",
                    actor_type=SYSTEM.kind,
                    actor_id=SYSTEM.id,
                    detail={"level": alert.escalation_level, "to": [p.id for p in people]},
                )
            )
            audit.record(
                session, actor=SYSTEM, action="alert.escalate", entity=alert, detail={"level": alert.escalation_level}
            )
            notifications.alert_escalated(session, alert=alert, clinic=clinic, recipients=people)
            escalated.append(alert.id)
    return escalated
