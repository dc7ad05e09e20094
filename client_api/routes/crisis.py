from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from client_api.deps import CurrentClient, SessionDep
from service import alerts

router = APIRouter(tags=["crisis"])


class CrisisResource(BaseModel):
    model_config = {"extra": "allow"}

    name: str
    phone: str | None = None
    url: str | None = None
    hours: str | None = None


class CrisisResourcesOut(BaseModel):
    message: str
    resources: list[CrisisResource]
    clinic_instructions: str | None = None


@router.get("/crisis-resources", response_model=CrisisResourcesOut, response_model_exclude_none=True)
def crisis_resources(client: CurrentClient, session: SessionDep) -> dict[str, object]:
    """Who to call now, for the client's country and in their language, and their clinic's own instructions."""
    return alerts.crisis_resources_for(session, patient=client)
