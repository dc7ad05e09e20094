from __future__ import annotations

from fastapi import APIRouter

from client_api.deps import CurrentClient, SessionDep
from service.safety_plan import service as safety_plan
from service.safety_plan.schemas import SafetyPlanIn, SafetyPlanOut

router = APIRouter(prefix="/safety-plan", tags=["safety plan"])


@router.get("", response_model=SafetyPlanOut)
def read_safety_plan(client: CurrentClient, session: SessionDep) -> SafetyPlanOut:
    """The client's safety plan: every section in order, empty items (version 0) when there is none yet."""
    return safety_plan.read_for_client(session, patient=client)


@router.put("", response_model=SafetyPlanOut)
def write_safety_plan(body: SafetyPlanIn, client: CurrentClient, session: SessionDep) -> SafetyPlanOut:
    """Save the sections given (a section left out keeps its items); a new version is kept each time."""
    return safety_plan.write_for_client(session, patient=client, sections=((s.code, s.items) for s in body.sections))
