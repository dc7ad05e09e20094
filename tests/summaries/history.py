"""A patient's weeks of care, written straight into the database for summary tests and benchmarks.

Check-ins and questionnaire rows are built in memory (a client app cannot backdate more than a
week); alerts go through the real lifecycle (`raise_for`, `resolve`) at chosen moments.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from service.alerts import lifecycle
from service.db import unit_of_work
from service.measures.scoring import score
from service.models import Alert, CheckIn, MeasureResponse, Patient, Staff
from service.models.base import utcnow
from service.risk import Evidence, RiskLevel, RiskResult

FLAGGED_NOTE = "Talk about my sister's wedding and the argument"
PRIVATE_NOTE = "PRIVATE-UNFLAGGED-NOTE walked the dog"
PHQ9_TOTALS = (16, 11, 7)
GAD7_TOTALS = (13, 9, 6)


@dataclass
class Story:
    patient: Patient
    today: date
    checkins: list[CheckIn] = field(default_factory=list)
    responses: list[MeasureResponse] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


def at(patient: Patient, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(patient.timezone)).astimezone(UTC)


def answers_for(total: int, items: int, *, item9: int = 0, rng: random.Random) -> list[int]:
    """Item scores (0..3) adding up to `total`, spread at random; the PHQ-9 item 9 is set, not drawn."""
    answers = [0] * items
    if items == 9:
        answers[8] = item9
    free = list(range(8 if items == 9 else items))
    remaining = total - sum(answers)
    while remaining > 0:
        index = rng.choice([i for i in free if answers[i] < 3])
        answers[index] += 1
        remaining -= 1
    return answers


def seed_story(
    session: Session,
    patient: Patient,
    *,
    days: int = 42,
    seed: int = 7,
    now: datetime | None = None,
    clinician: Staff | None = None,
    with_alerts: bool = True,
) -> Story:
    """`days` of check-ins ending today (a gap every sixth day, two check-ins every fifth), PHQ-9 and
    GAD-7 every 14 days, two notes flagged for the next session, and two alerts (one resolved)."""
    now = now or utcnow()
    rng = random.Random(seed)
    today = now.astimezone(ZoneInfo(patient.timezone)).date()
    first = today - timedelta(days=days - 1)
    story = Story(patient, today)
    with unit_of_work(session):
        patient.activated_at = patient.created_at = at(patient, first - timedelta(days=2), 9)
        session.add(patient)
        for offset in range(days):
            day = first + timedelta(days=offset)
            if offset % 6 == 5:
                continue  # a day without a check-in
            for extra in range(2 if offset % 5 == 0 else 1):
                moment = at(patient, day, 8 + 11 * extra, rng.randint(0, 59))
                if moment > now:
                    continue
                story.checkins.append(_checkin(patient, day, moment, offset, days, extra, rng))
        _flag(story)
        for index, offset in enumerate(range(0, days, 14)):
            if index >= len(PHQ9_TOTALS):
                break
            day = first + timedelta(days=offset)
            moment = min(at(patient, day, 20), now - timedelta(minutes=5))
            for code, totals in (("phq9", PHQ9_TOTALS), ("gad7", GAD7_TOTALS)):
                items = 9 if code == "phq9" else 7
                answers = answers_for(totals[index], items, item9=1 if index == 1 and code == "phq9" else 0, rng=rng)
                scored = score(code, answers)
                story.responses.append(
                    MeasureResponse(
                        patient_id=patient.id,
                        instrument=code,
                        answers=answers,
                        total=scored.total,
                        severity=scored.severity,
                        completed_at=moment,
                        local_date=day,
                    )
                )
        session.add_all([*story.checkins, *story.responses])
    if with_alerts:
        story.alerts = _alerts(session, patient, now, clinician)
    return story


def _checkin(
    patient: Patient, day: date, moment: datetime, offset: int, days: int, extra: int, rng: random.Random
) -> CheckIn:
    mood = max(0, min(10, 3 + (4 * offset) // days + rng.choice((-1, 0, 1)) + extra))
    return CheckIn(
        patient_id=patient.id,
        recorded_at=moment,
        local_date=day,
        mood=mood,
        anxiety=max(0, min(10, 8 - (4 * offset) // days + rng.choice((-1, 0, 1)))),
        sleep_hours=round(5.5 + rng.random() * 3, 1),
        energy=rng.randint(2, 8),
        note=PRIVATE_NOTE if offset == days - 4 else None,
        tags=["work"] if offset % 3 == 0 else [],
    )


def _flag(story: Story) -> None:
    """Two check-ins of the last fortnight flagged for the next session: one with a note, one without."""
    recent = [c for c in story.checkins if (story.today - c.local_date).days in (3, 9)]
    if len(recent) >= 2:
        with_note, without_note = recent[-1], recent[0]
        with_note.note = FLAGGED_NOTE
        with_note.tags = ["next_session", "family"]
        without_note.tags = ["next_session", "work"]


def risk(level: RiskLevel, category: str) -> RiskResult:
    return RiskResult(level, (category,), (Evidence(f"tests.{category}", category, "words", level),), "tests")


def _alerts(session: Session, patient: Patient, now: datetime, clinician: Staff | None) -> list[Alert]:
    """A priority alert ten days ago, resolved the next day; a routine alert two days ago, still open."""
    made = []
    with unit_of_work(session):
        first = lifecycle.raise_for(
            session,
            patient=patient,
            source_type="measure_response",
            source_id=None,
            result=risk(RiskLevel.MODERATE, "phq9_item9"),
            now=now - timedelta(days=10),
        )
        assert first is not None
        made.append(first)
    if clinician is not None:
        lifecycle.resolve(
            session,
            alert_id=first.id,
            staff=clinician,
            resolution="called_client",
            now=now - timedelta(days=9),
        )
    with unit_of_work(session):
        second = lifecycle.raise_for(
            session,
            patient=patient,
            source_type="trend",
            source_id=None,
            result=risk(RiskLevel.LOW, "falling_mood"),
            now=now - timedelta(days=2),
        )
        assert second is not None
        made.append(second)
    return made
