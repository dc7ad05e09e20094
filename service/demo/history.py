"""Two months of believable history for each demo patient: daily check-ins and fortnightly PHQ-9/GAD-7.

Rows are built in memory and written in one flush per patient (the demo must start in seconds),
but every note and every answer still goes through risk screening and `alerts.respond_to_risk`,
and the moments that matter (a worrying note, a positive PHQ-9 item 9) go through the real
service functions, exactly as a client app would send them.
"""

from __future__ import annotations

import random
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from service import alerts, audit
from service.checkins import service as checkins
from service.checkins.schemas import CheckinIn
from service.db import unit_of_work
from service.kit.context import Actor
from service.kit.i18n import pick_locale
from service.measures import service as measures
from service.measures.instruments import get_instrument
from service.measures.schemas import ResponseIn
from service.measures.scoring import score
from service.models import CheckIn, ConsentRecord, MeasureResponse, Patient
from service.models.base import utcnow
from service.risk import screen_cssrs, screen_gad7, screen_phq9, screen_text

HISTORY_FILE = Path(__file__).with_name("history.toml")
HISTORY_DAYS = 60
QUESTIONNAIRE_EVERY_DAYS = 14
ACTOR = Actor.system("demo")
_INSTRUMENT_SCREENS = {"phq9": screen_phq9, "gad7": screen_gad7, "cssrs": screen_cssrs}


@dataclass(frozen=True)
class HistoryCounts:
    checkins: int
    responses: int


@cache
def history() -> dict[str, Any]:
    return tomllib.loads(HISTORY_FILE.read_text(encoding="utf-8"))


def seed_history(session: Session, patient: Patient, trajectory: str, *, seed: int) -> HistoryCounts:
    """Give an activated patient `HISTORY_DAYS` of check-ins and questionnaires following `trajectory`."""
    spec = history()["trajectory"][trajectory]
    rng = random.Random(seed)
    now = utcnow()
    first_day = _local_today(patient, now) - timedelta(days=HISTORY_DAYS - 1)
    _backdate_account(session, patient, _at(patient, first_day - timedelta(days=1), time(10, 0)))
    rows: list[CheckIn | MeasureResponse] = [*_checkins(patient, spec, rng, first_day, now)]
    live_phq9 = "last_phq9_item9" in spec
    rows += _responses(patient, spec, rng, first_day, skip_last_phq9=live_phq9)
    with unit_of_work(session):
        session.add_all(rows)
        session.flush()
        for row in rows:
            _screen(session, patient, row)
        audit.record(
            session,
            actor=ACTOR,
            action="demo.history_seed",
            entity=patient,
            detail={"trajectory": trajectory, "rows": len(rows)},
        )
    live = _live_moments(session, patient, spec, rng, first_day)
    bulk_checkins = sum(isinstance(row, CheckIn) for row in rows)
    return HistoryCounts(bulk_checkins + live.checkins, len(rows) - bulk_checkins + live.responses)


def _backdate_account(session: Session, patient: Patient, activated_at: datetime) -> None:
    """The demo patient joined before their history starts, and consented before any of it."""
    with unit_of_work(session):
        patient.created_at = activated_at - timedelta(days=2)
        patient.activated_at = activated_at
        session.add(patient)
        for consent in session.exec(select(ConsentRecord).where(ConsentRecord.patient_id == patient.id)).all():
            consent.accepted_at = activated_at
            session.add(consent)


def _checkins(
    patient: Patient, spec: dict[str, Any], rng: random.Random, first_day: date, now: datetime
) -> Iterator[CheckIn]:
    notes = history()["notes"][pick_locale(patient.locale)]
    tags = history()["tags"]["common"]
    for offset in range(HISTORY_DAYS):
        day = first_day + timedelta(days=offset)
        share = offset / (HISTORY_DAYS - 1)
        for _ in range(rng.choices((0, 1, 2), weights=(15, 75, 10))[0]):
            recorded_at = _at(patient, day, time(rng.randint(7, 22), rng.randint(0, 59)))
            if recorded_at > now:
                continue
            mood = _scale(spec["mood"], share, rng)
            yield CheckIn(
                patient_id=patient.id,
                recorded_at=recorded_at,
                local_date=day,
                mood=mood,
                anxiety=_scale(spec["anxiety"], share, rng),
                sleep_hours=_sleep(spec["sleep"], share, rng),
                energy=_scale(spec["energy"], share, rng),
                note=rng.choice(notes[_bucket(mood)]) if rng.random() < 0.45 else None,
                tags=rng.sample(tags, rng.choices((0, 1, 2), weights=(30, 50, 20))[0]),
            )


def _responses(
    patient: Patient, spec: dict[str, Any], rng: random.Random, first_day: date, *, skip_last_phq9: bool
) -> list[MeasureResponse]:
    responses = []
    for index, day in enumerate(_questionnaire_days(first_day)):
        completed_at = _at(patient, day, time(rng.randint(18, 21), rng.randint(0, 59)))
        last = index == len(spec["phq9"]) - 1
        for code, totals, items in (("phq9", spec["phq9"], 9), ("gad7", spec["gad7"], 7)):
            if code == "phq9" and last and skip_last_phq9:
                continue
            answers = _answers(totals[index], items, rng, item9=0 if code == "phq9" else None)
            scored = score(code, answers)
            responses.append(
                MeasureResponse(
                    patient_id=patient.id,
                    instrument=code,
                    answers=answers,
                    total=scored.total,
                    severity=scored.severity,
                    completed_at=completed_at,
                    local_date=day,
                )
            )
    return responses


def _questionnaire_days(first_day: date) -> list[date]:
    return [first_day + timedelta(days=d) for d in range(0, HISTORY_DAYS, QUESTIONNAIRE_EVERY_DAYS)]


@dataclass(frozen=True)
class _Live:
    checkins: int
    responses: int


def _live_moments(
    session: Session, patient: Patient, spec: dict[str, Any], rng: random.Random, first_day: date
) -> _Live:
    """What a worried clinician should find: sent through the same service functions as the app uses."""
    sent_checkins = sent_responses = 0
    if "last_phq9_item9" in spec:
        day = _questionnaire_days(first_day)[-1]
        answers = _answers(spec["phq9"][-1], 9, rng, item9=int(spec["last_phq9_item9"]))
        completed_at = _at(patient, day, time(20, 30))
        measures.submit_response(
            session, patient=patient, code="phq9", data=ResponseIn(answers=answers, completed_at=completed_at)
        )
        sent_responses += 1
    if "concerning_note_days_ago" in spec:
        day = first_day + timedelta(days=HISTORY_DAYS - 1 - int(spec["concerning_note_days_ago"]))
        note = history()["concerning_note"][pick_locale(patient.locale)]
        data = CheckinIn(
            mood=1,
            anxiety=8,
            sleep_hours=3.5,
            energy=1,
            note=note,
            tags=["sleep"],
            recorded_at=_at(patient, day, time(23, 40)),
        )
        checkins.submit(session, patient=patient, data=data)
        sent_checkins += 1
    return _Live(sent_checkins, sent_responses)


def _screen(session: Session, patient: Patient, row: CheckIn | MeasureResponse) -> None:
    if isinstance(row, CheckIn):
        result = screen_text(row.note or "", patient.locale)
        alerts.respond_to_risk(session, patient=patient, source_type="checkin", source_id=row.id, result=result)
        return
    item_count = len(get_instrument(row.instrument).items)
    result = _INSTRUMENT_SCREENS[row.instrument](row.answers[:item_count])
    alerts.respond_to_risk(session, patient=patient, source_type="measure_response", source_id=row.id, result=result)


def _answers(total: int, items: int, rng: random.Random, *, item9: int | None) -> list[int]:
    """Item scores adding up to `total`, spread at random; PHQ-9 item 9 is set, not drawn."""
    answers = [0] * items
    free = list(range(items - 1 if item9 is not None else items))
    if item9 is not None:
        answers[-1] = item9
        total -= item9
    for _ in range(total):
        index = rng.choice([i for i in free if answers[i] < 3])
        answers[index] += 1
    return answers


def _scale(span: list[int], share: float, rng: random.Random) -> int:
    return max(0, min(10, round(span[0] + (span[1] - span[0]) * share + rng.gauss(0, 1.1))))


def _sleep(span: list[float], share: float, rng: random.Random) -> float:
    hours = span[0] + (span[1] - span[0]) * share + rng.gauss(0, 0.8)
    return max(0.0, min(12.0, round(hours * 4) / 4))


def _bucket(mood: int) -> str:
    return "low" if mood <= 3 else "middle" if mood <= 6 else "high"


def _at(patient: Patient, day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, ZoneInfo(patient.timezone)).astimezone(UTC)


def _local_today(patient: Patient, now: datetime) -> date:
    return now.astimezone(ZoneInfo(patient.timezone)).date()
