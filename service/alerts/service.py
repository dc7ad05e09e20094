"""What happens when screening finds risk: the result is kept with what the client wrote, and the
client is told, in their language, where to find help now and when their care team will see it.

`respond_to_risk` is the one call site for every risk result (check-in notes, questionnaire
answers, coach messages). It works inside the caller's transaction and never commits.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from sqlmodel import Session

from service import audit
from service.alerts import lifecycle
from service.alerts.exchange import Said
from service.alerts.policy import severity_for
from service.alerts.timing import care_team_timing
from service.errors import Unavailable
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.models import CheckIn, Clinic, MeasureResponse, Patient, Severity
from service.models.base import utcnow
from service.risk import RiskLevel, RiskResult
from service.risk.crisis import crisis_resources
from service.safety_plan.service import crisis_block_plan, crisis_block_plan_of

MESSAGES_FILE = Path(__file__).with_name("messages.toml")


class _Unread:
    """The safety plan was not read by the caller: read it."""


UNREAD = _Unread()
CRISIS_RESOURCES_PATH = "/api/v1/crisis-resources"


class ScreenedRow(Protocol):
    """A row that keeps the risk result of its own text or answers."""

    risk_level: str
    risk_categories: list[str]
    risk_engine_version: str | None


# Sources whose rows keep their own risk result; other sources keep theirs where they like.
_SOURCE_MODELS: dict[str, type[Any]] = {"checkin": CheckIn, "measure_response": MeasureResponse}


def respond_to_risk(
    session: Session,
    *,
    patient: Patient,
    source_type: str,
    source_id: str,
    result: RiskResult,
    row: ScreenedRow | None = None,
    exchange: Sequence[Said] | None = None,
) -> dict[str, Any] | None:
    """Record `result` for the source, raise or update the alert, and return what the client must see now.

    low or above: an alert for the patient's clinician (routine, priority or urgent), in this same
    transaction; moderate or high: the crisis block (message, resources, clinic instructions,
    care-team notice); low: a gentle support block with the support lines; none: None.
    ``exchange``: the messages read together with this one (oldest first, this one last), when the
    result holds evidence of the whole exchange; the alert's evidence names them.
    """
    _record(session, patient=patient, source_type=source_type, source_id=source_id, result=result, row=row)
    if result.level < RiskLevel.LOW:
        return None
    # One read for everything the alert and the client's block need about the care team.
    care = lifecycle.care_team(session, patient=patient)
    lifecycle.raise_for(
        session, patient=patient, source_type=source_type, source_id=source_id, result=result, care=care,
        exchange=exchange,
    )  # fmt: skip
    return client_notice(session, patient=patient, level=result.level, care=care)


def client_notice(
    session: Session,
    *,
    patient: Patient,
    level: RiskLevel,
    severity: Severity | None = None,
    care: lifecycle.CareTeam | None = None,
) -> dict[str, Any] | None:
    """What the client sees for a risk level; also rebuilds the answer of a replayed request.

    When the team will see it follows the actual severity: the highest of the patient's unresolved
    alerts (a combination, or an urgent alert already open, may be more than this level alone).
    ``care``: the care team as the alert left it (its open alerts and the client's safety plan)."""
    if level < RiskLevel.LOW:
        return None
    own = severity_for(level.label) or Severity.ROUTINE
    highest = (
        care.highest_open_severity()
        if care is not None
        else lifecycle.highest_open_severity(session, patient_id=patient.id)
    )
    severity = max((s for s in (severity, highest, own) if s), key=_rank)
    plan = (
        crisis_block_plan_of(patient, care.safety_plan)
        if care is not None
        else crisis_block_plan(session, patient=patient)
    )
    if level >= RiskLevel.MODERATE:
        return crisis_block(session, patient=patient, severity=severity, plan=plan)
    return support_block(session, patient=patient, severity=severity, plan=plan)


def unavailable_with_lines(patient: Patient, level: RiskLevel) -> Unavailable:
    """The 503 for a write that could not complete: at low risk and above it still carries the
    lines for the client's country and language (no database needed), and says honestly that the
    care team has not seen it."""
    block: dict[str, Any] | None = None
    if level >= RiskLevel.LOW:
        locale = pick_locale(patient.locale)
        block = crisis_resources(patient.country, locale).to_dict()
        block["care_team_notice"] = _message("not_saved", locale)
        if level == RiskLevel.LOW:
            block["resources_url"] = CRISIS_RESOURCES_PATH
    return Unavailable(_message("busy", patient.locale), extra=crisis_or_support(level, block))


def crisis_or_support(level: RiskLevel, notice: dict[str, Any] | None) -> dict[str, dict[str, Any] | None]:
    """The `crisis` and `support` fields of a client answer, from a level and its notice."""
    return {
        "crisis": notice if level >= RiskLevel.MODERATE else None,
        "support": notice if level == RiskLevel.LOW else None,
    }


def level_named(label: str) -> RiskLevel:
    """The level stored on a row ("moderate") as a RiskLevel."""
    return RiskLevel.parse(label)


def crisis_block(
    session: Session,
    *,
    patient: Patient,
    severity: Severity = Severity.PRIORITY,
    plan: dict[str, object] | _Unread | None = UNREAD,
) -> dict[str, Any]:
    block = crisis_resources_for(session, patient=patient)
    _add_safety_plan(session, patient, block, plan)
    block["care_team_notice"] = " ".join(
        (
            _message("care_team_notice", patient.locale),
            _timing(session, patient, severity),
            _message("danger", patient.locale),
        )
    )
    return block


def support_block(
    session: Session,
    *,
    patient: Patient,
    severity: Severity = Severity.ROUTINE,
    plan: dict[str, object] | _Unread | None = UNREAD,
) -> dict[str, Any]:
    """The support message, with the lines themselves: a person at low risk may still need them tonight."""
    block = crisis_resources_for(session, patient=patient)
    block["message"] = " ".join(
        (
            _message("support", patient.locale),
            _timing(session, patient, severity),
            _message("support_lines", patient.locale),
        )
    )
    block["resources_url"] = CRISIS_RESOURCES_PATH
    _add_safety_plan(session, patient, block, plan)
    return block


def _add_safety_plan(
    session: Session, patient: Patient, block: dict[str, Any], plan: dict[str, object] | _Unread | None
) -> None:
    """The client's own plan goes in every crisis and support block: in a crisis it is what people use."""
    if isinstance(plan, _Unread):
        plan = crisis_block_plan(session, patient=patient)
    if plan is not None:
        block["safety_plan"] = plan


def crisis_resources_for(session: Session, *, patient: Patient) -> dict[str, Any]:
    """Crisis lines for the client's country in their language, with their clinic's own instructions."""
    locale = pick_locale(patient.locale)
    resources = crisis_resources(patient.country, locale)
    return {
        "message": resources.message,
        "resources": [dict(resource) for resource in resources.resources],
        "clinic_instructions": _clinic_instructions(session.get(Clinic, patient.clinic_id), locale),
    }


def _clinic_instructions(clinic: Clinic | None, locale: str) -> str | None:
    if clinic is None or not clinic.crisis_instructions:
        return None
    # Instructions in the clinic's own language beat none at all when a translation is missing.
    return clinic.crisis_instructions.get(locale) or clinic.crisis_instructions.get(clinic.locale)


def _record(
    session: Session,
    *,
    patient: Patient,
    source_type: str,
    source_id: str,
    result: RiskResult,
    row: ScreenedRow | None = None,
) -> None:
    if row is None:  # the caller's row, when given, may not be in the database yet
        model = _SOURCE_MODELS.get(source_type)
        row = session.get(model, source_id) if model is not None else None
    if row is not None:
        row.risk_level = result.level.label
        row.risk_categories = list(result.categories)
        row.risk_engine_version = result.engine_version
    if result.level > RiskLevel.NONE:
        # Categories and levels only: the evidence quotes the client's words and stays out of the log.
        audit.record(
            session,
            actor=Actor.system("risk"),
            action="risk.detect",
            entity_type=source_type,
            entity_id=source_id,
            patient_id=patient.id,
            clinic_id=patient.clinic_id,
            detail={
                "level": result.level.label,
                "categories": list(result.categories),
                "engine_version": result.engine_version,
            },
        )


def _rank(severity: Severity) -> int:
    return severity.rank


def _timing(session: Session, patient: Patient, severity: Severity) -> str:
    """The sentence saying when the care team will see it, for this severity and the clinic's hours now."""
    clinic = session.get(Clinic, patient.clinic_id)
    assert clinic is not None  # foreign key
    key, values = care_team_timing(clinic, patient, severity, utcnow())
    return str(_messages()["timing"][key][pick_locale(patient.locale)]).format(**values)


@cache
def _messages() -> dict[str, Any]:
    return tomllib.loads(MESSAGES_FILE.read_text(encoding="utf-8"))


def _message(key: str, locale: str) -> str:
    return str(_messages()[key][pick_locale(locale)])
