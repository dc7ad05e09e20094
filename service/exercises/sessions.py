"""Guided sessions: a client works through an assigned exercise, one message at a time, with the coach.

Every client message is screened for risk before any engine sees it. At low risk an alert is raised
and the exercise goes on; at moderate risk or above the session stops, no engine is asked, and the
client gets the crisis resources, all through ``alerts.respond_to_risk``. The engine is stateless:
the step and the answers live here, in the session row, and every write checks the row's revision,
so two messages sent at once are handled one after the other, never interleaved.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from service import audit
from service.alerts import crisis_or_support, respond_to_risk
from service.alerts import exchange as exchange_risk
from service.alerts.exchange import Said
from service.config import Settings, get_settings
from service.db import unit_of_work
from service.errors import Conflict, Invalid, NotFound
from service.exercises import catalog
from service.exercises.coach import CoachContext, CoachEngine, CoachReply, LLMSettings, ScriptedCoach, build_engine
from service.exercises.coach.classify import coach_concern
from service.exercises.coach.texts import render
from service.exercises.schemas import (
    MAX_MESSAGE_CHARS,
    MessageOut,
    SessionOut,
    SessionStartOut,
    TranscriptLine,
)
from service.kit.context import Actor
from service.kit.i18n import Multilingual, pick_locale
from service.models import (
    Assignment,
    AssignmentStatus,
    ExerciseMessage,
    ExerciseSession,
    ExerciseSessionStatus,
    MessageRole,
    Patient,
)
from service.models.base import new_id, utcnow
from service.risk import RiskLevel, RiskResult, screen_text
from service.risk.crisis import crisis_resources

log = logging.getLogger(__name__)

TEXTS_PATH = Path(__file__).with_name("texts.toml")
# The engine name recorded on the coach line that stops a session: no engine wrote it.
SAFETY_STOP = "safety"
# A message that loses a race is handled again on the session's new state, this many times at most.
MAX_ATTEMPTS = 3
_SOURCE = "coach_message"  # the source type of a client's line in alerts


class _LostRace(Exception):
    """Another request changed the session between our read and our write."""


# ---------------------------------------------------------------- the engine of this deployment


def llm_settings(settings: Settings | None = None) -> LLMSettings | None:
    """The language-model settings when ``TANDEM_LLM_BASE_URL`` is set; None means the scripted coach."""
    settings = settings or get_settings()
    if not settings.llm_base_url:
        return None
    return LLMSettings(
        base_url=settings.llm_base_url,
        api_key=settings.llm_api_key or "",
        model=settings.llm_model,
        timeout_seconds=settings.llm_timeout_seconds,
    )


def coach_engine() -> CoachEngine:
    """The deployment's coach: the LLM engine when it is configured, the scripted one otherwise."""
    return _engine_for(llm_settings())


@lru_cache(maxsize=4)
def _engine_for(llm: LLMSettings | None) -> CoachEngine:
    # One engine per configuration, so its HTTP connections are reused across requests.
    return build_engine(llm)


# ---------------------------------------------------------------- what clients do


def start_session(
    session: Session, *, patient: Patient, assignment_id: str, now: datetime | None = None
) -> SessionStartOut:
    """Open a guided session on an assignment, or pick up the one left unfinished (never two at once)."""
    for _ in range(MAX_ATTEMPTS):
        try:
            return _open_session(session, patient, assignment_id, now or utcnow())
        except _LostRace:
            _may_retry(session, patient)  # a message to the unfinished session came in meanwhile
    raise Conflict(_refusal(patient, "busy"))


def _open_session(session: Session, patient: Patient, assignment_id: str, now: datetime) -> SessionStartOut:
    engine = coach_engine()
    with unit_of_work(session):
        assignment = _client_assignment(session, patient, assignment_id)
        _hold(session, assignment)
        if assignment.status != AssignmentStatus.ACTIVE:
            raise Conflict(_refusal(patient, str(assignment.status)))
        _check_coach(patient, assignment)
        exercise = catalog.get_exercise(assignment.exercise_code)
        row = _in_progress(session, assignment.id, lock=True)
        if row is not None and row.exercise_version != exercise.version:
            _claim(session, row)
            _abandon(row, now)  # its steps no longer match the exercise: start afresh
            session.flush()  # out of the way of the one-in-progress index before the new row goes in
            row = None
        resumed = row is not None
        if row is not None:
            _claim(session, row)
        else:
            row, created = _create_session(session, patient, assignment, exercise, engine, now)
            if not created:  # a concurrent start won the race: this one resumes its session
                resumed = True
                _claim(session, row)
        ctx = _context(patient, assignment, row, exercise)
        reply = engine.opening(ctx)
        _advance(row, reply, now)
        seq = _next_seq(session, row)
        _append(
            session, row, MessageRole.COACH, reply.message, seq=seq, step_index=ctx.step_index, reply=reply, now=now
        )
        audit.record(
            session,
            actor=Actor.client(patient),
            action="exercise_session.resume" if resumed else "exercise_session.start",
            entity=row,
            detail={"exercise": exercise.code, "engine": engine.name},
        )
    return SessionStartOut(session_id=row.id, message=reply.message, done=reply.done, resumed=resumed)


def send_message(
    session: Session, *, patient: Patient, session_id: str, text: str, now: datetime | None = None
) -> MessageOut:
    """Screen the client's message, then either let the coach answer it or stop the session for safety."""
    text = _check_text(patient, text)
    for _ in range(MAX_ATTEMPTS):
        try:
            return _handle_message(session, patient, session_id, text, now or utcnow())
        except _LostRace:
            _may_retry(session, patient)  # rolled back: read the new state and handle the message on it
    raise Conflict(_refusal(patient, "busy"))


def session_for_client(session: Session, *, patient: Patient, session_id: str) -> SessionOut:
    """A session's state and transcript, so the client can leave and come back to it."""
    row = _client_session(session, patient, session_id)
    exercise = catalog.get_exercise(row.exercise_code)
    lang = pick_locale(patient.locale)
    return SessionOut(
        id=row.id,
        assignment_id=row.assignment_id,
        exercise_code=row.exercise_code,
        title=exercise.title.text(lang),
        status=str(row.status),
        done=row.status != ExerciseSessionStatus.IN_PROGRESS,
        step_index=row.step_index,
        steps_total=len(exercise.steps),
        started_at=row.started_at,
        updated_at=row.updated_at,
        completed_at=row.completed_at,
        transcript=[TranscriptLine.model_validate(m, from_attributes=True) for m in transcript_of(session, row)],
    )


# ---------------------------------------------------------------- handling one message


@dataclass(frozen=True)
class _Turn:
    """What the first, read-only transaction of a message found: the state it was read in."""

    revision: int
    ctx: CoachContext
    result: RiskResult
    earlier: tuple[Said, ...] = ()
    """The client's earlier lines of the session, when the result holds evidence of the exchange."""


def _handle_message(session: Session, patient: Patient, session_id: str, text: str, now: datetime) -> MessageOut:
    """Three steps, so that no transaction (no row lock, no pooled connection) waits on the engine,
    which may be a language model a network away: read the session and screen the text in one short
    transaction; ask the engine outside any transaction; write the two lines in a second transaction
    that first claims the session at the revision it was read in. A message that came in meanwhile
    changed the revision, and this one is handled again on the new state (``_LostRace``)."""
    turn = _read_turn(session, patient, session_id, text, now)
    stopping = turn.result.level >= RiskLevel.MODERATE
    # Screened before any engine sees the text, and whatever the engine would make of it.
    reply = safety_stop_reply(turn.ctx) if stopping else _coach_reply(turn.ctx, text)
    with unit_of_work(session):
        row = _client_session(session, patient, session_id, lock=True)
        if row.revision != turn.revision:
            raise _LostRace
        _check_open(session, patient, row)
        _claim(session, row)
        seq, step = _next_seq(session, row), turn.ctx.step_index
        client_line = _append(
            session, row, MessageRole.CLIENT, text, seq=seq, step_index=step, risk=turn.result, now=now
        )
        coach_line = _append(
            session, row, MessageRole.COACH, reply.message, seq=seq + 1, step_index=step, reply=reply, now=now
        )
        if reply.note and not stopping:
            client_line.clinician_note = reply.note  # shown on the patient's page and in the summary
        notice = _respond(session, patient, client_line, turn)
        if stopping:
            _stop_for_safety(session, patient, row, turn.result, now)
        else:
            _advance(row, reply, now)
            _record_outcome(session, patient, row, coach_line, reply)
    return MessageOut(message=reply.message, done=reply.done, status=str(row.status), **notice)


def _read_turn(session: Session, patient: Patient, session_id: str, text: str, now: datetime) -> _Turn:
    with unit_of_work(session):
        row = _client_session(session, patient, session_id)
        assignment = _check_open(session, patient, row)
        exercise = catalog.get_exercise(row.exercise_code)
        if row.exercise_version != exercise.version:
            _claim(session, row)
            _abandon(row, now)
            if _owns_transaction(session, inside=True):
                session.commit()  # closed for good, even though this request fails
            raise Conflict(_refusal(patient, "updated"))
        lang = pick_locale(patient.locale)
        # The coach's own concern phrases ("I just want to disappear") count as a low-level signal.
        result = RiskResult.combine(screen_text(text, lang), coach_concern(text, lang))
        # The session's transcript read as one exchange: signs spread over the client's lines add up.
        earlier: tuple[Said, ...] = ()
        if exchange_risk.opens_history(text, lang):
            earlier = tuple(_client_lines(session, row))
            result = exchange_risk.read_together(result, [*earlier, Said(_SOURCE, "", now, text)], lang)
            if not exchange_risk.is_exchange(result):
                earlier = ()
        ctx = dataclasses.replace(
            _context(patient, assignment, row, exercise),
            risk_level=int(result.level),
            tries=_tries_at_step(session, row),
        )
        return _Turn(row.revision, ctx, result, earlier)


def _client_lines(session: Session, row: ExerciseSession) -> list[Said]:
    """The client's lines of the session so far, oldest first, decrypted (the coach's are not theirs)."""
    lines = session.execute(
        sa_select(col(ExerciseMessage.id), col(ExerciseMessage.created_at), col(ExerciseMessage.text))
        .where(col(ExerciseMessage.session_id) == row.id, col(ExerciseMessage.role) == MessageRole.CLIENT)
        .order_by(col(ExerciseMessage.seq).desc())
        .limit(exchange_risk.MAX_EARLIER)
    ).all()
    return [Said(_SOURCE, line_id, at, text) for line_id, at, text in reversed(lines) if text]


def _tries_at_step(session: Session, row: ExerciseSession) -> int:
    """How many of the client's latest messages were written at the step still awaited."""
    recent = session.exec(
        select(ExerciseMessage.step_index)
        .where(ExerciseMessage.session_id == row.id, ExerciseMessage.role == MessageRole.CLIENT)
        .order_by(col(ExerciseMessage.seq).desc())
        .limit(_TRIES_LOOKED_AT)
    ).all()
    return next((n for n, step in enumerate(recent) if step != row.step_index), len(recent))


# Enough to tell a first try from a second; the coach needs no more.
_TRIES_LOOKED_AT = 3


def _check_open(session: Session, patient: Patient, row: ExerciseSession) -> Assignment:
    """The session's assignment, if the session and the assignment still take messages."""
    if row.status != ExerciseSessionStatus.IN_PROGRESS:
        raise Conflict(_refusal(patient, str(row.status)))
    assignment = session.get(Assignment, row.assignment_id, populate_existing=True)
    assert assignment is not None  # foreign key
    if assignment.status != AssignmentStatus.ACTIVE:
        raise Conflict(_refusal(patient, str(assignment.status)))
    _check_coach(patient, assignment)
    return assignment


def _check_coach(patient: Patient, assignment: Assignment) -> None:
    """The coach is paused for this assignment: by the clinician (the client reads their reason), or
    since a moderate or higher signal in a session, until a clinician resumes it."""
    if assignment.coach_paused_at is None:
        return
    if assignment.coach_pause_kind == "clinician":
        raise Conflict(_refusal(patient, "coach_paused", {"reason": assignment.coach_pause_reason or ""}))
    raise Conflict(_refusal(patient, "coach_paused_safety"))


def _coach_reply(ctx: CoachContext, text: str) -> CoachReply:
    engine = coach_engine()
    try:
        return engine.reply(ctx, text)
    except Exception as exc:
        if engine.name == ScriptedCoach.name:
            raise  # the scripted coach failing is a bug to see, not something to hide
        # The kind of error only: its message might quote the client.
        log.error(
            "coach engine failed (%s); scripted reply sent instead",
            type(exc).__name__,
            extra={"exercise": ctx.exercise.code},
        )
        fallback = ScriptedCoach().reply(ctx, text)
        return CoachReply(
            message=fallback.message,
            step_index=fallback.step_index,
            answers=fallback.answers,
            done=fallback.done,
            engine=fallback.engine,
            fallback_reason="engine_error",
            traps=fallback.traps,
        )


def safety_stop_reply(ctx: CoachContext) -> CoachReply:
    """What the client reads when the session stops for safety (moderate risk or above): no engine wrote it."""
    texts = _texts(ctx.lang)
    return CoachReply(
        message=render(texts["stopped_for_safety"], {"emergency": _emergency_words(ctx.lang, ctx.emergency_number)}),
        step_index=ctx.step_index,
        answers=dict(ctx.answers),
        done=True,
        engine=SAFETY_STOP,
    )


def _respond(
    session: Session, patient: Patient, line: ExerciseMessage, turn: _Turn
) -> dict[str, dict[str, Any] | None]:
    """The alert, and what the client must see now (``crisis`` or ``support``), when the screen found
    anything at all; the risk result itself is already on the client's transcript line."""
    result = turn.result
    if result.level < RiskLevel.LOW:
        return {"crisis": None, "support": None}
    exchange = [*turn.earlier, Said(_SOURCE, line.id, line.created_at, line.text)] if turn.earlier else None
    notice = respond_to_risk(
        session, patient=patient, source_type=_SOURCE, source_id=line.id, result=result, exchange=exchange
    )
    return crisis_or_support(result.level, notice)


def _stop_for_safety(
    session: Session, patient: Patient, row: ExerciseSession, result: RiskResult, now: datetime
) -> None:
    row.status = ExerciseSessionStatus.STOPPED_FOR_SAFETY
    row.stopped_at = row.updated_at = now
    # The coach stays paused for this assignment until a clinician has looked and resumes it.
    assignment = session.get(Assignment, row.assignment_id)
    assert assignment is not None  # foreign key
    assignment.coach_paused_at = now
    assignment.coach_pause_kind = "safety"
    assignment.coach_pause_reason = None
    audit.record(
        session,
        actor=Actor.client(patient),
        action="exercise_session.stop_for_safety",
        entity=row,
        detail={"level": result.level.label, "categories": list(result.categories)},
    )


def _record_outcome(
    session: Session, patient: Patient, row: ExerciseSession, line: ExerciseMessage, reply: CoachReply
) -> None:
    if reply.note:
        # A non-risk note for the clinician (e.g. a medication question): a code and the line, never the words.
        audit.record(
            session,
            actor=Actor.system("coach"),
            action="exercise_session.clinician_note",
            entity=row,
            detail={"message_id": line.id, "note": reply.note},
        )
    if reply.fallback_reason:
        # Reason codes only ("guardrail:diagnosis", "timeout"): never the model's or the client's words.
        audit.record(
            session,
            actor=Actor.system("coach"),
            action="exercise_session.coach_fallback",
            entity=row,
            detail={"message_id": line.id, "reason": reply.fallback_reason, "guardrails": line.guardrail_reasons},
        )
    if row.status == ExerciseSessionStatus.COMPLETED:
        audit.record(
            session,
            actor=Actor.client(patient),
            action="exercise_session.complete",
            entity=row,
            detail={"exercise": row.exercise_code},
        )


# ---------------------------------------------------------------- session rows


def _client_assignment(session: Session, patient: Patient, assignment_id: str) -> Assignment:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.patient_id != patient.id or assignment.status == AssignmentStatus.ENDED:
        raise NotFound(_refusal(patient, "no_assignment"))
    return assignment


def _hold(session: Session, assignment: Assignment) -> None:
    """Hold the assignment until this request commits: a second start at the same moment waits, then
    finds the session this one opened and resumes it. A no-op write does it on every database (a row
    lock on PostgreSQL, the write lock on SQLite), and it opens the transaction before any savepoint."""
    session.execute(
        update(Assignment)
        .where(col(Assignment.id) == assignment.id)
        .values(updated_at=Assignment.updated_at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(assignment)  # its status now, not as first read


def _client_session(session: Session, patient: Patient, session_id: str, *, lock: bool = False) -> ExerciseSession:
    """The client's own session; another client's is as unknown as a made-up id."""
    query = (
        select(ExerciseSession)
        .where(ExerciseSession.id == session_id, ExerciseSession.patient_id == patient.id)
        .execution_options(populate_existing=True)
    )
    if lock and _locks_rows(session):
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise NotFound(_refusal(patient, "no_session"))
    return row


def _in_progress(session: Session, assignment_id: str, *, lock: bool = False) -> ExerciseSession | None:
    query = (
        select(ExerciseSession)
        .where(
            ExerciseSession.assignment_id == assignment_id,
            ExerciseSession.status == ExerciseSessionStatus.IN_PROGRESS,
        )
        .execution_options(populate_existing=True)
    )
    if lock and _locks_rows(session):
        query = query.with_for_update()
    return session.exec(query).first()


def _locks_rows(session: Session) -> bool:
    """PostgreSQL locks the session row for the whole request; SQLite relies on the revision check."""
    return session.get_bind().dialect.name == "postgresql"


def _create_session(
    session: Session,
    patient: Patient,
    assignment: Assignment,
    exercise: catalog.Exercise,
    engine: CoachEngine,
    now: datetime,
) -> tuple[ExerciseSession, bool]:
    """A new session, or the one a concurrent request created a moment ago (and False)."""
    row = ExerciseSession(
        clinic_id=patient.clinic_id,
        assignment_id=assignment.id,
        patient_id=patient.id,
        exercise_code=exercise.code,
        exercise_version=exercise.version,
        answers_json="{}",
        engine=engine.name,
        started_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():  # a concurrent start may have opened one for this assignment
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = _in_progress(session, assignment.id)
        if existing is None:
            raise
        return existing, False
    return row, True


def _claim(session: Session, row: ExerciseSession) -> None:
    """Take the session for this write, or find that another request changed it since we read it."""
    claimed = session.execute(
        update(ExerciseSession)
        .where(col(ExerciseSession.id) == row.id, col(ExerciseSession.revision) == row.revision)
        .values(revision=row.revision + 1)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise _LostRace
    set_committed_value(row, "revision", row.revision + 1)  # already written: nothing left to flush


def _advance(row: ExerciseSession, reply: CoachReply, now: datetime) -> None:
    row.step_index = reply.step_index
    row.answers_json = json.dumps(reply.answers, ensure_ascii=False)
    row.updated_at = now
    if reply.done and row.status == ExerciseSessionStatus.IN_PROGRESS:
        row.status = ExerciseSessionStatus.COMPLETED
        row.completed_at = now


def _abandon(row: ExerciseSession, now: datetime) -> None:
    row.status = ExerciseSessionStatus.ABANDONED
    row.updated_at = now


def _append(
    session: Session,
    row: ExerciseSession,
    role: MessageRole,
    text: str,
    *,
    seq: int,
    step_index: int,
    now: datetime,
    reply: CoachReply | None = None,
    risk: RiskResult | None = None,
) -> ExerciseMessage:
    """Add a line to the transcript at ``seq`` (the session is claimed: nobody else is adding one)."""
    # Every column given here: model defaults built by factories are slow to compute one by one.
    line = ExerciseMessage(
        id=new_id(),
        session_id=row.id,
        seq=seq,
        role=role,
        text=text,
        step_index=step_index,
        engine=reply.engine if reply else None,
        fallback_reason=reply.fallback_reason if reply else None,
        guardrail_reasons=_guardrail_reasons(reply.fallback_reason) if reply else [],
        traps=list(reply.traps) if reply else [],
        risk_level=risk.level.label if risk else None,
        risk_categories=list(risk.categories) if risk else [],
        risk_engine_version=risk.engine_version if risk else None,
        created_at=now,
    )
    session.add(line)
    return line


def _next_seq(session: Session, row: ExerciseSession) -> int:
    last = session.exec(select(func.max(ExerciseMessage.seq)).where(ExerciseMessage.session_id == row.id)).one()
    return int(last or 0) + 1


def _guardrail_reasons(fallback_reason: str | None) -> list[str]:
    prefix = "guardrail:"
    if not fallback_reason or not fallback_reason.startswith(prefix):
        return []
    return [reason for reason in fallback_reason[len(prefix) :].split(",") if reason]


def transcript_of(session: Session, row: ExerciseSession) -> list[ExerciseMessage]:
    return list(
        session.exec(
            select(ExerciseMessage).where(ExerciseMessage.session_id == row.id).order_by(col(ExerciseMessage.seq))
        )
    )


def answers_of(row: ExerciseSession) -> dict[str, Any]:
    value = json.loads(row.answers_json or "{}")
    return value if isinstance(value, dict) else {}


# ---------------------------------------------------------------- the coach's context


def _context(
    patient: Patient, assignment: Assignment, row: ExerciseSession, exercise: catalog.Exercise
) -> CoachContext:
    emergency, contacts = _crisis_details(patient)
    return CoachContext(
        exercise=exercise,
        locale=patient.locale,
        step_index=min(row.step_index, len(exercise.steps)),
        answers=answers_of(row),
        first_name=_first_name(patient.display_name),
        instructions=assignment.instructions,
        emergency_number=emergency,
        allowed_contacts=contacts,
    )


def _crisis_details(patient: Patient) -> tuple[str | None, tuple[str, ...]]:
    """The emergency number and the crisis lines of the client's country: the coach names the first,
    and a language model may mention only these (and the lines the guardrails know)."""
    lines = [dict(line) for line in crisis_resources(patient.country, patient.locale).resources]
    emergency = next((line["phone"] for line in lines if line.get("kind") == "emergency" and line.get("phone")), None)
    contacts = tuple(value for line in lines for value in (line.get("phone"), line.get("url")) if value)
    return emergency, contacts


def _first_name(display_name: str | None) -> str | None:
    parts = (display_name or "").split()
    return parts[0] if parts else None


# ---------------------------------------------------------------- small helpers


def _check_text(patient: Patient, text: str) -> str:
    if not text or not text.strip():
        raise Invalid(_refusal(patient, "empty"))
    if len(text) > MAX_MESSAGE_CHARS:
        raise Invalid(_refusal(patient, "too_long"))
    return text.strip()


def _may_retry(session: Session, patient: Patient) -> None:
    """Only a transaction of our own was rolled back and may be tried again; inside a caller's
    transaction, the caller decides."""
    if not _owns_transaction(session, inside=False):
        raise Conflict(_refusal(patient, "busy"))


def _owns_transaction(session: Session, *, inside: bool) -> bool:
    """Whether this service call opened the transaction (``unit_of_work`` counts nested blocks)."""
    return int(session.info.get("uow_depth", 0)) == (1 if inside else 0)


def _refusal(patient: Patient, reason: str, given: Mapping[str, str] | None = None) -> Multilingual:
    """Why a request was refused, in every language: the client API answers in the one the request
    asks for (Accept-Language, else the client's profile), as it does every other refusal."""
    emergency = _crisis_details(patient)[0] if reason == str(ExerciseSessionStatus.STOPPED_FOR_SAFETY) else None

    def written_in(lang: str) -> str:
        values = {"max": f"{MAX_MESSAGE_CHARS:,}".replace(",", "\u00a0" if lang == "fr" else ","), **(given or {})}
        if reason == str(ExerciseSessionStatus.STOPPED_FOR_SAFETY):
            values["emergency"] = _emergency_words(lang, emergency)
        return render(_texts(lang)["errors"][reason], values)

    return Multilingual(written_in, patient.locale)


def _emergency_words(lang: str, number: str | None) -> str:
    texts = _texts(lang)
    number = (number or "").strip()
    return render(texts["emergency_number"], {"number": number}) if number else texts["emergency_default"]


@cache
def _all_texts() -> Mapping[str, Mapping[str, Any]]:
    with TEXTS_PATH.open("rb") as file:
        return tomllib.load(file)


def _texts(lang: str) -> Mapping[str, Any]:
    return _all_texts()[pick_locale(lang)]


# ---------------------------------------------------------------- the client's export


def client_export(session: Session, patient: Patient) -> dict[str, Any]:
    """The exercise part of a client's data export (GDPR art. 15 and 20): every assignment with its
    note, every session with its answers and transcript, decrypted, JSON-ready."""
    assigned = session.exec(
        select(Assignment).where(Assignment.patient_id == patient.id).order_by(col(Assignment.created_at))
    ).all()
    rows = session.exec(
        select(ExerciseSession)
        .where(ExerciseSession.patient_id == patient.id)
        .order_by(col(ExerciseSession.started_at))
    ).all()
    return {
        "assignments": [
            {
                "id": a.id,
                "exercise_code": a.exercise_code,
                "exercise_version": a.exercise_version,
                "every_days": a.every_days,
                "starts_on": a.starts_on.isoformat(),
                "ends_on": a.ends_on.isoformat() if a.ends_on else None,
                "instructions": a.instructions,
                "status": str(a.status),
                "created_at": a.created_at.isoformat(),
            }
            for a in assigned
        ],
        "exercise_sessions": [
            {
                "id": row.id,
                "assignment_id": row.assignment_id,
                "exercise_code": row.exercise_code,
                "status": str(row.status),
                "started_at": row.started_at.isoformat(),
                "completed_at": row.completed_at.isoformat() if row.completed_at else None,
                "answers": answers_of(row),
                "transcript": [
                    {"role": str(m.role), "text": m.text, "at": m.created_at.isoformat(), "risk_level": m.risk_level}
                    for m in transcript_of(session, row)
                ],
            }
            for row in rows
        ],
    }
