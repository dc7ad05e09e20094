"""One patient's record as a FHIR R4 Bundle (type "collection"), for the clinic's health record system.

- Patient: name, email, preferred language, clinic and clinician (as displays).
- QuestionnaireResponse per PHQ-9 and GAD-7 response: each item by its LOINC code with the LOINC
  answer code, the PHQ-9 difficulty item when answered, and the total (44261-6 / 70274-6).
- Observation per total score (LOINC, derived from its QuestionnaireResponse).
- Observation per check-in: mood as the value, anxiety, energy and sleep duration (LOINC 93832-4)
  as components.
- CarePlan: the client's current safety plan (Stanley-Brown), one activity per item, each coded by
  its section; the plan is written with and for the client's care, so it travels with the record.

Check-in notes are not exported: a record system needs the measures, and the client's free text
stays where it was written, readable by their care team in Tandem (the minimum necessary).
"""

from __future__ import annotations

import json
import tomllib
import uuid
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from service import audit
from service.db import unit_of_work
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.measures.instruments import Instrument, get_instrument
from service.models import CheckIn, Clinic, MeasureResponse, Patient, PatientStatus, Staff
from service.models.base import utcnow
from service.onboarding.patients import get_for_staff
from service.safety_plan.service import Plan, section_title
from service.safety_plan.service import current as current_safety_plan
from service.summaries.service import SummaryFile

CODES_FILE = Path(__file__).with_name("fhir.toml")
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
LOINC_QUESTIONNAIRE = "http://loinc.org/q/"
FHIR_JSON = "application/fhir+json"
EXPORTED_INSTRUMENTS = ("phq9", "gad7")
SAFETY_PLAN_SECTIONS = "urn:tandem:safety-plan-section"
# Derived resource ids (total-score Observations) are stable UUIDs, so re-exports replace, not duplicate.
_CHECKIN_COLUMNS = ("id", "recorded_at", "mood", "anxiety", "energy", "sleep_hours")
_NAMESPACE = uuid.UUID("6f1d6a52-9c0e-4d7e-9a55-3f3c1d2b8e41")


@cache
def codes() -> dict[str, Any]:
    return tomllib.loads(CODES_FILE.read_text(encoding="utf-8"))


def ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def patient_bundle(session: Session, patient: Patient, *, now: datetime | None = None) -> dict[str, Any]:
    """The FHIR Bundle of one patient, as JSON-ready data."""
    resources = [_patient(session, patient)]
    responses = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id, col(MeasureResponse.instrument).in_(EXPORTED_INSTRUMENTS))
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
    ).all()
    for response in responses:
        instrument = get_instrument(response.instrument)
        resources.append(_questionnaire_response(patient, instrument, response))
        resources.append(_total_observation(patient, instrument, response))
    # The numbers only: loading whole rows would decrypt every note for nothing.
    checkins = session.execute(
        sa_select(*(col(getattr(CheckIn, name)) for name in _CHECKIN_COLUMNS))
        .where(col(CheckIn.patient_id) == patient.id)
        .order_by(col(CheckIn.recorded_at))
    ).all()
    resources.extend(_checkin_observation(patient, row) for row in checkins)
    plan = current_safety_plan(session, patient_id=patient.id)
    if not plan.is_empty:
        resources.append(_care_plan(patient, plan))
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "collection",
        "timestamp": _instant(now or utcnow()),
        "entry": [{"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource} for resource in resources],
    }


def _care_plan(patient: Patient, plan: Plan) -> dict[str, Any]:
    """The client's current safety plan as a CarePlan: one activity per item, coded by its section."""
    lang = pick_locale(patient.locale)
    activities = [
        {
            "detail": {
                "code": {"coding": [{"system": SAFETY_PLAN_SECTIONS, "code": code}], "text": section_title(code, lang)},
                "status": "in-progress",
                "description": item,
            }
        }
        for code, items in plan.items.items()
        for item in items
    ]
    return {
        "resourceType": "CarePlan",
        # One resource per version: a re-export of the same version replaces it, a new version adds one.
        "id": str(uuid.uuid5(_NAMESPACE, f"safety-plan:{patient.id}:{plan.version}")),
        "status": "active",
        "intent": "plan",
        "category": [{"text": "Safety plan (Stanley-Brown)"}],
        "title": section_title_plan(lang),
        "subject": ref(patient.id),
        "created": _instant(plan.created_at or utcnow()),
        "note": [{"text": f"version {plan.version}"}],
        "activity": activities,
    }


def section_title_plan(lang: str) -> str:
    return {"en": "Safety plan", "fr": "Plan de sécurité"}[lang]


def _instant(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _patient(session: Session, patient: Patient) -> dict[str, Any]:
    clinic = session.get(Clinic, patient.clinic_id)
    clinician = session.get(Staff, patient.clinician_id)
    assert clinic is not None and clinician is not None  # foreign keys
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": patient.id,
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{patient.id}"}],
        "active": patient.status != PatientStatus.DISCHARGED,
        "name": [{"text": patient.display_name}],
        "communication": [
            {
                "language": {"coding": [{"system": "urn:ietf:bcp:47", "code": patient.locale}]},
                "preferred": True,
            }
        ],
        "generalPractitioner": [{"display": clinician.name}],
        "managingOrganization": {"display": clinic.name},
    }
    if patient.email:
        resource["telecom"] = [{"system": "email", "value": patient.email}]
    return resource


def _questionnaire_response(patient: Patient, instrument: Instrument, response: MeasureResponse) -> dict[str, Any]:
    lang = pick_locale(patient.locale)
    items: list[dict[str, Any]] = []
    questions = list(instrument.items)
    if instrument.difficulty_item is not None:
        questions.append(instrument.difficulty_item)
    for question, value in zip(questions, response.answers, strict=False):
        option = question.option(value)
        items.append(
            {
                "linkId": question.loinc or question.id,
                "text": question.text[lang],
                "answer": [{"valueCoding": {"system": LOINC, "code": option.loinc, "display": option.label["en"]}}],
            }
        )
    items.append(
        {
            "linkId": instrument.loinc_total,
            "text": codes()["total_display"][instrument.code],
            "answer": [{"valueInteger": response.total}],
        }
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": response.id,
        "questionnaire": f"{LOINC_QUESTIONNAIRE}{instrument.loinc_panel}",
        "status": "completed",
        "subject": ref(patient.id),
        "authored": _instant(response.completed_at),
        "author": ref(patient.id),
        "item": items,
    }


def _total_observation(patient: Patient, instrument: Instrument, response: MeasureResponse) -> dict[str, Any]:
    band = next((b for b in instrument.severity_bands if b.key == response.severity), None)
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_NAMESPACE, f"{response.id}:total")),
        "status": "final",
        "category": [_survey()],
        "code": {
            "coding": [
                {"system": LOINC, "code": instrument.loinc_total, "display": codes()["total_display"][instrument.code]}
            ],
            "text": f"{instrument.name} total score",
        },
        "subject": ref(patient.id),
        "effectiveDateTime": _instant(response.completed_at),
        "valueInteger": response.total,
        "derivedFrom": [ref(response.id)],
    }
    if band is not None:
        observation["interpretation"] = [{"text": band.label["en"]}]
    return observation


def _survey() -> dict[str, Any]:
    return {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


def _coding(metric: str) -> dict[str, Any]:
    spec = codes()["metric"][metric]
    system = codes()["checkin_system"] if spec["system"] == "local" else spec["system"]
    return {"coding": [{"system": system, "code": spec["code"], "display": spec["display"]}], "text": spec["display"]}


def _checkin_observation(patient: Patient, checkin: Any) -> dict[str, Any]:
    components = []
    for metric in ("anxiety", "energy"):
        value = getattr(checkin, metric)
        if value is not None:
            components.append({"code": _coding(metric), "valueInteger": value})
    if checkin.sleep_hours is not None:
        unit = codes()["metric"]["sleep_hours"]["unit"]
        components.append(
            {
                "code": _coding("sleep_hours"),
                "valueQuantity": {"value": checkin.sleep_hours, "unit": unit, "system": UCUM, "code": unit},
            }
        )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": checkin.id,
        "status": "final",
        "category": [_survey()],
        "code": _coding("mood"),
        "subject": ref(patient.id),
        "effectiveDateTime": _instant(checkin.recorded_at),
        "valueInteger": checkin.mood,
    }
    if components:
        observation["component"] = components
    return observation


def fhir_for_staff(session: Session, staff: Staff, patient_id: str, *, now: datetime | None = None) -> SummaryFile:
    """The FHIR Bundle of a patient this staff member may see; the download is audited."""
    patient = get_for_staff(session, staff=staff, patient_id=patient_id)
    bundle = patient_bundle(session, patient, now=now)
    content = json.dumps(bundle, ensure_ascii=False, indent=1).encode()
    with unit_of_work(session):
        audit.record(
            session,
            actor=Actor.staff(staff),
            action="export.fhir",
            entity=patient,
            detail={"resources": len(bundle["entry"]), "bytes": len(content)},
        )
    return SummaryFile(f"tandem-fhir-{patient.id[:8]}.json", content, FHIR_JSON)
