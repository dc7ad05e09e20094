"""Access tokens stop when their sign-in ends; answers with health data are never stored by caches."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from service.models import PatientStatus
from tests.factories import CLIENT_PASSWORD
from tests.security.conftest import Client


def _me(client: TestClient, headers: dict[str, str]) -> int:
    return client.get("/api/v1/me", headers=headers).status_code


def test_logout_ends_the_access_token_at_once(client: TestClient, me: Client) -> None:
    assert _me(client, me.headers) == 200
    assert client.post("/api/v1/auth/logout", json={"refresh_token": me.tokens["refresh_token"]}).status_code == 204
    answer = client.get("/api/v1/me", headers=me.headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_logout_on_one_device_leaves_the_other_signed_in(client: TestClient, me: Client) -> None:
    other = client.post("/api/v1/auth/token", json={"email": me.email, "password": CLIENT_PASSWORD}).json()
    client.post("/api/v1/auth/logout", json={"refresh_token": me.tokens["refresh_token"]})
    assert _me(client, me.headers) == 401
    assert _me(client, {"Authorization": f"Bearer {other['access_token']}"}) == 200


def test_refresh_token_reuse_ends_every_access_token_of_the_family(client: TestClient, me: Client) -> None:
    first = client.post("/api/v1/auth/refresh", json={"refresh_token": me.tokens["refresh_token"]}).json()
    newest = {"Authorization": f"Bearer {first['access_token']}"}
    assert _me(client, newest) == 200
    # The spent refresh token comes back: somebody copied it. The whole family ends, now.
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": me.tokens["refresh_token"]}).status_code == 401
    assert _me(client, newest) == 401
    assert _me(client, me.headers) == 401


def test_erasure_request_ends_every_access_token(client: TestClient, me: Client) -> None:
    other = client.post("/api/v1/auth/token", json={"email": me.email, "password": CLIENT_PASSWORD}).json()
    assert client.delete("/api/v1/me", headers=me.headers).status_code == 202
    assert _me(client, me.headers) == 401
    assert _me(client, {"Authorization": f"Bearer {other['access_token']}"}) == 401


def test_a_discharged_or_paused_account(client: TestClient, session: Session, me: Client) -> None:
    me.patient.status = PatientStatus.PAUSED
    session.add(me.patient)
    session.commit()
    assert _me(client, me.headers) == 200  # paused clients still read their own data
    me.patient.status = PatientStatus.DISCHARGED
    session.add(me.patient)
    session.commit()
    assert _me(client, me.headers) == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/me/export"),
        ("GET", "/api/v1/checkins"),
        ("GET", "/api/v1/checkins/trends"),
        ("GET", "/api/v1/measures/progress"),
        ("GET", "/api/v1/assignments"),
        ("GET", "/api/v1/crisis-resources"),
        ("GET", "/api/v1/checkins/not-a-uuid"),
    ],
)
def test_health_data_is_never_cached(client: TestClient, me: Client, method: str, path: str) -> None:
    answer = client.request(method, path, headers=me.headers)
    assert answer.headers["cache-control"] == "no-store"


def test_tokens_are_never_cached(client: TestClient, me: Client) -> None:
    answer = client.post("/api/v1/auth/token", json={"email": me.email, "password": CLIENT_PASSWORD})
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    created = client.post("/api/v1/checkins", json={"mood": 4, "note": "tired"}, headers=me.headers)
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"


def test_the_document_describes_one_error_shape_and_every_error_status(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "Error" in schemas
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status in ("401", "403", "404", "409", "422", "429"):
                response = operation["responses"].get(status)
                assert response is not None, f"{method} {path} does not document {status}"
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert "Retry-After" in document["paths"]["/v1/auth/token"]["post"]["responses"]["429"]["headers"]


def test_domain_and_validation_errors_share_the_error_shape(client: TestClient, me: Client) -> None:
    domain = client.get("/api/v1/checkins", params={"from": "2026-03-02", "to": "2026-03-01"}, headers=me.headers)
    assert domain.status_code == 422 and isinstance(domain.json()["detail"], str)
    invalid = client.post("/api/v1/checkins", json={"mood": "very", "note": "SECRET-NOTE-TEXT"}, headers=me.headers)
    assert invalid.status_code == 422
    items = invalid.json()["detail"]
    assert items and set(items[0]) == {"loc", "msg", "type"}
    assert "very" not in invalid.text and "SECRET-NOTE-TEXT" not in invalid.text  # nothing sent is echoed


def test_zero_is_not_a_date(client: TestClient, me: Client) -> None:
    answer = client.get("/api/v1/checkins", params={"to": "0"}, headers=me.headers)
    assert answer.status_code == 422
