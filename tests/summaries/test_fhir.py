"""The FHIR R4 export of one patient: valid resources, LOINC codes from the instrument definitions."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlmodel import Session, col, select

from service.measures.instruments import get_instrument
from service.models import CheckIn, MeasureResponse
from service.summaries.fhir import patient_bundle
from tests.summaries.conftest import Seeded

LOINC = "http://loinc.org"


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def test_the_bundle_and_every_resource_validate(session: Session, english: Seeded) -> None:
    bundle = patient_bundle(session, english.story.patient)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    kinds = {"Patient": FhirPatient, "QuestionnaireResponse": QuestionnaireResponse, "Observation": Observation}
    for entry in bundle["entry"]:
        kinds[entry["resource"]["resourceType"]].model_validate(entry["resource"])
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
    ids = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert len(ids) == len(set(ids))


def test_each_questionnaire_response_carries_the_loinc_item_answer_and_total_codes(
    session: Session, english: Seeded
) -> None:
    patient = english.story.patient
    bundle = patient_bundle(session, patient)
    stored = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id)
        .order_by(col(MeasureResponse.completed_at))
    ).all()
    answered = {response["id"]: response for response in resources(bundle, "QuestionnaireResponse")}
    assert set(answered) == {row.id for row in stored}
    for row in stored:
        instrument = get_instrument(row.instrument)
        response = answered[row.id]
        assert response["questionnaire"] == f"http://loinc.org/q/{instrument.loinc_panel}"
        assert response["subject"] == {"reference": f"urn:uuid:{patient.id}"}
        items = response["item"]
        assert [item["linkId"] for item in items[:-1]] == [item.loinc for item in instrument.items]
        for item, value in zip(instrument.items, row.answers, strict=False):
            [answer] = next(i for i in items if i["linkId"] == item.loinc)["answer"]
            assert answer["valueCoding"] == {
                "system": LOINC,
                "code": item.option(value).loinc,
                "display": item.option(value).label["en"],
            }
        assert items[-1]["linkId"] == instrument.loinc_total
        assert items[-1]["answer"] == [{"valueInteger": row.total}]


def test_totals_are_observations_derived_from_their_responses(session: Session, english: Seeded) -> None:
    bundle = patient_bundle(session, english.story.patient)
    totals = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["system"] == LOINC]
    totals = [o for o in totals if o["code"]["coding"][0]["code"] in ("44261-6", "70274-6")]
    responses = {r["id"]: r for r in resources(bundle, "QuestionnaireResponse")}
    assert len(totals) == len(responses) == 6
    for observation in totals:
        [source] = observation["derivedFrom"]
        response = responses[source["reference"].removeprefix("urn:uuid:")]
        assert observation["valueInteger"] == response["item"][-1]["answer"][0]["valueInteger"]
        assert observation["effectiveDateTime"] == response["authored"]
    phq9 = [o["valueInteger"] for o in totals if o["code"]["coding"][0]["code"] == "44261-6"]
    assert phq9 == [16, 11, 7]


def test_each_checkin_is_a_mood_observation_with_sleep_in_hours(session: Session, english: Seeded) -> None:
    patient = english.story.patient
    bundle = patient_bundle(session, patient)
    checkins = session.exec(select(CheckIn).where(CheckIn.patient_id == patient.id)).all()
    moods = {o["id"]: o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "mood"}
    assert set(moods) == {c.id for c in checkins}
    for checkin in checkins:
        observation = moods[checkin.id]
        assert observation["valueInteger"] == checkin.mood
        sleep = next(c for c in observation["component"] if c["code"]["coding"][0]["code"] == "93832-4")
        assert sleep["valueQuantity"] == {
            "value": checkin.sleep_hours,
            "unit": "h",
            "system": "http://unitsofmeasure.org",
            "code": "h",
        }
        assert "note" not in observation


def test_the_patient_resource_names_the_person_and_their_language(session: Session, english: Seeded) -> None:
    [patient] = resources(patient_bundle(session, english.story.patient), "Patient")
    assert patient["name"] == [{"text": "Zoé Lefèvre"}]
    assert patient["telecom"] == [{"system": "email", "value": "zoe-en@example.org"}]
    assert patient["communication"][0]["language"]["coding"][0]["code"] == "en"
    assert patient["managingOrganization"] == {"display": "Clinique en"}
