from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from client_api.deps import AccessClaimsDep, CurrentClient, SessionDep, signed_in_client
from client_api.paging import add_next_page
from service.checkins import service as checkins
from service.checkins import tags
from service.checkins.schemas import CheckinCreated, CheckinIn, CheckinOut, TagOut, TrendsOut
from service.kit.hygiene import IsoDate
from service.security.tokens import AccessClaims

router = APIRouter(prefix="/checkins", tags=["checkins"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Any unique string (a UUID): a retry with the same key replays the first answer, writing nothing.",
    ),
]
FromDate = Annotated[IsoDate | None, Query(alias="from", description="First local date, inclusive (YYYY-MM-DD).")]
ToDate = Annotated[IsoDate | None, Query(alias="to", description="Last local date, inclusive (YYYY-MM-DD).")]


@router.post("", status_code=201, response_model=CheckinCreated)
async def submit_checkin(
    request: Request,
    body: CheckinIn,
    claims: AccessClaimsDep,
    session: SessionDep,
    idempotency_key: IdempotencyKey = None,
) -> CheckinCreated:
    """Record a check-in. The answer carries the risk found in the note and, when it matters, crisis lines."""
    # The busiest write of the API takes one thread hand-off: its client's sign-in and the check-in
    # run on it together, in one transaction on one pooled connection. The route itself is async
    # because FastAPI checks a sync route's answer on a thread again; an async route's, on the loop.
    return await run_in_threadpool(_submit_checkin, session, request, claims, body, idempotency_key)


def _submit_checkin(
    session: Session, request: Request, claims: AccessClaims, body: CheckinIn, idempotency_key: str | None
) -> CheckinCreated:
    client = signed_in_client(session, request=request, claims=claims)
    return checkins.submit(session, patient=client, data=body, idempotency_key=idempotency_key)


@router.get("", response_model=list[CheckinOut])
def list_checkins(
    request: Request,
    response: Response,
    client: CurrentClient,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=checkins.MAX_PAGE)] = checkins.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200, description="From X-Next-Cursor of the previous page.")] = None,
    start: FromDate = None,
    end: ToDate = None,
) -> list[CheckinOut]:
    """The client's check-ins, newest first. When there are more, X-Next-Cursor and Link say where."""
    page = checkins.list_checkins(session, patient=client, limit=limit, cursor=cursor, start=start, end=end)
    add_next_page(request, response, page.next_cursor)
    return page.items


@router.get("/tags", response_model=list[TagOut])
def list_tags(client: CurrentClient) -> list[dict[str, str]]:
    """The tags a check-in may carry, labelled in the client's language."""
    return tags.localized(client.locale)


@router.get("/trends", response_model=TrendsOut)
def trends(
    client: CurrentClient,
    session: SessionDep,
    days: Annotated[int | None, Query(ge=1, le=checkins.MAX_TREND_DAYS)] = None,
    start: FromDate = None,
    end: ToDate = None,
) -> TrendsOut:
    """Each metric per day of the client's calendar, with 7- and 28-day rolling means (default: 28 days)."""
    return checkins.trend(session, patient=client, days=days, start=start, end=end)


@router.get("/{checkin_id}", response_model=CheckinOut)
def get_checkin(checkin_id: str, client: CurrentClient, session: SessionDep) -> CheckinOut:
    return checkins.get_checkin(session, patient=client, checkin_id=checkin_id)
