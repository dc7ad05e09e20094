"""The client's own export (GDPR art. 15 and 20): everything Tandem stores about them, as JSON.

What is left out, and why:
- secrets and their hashes (password, refresh tokens, invitation codes): security data, not the
  client's information, and useless outside Tandem;
- other people's data: which staff member acknowledged or resolved an alert, the clinician's own
  resolution note, and who did what in the access log (only whether it was the client, their care
  team or the system). A clinician's notes are released through the clinic, which may need to
  review them first; the client's own words are all here (check-in notes);
- the stored summary PDFs themselves: they are made from the data below; the export lists them.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service import audit
from service.alerts.policy import reason_label, resolution_label
from service.checkins import service as checkins
from service.db import unit_of_work
from service.exercises import sessions as exercise_sessions
from service.kit.context import Actor
from service.measures import service as measures
from service.models import (
    Alert,
    AlertSignal,
    AuditEvent,
    ErasureRequest,
    IdempotencyKey,
    Invitation,
    MeasureSchedule,
    Patient,
    PatientContact,
    PatientFigures,
    PatientKey,
    PatientSummary,
    RefreshToken,
)
from service.models.base import utcnow
from service.onboarding import password_reset
from service.onboarding.profile import account_export
from service.reminders import service as reminders
from service.safety_plan.service import versions as safety_plan_versions
from service.summaries.schemas import ClientExport

FORMAT = "tandem-export/2"
Token = TypeVar("Token", Invitation, RefreshToken)

# Every table with rows about a patient (a `patient_id` column) and the section of the export that
# carries them. A test checks this against SQLModel.metadata, so a new table cannot be forgotten.
EXPORT_SECTIONS: dict[str, str] = {
    "consentrecord": "consents",
    "checkin": "checkins",
    "measure_response": "measure_responses",
    "measure_schedule": "questionnaire_schedules",
    "alert": "alerts",
    "invitation": "invitations",
    "refresh_token": "sign_ins",
    "idempotency_key": "request_keys",
    "audit_event": "access_log",
    "patient_summary": "summaries",
    "patient_figures": "caseload_figures",
    "safety_plan_version": "safety_plan_versions",
    "assignment": "assignments",
    "exercise_session": "exercise_sessions",  # each with its transcript (exercise_message rows)
    "reminder_preference": "reminders",
    "push_subscription": "push_devices",
    "password_reset_token": "password_resets",
    "patient_contact": "contact_details",
    "erasure_request": "erasure_requests",
    "patient_key": "data_keys",
}


def export_patient(session: Session, patient: Patient, *, actor: Actor | None = None) -> ClientExport:
    """Everything stored about one patient, decrypted. The export is audited."""
    data: dict[str, Any] = {"format": FORMAT, "exported_at": utcnow().isoformat()}
    data.update(account_export(session, patient=patient))
    data["checkins"] = checkins.export_rows(session, patient=patient)
    data["measure_responses"] = measures.export_rows(session, patient=patient)
    data.update(exercise_sessions.client_export(session, patient))
    data["questionnaire_schedules"] = _schedules(session, patient)
    data["alerts"] = _alerts(session, patient)
    data["safety_plan_versions"] = _safety_plan_versions(session, patient)
    data["invitations"] = _invitations(session, patient)
    data["sign_ins"] = _sign_ins(session, patient)
    data["request_keys"] = _request_keys(session, patient)
    data["summaries"] = _summaries(session, patient)
    data.update(reminders.export_rows(session, patient=patient))
    data["password_resets"] = password_reset.export_rows(session, patient=patient)
    data["caseload_figures"] = _figures(session, patient)
    data["access_log"] = _access_log(session, patient)
    data.update(_erasure_and_contact(session, patient))
    export = ClientExport.model_validate(data)
    with unit_of_work(session):
        audit.record(session, actor=actor or Actor.client(patient), action="patient.export", entity=patient)
    return export


def _erasure_and_contact(session: Session, patient: Patient) -> dict[str, list[dict[str, Any]]]:
    contact = session.get(PatientContact, patient.id)
    key = session.get(PatientKey, patient.id)
    requests = session.exec(
        select(ErasureRequest).where(ErasureRequest.patient_id == patient.id).order_by(col(ErasureRequest.requested_at))
    ).all()
    contact_fields = (
        "date_of_birth",
        "phone",
        "email",
        "contact_times",
        "emergency_name",
        "emergency_relation",
        "emergency_phone",
    )
    return {
        "contact_details": []
        if contact is None
        else [{**{name: getattr(contact, name) for name in contact_fields}, "updated_at": _iso(contact.updated_at)}],
        "erasure_requests": [
            {
                "requested_at": _iso(r.requested_at),
                "due_at": _iso(r.due_at),
                "status": str(r.status),
                "decided_at": _iso(r.decided_at),
                "keep_reason": r.keep_reason,
                "keep_until": _iso(r.keep_until),
            }
            for r in requests
        ],
        "data_keys": []
        if key is None
        else [{"created_at": _iso(key.created_at), "destroyed_at": _iso(key.destroyed_at)}],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _figures(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """What the care team's caseload list shows of the client, derived from their check-ins and questionnaires."""
    row = session.get(PatientFigures, patient.id)
    if row is None:
        return []
    return [
        {
            "last_checkin_at": _iso(row.last_checkin_at),
            **{
                f"{code}_{which}": getattr(row, f"{code}_{which}")
                for code in ("phq9", "gad7")
                for which in ("latest", "first")
            },
            **{
                f"{code}_{which}_at": _iso(getattr(row, f"{code}_{which}_at"))
                for code in ("phq9", "gad7")
                for which in ("latest", "first")
            },
        }
    ]


def _schedules(session: Session, patient: Patient) -> list[dict[str, Any]]:
    rows = session.exec(
        select(MeasureSchedule)
        .where(MeasureSchedule.patient_id == patient.id)
        .order_by(col(MeasureSchedule.created_at))
    ).all()
    return [
        {
            "instrument": row.instrument,
            "interval_days": row.interval_days,
            "active": row.active,
            "requested_at": _iso(row.requested_at),
            "requested_reason": row.requested_reason,
            "updated_at": _iso(row.updated_at),
        }
        for row in rows
    ]


def _alerts(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """Each alert about the client: why, how urgent, and what became of it; never who handled it."""
    alerts = session.exec(select(Alert).where(Alert.patient_id == patient.id).order_by(col(Alert.created_at))).all()
    signals = session.exec(
        select(AlertSignal)
        .where(col(AlertSignal.alert_id).in_([alert.id for alert in alerts]))
        .order_by(col(AlertSignal.created_at))
    ).all()
    by_alert: dict[str, list[dict[str, Any]]] = {}
    for signal in signals:
        by_alert.setdefault(signal.alert_id, []).append(
            {
                "source_type": signal.source_type,
                "source_id": signal.source_id,
                "level": signal.level,
                "categories": list(signal.categories),
                "at": _iso(signal.created_at),
            }
        )
    return [
        {
            "id": alert.id,
            "reason": alert.reason,
            "reason_label": reason_label(alert.reason, patient.locale),
            "severity": str(alert.severity),
            "status": str(alert.status),
            "raised_at": _iso(alert.created_at),
            "acknowledged_at": _iso(alert.acknowledged_at),
            "resolved_at": _iso(alert.resolved_at),
            "resolution": alert.resolution,
            "resolution_label": resolution_label(alert.resolution, patient.locale) if alert.resolution else None,
            "signals": by_alert.get(alert.id, []),
        }
        for alert in alerts
    ]


def _safety_plan_versions(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """Every version of the client's safety plan, newest first, with who wrote it (client or staff)."""
    return [
        {
            "version": plan.version,
            "saved_at": _iso(plan.created_at),
            "written_by": plan.author_type,
            "sections_changed": plan.changed,
            "sections": {code: items for code, items in plan.items.items()},
        }
        for plan in safety_plan_versions(session, patient_id=patient.id)
    ]


def _invitations(session: Session, patient: Patient) -> list[dict[str, Any]]:
    return _token_rows(session, Invitation, patient)


def _sign_ins(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """Each link of the client's sign-in sessions (refresh tokens), without the token hashes."""
    return _token_rows(session, RefreshToken, patient)


def _token_rows(session: Session, model: type[Token], patient: Patient) -> list[dict[str, Any]]:
    """When each invitation or sign-in token was made, used, revoked or set to expire; never the secret."""
    rows = session.exec(select(model).where(model.patient_id == patient.id).order_by(col(model.created_at))).all()
    return [
        {
            "created_at": _iso(row.created_at),
            "expires_at": _iso(row.expires_at),
            "used_at": _iso(row.used_at),
            "revoked_at": _iso(row.revoked_at),
        }
        for row in rows
    ]


def _request_keys(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """The retry keys the client's app sent, and what each one created (the request itself is a hash)."""
    rows = session.exec(
        select(IdempotencyKey).where(IdempotencyKey.patient_id == patient.id).order_by(col(IdempotencyKey.created_at))
    ).all()
    return [
        {"key": row.key, "scope": row.scope, "resource_id": row.resource_id, "created_at": _iso(row.created_at)}
        for row in rows
    ]


def _summaries(session: Session, patient: Patient) -> list[dict[str, Any]]:
    # The listing only: the PDFs are not decrypted for it.
    columns = ("id", "reason", "appointment_at", "period_start", "period_end", "created_at")
    rows = session.execute(
        sa_select(*(col(getattr(PatientSummary, name)) for name in columns))
        .where(col(PatientSummary.patient_id) == patient.id)
        .order_by(col(PatientSummary.created_at))
    ).all()
    return [
        {
            "id": summary_id,
            "reason": reason,
            "appointment_at": _iso(appointment_at),
            "period_start": _iso(start),
            "period_end": _iso(end),
            "created_at": _iso(created_at),
        }
        for summary_id, reason, appointment_at, start, end, created_at in rows
    ]


_WHO = {"client": "you", "staff": "care_team", "system": "system"}


def _access_log(session: Session, patient: Patient) -> list[dict[str, Any]]:
    """Who read or changed the client's data, and when: the client, their care team or the system."""
    rows = session.exec(
        select(AuditEvent.at, AuditEvent.action, AuditEvent.actor_type, AuditEvent.entity_type)
        .where(AuditEvent.patient_id == patient.id)
        .order_by(col(AuditEvent.id))
    ).all()
    return [
        {"at": _iso(at), "action": action, "by": _WHO.get(actor_type, actor_type), "record": entity_type}
        for at, action, actor_type, entity_type in rows
    ]
