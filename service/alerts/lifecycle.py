"""Alerts: raised in the same transaction as the data that caused them, then acknowledged and
resolved by a person, every step kept in the alert's history."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from service import audit
from service.alerts import feedback, notifications
from service.alerts.exchange import CATEGORY as EXCHANGE_CATEGORY
from service.alerts.exchange import Said, evidence_message, is_exchange
from service.alerts.policy import (
    SignalFacts,
    combination_window_days,
    combined_severity,
    deadline,
    policy,
    reason_for,
    severity_for,
)
from service.db import unit_of_work
from service.errors import Conflict, Invalid, NotFound
from service.kit.context import Actor
from service.models import (
    Alert,
    AlertEvent,
    AlertSignal,
    AlertStatus,
    Clinic,
    OnCallShift,
    Patient,
    Role,
    SafetyPlanVersion,
    Severity,
    Staff,
    StaffChannels,
    StaffPushSubscription,
    WebhookEndpoint,
)
from service.models.base import utcnow
from service.risk import RiskResult

SYSTEM = Actor.system("risk")
_Row = TypeVar("_Row")
MAX_NOTE = 2000


def primary_category(result: RiskResult) -> str:
    """The category of the strongest evidence: it names the alert."""
    if result.evidence:
        return max(result.evidence, key=lambda e: int(e.level)).category
    return result.categories[0] if result.categories else "unspecified"


@dataclass
class CareTeam:
    """What raising an alert for a patient needs to know, read in one statement: their clinic, their
    unresolved alerts, their clinician with the channels that reach them, the clinic's webhook
    endpoints, and the latest version of the client's safety plan (for the crisis block)."""

    clinic: Clinic
    open_alerts: list[Alert]
    clinician: Staff | None
    channels: StaffChannels | None
    subscriptions: list[StaffPushSubscription]
    endpoints: list[WebhookEndpoint]
    safety_plan: SafetyPlanVersion | None

    def open_for(self, reason: str) -> Alert | None:
        return next((alert for alert in self.open_alerts if alert.reason == reason), None)

    def most_severe(self) -> Alert | None:
        return max(self.open_alerts, key=lambda alert: Severity(alert.severity).rank, default=None)

    def highest_open_severity(self) -> Severity | None:
        alert = self.most_severe()
        return Severity(alert.severity) if alert is not None else None


def care_team(session: Session, *, patient: Patient) -> CareTeam:
    """The patient's care-team routing data in one query (rows: open alerts x push subscriptions x
    webhook endpoints, a handful each). The rows are held for the rest of the transaction."""
    latest_plan = (
        select(func.max(SafetyPlanVersion.version)).where(SafetyPlanVersion.patient_id == patient.id).scalar_subquery()
    )
    rows = session.execute(
        sa_select(Clinic, Alert, Staff, StaffChannels, StaffPushSubscription, WebhookEndpoint, SafetyPlanVersion)
        .select_from(Clinic)
        .outerjoin(Alert, (col(Alert.patient_id) == patient.id) & (col(Alert.status) != AlertStatus.RESOLVED))
        .outerjoin(Staff, col(Staff.id) == patient.clinician_id)
        .outerjoin(StaffChannels, col(StaffChannels.staff_id) == col(Staff.id))
        .outerjoin(StaffPushSubscription, col(StaffPushSubscription.staff_id) == col(Staff.id))
        .outerjoin(
            WebhookEndpoint, (col(WebhookEndpoint.clinic_id) == col(Clinic.id)) & col(WebhookEndpoint.active).is_(True)
        )
        .outerjoin(
            SafetyPlanVersion,
            (col(SafetyPlanVersion.patient_id) == patient.id) & (col(SafetyPlanVersion.version) == latest_plan),
        )
        .where(col(Clinic.id) == patient.clinic_id)
    ).all()
    assert rows  # foreign key: the patient's clinic exists
    first = rows[0]
    team = CareTeam(
        clinic=first[0],
        open_alerts=_distinct(row[1] for row in rows),
        clinician=first[2],
        channels=first[3],
        subscriptions=_distinct(row[4] for row in rows),
        endpoints=_distinct(row[5] for row in rows),
        safety_plan=first[6],
    )
    for row in (team.clinic, team.clinician, team.channels, team.safety_plan, *team.open_alerts):
        if row is not None:
            hold(session, row=row)
    return team


def _distinct(rows: Iterable[_Row | None]) -> list[_Row]:
    return list({id(row): row for row in rows if row is not None}.values())


def raise_for(
    session: Session,
    *,
    patient: Patient,
    source_type: str,
    source_id: str | None,
    result: RiskResult,
    now: datetime | None = None,
    care: CareTeam | None = None,
    exchange: Sequence[Said] | None = None,
) -> Alert | None:
    """Open an alert for a risk signal, or attach it to the open alert for the same reason.

    A signal read from a whole exchange (``exchange``: the messages its evidence names) joins the
    patient's open alert, whatever its reason, rather than open a second one. Runs inside the
    caller's transaction: the alert commits with the check-in (or answer, or message) that raised
    it, or not at all. ``care``: the care team already read (``care_team``), updated in place.
    """
    severity = severity_for(result.level.label)
    if severity is None:
        return None
    now = now or utcnow()
    combined = _combination(session, patient, source_type=source_type, result=result, now=now)
    if combined is not None and combined[0].rank > severity.rank:
        severity = combined[0]
    combination = combined[1] if combined is not None and combined[0] == severity else None
    reason = reason_for(primary_category(result))
    care = care or care_team(session, patient=patient)
    alert = care.open_for(reason)
    if alert is None and is_exchange(result):
        own = reason_for(primary_category(_without_exchange(result)))
        alert = care.open_for(own) or care.most_severe()
    if alert is None:
        alert = _create(
            session, patient=patient, care=care, reason=reason, severity=severity, now=now, combination=combination
        )
        if alert not in care.open_alerts:
            care.open_alerts.append(alert)
    _attach(session, alert, source_type=source_type, source_id=source_id, result=result, now=now, exchange=exchange)
    if alert.severity != severity and severity.rank > Severity(alert.severity).rank:
        _raise_severity(session, alert, severity, now, combination=combination, care=care)
    return alert


def _without_exchange(result: RiskResult) -> RiskResult:
    return RiskResult.from_evidence(item for item in result.evidence if item.category != EXCHANGE_CATEGORY)


def hold(session: Session, *, row: object) -> None:
    """Keep a loaded row for the rest of the session: the identity map only keeps rows something
    refers to, and a later ``session.get`` of a forgotten one goes back to the database."""
    session.info.setdefault("held_rows", []).append(row)


def _combination(
    session: Session, patient: Patient, *, source_type: str, result: RiskResult, now: datetime
) -> tuple[Severity, str] | None:
    """A combination of this signal with the patient's recent ones that calls for more (policy file)."""
    days = combination_window_days()
    if not days:
        return None
    rows = session.exec(
        select(AlertSignal.categories, AlertSignal.level, AlertSignal.source_type, AlertSignal.created_at)
        .join(Alert, col(Alert.id) == AlertSignal.alert_id)
        .where(Alert.patient_id == patient.id, col(AlertSignal.created_at) >= now - timedelta(days=days))
    ).all()
    recent = [
        (SignalFacts(tuple(categories or ()), level, source), (now - at).days) for categories, level, source, at in rows
    ]
    new = SignalFacts(tuple(result.categories), result.level.label, source_type)
    return combined_severity(recent, new)


def highest_open_severity(session: Session, *, patient_id: str) -> Severity | None:
    """The most severe of the patient's unresolved alerts (flushed ones included), or None."""
    found = session.exec(
        select(Alert.severity).where(Alert.patient_id == patient_id, col(Alert.status) != AlertStatus.RESOLVED)
    ).all()
    return max((Severity(s) for s in found), key=lambda s: s.rank, default=None)


def _open_alert(session: Session, patient_id: str, reason: str) -> Alert | None:
    return session.exec(
        select(Alert).where(
            Alert.patient_id == patient_id, Alert.reason == reason, col(Alert.status) != AlertStatus.RESOLVED
        )
    ).first()


def _create(
    session: Session,
    *,
    patient: Patient,
    care: CareTeam,
    reason: str,
    severity: Severity,
    now: datetime,
    combination: str | None = None,
) -> Alert:
    clinic = care.clinic
    alert = Alert(
        clinic_id=patient.clinic_id,
        patient_id=patient.id,
        assigned_to=patient.clinician_id,
        reason=reason,
        severity=severity,
        created_at=now,
        updated_at=now,
        ack_deadline_at=now + deadline(clinic, severity),
    )
    if session.get_bind().dialect.name == "postgresql":
        # A concurrent request may open the same alert: the partial unique index decides, in one
        # statement (no savepoint), and the loser joins the winner's alert.
        values = {column.name: getattr(alert, column.name) for column in Alert.__table__.columns}  # type: ignore[attr-defined]
        table = Alert.__table__  # type: ignore[attr-defined]
        inserted = session.execute(
            pg_insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["patient_id", "reason"], index_where=text("status <> 'resolved'"))
            .returning(table.c.id)
        ).scalar()
        if inserted is None:
            existing = _open_alert(session, patient.id, reason)
            if existing is None:
                raise Conflict("this alert changed at the same moment; please try again")
            return existing
        make_transient_to_detached(alert)
        for name, value in values.items():  # as stored: nothing to reload
            set_committed_value(alert, name, value)
        session.add(alert)  # persistent already: nothing more to insert
    else:
        # SQLite admits one writer at a time (service.db makes writers take turns), so nobody can
        # open the same alert meanwhile; the insert goes out with the rest of the transaction.
        session.add(alert)
    created = {"severity": str(severity), "reason": reason}
    if combination:
        created["combination"] = combination
    _history(session, alert, "created", SYSTEM, created, now)
    audit.record(session, actor=SYSTEM, action="alert.create", entity=alert, detail={"severity": str(severity)})
    notifications.alert_opened(session, alert=alert, clinic=clinic, new=True, known=_reach(care))
    return alert


def _reach(care: CareTeam) -> notifications.Reach:
    return notifications.Reach(
        clinician=care.clinician,
        channels=care.channels,
        subscriptions=care.subscriptions,
        endpoints=care.endpoints,
    )


def _attach(
    session: Session,
    alert: Alert,
    *,
    source_type: str,
    source_id: str | None,
    result: RiskResult,
    now: datetime,
    exchange: Sequence[Said] | None = None,
) -> None:
    evidence = []
    for e in result.evidence:
        found: dict[str, Any] = {"rule": e.rule, "category": e.category, "text": e.text, "level": e.level.label}
        message = evidence_message(exchange, e.message)
        if message is not None:
            found["message"] = message  # which message of the exchange: a reference, not a copy
        evidence.append(found)
    session.add(
        AlertSignal(
            alert_id=alert.id,
            source_type=source_type,
            source_id=source_id,
            level=result.level.label,
            categories=list(result.categories),
            evidence_json=json.dumps(evidence, ensure_ascii=False),
            engine_version=result.engine_version,
            created_at=now,
        )
    )
    alert.updated_at = now
    signal: dict[str, Any] = {"source_type": source_type, "level": result.level.label}
    if exchange is not None and is_exchange(result):
        # Ids only: the alert's history names the messages read together, never their words.
        signal["exchange"] = [f"{said.source_type}:{said.source_id}" for said in exchange]
    _history(session, alert, "signal", SYSTEM, signal, now)
    notifications.alert_changed(session, alert=alert)


def _raise_severity(
    session: Session,
    alert: Alert,
    severity: Severity,
    now: datetime,
    *,
    combination: str | None = None,
    care: CareTeam | None = None,
) -> None:
    clinic = care.clinic if care is not None else session.get(Clinic, alert.clinic_id)
    assert clinic is not None
    previous = alert.severity
    alert.severity = severity
    alert.ack_deadline_at = min(alert.ack_deadline_at, now + deadline(clinic, severity))
    if alert.status == AlertStatus.ACKNOWLEDGED:
        # A stronger signal needs a fresh look from a person, so it must be acknowledged again.
        alert.status = AlertStatus.OPEN
        alert.ack_deadline_at = now + deadline(clinic, severity)
    raised = {"from": str(previous), "to": str(severity)}
    if combination:
        raised["combination"] = combination
    _history(session, alert, "severity_raised", SYSTEM, raised, now)
    audit.record(session, actor=SYSTEM, action="alert.severity_raise", entity=alert, detail={"to": str(severity)})
    notifications.alert_opened(session, alert=alert, clinic=clinic, known=_reach(care) if care is not None else None)


def _history(session: Session, alert: Alert, kind: str, actor: Actor, detail: dict[str, Any], now: datetime) -> None:
    session.add(
        AlertEvent(alert_id=alert.id, at=now, kind=kind, actor_type=actor.kind, actor_id=actor.id, detail=detail)
    )


# --- What staff see and do ---------------------------------------------------------------------


def visible_to(staff: Staff) -> SelectOfScalar[Alert]:
    """Admins see the clinic's alerts; clinicians every alert of the patients currently in their
    caseload (whoever it was first assigned to), and unresolved ones that were escalated or assigned to
    them. Visibility follows the current assignment: once a patient moves to another clinician, the
    previous one no longer sees that patient's alerts, resolved ones included."""
    query = select(Alert).where(Alert.clinic_id == staff.clinic_id)
    if staff.role == Role.ADMIN:
        return query
    caseload = select(Patient.id).where(Patient.clinic_id == staff.clinic_id, Patient.clinician_id == staff.id)
    unresolved = col(Alert.status) != AlertStatus.RESOLVED
    mine = col(Alert.patient_id).in_(caseload) | ((col(Alert.assigned_to) == staff.id) & unresolved)
    if staff.on_call:
        return query.where(mine | ((col(Alert.escalation_level) > 0) & unresolved))
    # On the rota now, or lately: escalated alerts reach them while unresolved, even after the shift.
    on_rota = (
        select(OnCallShift.id)
        .where(OnCallShift.staff_id == staff.id, col(OnCallShift.ends_at) > utcnow() - timedelta(days=1))
        .exists()
    )
    return query.where(mine | ((col(Alert.escalation_level) > 0) & unresolved & on_rota))


def get_for_staff(session: Session, *, staff: Staff, alert_id: str) -> Alert:
    alert = session.exec(visible_to(staff).where(Alert.id == alert_id)).first()
    if alert is None:
        raise NotFound("no such alert")
    return alert


def open_queue(session: Session, *, staff: Staff) -> list[Alert]:
    """Unresolved alerts, most severe first, then oldest first."""
    alerts = session.exec(visible_to(staff).where(col(Alert.status) != AlertStatus.RESOLVED)).all()
    return sorted(alerts, key=lambda a: (-Severity(a.severity).rank, a.created_at))


def open_counts(session: Session, *, staff: Staff) -> dict[Severity, int]:
    """How many unresolved alerts this staff member may see, by severity (the menu's badge)."""
    visible = visible_to(staff).where(col(Alert.status) != AlertStatus.RESOLVED).subquery()
    rows = session.execute(select(visible.c.severity, func.count()).group_by(visible.c.severity)).all()
    counts = dict.fromkeys(Severity, 0)
    for severity, count in rows:
        counts[Severity(severity)] = int(count)
    return counts


def unacknowledged_urgent(session: Session, *, staff: Staff) -> int:
    """Urgent alerts this staff member may see that nobody has acknowledged yet."""
    visible = visible_to(staff).where(Alert.status == AlertStatus.OPEN, Alert.severity == Severity.URGENT).subquery()
    return int(session.execute(select(func.count()).select_from(visible)).scalar_one())


def reassign_open(session: Session, *, patient: Patient, clinician: Staff, actor: Actor) -> list[Alert]:
    """The patient's unresolved alerts follow them to their new clinician, who is told about each.

    Runs inside the caller's transaction (the reassignment of the patient).
    """
    now = utcnow()
    moved = list(
        session.exec(
            select(Alert).where(
                Alert.patient_id == patient.id,
                col(Alert.status) != AlertStatus.RESOLVED,
                col(Alert.assigned_to) != clinician.id,
            )
        ).all()
    )
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None
    for alert in moved:
        previous = alert.assigned_to
        alert.assigned_to, alert.updated_at = clinician.id, now
        _history(session, alert, "reassigned", actor, {"from": previous, "to": clinician.id}, now)
        audit.record(session, actor=actor, action="alert.reassign", entity=alert, detail={"to": clinician.id})
        notifications.alert_reassigned(session, alert=alert, clinic=clinic)
    return moved


def acknowledge(session: Session, *, alert_id: str, staff: Staff, now: datetime | None = None) -> Alert:
    now = now or utcnow()
    with unit_of_work(session):
        alert = get_for_staff(session, staff=staff, alert_id=alert_id)
        if alert.status != AlertStatus.OPEN:
            raise Conflict(f"this alert is already {alert.status}")
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by, alert.acknowledged_at, alert.updated_at = staff.id, now, now
        actor = Actor.staff(staff)
        _history(session, alert, "acknowledged", actor, {}, now)
        audit.record(session, actor=actor, action="alert.acknowledge", entity=alert)
        notifications.alert_changed(session, alert=alert, webhook_event="alert.acknowledged")
    return alert


def resolve(
    session: Session,
    *,
    alert_id: str,
    staff: Staff,
    resolution: str,
    note: str | None = None,
    now: datetime | None = None,
    verdict: str | None = None,
    verdict_reason: str | None = None,
) -> Alert:
    """Close the alert; ``verdict`` ("confirmed" or "not_a_concern" with a reason) labels it for
    the screener's figures and training."""
    now = now or utcnow()
    note = (note or "").strip() or None
    labelled = feedback.check(verdict, verdict_reason)
    if resolution not in policy().resolutions:
        raise Invalid(f"unknown resolution {resolution!r}; use one of {', '.join(policy().resolutions)}")
    if resolution == "other" and not note:
        raise Invalid("a note is required when the resolution is 'other'")
    if note and len(note) > MAX_NOTE:
        raise Invalid(f"the note must be at most {MAX_NOTE} characters")
    with unit_of_work(session):
        alert = get_for_staff(session, staff=staff, alert_id=alert_id)
        if alert.status == AlertStatus.RESOLVED:
            raise Conflict("this alert is already resolved")
        actor = Actor.staff(staff)
        if alert.status == AlertStatus.OPEN:  # resolving is also looking at it
            alert.acknowledged_by, alert.acknowledged_at = staff.id, now
            _history(session, alert, "acknowledged", actor, {}, now)
        alert.status = AlertStatus.RESOLVED
        alert.resolved_by, alert.resolved_at, alert.updated_at = staff.id, now, now
        alert.resolution, alert.resolution_note = resolution, note
        resolved: dict[str, Any] = {"resolution": resolution}
        if labelled is not None:
            feedback.record(session, alert=alert, staff=staff, verdict=labelled[0], reason=labelled[1], now=now)
            resolved["verdict"] = labelled[0]
        _history(session, alert, "resolved", actor, resolved, now)
        audit.record(session, actor=actor, action="alert.resolve", entity=alert, detail=resolved)
        notifications.alert_changed(session, alert=alert, webhook_event="alert.resolved")
    return alert


def history(session: Session, *, alert: Alert) -> list[AlertEvent]:
    return list(session.exec(select(AlertEvent).where(AlertEvent.alert_id == alert.id).order_by(col(AlertEvent.id))))


def signals(session: Session, *, alert: Alert) -> list[dict[str, Any]]:
    """The signals with their evidence (decrypted) for a person looking at the alert."""
    rows = session.exec(
        select(AlertSignal).where(AlertSignal.alert_id == alert.id).order_by(col(AlertSignal.created_at))
    ).all()
    return [
        {
            "source_type": row.source_type,
            "source_id": row.source_id,
            "level": row.level,
            "categories": row.categories,
            "evidence": json.loads(row.evidence_json),
            "engine_version": row.engine_version,
            "at": row.created_at,
        }
        for row in rows
    ]
