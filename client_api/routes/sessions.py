from __future__ import annotations

from fastapi import APIRouter

from client_api.deps import CurrentClient, SessionDep
from service.exercises import sessions
from service.exercises.schemas import MessageIn, MessageOut, SessionOut

router = APIRouter(prefix="/sessions", tags=["exercises"])


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, client: CurrentClient, session: SessionDep) -> SessionOut:
    """Where the session stands and everything said so far, to pick it up again later."""
    return sessions.session_for_client(session, patient=client, session_id=session_id)


@router.post("/{session_id}/messages", response_model=MessageOut)
def send_message(session_id: str, body: MessageIn, client: CurrentClient, session: SessionDep) -> MessageOut:
    """Answer the guide. A message that raises a safety concern stops the exercise and returns crisis resources."""
    return sessions.send_message(session, patient=client, session_id=session_id, text=body.text)
