"""Two messages sent at once to the same session are handled one after the other, never interleaved."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import threading
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from service.db import get_engine, new_session
from service.exercises import sessions
from service.exercises.coach import CoachContext, CoachReply, ScriptedCoach
from service.exercises.schemas import MessageOut, SessionStartOut
from service.models import ExerciseMessage, ExerciseSession, Patient
from tests.exercises.conftest import assign, enrol


@dataclasses.dataclass
class MeetingCoach:
    """The scripted coach, except that two replies wait for each other, so that both requests have
    read the session before either writes: the race this test is about."""

    barrier: threading.Barrier = dataclasses.field(default_factory=lambda: threading.Barrier(2, timeout=2))
    name: str = "scripted"

    def opening(self, ctx: CoachContext) -> CoachReply:
        return ScriptedCoach().opening(ctx)

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        # On PostgreSQL the row lock keeps the other request out, so the wait times out: that's fine.
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait()
        return ScriptedCoach().reply(ctx, message)


@pytest.fixture
def meeting_coach(monkeypatch: pytest.MonkeyPatch) -> Iterator[MeetingCoach]:
    coach = MeetingCoach()
    monkeypatch.setattr(sessions, "coach_engine", lambda: coach)
    yield coach


def _send_from_its_own_request(patient_id: str, session_id: str, text: str, out: dict[str, object]) -> None:
    with new_session() as db:
        patient = db.get(Patient, patient_id)
        assert patient is not None
        try:
            out[text] = sessions.send_message(db, patient=patient, session_id=session_id, text=text)
        except Exception as exc:  # reported to the test below
            out[text] = exc


def test_two_messages_at_once_are_both_kept_in_order_and_the_state_is_not_corrupted(
    session: Session, meeting_coach: MeetingCoach
) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, "breathing")
    started = sessions.start_session(session, patient=enrolled.patient, assignment_id=assignment.id)
    results: dict[str, object] = {}
    threads = [
        threading.Thread(
            target=_send_from_its_own_request, args=(enrolled.patient.id, started.session_id, text, results)
        )
        for text in ("4", "6")  # a calm rating, then (on the new state) the breathing cycles done
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(isinstance(r, MessageOut) for r in results.values()), results
    row = session.exec(select(ExerciseSession).execution_options(populate_existing=True)).one()
    lines = session.exec(
        select(ExerciseMessage).where(ExerciseMessage.session_id == row.id).order_by(ExerciseMessage.seq)  # type: ignore[arg-type]
    ).all()
    assert [line.seq for line in lines] == [1, 2, 3, 4, 5]
    assert [line.role for line in lines] == ["coach", "client", "coach", "client", "coach"]
    first, second = lines[1], lines[3]
    # The second message was handled on the state the first one left: it answered the next step.
    assert (first.step_index, second.step_index) == (0, 2)  # step 1 is the posture, shown with the prompt
    # Still at the breathing step: the first of its three rounds is counted.
    assert row.step_index == 2 and row.revision == 2  # one write per message, none lost
    answers = json.loads(row.answers_json)
    assert set(answers) == {"calm_before", "pacing"}
    assert [first.text, second.text] in (["4", "6"], ["6", "4"])
    assert answers["calm_before"] == int(first.text) and answers["pacing"]["cycles_done"] == int(second.text)
    assert answers["pacing"]["rounds_done"] == 1
    assert str(row.status) == "in_progress"


def _start_from_its_own_request(patient_id: str, assignment_id: str, out: list[object]) -> None:
    with new_session() as db:
        patient = db.get(Patient, patient_id)
        assert patient is not None
        try:
            out.append(sessions.start_session(db, patient=patient, assignment_id=assignment_id))
        except Exception as exc:  # reported to the test below
            out.append(exc)


def test_two_starts_at_once_open_one_session_and_the_other_resumes_it(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    enrolled = enrol(session)
    assignment = assign(session, enrolled, "breathing")
    barrier = threading.Barrier(2, timeout=2)
    look_up = sessions._in_progress

    def look_up_then_wait(*args: object, **kwargs: object) -> ExerciseSession | None:
        found = look_up(*args, **kwargs)  # type: ignore[arg-type]
        with contextlib.suppress(threading.BrokenBarrierError):
            # Were the assignment not held by the first request, both would look, find nothing, and insert.
            barrier.wait()
        return found

    monkeypatch.setattr(sessions, "_in_progress", look_up_then_wait)
    results: list[object] = []
    threads = [
        threading.Thread(target=_start_from_its_own_request, args=(enrolled.patient.id, assignment.id, results))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert len(results) == 2 and all(isinstance(r, SessionStartOut) for r in results), results
    started = [r for r in results if isinstance(r, SessionStartOut)]
    assert len({r.session_id for r in started}) == 1
    assert sorted(r.resumed for r in started) == [False, True]
    assert len(session.exec(select(ExerciseSession)).all()) == 1


@dataclasses.dataclass
class WatchingCoach:
    """The scripted coach, noting whether a transaction or a pooled connection is held while it works."""

    watched: Session
    seen: list[tuple[bool, int]] = dataclasses.field(default_factory=list)
    name: str = "scripted"

    def opening(self, ctx: CoachContext) -> CoachReply:
        return ScriptedCoach().opening(ctx)

    def reply(self, ctx: CoachContext, message: str) -> CoachReply:
        self.seen.append((self.watched.in_transaction(), get_engine().pool.checkedout()))  # type: ignore[attr-defined]
        return ScriptedCoach().reply(ctx, message)


def test_no_transaction_or_connection_is_held_while_the_coach_engine_works(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine may be a language model seconds away: the session row stays unlocked and the
    connection goes back to the pool while it answers."""
    coach = WatchingCoach(session)
    monkeypatch.setattr(sessions, "coach_engine", lambda: coach)
    enrolled = enrol(session)
    assignment = assign(session, enrolled, "breathing")
    started = sessions.start_session(session, patient=enrolled.patient, assignment_id=assignment.id)
    answer = sessions.send_message(session, patient=enrolled.patient, session_id=started.session_id, text="4")
    assert coach.seen == [(False, 0)]
    assert answer.status == "in_progress" and answer.message
    row = session.exec(select(ExerciseSession).execution_options(populate_existing=True)).one()
    lines = session.exec(select(ExerciseMessage).where(ExerciseMessage.session_id == row.id)).all()
    assert len(lines) == 3  # the opening, then the client's line and the reply
