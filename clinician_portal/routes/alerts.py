"""The alert queue, the recently resolved alerts, and one alert: its evidence, its history, and
acknowledging and resolving it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.pages import page, see_other
from service.alerts import feedback, lifecycle
from service.alerts import review as alert_review
from service.alerts.policy import resolution_choices
from service.errors import Conflict, Invalid
from service.exercises import assignments, catalog
from service.models import Role
from service.models.base import utcnow

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])

CodeField = Annotated[str, Form(max_length=64)]
NoteField = Annotated[str, Form(max_length=lifecycle.MAX_NOTE + 200)]


@router.get("/alerts", name="alerts", response_class=HTMLResponse)
def alert_queue(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    """Open and acknowledged alerts, most severe first, then oldest; kept current by the live feed."""
    rows = alert_review.queue(session, staff=current.staff)
    return page(request, "alerts.html", signed_in=current, rows=rows, view="open", now=utcnow())


@router.get("/alerts/resolved", name="alerts_resolved", response_class=HTMLResponse)
def resolved_alerts(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    rows = alert_review.recently_resolved(session, staff=current.staff)
    return page(
        request,
        "alerts.html",
        signed_in=current,
        rows=rows,
        view="resolved",
        now=utcnow(),
        days=alert_review.RECENT_DAYS,
    )


@router.get("/screening", name="screening", response_class=HTMLResponse)
def screening_figures(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
    """Admins: per rule and for the model, alerts raised, confirmed, and PPV over the last 90 days."""
    figures = feedback.ppv_by_rule(session, staff=current.staff)
    return page(request, "screening.html", signed_in=current, figures=figures, days=feedback.WINDOW_DAYS)


@router.get("/alerts/{alert_id}", name="alert", response_class=HTMLResponse)
def alert_page(
    request: Request, alert_id: str, current: CurrentStaff, session: SessionDep, done: str | None = None
) -> Response:
    return _alert_page(request, current, session, alert_id, done=done)


def _alert_page(
    request: Request,
    current: SignedIn,
    session: Session,
    alert_id: str,
    *,
    done: str | None = None,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = alert_review.detail(session, staff=current.staff, alert_id=alert_id)
    paused = assignments.paused_for_safety(session, current.staff, found.alert.patient_id)
    return page(
        request,
        "alert.html",
        signed_in=current,
        status=status,
        found=found,
        alert=found.alert,
        row=found.row,
        now=utcnow(),
        resolutions=resolution_choices(current.locale),
        done=done if done in ("acknowledged", "resolved", "coach_resumed") else None,
        paused=paused,
        exercises=catalog.load_catalog(),
        error=error,
        values=values or {"resolution": "", "note": "", "verdict": "", "verdict_reason": ""},
        verdicts=feedback.verdict_choices(current.locale),
        verdict_reasons=feedback.reason_choices(current.locale),
    )


@router.post("/alerts/{alert_id}/acknowledge", name="alert_acknowledge", response_class=HTMLResponse)
def acknowledge_alert(request: Request, alert_id: str, current: CurrentStaff, session: SessionDep) -> Response:
    try:
        lifecycle.acknowledge(session, alert_id=alert_id, staff=current.staff)
    except Conflict as exc:  # somebody else acknowledged it first: show them who, not an error page
        return _alert_page(request, current, session, alert_id, error=exc.detail, status=409)
    return see_other(request, "alert", query="done=acknowledged", alert_id=alert_id)


@router.post("/alerts/{alert_id}/resolve", name="alert_resolve", response_class=HTMLResponse)
def resolve_alert(
    request: Request,
    alert_id: str,
    current: CurrentStaff,
    session: SessionDep,
    resolution: CodeField = "",
    note: NoteField = "",
    verdict: CodeField = "",
    verdict_reason: CodeField = "",
) -> Response:
    values = {"resolution": resolution, "note": note, "verdict": verdict, "verdict_reason": verdict_reason}
    try:
        if not resolution:
            raise Invalid("choose how the alert was resolved")
        lifecycle.resolve(
            session,
            alert_id=alert_id,
            staff=current.staff,
            resolution=resolution,
            note=note,
            verdict=verdict or None,
            verdict_reason=verdict_reason or None,
        )
    except Invalid as exc:
        return _alert_page(request, current, session, alert_id, error=exc.detail, values=values, status=422)
    except Conflict as exc:
        return _alert_page(request, current, session, alert_id, error=exc.detail, status=409)
    return see_other(request, "alert", query="done=resolved", alert_id=alert_id)
