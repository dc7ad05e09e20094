"""The client's safety plan through the client API, and in the crisis and support blocks."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, select

from service.models import AuditEvent, SafetyPlanVersion
from tests.factories import active_patient, bearer, create_clinic

URL = "/api/v1/safety-plan"
CODES = [
    "warning_signs",
    "coping",
    "distractions",
    "people_to_ask",
    "professionals",
    "safe_environment",
    "reasons_for_living",
]


def _client(session: Session, **kwargs: object) -> dict[str, str]:
    setup = create_clinic(session)
    _, tokens = active_patient(session, setup, **kwargs)  # type: ignore[arg-type]
    return bearer(tokens)


def test_a_client_without_a_plan_reads_every_section_empty(client: TestClient, session: Session) -> None:
    headers = _client(session)
    plan = client.get(URL, headers=headers).json()
    assert plan["version"] == 0
    assert [s["code"] for s in plan["sections"]] == CODES
    assert all(s["items"] == [] for s in plan["sections"])
    assert plan["sections"][0]["title"] == "Warning signs"


def test_each_save_keeps_a_version_and_says_which_sections_changed(client: TestClient, session: Session) -> None:
    headers = _client(session)
    first = client.put(
        URL,
        json={
            "sections": [
                {"code": "warning_signs", "items": ["Not sleeping", "  Staying in bed all day "]},
                {"code": "people_to_ask", "items": ["My sister Lou 07700 900123"]},
            ]
        },
        headers=headers,
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    second = client.put(
        URL, json={"sections": [{"code": "reasons_for_living", "items": ["My dog Biscuit"]}]}, headers=headers
    )
    saved = {s["code"]: s["items"] for s in second.json()["sections"]}
    assert second.json()["version"] == 2
    assert saved["warning_signs"] == ["Not sleeping", "Staying in bed all day"]  # a section left out is kept
    assert saved["reasons_for_living"] == ["My dog Biscuit"]
    assert client.get(URL, headers=headers).json() == second.json()

    rows = session.exec(select(SafetyPlanVersion).order_by(SafetyPlanVersion.version)).all()
    assert [(r.version, r.changed, r.author_type) for r in rows] == [
        (1, ["warning_signs", "people_to_ask"], "client"),
        (2, ["reasons_for_living"], "client"),
    ]
    stored = session.execute(text("SELECT sections_json FROM safety_plan_version")).scalars().all()
    assert stored and all("Biscuit" not in value and "Not sleeping" not in value for value in stored)  # encrypted
    audits = session.exec(select(AuditEvent).where(AuditEvent.action == "safety_plan.update")).all()
    assert [a.detail["version"] for a in audits] == [1, 2]
    assert all("Biscuit" not in str(a.detail) for a in audits)


def test_an_unknown_section_is_refused_and_changes_nothing(client: TestClient, session: Session) -> None:
    headers = _client(session)
    client.put(URL, json={"sections": [{"code": "coping", "items": ["Walk the dog"]}]}, headers=headers)
    bad = client.put(
        URL,
        json={"sections": [{"code": "coping", "items": ["Changed"]}, {"code": "weapons", "items": ["x"]}]},
        headers=headers,
    )
    assert bad.status_code == 422 and "weapons" in bad.json()["detail"]
    for body in ({"sections": [{"code": "coping", "items": ["x" * 501]}]}, {"sections": "nope"}, {}):
        assert 400 <= client.put(URL, json=body, headers=headers).status_code < 500
    plan = client.get(URL, headers=headers).json()
    assert plan["version"] == 1 and plan["sections"][1]["items"] == ["Walk the dog"]


def test_the_crisis_block_carries_the_clients_plan(client: TestClient, session: Session) -> None:
    headers = _client(session, locale="fr", country="FR")
    # Thoughts of suicide only, so that the low note below stays low: a goodbye in the same 72 hours
    # would make the notes high together (tests/alerts/test_exchange.py).
    no_plan = client.post("/api/v1/checkins", json={"mood": 1, "note": "Je veux me tuer ce soir."}, headers=headers)
    assert "safety_plan" not in no_plan.json()["crisis"]
    client.put(
        URL, json={"sections": [{"code": "people_to_ask", "items": ["Ma sœur Lou 06 12 34 56 78"]}]}, headers=headers
    )
    answer = client.post("/api/v1/checkins", json={"mood": 1, "note": "Je veux me tuer ce soir."}, headers=headers)
    plan = answer.json()["crisis"]["safety_plan"]
    assert plan["version"] == 1
    assert plan["sections"] == [
        {
            "code": "people_to_ask",
            "title": "Personnes à qui demander de l'aide",
            "prompt": plan["sections"][0]["prompt"],
            "items": ["Ma sœur Lou 06 12 34 56 78"],
        }
    ]
    low = client.post(
        "/api/v1/checkins", json={"mood": 3, "note": "parfois j'aimerais ne plus être là"}, headers=headers
    )
    assert low.json()["risk"]["level"] == "low"
    assert low.json()["support"]["safety_plan"]["version"] == 1
