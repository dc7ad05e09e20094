"""The OpenAPI document a mobile developer reads: every field described, every schema with an example
that the API really answers (or accepts), and one error schema for every refusal."""

from __future__ import annotations

import base64
import json
import os
import re
import tomllib
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from client_api.openapi import EXAMPLES_PATH, FIELD_NOTES_PATH
from service.exercises.assignments import create_assignment
from service.onboarding.consent import current_version
from tests.factories import CLIENT_PASSWORD, bearer, create_clinic, invite_patient

OPENAPI = "/api/openapi.json"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from client_api.app import create_client_api

    return create_client_api().openapi()


def _schemas(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return document["components"]["schemas"]


def test_every_schema_has_a_name_of_its_own(document: dict[str, Any]) -> None:
    """Two models of one name make FastAPI fall back to module paths ("service__summaries__schemas__X"),
    which code generators turn into unreadable types: each schema is named once, as its class."""
    names = list(_schemas(document))
    assert [name for name in names if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)] == []
    assert len(names) == len(set(names))


def test_every_property_of_every_schema_has_a_description(document: dict[str, Any]) -> None:
    undescribed = [
        f"{name}.{field}"
        for name, schema in _schemas(document).items()
        for field, spec in schema.get("properties", {}).items()
        if not spec.get("description", "").strip()
    ]
    assert len(_schemas(document)) > 60
    assert undescribed == []


def test_every_schema_has_an_example_that_its_own_schema_accepts(document: dict[str, Any]) -> None:
    missing, refused = [], []
    for name, schema in _schemas(document).items():
        if "example" not in schema:
            missing.append(name)
            continue
        wrapper = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = [error.message for error in jsonschema_rs.Draft202012Validator(wrapper).iter_errors(schema["example"])]
        if errors:
            refused.append((name, errors[:3]))
    assert missing == []
    assert refused == []


def test_the_field_notes_name_only_fields_that_exist(document: dict[str, Any]) -> None:
    with FIELD_NOTES_PATH.open("rb") as source:
        notes = tomllib.load(source)
    examples = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8"))
    schemas = _schemas(document)
    stale = [
        f"{name}.{field}"
        for name, fields in notes.items()
        for field in fields
        if field not in schemas.get(name, {}).get("properties", {})
    ]
    assert stale == []
    assert [name for name in examples if name not in schemas] == []


def test_risk_level_is_an_enum_and_crisis_and_support_are_typed(document: dict[str, Any]) -> None:
    schemas = _schemas(document)
    assert schemas["Risk"]["properties"]["level"]["enum"] == ["none", "low", "moderate", "high"]
    for name in ("CheckinCreated", "ResponseCreated", "MessageOut"):
        properties = schemas[name]["properties"]
        assert {"$ref": "#/components/schemas/CrisisBlock"} in properties["crisis"]["anyOf"], name
        assert {"$ref": "#/components/schemas/SupportBlock"} in properties["support"]["anyOf"], name
    block = schemas["CrisisBlock"]["properties"]
    assert {"message", "resources", "clinic_instructions", "care_team_notice", "safety_plan"} <= set(block)
    assert block["resources"]["items"] == {"$ref": "#/components/schemas/CrisisLine"}


def test_every_error_status_uses_the_one_error_schema(document: dict[str, Any]) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "422", "429"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == error, (method, path, status)
    assert "HTTPValidationError" not in _schemas(document)


def test_the_docs_page_loads_its_assets_from_the_service_itself(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(source.startswith("/api/") for source in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source
    assert "cdn" not in page.text.lower()


# --- refreshing the examples -----------------------------------------------------------------------
# TANDEM_WRITE_OPENAPI_EXAMPLES=1 pytest tests/client_api/test_openapi_docs.py -k write
# walks a client through the whole API and keeps, for each schema, the first value the API really
# sent or accepted (tokens shortened). Schemas the walk does not reach keep their stored example.


@pytest.mark.skipif(not os.environ.get("TANDEM_WRITE_OPENAPI_EXAMPLES"), reason="refreshes the stored examples")
def test_write_examples_from_a_real_client_session(client: TestClient, session: Session) -> None:
    document = client.get(OPENAPI).json()
    seen: dict[str, Any] = {}
    walk = _Recorder(document, seen)
    setup = create_clinic(session, name="Riverside Practice", country="US", timezone="America/New_York")
    patient, code = invite_patient(session, setup, name="Alex Martin")
    walk.call(client, "get", "/api/v1/consent", params={"invite_code": code})
    activation = {"invite_code": code, "email": "alex@example.org", "password": CLIENT_PASSWORD}
    activation["consent_version"] = current_version()
    tokens = walk.call(client, "post", "/api/v1/auth/activate", json=activation)
    walk.call(client, "post", "/api/v1/auth/token", json={"email": "alex@example.org", "password": CLIENT_PASSWORD})
    tokens = walk.call(client, "post", "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    me = bearer(tokens)
    walk.call(client, "get", "/api/v1/me", headers=me)
    walk.call(client, "patch", "/api/v1/me", json={"timezone": "America/Chicago"}, headers=me)
    walk.call(client, "get", "/api/v1/me/reminders", headers=me)
    reminders = {"enabled": True, "times": ["08:30", "20:00"], "days": [1, 2, 3, 4, 5], "quiet_start": "22:00"}
    walk.call(client, "put", "/api/v1/me/reminders", json={**reminders, "quiet_end": "07:00"}, headers=me)
    walk.call(client, "get", "/api/v1/checkins/tags", headers=me)
    plan = {"sections": [{"code": "coping", "items": ["Walk round the block", "Call my sister"]}]}
    walk.call(client, "put", "/api/v1/safety-plan", json=plan, headers=me)
    walk.call(client, "get", "/api/v1/safety-plan", headers=me)
    checkin = {"mood": 6, "anxiety": 4, "sleep_hours": 7.5, "tags": ["work"], "note": "A calmer day at work."}
    keyed = {**me, "Idempotency-Key": "0b6f3c1e-5d2a-4f7b-9c61-2a8e4d9f0a17"}
    created = walk.call(client, "post", "/api/v1/checkins", json=checkin, headers=keyed)
    walk.call(client, "post", "/api/v1/checkins", json={"mood": 3, "note": "I feel hopeless lately."}, headers=me)
    walk.call(client, "get", "/api/v1/checkins", headers=me)
    walk.call(client, "get", f"/api/v1/checkins/{created['id']}", headers=me)
    walk.call(client, "get", "/api/v1/checkins/trends", params={"days": 28}, headers=me)
    walk.call(client, "get", "/api/v1/measures", headers=me)
    walk.call(client, "get", "/api/v1/measures/phq9", headers=me)
    walk.call(client, "get", "/api/v1/measures/cssrs", headers=me)
    answers = {"answers": [1, 1, 2, 1, 0, 1, 1, 0, 0, 1]}
    response = walk.call(client, "post", "/api/v1/measures/phq9/responses", json=answers, headers=me)
    walk.call(client, "get", "/api/v1/measures/phq9/responses", headers=me)
    walk.call(client, "get", f"/api/v1/measures/phq9/responses/{response['id']}", headers=me)
    walk.call(client, "get", "/api/v1/measures/progress", headers=me)
    assignment = create_assignment(
        session, staff=setup.clinician, patient_id=patient.id, exercise_code="thought_record", every_days=2
    )
    walk.call(client, "get", "/api/v1/assignments", headers=me)
    started = walk.call(client, "post", f"/api/v1/assignments/{assignment.id}/sessions", headers=me)
    message = {"text": "My manager did not answer my email and I thought I had done something wrong."}
    walk.call(client, "post", f"/api/v1/sessions/{started['session_id']}/messages", json=message, headers=me)
    walk.call(client, "get", f"/api/v1/sessions/{started['session_id']}", headers=me)
    walk.call(client, "get", "/api/v1/crisis-resources", headers=me)
    walk.call(client, "get", "/api/v1/push/vapid-key", headers=me)
    keys = {"p256dh": _b64(b"\x04" + bytes(range(64))), "auth": _b64(bytes(range(16)))}
    device = {"endpoint": "https://push.example.net/send/abc123", "keys": keys}
    walk.call(client, "post", "/api/v1/push/subscriptions", json=device, headers=me)
    walk.call(client, "post", "/api/v1/auth/password-reset", json={"email": "alex@example.org"})
    walk.call(client, "get", "/api/v1/me/export", headers=me)
    walk.call(client, "delete", "/api/v1/me", headers=me)
    walk.record_body("PasswordChangeIn", {"current_password": CLIENT_PASSWORD, "new_password": "a longer new phrase"})
    walk.record_body("RefreshIn", {"refresh_token": tokens["refresh_token"]})
    walk.record_body("EndpointIn", {"endpoint": "https://push.example.net/send/abc123"})

    stored = json.loads(EXAMPLES_PATH.read_text(encoding="utf-8")) if EXAMPLES_PATH.exists() else {}
    stored.update({name: _shortened(value) for name, value in seen.items()})
    EXAMPLES_PATH.write_text(json.dumps(dict(sorted(stored.items())), indent=1, ensure_ascii=False) + "\n", "utf-8")


class _Recorder:
    def __init__(self, document: dict[str, Any], seen: dict[str, Any]) -> None:
        self.document = document
        self.seen = seen

    def call(self, client: TestClient, method: str, path: str, **options: Any) -> Any:
        answer = client.request(method.upper(), path, **options)
        assert answer.status_code < 300, (path, answer.text)
        operation = self._operation(method, path)
        if "json" in options:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            self._walk(body, options["json"])
        content = operation["responses"].get(str(answer.status_code), {}).get("content", {})
        if "application/json" in content and answer.content:
            self._walk(content["application/json"]["schema"], answer.json())
        return answer.json() if answer.content else None

    def record_body(self, name: str, value: Any) -> None:
        self.seen.setdefault(name, value)

    def _operation(self, method: str, path: str) -> dict[str, Any]:
        for template, operations in self.document["paths"].items():
            pattern = "^/api" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            if re.match(pattern, path) and method in operations:
                return operations[method]
        raise AssertionError(f"no operation for {method} {path}")

    def _walk(self, schema: dict[str, Any], value: Any) -> None:
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if value is not None and name not in self.seen:
                self.seen[name] = value
            self._walk(self.document["components"]["schemas"][name], value)
        for option in schema.get("anyOf", []):
            if value is not None and (option.get("type") != "null"):
                self._walk(option, value)
        if isinstance(value, list) and "items" in schema:
            for item in value:
                self._walk(schema["items"], item)
        if isinstance(value, dict):
            for key, spec in schema.get("properties", {}).items():
                if key in value:
                    self._walk(spec, value[key])
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for item in value.values():
                    self._walk(extra, item)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


_TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"


def _shortened(value: Any) -> Any:
    """Tokens are long and meaningless to a reader: a recognisable stub of the same kind instead."""
    if isinstance(value, dict):
        return {key: (_TOKEN if key.endswith("_token") else _shortened(item)) for key, item in value.items()}
    if isinstance(value, list):  # a few objects show the shape; every number of a list of answers stays
        return [_shortened(item) for item in (value[:3] if value and isinstance(value[0], dict) else value)]
    return value
