from __future__ import annotations

from fastapi import APIRouter

from client_api.deps import CurrentClient, SessionDep
from service.onboarding import profile
from service.onboarding.schemas import ErasureOut, ProfileOut
from service.summaries.client_export import export_patient
from service.summaries.schemas import ClientExport

router = APIRouter(prefix="/me", tags=["me"])


@router.get("", response_model=ProfileOut)
def me(client: CurrentClient, session: SessionDep) -> ProfileOut:
    return profile.profile(session, client)


@router.get("/export", response_model=ClientExport)
def export(client: CurrentClient, session: SessionDep) -> ClientExport:
    """Everything Tandem stores about the client, as JSON (GDPR art. 15 and 20)."""
    return export_patient(session, client)


@router.delete("", status_code=202, response_model=ErasureOut)
def request_erasure(client: CurrentClient, session: SessionDep) -> ErasureOut:
    return profile.request_erasure(session, client)
