"""Property-based fuzzing of the whole client API from its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid (positive) and invalid (negative), signed in as a real
client: no answer may be a 5xx, and every answer must match the document (status codes, content
types, headers, response and error schemas). Derandomized (a fixed seed) and bounded, so it runs in
``make test`` in well under a minute or two.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks
from sqlmodel import Session

from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.exercises import assignments, sessions
from tests.security.conftest import Client

pytestmark = pytest.mark.slow(seconds=12)  # thousands of generated requests: started first (tests/conftest.py)

EXAMPLES_PER_OPERATION = 10
CHECKS = [
    schemathesis.checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]
BOUNDED = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,  # the same requests on every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _real_ids(session: Session, me: Client) -> dict[str, str]:
    """Ids of the client's own rows, so generated requests also reach existing check-ins and sessions."""
    made = checkins.submit(session, patient=me.patient, data=CheckinIn(mood=6, note="a calm walk"))
    assignment = assignments.create_assignment(
        session, staff=me.setup.clinician, patient_id=me.patient.id, exercise_code="thought_record"
    )
    started = sessions.start_session(session, patient=me.patient, assignment_id=assignment.id)
    return {"checkin_id": made.id, "assignment_id": assignment.id, "session_id": started.session_id, "code": "phq9"}


def _last_for_erasure(label: str) -> bool:
    return label == "DELETE /v1/me"  # erasure signs the client out everywhere: fuzz it last


def _run(strategy, label: str, me: Client, failures: list[str]) -> None:  # type: ignore[no-untyped-def]
    @BOUNDED
    @given(case=strategy)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        headers = {**(case.headers or {}), **me.headers}
        response = case.call(headers=headers)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except Exception as failure:  # collected, so one run reports every operation that fails
            failures.append(f"{label}: {type(failure).__name__}: {str(failure)[:300]}")

    run()


def _fuzz(app, session: Session, me: Client, mode: GenerationMode) -> tuple[int, list[str]]:  # type: ignore[no-untyped-def]
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    real = _real_ids(session, me)
    sent = 0
    failures: list[str] = []
    operations = sorted(
        (result.ok() for result in schema.get_all_operations()), key=lambda op: _last_for_erasure(op.label)
    )
    assert len(operations) >= 20, [op.label for op in operations]
    for operation in operations:
        names = {parameter.name for parameter in operation.iter_parameters() if parameter.location == "path"}
        known = {name: real[name] for name in names if name in real} if mode is GenerationMode.POSITIVE else None

        try:
            _run(
                operation.as_strategy(generation_mode=mode, path_parameters=known or None),
                operation.label,
                me,
                failures,
            )
        except Unsatisfiable:
            # An operation that takes no input at all (GET /push/vapid-key) has no invalid request to send.
            assert mode is GenerationMode.NEGATIVE and not any(True for _ in operation.iter_parameters()), (
                operation.label
            )
            continue
        sent += EXAMPLES_PER_OPERATION
    return sent, failures


def test_valid_requests_never_answer_5xx_and_match_the_document(app, session: Session, me: Client) -> None:  # type: ignore[no-untyped-def]
    sent, failures = _fuzz(app, session, me, GenerationMode.POSITIVE)
    assert sent >= 100
    assert failures == []


def test_invalid_requests_never_answer_5xx_and_match_the_document(app, session: Session, me: Client) -> None:  # type: ignore[no-untyped-def]
    sent, failures = _fuzz(app, session, me, GenerationMode.NEGATIVE)
    assert sent >= 100
    assert failures == []
