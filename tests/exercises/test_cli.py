"""`tandem exercise list` and `tandem exercise assign`, as CONTRACT.md shows them (in this process:
tests/support/cli.py)."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from service.models import Assignment
from tests.exercises.conftest import enrol
from tests.support.cli import tandem, tandem_json


def test_exercise_list_prints_code_and_title_for_every_exercise(database_url: str) -> None:
    listed = tandem_json("exercise", "list")
    assert all(set(row) == {"code", "title"} for row in listed)
    codes = {row["code"] for row in listed}
    assert {"thought_record", "breathing", "grounding"} <= codes
    assert {"code": "thought_record", "title": "Thought record"} in listed
    french = tandem_json("exercise", "list", "--locale", "fr")
    assert {"code": "thought_record", "title": "Registre des pensées"} in french


def test_exercise_assign_assigns_for_the_patients_clinician(database_url: str, session: Session) -> None:
    enrolled = enrol(session)
    made = tandem_json(
        "exercise", "assign", "--patient", enrolled.patient.id, "--exercise", "breathing", "--every-days", "2"
    )
    assert set(made) == {"assignment_id"}
    assignment = session.get(Assignment, made["assignment_id"])
    assert assignment is not None
    assert (assignment.patient_id, assignment.assigned_by) == (enrolled.patient.id, enrolled.setup.clinician.id)
    assert (assignment.exercise_code, assignment.every_days, assignment.status) == ("breathing", 2, "active")


@pytest.mark.parametrize(
    ("patient", "exercise", "message"),
    [("no-such-patient", "breathing", "no patient"), (None, "astrology", "No exercise with code")],
)
def test_exercise_assign_explains_what_is_wrong(
    database_url: str, session: Session, patient: str | None, exercise: str, message: str
) -> None:
    patient_id = patient or enrol(session).patient.id
    done = tandem("exercise", "assign", "--patient", patient_id, "--exercise", exercise, "--json")
    assert done.exit_code == 2 and message in done.stderr and done.stdout == ""
