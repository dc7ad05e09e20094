"""The PDF summary shows, for each alert, the client's words that raised it, and the client's safety
plan; the client export carries every version of the plan; the FHIR bundle carries it as a CarePlan."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.careplan import CarePlan
from sqlmodel import Session

from service.kit.context import Actor
from service.safety_plan import service as safety_plan
from service.summaries.client_export import export_patient
from service.summaries.content import build_summary
from service.summaries.fhir import patient_bundle
from service.summaries.pdf import render_pdf
from tests.factories import active_patient, create_clinic
from tests.portal.clinical import GOODBYE, raise_alert
from tests.summaries.reading import pdf_text

BURDEN = "sometimes I feel like everyone would be better off without me"


def _patient_with_plan(session: Session):  # type: ignore[no-untyped-def]
    setup = create_clinic(session, name="Plan Clinic")
    zoe, _ = active_patient(session, setup, name="Zoé Zimmer")
    raise_alert(session, zoe, GOODBYE, mood=2)
    raise_alert(session, zoe, BURDEN, mood=3)  # later and weaker: the PDF still quotes the goodbye
    safety_plan.save(
        session,
        patient=zoe,
        actor=Actor.staff(setup.clinician),
        sections={"people_to_ask": ["Sister Lou 07700 900123"], "reasons_for_living": ["My dog Biscuit"]},
    )
    session.commit()
    safety_plan.save(session, patient=zoe, actor=Actor.client(zoe), sections={"coping": ["Long walk by the canal"]})
    session.commit()
    return zoe


def test_the_pdf_quotes_the_words_that_raised_each_alert_and_shows_the_safety_plan(session: Session) -> None:
    zoe = _patient_with_plan(session)
    text = " ".join(pdf_text(render_pdf(build_summary(session, zoe, days=28)), layout=False).split())
    assert "goodbye letters" in text
    assert "Safety plan" in text and "Version 2" in text
    assert "People I can ask for help" in text and "Sister Lou 07700 900123" in text
    assert "My dog Biscuit" in text and "Long walk by the canal" in text


def test_the_client_export_keeps_every_version_of_the_plan(session: Session) -> None:
    zoe = _patient_with_plan(session)
    versions = export_patient(session, zoe).model_dump(mode="json")["safety_plan_versions"]
    assert [(v["version"], v["written_by"], v["sections_changed"]) for v in versions] == [
        (2, "client", ["coping"]),
        (1, "staff", ["people_to_ask", "reasons_for_living"]),
    ]
    assert versions[0]["sections"]["reasons_for_living"] == ["My dog Biscuit"]


def test_the_fhir_bundle_carries_the_plan_as_a_valid_care_plan(session: Session) -> None:
    zoe = _patient_with_plan(session)
    bundle = patient_bundle(session, zoe)
    Bundle.model_validate(bundle)
    [plan] = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan"]
    CarePlan.model_validate(plan)
    assert plan["subject"] == {"reference": f"urn:uuid:{zoe.id}"}
    described = {(a["detail"]["code"]["coding"][0]["code"], a["detail"]["description"]) for a in plan["activity"]}
    assert described == {
        ("people_to_ask", "Sister Lou 07700 900123"),
        ("reasons_for_living", "My dog Biscuit"),
        ("coping", "Long walk by the canal"),
    }
