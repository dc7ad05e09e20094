from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from client_api.deps import CurrentClient, SessionDep
from service.reminders import service as reminders
from service.reminders.schemas import PushSubscriptionIn, PushSubscriptionOut, VapidKeyOut

router = APIRouter(prefix="/push", tags=["reminders"])


class EndpointIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    endpoint: str = Field(min_length=10, max_length=2000)


@router.get("/vapid-key", response_model=VapidKeyOut)
def vapid_key() -> VapidKeyOut:
    """The server's VAPID public key, for PushManager.subscribe({applicationServerKey})."""
    return VapidKeyOut(application_server_key=reminders.application_server_key())


@router.post("/subscriptions", status_code=201, response_model=PushSubscriptionOut)
def subscribe(body: PushSubscriptionIn, client: CurrentClient, session: SessionDep) -> PushSubscriptionOut:
    """Let this installed app receive reminders by Web Push (the text never holds health data)."""
    row = reminders.subscribe(session, patient=client, data=body)
    return PushSubscriptionOut(id=row.id, application_server_key=reminders.application_server_key())


@router.post("/subscriptions/remove", status_code=204)
def unsubscribe(body: EndpointIn, client: CurrentClient, session: SessionDep) -> Response:
    """Stop pushing to this browser."""
    reminders.unsubscribe(session, patient=client, endpoint=body.endpoint)
    return Response(status_code=204)
