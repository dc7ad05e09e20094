"""What staff read about alerts: the open queue, the recently resolved, one alert in full, and one
patient's alert history.

Which alerts a staff member may see is decided by ``lifecycle.visible_to``. Rows are built from a
few grouped queries (alerts, then their patients, staff and signals all at once), and every read
writes its audit rows in the same transaction: the evidence quotes what the patient wrote.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from service import audit
from service.alerts import delivery, lifecycle
from service.db import unit_of_work
from service.errors import Invalid
from service.kit.context import Actor
from service.models import Alert, AlertEvent, AlertSignal, AlertStatus, Patient, PatientContact, Severity, Staff
from service.models.base import utcnow
from service.onboarding import contacts
from service.onboarding.patients import visible_to as patients_visible_to
from service.risk import RiskLevel

RECENT_DAYS = 30
RESOLVED_LIMIT = 200


class Deadline(StrEnum):
    """Where an alert stands against its acknowledgement deadline."""

    DUE = "due"  # open, deadline ahead
    OVERDUE = "overdue"  # open, deadline passed (it escalates, or already has)
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    patient_name: str
    # On-call staff see escalated alerts of patients outside their caseload, but not those patients' pages.
    patient_visible: bool
    assigned_name: str
    acknowledged_name: str | None
    resolved_name: str | None
    signal_count: int
    evidence: list[dict[str, Any]]
    """The strongest signal's evidence, strongest first: rule, category, text (the words that
    matched), level. The strongest signal is the one that set the alert's severity (highest level,
    then newest): a later, weaker signal never hides it."""
    categories: list[str]
    """Every category seen on the alert's signals, first seen first."""
    lead_level: str = "none"
    lead_source: str | None = None
    lead_at: datetime | None = None
    escalated_to: tuple[str, ...] = ()
    """Names of the staff the latest escalation went to."""
    first_escalated_at: datetime | None = None

    @property
    def more_signals(self) -> int:
        """How many signals the row does not show (the queue shows the strongest one)."""
        return max(self.signal_count - 1, 0)

    def deadline(self, now: datetime | None = None) -> Deadline:
        if self.alert.status == AlertStatus.RESOLVED:
            return Deadline.RESOLVED
        if self.alert.status == AlertStatus.ACKNOWLEDGED:
            return Deadline.ACKNOWLEDGED
        if self.alert.escalation_level:  # escalation moves the deadline on; the alert stays overdue
            return Deadline.OVERDUE
        return Deadline.OVERDUE if self.alert.ack_deadline_at <= (now or utcnow()) else Deadline.DUE

    def overdue_since(self) -> datetime:
        """When the alert first went past its deadline (its first escalation, if any)."""
        if self.first_escalated_at is None:
            return self.alert.ack_deadline_at
        return min(self.first_escalated_at, self.alert.ack_deadline_at)


@dataclass(frozen=True)
class HistoryEntry:
    event: AlertEvent
    actor_name: str | None
    """The staff member's name; None for Tandem itself (screening, escalation)."""
    names: dict[str, str]
    """Names of the staff the event's detail mentions (reassigned to, escalated to)."""


@dataclass(frozen=True)
class AlertDetail:
    row: AlertRow
    signals: list[dict[str, Any]]
    history: list[HistoryEntry]
    deliveries: list[delivery.Delivery] = field(default_factory=list)
    """Every notice about the alert (email, push, SMS): to whom, attempts, failures."""
    contact: PatientContact | None = None
    """How to reach the client and their emergency contact: whoever handles the alert may call."""

    @property
    def alert(self) -> Alert:
        return self.row.alert


@dataclass(frozen=True)
class LiveFacts:
    """What a live page needs to hear about one changed alert, for one viewer."""

    alert_id: str
    severity: Severity
    status: AlertStatus
    open_counts: dict[Severity, int]
    is_new: bool
    """Just raised, rather than raised in severity or changed by someone."""
    urgent_unacknowledged: int = 0
    """Urgent alerts nobody has acknowledged yet: the tab title and icon change while there are any."""

    @property
    def open_total(self) -> int:
        return sum(self.open_counts.values())


def _by_severity_then_age(alert: Alert) -> tuple[int, datetime]:
    return (-Severity(alert.severity).rank, alert.created_at)


def queue(session: Session, *, staff: Staff) -> list[AlertRow]:
    """Unresolved alerts the staff member may see: most severe first, then oldest first."""
    with unit_of_work(session):
        alerts = lifecycle.open_queue(session, staff=staff)
        rows = _rows(session, staff, alerts)
        _audit_list(session, staff, rows, view="queue")
    return rows


def recently_resolved(
    session: Session, *, staff: Staff, days: int = RECENT_DAYS, limit: int = RESOLVED_LIMIT
) -> list[AlertRow]:
    """Alerts resolved in the last ``days`` days, most recently resolved first."""
    since = utcnow() - timedelta(days=days)
    with unit_of_work(session):
        alerts = session.exec(
            lifecycle.visible_to(staff)
            .where(Alert.status == AlertStatus.RESOLVED, col(Alert.resolved_at) >= since)
            .order_by(col(Alert.resolved_at).desc())
            .limit(limit)
        ).all()
        rows = _rows(session, staff, alerts)
        _audit_list(session, staff, rows, view="resolved")
    return rows


def patient_rows(session: Session, *, staff: Staff, patient: Patient) -> list[AlertRow]:
    """One patient's alerts the staff member may see, unresolved first, then the newest. Not audited
    here: the caller audits the page it builds (``caseload.patient_record``)."""
    alerts = session.exec(lifecycle.visible_to(staff).where(Alert.patient_id == patient.id)).all()
    ordered = sorted(alerts, key=lambda a: (a.status == AlertStatus.RESOLVED, -a.created_at.timestamp()))
    return _rows(session, staff, ordered)


def detail(session: Session, *, staff: Staff, alert_id: str) -> AlertDetail:
    """One alert in full: every signal with its evidence, and who did what when. Audited."""
    with unit_of_work(session):
        alert = lifecycle.get_for_staff(session, staff=staff, alert_id=alert_id)
        [row] = _rows(session, staff, [alert])
        events = lifecycle.history(session, alert=alert)
        mentioned = {e.actor_id for e in events if e.actor_type == "staff" and e.actor_id}
        for event in events:
            mentioned.update(_staff_mentioned(event))
        names = _staff_names(session, mentioned)
        history = [
            HistoryEntry(
                event=event,
                actor_name=names.get(event.actor_id or "") if event.actor_type == "staff" else None,
                names={sid: names[sid] for sid in _staff_mentioned(event) if sid in names},
            )
            for event in events
        ]
        signals = sorted(
            lifecycle.signals(session, alert=alert),
            key=lambda sig: (_level_rank(sig["level"]), sig["at"]),
            reverse=True,
        )
        for signal in signals:
            signal["evidence"] = strongest_first(signal["evidence"])
        contact = contacts.contact_of(session, patient_id=alert.patient_id)
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="alert.view",
            entity=alert,
            detail={"contact_details": True} if contact is not None else None,
        )
    return AlertDetail(
        row=row, signals=signals, history=history, deliveries=delivery.for_alert(session, alert=alert), contact=contact
    )


def live_facts(session: Session, *, staff: Staff, alert_id: str) -> LiveFacts | None:
    """The alert's severity and status if this staff member may see it (else None), with their
    open counts. Ids and facts only, so nothing here is audited: the page fetches the rows, and
    the patient's name through ``live_patient_name``."""
    found = session.exec(lifecycle.visible_to(staff).where(Alert.id == alert_id)).first()
    if found is None:
        return None
    return LiveFacts(
        alert_id=found.id,
        severity=Severity(found.severity),
        status=AlertStatus(found.status),
        open_counts=lifecycle.open_counts(session, staff=staff),
        # A new alert's first signal is attached at the moment it is created; anything later moves updated_at.
        is_new=found.updated_at == found.created_at,
        urgent_unacknowledged=lifecycle.unacknowledged_urgent(session, staff=staff),
    )


def live_patient_name(session: Session, *, staff: Staff, alert_id: str) -> str:
    """The patient an alert is about, for the live notice of a page (an audited read)."""
    with unit_of_work(session):
        alert = lifecycle.get_for_staff(session, staff=staff, alert_id=alert_id)
        patient = session.get(Patient, alert.patient_id)
        audit.record(session, actor=Actor.staff(staff), action="alert.live_notice", entity=alert)
    return patient.display_name if patient is not None else ""


def _staff_mentioned(event: AlertEvent) -> list[str]:
    detail = event.detail or {}
    found = [detail[key] for key in ("from", "to") if isinstance(detail.get(key), str) and event.kind == "reassigned"]
    if event.kind == "escalated" and isinstance(detail.get("to"), list):
        found.extend(str(sid) for sid in detail["to"])
    return found


def _staff_names(session: Session, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    return {s.id: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(ids))).all()}


def _rows(session: Session, staff: Staff, alerts: Sequence[Alert]) -> list[AlertRow]:
    """Alert rows with names and evidence, in four queries whatever the number of alerts."""
    if not alerts:
        return []
    patient_ids = {a.patient_id for a in alerts}
    patients = {p.id: p for p in session.exec(patients_visible_to(staff).where(col(Patient.id).in_(patient_ids))).all()}
    visible = set(patients)
    if patient_ids - visible:  # escalated alerts shown to on-call staff
        others = session.exec(select(Patient).where(col(Patient.id).in_(patient_ids - visible))).all()
        patients.update({p.id: p for p in others})
    people = {a.assigned_to for a in alerts}
    people |= {sid for a in alerts for sid in (a.acknowledged_by, a.resolved_by) if sid}
    names = _staff_names(session, people)
    signals = _signals_by_alert(session, [a.id for a in alerts])
    escalated = _latest_escalations(session, [a.id for a in alerts if a.escalation_level])
    names.update(_staff_names(session, {sid for ids, _ in escalated.values() for sid in ids} - set(names)))
    rows = []
    for alert in alerts:
        own = signals.get(alert.id, [])
        categories = list(dict.fromkeys(c for signal in own for c in signal.categories))
        lead = strongest(own)
        rows.append(
            AlertRow(
                alert=alert,
                patient_name=patients[alert.patient_id].display_name,
                patient_visible=alert.patient_id in visible,
                assigned_name=names.get(alert.assigned_to, ""),
                acknowledged_name=names.get(alert.acknowledged_by) if alert.acknowledged_by else None,
                resolved_name=names.get(alert.resolved_by) if alert.resolved_by else None,
                signal_count=len(own),
                evidence=strongest_first(json.loads(lead.evidence_json)) if lead else [],
                categories=categories,
                lead_level=lead.level if lead else "none",
                lead_source=lead.source_type if lead else None,
                lead_at=lead.created_at if lead else None,
                escalated_to=tuple(names[sid] for sid in escalated.get(alert.id, ((), None))[0] if sid in names),
                first_escalated_at=escalated.get(alert.id, ((), None))[1],
            )
        )
    return rows


def _level_rank(label: str) -> int:
    try:
        return int(RiskLevel.parse(label))
    except Invalid:
        return 0


def strongest(signals: Sequence[AlertSignal]) -> AlertSignal | None:
    """The signal that set the alert's severity: the highest level, and the newest among equals."""
    if not signals:
        return None
    return max(signals, key=lambda s: (_level_rank(s.level), s.created_at))


def strongest_first(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Evidence with the highest level first, keeping the screener's order among equals."""
    return sorted(evidence, key=lambda e: -_level_rank(str(e.get("level", "none"))))


def leading_words(session: Session, *, alert_ids: list[str]) -> dict[str, list[tuple[str, dict[str, Any] | None]]]:
    """For each alert, the client's words (or facts) of its strongest signal, strongest first, each
    with the message it comes from when the signal read several messages together (else None).

    For the PDF summary; the caller audits the read with the rest of the summary."""
    if not alert_ids:
        return {}
    words: dict[str, list[tuple[str, dict[str, Any] | None]]] = {}
    for alert_id, own in _signals_by_alert(session, alert_ids).items():
        lead = strongest(own)
        if lead is not None:
            found: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {}
            for e in strongest_first(json.loads(lead.evidence_json)):
                text, message = str(e.get("text", "")), e.get("message")
                if text:
                    where = message if isinstance(message, dict) else None
                    found.setdefault((text, json.dumps(where, sort_keys=True)), (text, where))
            words[alert_id] = list(found.values())
    return words


def _latest_escalations(session: Session, alert_ids: list[str]) -> dict[str, tuple[list[str], datetime | None]]:
    """For each escalated alert, the staff ids its latest escalation went to, and when it first escalated."""
    if not alert_ids:
        return {}
    events = session.exec(
        select(AlertEvent)
        .where(col(AlertEvent.alert_id).in_(alert_ids), AlertEvent.kind == "escalated")
        .order_by(col(AlertEvent.id))
    ).all()
    latest: dict[str, tuple[list[str], datetime | None]] = {}
    for event in events:
        first = latest[event.alert_id][1] if event.alert_id in latest else event.at
        latest[event.alert_id] = ([str(sid) for sid in (event.detail or {}).get("to", [])], first)
    return latest


def _signals_by_alert(session: Session, alert_ids: list[str]) -> dict[str, list[AlertSignal]]:
    found: dict[str, list[AlertSignal]] = {}
    rows = session.exec(
        select(AlertSignal)
        .where(col(AlertSignal.alert_id).in_(alert_ids))
        .order_by(col(AlertSignal.created_at), col(AlertSignal.id))
    ).all()
    for signal in rows:
        found.setdefault(signal.alert_id, []).append(signal)
    return found


def _audit_list(session: Session, staff: Staff, rows: list[AlertRow], *, view: str) -> None:
    """One row per patient whose alerts (and the words that raised them) were on the page."""
    audit.record_reads(
        session,
        actor=Actor.staff(staff),
        action="alert.list",
        patient_ids=[row.alert.patient_id for row in rows],
        detail={"view": view},
    )
