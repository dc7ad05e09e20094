"""Questionnaire responses: a client answers, gets a score in their language, and sees their history.

Every response is screened for risk before it commits; the response, its risk result, any
follow-up questionnaire it calls for, any alert and the audit row commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from service import alerts, audit
from service.db import unit_of_work
from service.errors import NotFound
from service.kit import idempotency, pagination, timing
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.measures import schedules
from service.measures.change import Change, Recovery, assess_recovery
from service.measures.instruments import Instrument, get_instrument
from service.measures.schedules import Due
from service.measures.schemas import (
    MeasureDefinition,
    MeasureListing,
    ProgressOut,
    ResponseCreated,
    ResponseIn,
    ResponseOut,
)
from service.measures.scoring import Score, score
from service.models import MeasureResponse, Patient
from service.risk import RiskResult, combine, screen_cssrs, screen_gad7, screen_phq9, screen_reliable_deterioration

SCOPE = "measure_response"
DEFAULT_PAGE = 30
MAX_PAGE = 100

# The risk rules of each questionnaire; every instrument a client can answer must be here.
_SCREENS: dict[str, Callable[[Sequence[int]], RiskResult]] = {
    "phq9": screen_phq9,
    "gad7": screen_gad7,
    "cssrs": screen_cssrs,
}


@dataclass(frozen=True)
class ResponsePage:
    items: list[ResponseOut]
    next_cursor: str | None


def listing(session: Session, *, patient: Patient) -> list[MeasureListing]:
    """Questionnaires due or available to the client, titled in their language."""
    locale = pick_locale(patient.locale)
    return [_listing(due, get_instrument(due.instrument), locale) for due in schedules.due_list(session, patient)]


def _listing(due: Due, instrument: Instrument, locale: str) -> MeasureListing:
    return MeasureListing(
        code=due.instrument,
        title=instrument.title[locale],
        due=due.due,
        next_due_on=due.next_due_on,
        last_completed_at=due.last_completed_at,
        interval_days=due.interval_days,
        reason=due.requested_reason,
    )


def definition(patient: Patient, code: str) -> MeasureDefinition:
    """Items and options of one questionnaire, in the client's language."""
    return MeasureDefinition.model_validate(get_instrument(code).localized(patient.locale))


def submit_response(
    session: Session, *, patient: Patient, code: str, data: ResponseIn, idempotency_key: str | None = None
) -> ResponseCreated:
    """Score and store a response, screen it for risk, and start any follow-up questionnaire it calls for."""
    instrument = get_instrument(code)
    if idempotency_key is None:
        return _create(session, patient, instrument, data, key=None, request_hash=None)
    key = idempotency.check_key(idempotency_key)
    request_hash = idempotency.fingerprint({"instrument": code, **data.model_dump(mode="json")})
    first = idempotency.lookup(session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash)
    if first is not None:
        return _replay(session, patient, first)
    try:
        return _create(session, patient, instrument, data, key=key, request_hash=request_hash)
    except IntegrityError:
        first = idempotency.lookup(session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash)
        if first is None:
            raise
        return _replay(session, patient, first)


def _create(
    session: Session,
    patient: Patient,
    instrument: Instrument,
    data: ResponseIn,
    *,
    key: str | None,
    request_hash: str | None,
) -> ResponseCreated:
    result = score(instrument, data.answers)
    completed_at = timing.client_moment(data.completed_at, patient, field="completed_at")
    with unit_of_work(session):
        response = MeasureResponse(
            patient_id=patient.id,
            instrument=instrument.code,
            answers=list(data.answers),
            total=result.total,
            severity=result.severity,
            completed_at=completed_at,
            local_date=timing.local_date(completed_at, patient),
        )
        session.add(response)
        session.flush()
        risk = _screen(session, patient, instrument, result)
        notice = alerts.respond_to_risk(session, patient=patient, source_type=SCOPE, source_id=response.id, result=risk)
        follow_up = _start_follow_ups(session, patient, instrument, result)
        if key is not None and request_hash is not None:
            idempotency.remember(
                session, patient=patient, key=key, scope=SCOPE, request_hash=request_hash, resource_id=response.id
            )
        audit.record(
            session,
            actor=Actor.client(patient),
            action="measure_response.create",
            entity=response,
            detail={"instrument": instrument.code, "risk_level": response.risk_level},
        )
    return ResponseCreated(
        **_out(response, patient).model_dump(),
        **alerts.crisis_or_support(risk.level, notice),
        follow_up=follow_up,
    )


def _screen(session: Session, patient: Patient, instrument: Instrument, result: Score) -> RiskResult:
    """The questionnaire's own risk rules, plus reliable deterioration since the episode's first total."""
    risk = _SCREENS[instrument.code](result.item_scores)
    if instrument.change_rules is None or result.total is None:
        return risk
    baseline = session.exec(
        select(MeasureResponse.total)
        .where(MeasureResponse.patient_id == patient.id, MeasureResponse.instrument == instrument.code)
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
        .limit(1)
    ).first()
    if baseline is None:
        return risk
    return combine(risk, screen_reliable_deterioration(instrument.code, baseline, result.total))


def _start_follow_ups(session: Session, patient: Patient, instrument: Instrument, result: Score) -> list[str]:
    rules = schedules.follow_ups_for(instrument.code, result.item_scores)
    return schedules.request_follow_ups(session, patient=patient, rules=rules, actor=Actor.system("measures"))


def _replay(session: Session, patient: Patient, response_id: str) -> ResponseCreated:
    response = _own(session, patient, response_id)
    level = alerts.level_named(response.risk_level)
    follow_up = [rule.ask for rule in schedules.follow_ups_for(response.instrument, _item_scores(response))]
    return ResponseCreated(
        **_out(response, patient).model_dump(),
        **alerts.crisis_or_support(level, alerts.client_notice(session, patient=patient, level=level)),
        follow_up=list(dict.fromkeys(follow_up)),
    )


def get_response(session: Session, *, patient: Patient, code: str, response_id: str) -> ResponseOut:
    response = _own(session, patient, response_id)
    if response.instrument != get_instrument(code).code:
        raise NotFound("no such response")
    return _out(response, patient)


def _own(session: Session, patient: Patient, response_id: str) -> MeasureResponse:
    response = session.exec(
        select(MeasureResponse).where(MeasureResponse.id == response_id, MeasureResponse.patient_id == patient.id)
    ).first()
    if response is None:
        raise NotFound("no such response")
    return response


def list_responses(
    session: Session,
    *,
    patient: Patient,
    code: str,
    limit: int = DEFAULT_PAGE,
    cursor: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> ResponsePage:
    """The client's responses to one questionnaire, newest first, `limit` at a time."""
    instrument = get_instrument(code)
    pagination.check_limit(limit, MAX_PAGE)
    rows, next_cursor = pagination.keyset_page(
        session,
        select(MeasureResponse).where(
            MeasureResponse.patient_id == patient.id, MeasureResponse.instrument == instrument.code
        ),
        moment=MeasureResponse.completed_at,
        row_id=MeasureResponse.id,
        day=MeasureResponse.local_date,
        limit=limit,
        cursor=cursor,
        start=start,
        end=end,
    )
    return ResponsePage([_out(row, patient) for row in rows], next_cursor)


@dataclass(frozen=True)
class Progress:
    """Change over the episode on the PHQ-9 and GAD-7, for the client, the portal and the PDF summary."""

    recovery: Recovery
    latest_severity: dict[str, str | None]

    @property
    def phq9(self) -> Change:
        return self.recovery.phq9

    @property
    def gad7(self) -> Change:
        return self.recovery.gad7

    def to_dict(self, locale: str) -> dict[str, Any]:
        summary = self.recovery.to_dict()
        measures = {code: summary.pop(code) for code in ("phq9", "gad7")}
        for code, change in measures.items():
            severity = self.latest_severity[code]
            change["latest_severity"] = severity
            change["latest_severity_label"] = (
                _severity_label(get_instrument(code), severity, locale) if severity else None
            )
        return {**measures, "recovery": summary}


def progress_for_client(session: Session, *, patient: Patient) -> ProgressOut:
    """``progress`` as the client reads it, with severities named in their language."""
    return ProgressOut.model_validate(progress(session, patient=patient).to_dict(patient.locale))


def progress(session: Session, *, patient: Patient) -> Progress:
    """Baseline, latest, change, reliable improvement or deterioration, caseness and recovery."""
    rows = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id, col(MeasureResponse.instrument).in_(("phq9", "gad7")))
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
    ).all()
    series: dict[str, list[MeasureResponse]] = {"phq9": [], "gad7": []}
    for row in rows:
        if row.total is not None:
            series[row.instrument].append(row)
    recovery = assess_recovery(
        [(row.completed_at, row.total) for row in series["phq9"] if row.total is not None],
        [(row.completed_at, row.total) for row in series["gad7"] if row.total is not None],
    )
    latest = {code: (rows_of[-1].severity if rows_of else None) for code, rows_of in series.items()}
    return Progress(recovery=recovery, latest_severity=latest)


def export_rows(session: Session, *, patient: Patient) -> list[dict[str, Any]]:
    """Every questionnaire response of the patient, oldest first, for their export."""
    rows = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id)
        .order_by(col(MeasureResponse.completed_at))
    ).all()
    return [_out(row, patient).model_dump(mode="json") for row in rows]


def _item_scores(response: MeasureResponse) -> list[int]:
    return list(response.answers[: len(get_instrument(response.instrument).items)])


def _severity_label(instrument: Instrument, severity: str, locale: str) -> str:
    lang = pick_locale(locale)
    for band in instrument.severity_bands:
        if band.key == severity:
            return band.label[lang]
    for level in instrument.triage_levels:
        if level.key == severity:
            return level.label[lang]
    return severity


def _out(response: MeasureResponse, patient: Patient) -> ResponseOut:
    label = _severity_label(get_instrument(response.instrument), response.severity, patient.locale)
    return ResponseOut.model_validate(response, from_attributes=True, context={"severity_label": label})
