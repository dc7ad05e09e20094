"""Exercises on a patient's page: assigning one (frequency, personal instructions), pausing,
resuming and ending it, and reading a guided session with its answers and the coach's transcript."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from clinician_portal.deps import CurrentStaff, SessionDep, require_role
from clinician_portal.forms import parse_day
from clinician_portal.pages import page, portal_path
from clinician_portal.routes.patients import patient_page_response
from service.errors import Conflict, Invalid
from service.exercises import assignments
from service.exercises import review as exercise_review
from service.exercises.coach.traps import thinking_traps
from service.models import Role
from service.onboarding.patients import get_for_staff

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])

CodeField = Annotated[str, Form(max_length=64)]
InstructionsField = Annotated[str, Form(max_length=assignments.MAX_INSTRUCTIONS + 200)]
CHANGES = {
    "pause": (assignments.pause_assignment, "paused"),
    "resume": (assignments.resume_assignment, "resumed"),
    "end": (assignments.end_assignment, "ended"),
}


def _back_to_exercises(request: Request, patient_id: str, saved: str) -> RedirectResponse:
    path = portal_path(request, "patient", patient_id=patient_id)
    return RedirectResponse(f"{path}?saved={saved}#exercises", status_code=303)


def _whole_number(value: str) -> int:
    """The form's text as a number; anything else is 0, which the service refuses with its reason."""
    text = value.strip()
    return int(text) if text.isascii() and text.isdigit() else 0


@router.post("/patients/{patient_id}/assignments", name="assignment_create", response_class=HTMLResponse)
def assign_exercise(
    request: Request,
    patient_id: str,
    current: CurrentStaff,
    session: SessionDep,
    exercise_code: CodeField = "",
    every_days: CodeField = "1",
    instructions: InstructionsField = "",
    starts_on: CodeField = "",
    ends_on: CodeField = "",
) -> Response:
    values = {
        "exercise_code": exercise_code,
        "every_days": every_days,
        "instructions": instructions,
        "starts_on": starts_on,
        "ends_on": ends_on,
    }
    try:
        assignments.create_assignment(
            session,
            staff=current.staff,
            patient_id=patient_id,
            exercise_code=exercise_code,
            every_days=_whole_number(every_days),
            instructions=instructions,
            starts_on=parse_day(starts_on),
            ends_on=parse_day(ends_on),
        )
    except (Invalid, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return patient_page_response(
            request, current, session, patient_id, error=exc.detail, status=status, assignment_form=values
        )
    return _back_to_exercises(request, patient_id, "assigned")


@router.post("/assignments/{assignment_id}/{change}", name="assignment_change", response_class=HTMLResponse)
def change_assignment(
    request: Request, assignment_id: str, change: str, current: CurrentStaff, session: SessionDep
) -> Response:
    """Pause, resume or end an assignment, then back to the patient's exercises."""
    if change not in CHANGES:
        return page(request, "error.html", status=404, problem="404", detail=None)
    action, saved = CHANGES[change]
    assignment = assignments.get_for_staff(session, current.staff, assignment_id)
    try:
        action(session, staff=current.staff, assignment_id=assignment_id)
    except Conflict as exc:
        return patient_page_response(request, current, session, assignment.patient_id, error=exc.detail, status=409)
    return _back_to_exercises(request, assignment.patient_id, saved)


@router.post("/assignments/{assignment_id}/coach/pause", name="coach_pause", response_class=HTMLResponse)
def pause_coach(
    request: Request,
    assignment_id: str,
    current: CurrentStaff,
    session: SessionDep,
    reason: InstructionsField = "",
) -> Response:
    """Pause the coach for this exercise, with a reason the client reads."""
    assignment = assignments.get_for_staff(session, current.staff, assignment_id)
    try:
        assignments.pause_coach(session, staff=current.staff, assignment_id=assignment_id, reason=reason)
    except (Invalid, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 422
        return patient_page_response(request, current, session, assignment.patient_id, error=exc.detail, status=status)
    return _back_to_exercises(request, assignment.patient_id, "coach_paused")


# An alert's id, as the alert page sends it: anything else goes back to the patient's page.
_ALERT_ID = re.compile(r"[0-9a-fA-F-]{1,36}")


@router.post("/assignments/{assignment_id}/coach/resume", name="coach_resume", response_class=HTMLResponse)
def resume_coach(
    request: Request,
    assignment_id: str,
    current: CurrentStaff,
    session: SessionDep,
    alert_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    """Let the coach guide this exercise again (after a pause of the clinician's or a safety stop),
    from the patient's page or from the alert page (``alert_id``: back to that alert)."""
    assignment = assignments.get_for_staff(session, current.staff, assignment_id)
    try:
        assignments.resume_coach(session, staff=current.staff, assignment_id=assignment_id)
    except Conflict as exc:
        return patient_page_response(request, current, session, assignment.patient_id, error=exc.detail, status=409)
    if _ALERT_ID.fullmatch(alert_id):
        path = portal_path(request, "alert", alert_id=alert_id)
        return RedirectResponse(f"{path}?done=coach_resumed", status_code=303)
    return _back_to_exercises(request, assignment.patient_id, "coach_resumed")


@router.get("/sessions/{session_id}", name="exercise_session", response_class=HTMLResponse)
def exercise_session(request: Request, session_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    """One guided session: the structured answers, before and after, and the whole transcript."""
    detail = exercise_review.session_detail(session, staff=current.staff, session_id=session_id, locale=current.locale)
    patient = get_for_staff(session, staff=current.staff, patient_id=detail.patient_id)
    return page(
        request,
        "exercise_session.html",
        signed_in=current,
        detail=detail,
        patient=patient,
        trap_names={trap.code: trap.name for trap in thinking_traps()},
    )
