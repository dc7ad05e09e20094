"""A clinician reviewing a patient's questionnaires: progress over the episode, the totals over
time, and each response answer by answer.

The caller (``caseload.patient_record``) has checked that the patient is visible to the staff
member, and audits the read in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from service.measures.instruments import Instrument, Item, Option, get_instrument
from service.measures.service import Progress, progress
from service.models import MeasureResponse, Patient

RECENT_RESPONSES = 20
CHARTED = ("phq9", "gad7")


@dataclass(frozen=True)
class AnsweredItem:
    item: Item
    answer: int | None
    """The option value given; None when the questionnaire's flow did not ask the item."""

    @property
    def option(self) -> Option | None:
        return self.item.option(self.answer) if self.answer is not None else None


@dataclass(frozen=True)
class ReviewedResponse:
    response: MeasureResponse
    instrument: Instrument
    items: list[AnsweredItem]
    difficulty: AnsweredItem | None


@dataclass(frozen=True)
class MeasureReview:
    progress: Progress
    totals: dict[str, list[tuple[datetime, int]]]
    """Every PHQ-9 and GAD-7 total of the patient, oldest first, for the charts."""
    responses: list[ReviewedResponse]
    """The latest responses to every questionnaire, newest first."""
    answered: int = 0
    """Every response the patient ever gave."""


def read(session: Session, *, patient: Patient, limit: int = RECENT_RESPONSES) -> MeasureReview:
    """The review of a patient the caller has already checked the staff member may see; the caller
    audits the read and owns the transaction."""
    rows = session.exec(
        select(MeasureResponse)
        .where(MeasureResponse.patient_id == patient.id)
        .order_by(col(MeasureResponse.completed_at), col(MeasureResponse.created_at))
    ).all()
    summary = progress(session, patient=patient)
    totals: dict[str, list[tuple[datetime, int]]] = {code: [] for code in CHARTED}
    for row in rows:
        if row.instrument in totals and row.total is not None:
            totals[row.instrument].append((row.completed_at, row.total))
    recent = [answered(row) for row in reversed(rows[-limit:])] if limit else []
    return MeasureReview(progress=summary, totals=totals, responses=recent, answered=len(rows))


def answered(response: MeasureResponse) -> ReviewedResponse:
    """The response item by item, marking the items its skip logic did not ask."""
    instrument = get_instrument(response.instrument)
    answers = list(response.answers)
    items = []
    for index, item in enumerate(instrument.items):
        asked = item.ask_if is None or answers[instrument.position(item.ask_if.item)] == item.ask_if.answer
        items.append(AnsweredItem(item, answers[index] if asked and index < len(answers) else None))
    difficulty = None
    if instrument.difficulty_item is not None:
        extra = answers[len(instrument.items)] if len(answers) > len(instrument.items) else None
        difficulty = AnsweredItem(instrument.difficulty_item, extra)
    return ReviewedResponse(response=response, instrument=instrument, items=items, difficulty=difficulty)
