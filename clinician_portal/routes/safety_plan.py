"""A patient's safety plan, written by the clinician with the client: one box per section, one item
per line, and every earlier version with who wrote it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from clinician_portal.deps import CurrentStaff, SessionDep, SignedIn, require_role
from clinician_portal.pages import page, see_other
from service.errors import Invalid
from service.models import Role
from service.safety_plan import review as safety_plan_review
from service.safety_plan.schemas import MAX_ITEM_CHARS, MAX_ITEMS
from service.safety_plan.service import section_codes, section_prompt, section_title

router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])
# A generous bound on one section's box: every item at its longest, with its line break.
_MAX_BOX = MAX_ITEMS * (MAX_ITEM_CHARS + 2)


@router.get("/patients/{patient_id}/safety-plan", name="safety_plan", response_class=HTMLResponse)
def safety_plan_page(
    request: Request, patient_id: str, current: CurrentStaff, session: SessionDep, saved: str | None = None
) -> Response:
    return _page(request, current, session, patient_id, saved=saved == "1")


async def posted_boxes(request: Request) -> dict[str, str]:
    """One box of text per section, as posted (the form was already read by the CSRF check, so
    reading it here costs nothing); the route itself stays synchronous, on a worker thread, so its
    database work never holds up the event loop."""
    form = await request.form()
    return {code: str(form.get(code) or "") for code in section_codes()}


@router.post("/patients/{patient_id}/safety-plan", name="safety_plan_save", response_class=HTMLResponse)
def save_safety_plan(
    request: Request,
    patient_id: str,
    current: CurrentStaff,
    session: SessionDep,
    boxes: Annotated[dict[str, str], Depends(posted_boxes)],
) -> Response:
    try:
        if any(len(box) > _MAX_BOX for box in boxes.values()):
            raise Invalid("a section holds at most 20 items")
        safety_plan_review.write_for_staff(
            session,
            staff=current.staff,
            patient_id=patient_id,
            sections=((code, box.splitlines()) for code, box in boxes.items()),
        )
    except Invalid as exc:
        return _page(request, current, session, patient_id, error=exc.detail, values=boxes, status=422)
    return see_other(request, "safety_plan", query="saved=1", patient_id=patient_id)


def _page(
    request: Request,
    current: SignedIn,
    session: SessionDep,
    patient_id: str,
    *,
    saved: bool = False,
    error: str | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    view = safety_plan_review.for_staff(session, staff=current.staff, patient_id=patient_id)
    locale = current.locale
    sections = [
        {
            "code": code,
            "title": section_title(code, locale),
            "prompt": section_prompt(code, locale),
            "value": values[code] if values else "\n".join(view.plan.items.get(code, [])),
        }
        for code in section_codes()
    ]
    return page(
        request,
        "safety_plan.html",
        signed_in=current,
        status=status,
        view=view,
        patient=view.patient,
        sections=sections,
        titles={code: section_title(code, locale) for code in section_codes()},
        saved=saved,
        error=error,
    )
