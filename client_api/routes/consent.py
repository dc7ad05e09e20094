from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from client_api.deps import SessionDep
from service.onboarding import activation
from service.onboarding.schemas import ConsentOut
from service.security import rate_limits

router = APIRouter(tags=["consent"])


@router.get("/consent", response_model=ConsentOut)
def get_consent(
    invite_code: Annotated[str, Query(min_length=1, max_length=64)], request: Request, session: SessionDep
) -> ConsentOut:
    """The consent text to accept before activation, in the invited patient's language."""
    rate_limits.hit("invite_ip", rate_limits.client_address(request))
    text = activation.consent_for_invite(session, invite_code=invite_code)
    return ConsentOut(version=text.version, locale=text.locale, text=text.text)
