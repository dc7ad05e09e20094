from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response

from client_api.deps import CurrentClient, SessionDep
from client_api.paging import add_next_page
from service.kit.hygiene import IsoDate
from service.measures import service as measures
from service.measures.schemas import (
    MeasureDefinition,
    MeasureListing,
    ProgressOut,
    ResponseCreated,
    ResponseIn,
    ResponseOut,
)

router = APIRouter(prefix="/measures", tags=["measures"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key", description="A retry with the same key returns the first answer and writes nothing."
    ),
]
FromDate = Annotated[IsoDate | None, Query(alias="from", description="First local date, inclusive (YYYY-MM-DD).")]
ToDate = Annotated[IsoDate | None, Query(alias="to", description="Last local date, inclusive (YYYY-MM-DD).")]


@router.get("", response_model=list[MeasureListing])
def list_measures(client: CurrentClient, session: SessionDep) -> list[MeasureListing]:
    """Questionnaires due now or available, with when each is next due."""
    return measures.listing(session, patient=client)


@router.get("/progress", response_model=ProgressOut)
def progress(client: CurrentClient, session: SessionDep) -> ProgressOut:
    """Change since the first PHQ-9 and GAD-7: reliable improvement or deterioration, caseness, recovery."""
    return measures.progress_for_client(session, patient=client)


# Unset: an item without skip logic has no "ask_if" key, a questionnaire without one no "difficulty_item".
@router.get("/{code}", response_model=MeasureDefinition, response_model_exclude_unset=True)
def get_measure(code: str, client: CurrentClient) -> MeasureDefinition:
    """Items and options of one questionnaire (phq9, gad7, cssrs) in the client's language."""
    return measures.definition(client, code)


@router.post("/{code}/responses", status_code=201, response_model=ResponseCreated)
def submit_response(
    code: str, body: ResponseIn, client: CurrentClient, session: SessionDep, idempotency_key: IdempotencyKey = None
) -> ResponseCreated:
    """Score a completed questionnaire; the answer carries the severity, the risk and any crisis lines."""
    return measures.submit_response(session, patient=client, code=code, data=body, idempotency_key=idempotency_key)


@router.get("/{code}/responses", response_model=list[ResponseOut])
def list_responses(
    code: str,
    request: Request,
    response: Response,
    client: CurrentClient,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=measures.MAX_PAGE)] = measures.DEFAULT_PAGE,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    start: FromDate = None,
    end: ToDate = None,
) -> list[ResponseOut]:
    """The client's responses to one questionnaire, newest first."""
    page = measures.list_responses(session, patient=client, code=code, limit=limit, cursor=cursor, start=start, end=end)
    add_next_page(request, response, page.next_cursor)
    return page.items


@router.get("/{code}/responses/{response_id}", response_model=ResponseOut)
def get_response(code: str, response_id: str, client: CurrentClient, session: SessionDep) -> ResponseOut:
    return measures.get_response(session, patient=client, code=code, response_id=response_id)
