from __future__ import annotations

from fastapi import APIRouter

from client_api.deps import CurrentClient, SessionDep
from service.exercises import assignments, sessions
from service.exercises.schemas import AssignmentOut, SessionStartOut

router = APIRouter(prefix="/assignments", tags=["exercises"])


@router.get("", response_model=list[AssignmentOut])
def list_assignments(client: CurrentClient, session: SessionDep) -> list[AssignmentOut]:
    """The exercises the client's clinician assigned: when each is next due, and how regularly it was done."""
    return assignments.assignments_for_patient(session, client)


@router.post("/{assignment_id}/sessions", status_code=201, response_model=SessionStartOut)
def start_session(assignment_id: str, client: CurrentClient, session: SessionDep) -> SessionStartOut:
    """Start a guided session, or resume the one left unfinished: the answer holds the guide's opening."""
    return sessions.start_session(session, patient=client, assignment_id=assignment_id)
