"""The live alert feed: server-sent events telling an open page that an alert it may show was
raised or changed, and the queue rows the page then fetches.

Events reach this replica through ``service.notify.broker`` (PostgreSQL LISTEN/NOTIFY across
replicas, in-process on SQLite). An event names an alert of the viewer's clinic; before passing it
on, the feed asks the database whether this viewer may see that alert, so a clinician never hears
about another caseload. The feed sends ids, counts and labels only: the rows, with the patient's
name and the words that raised the alert, come from ``GET /alerts/rows``, which is audited.

The feed holds no database connection while it waits. It checks the portal session on every event
and every heartbeat, closes when the session ends, and never counts as activity: only what the
person does keeps a session open.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

from clinician_portal.deps import QuietStaff, SessionDep
from clinician_portal.messages import N_
from clinician_portal.pages import page
from clinician_portal.templating import speaking, translate
from clinician_portal.web_security import session_token
from service.alerts import review as alert_review
from service.alerts.review import LiveFacts
from service.db import session_scope
from service.errors import Unauthenticated
from service.kit.i18n import translations
from service.models import Clinic, SessionStage, Severity
from service.models.base import utcnow
from service.notify import broker
from service.notify.events import Subscription
from service.security import staff_auth

log = logging.getLogger(__name__)
router = APIRouter()

# Seconds between heartbeats: keeps proxies from closing a quiet connection, and is how often the
# feed notices a session that ended without any event.
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 5000
# The feed's short database look-ups run on threads of their own, so a new alert reaches open pages
# without queueing behind the requests that saturate the worker (the pool keeps spares for them).
LIVE_THREADS = 4
_live_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = weakref.WeakKeyDictionary()


async def run_in_live_thread(func: Any, *args: Any) -> Any:
    loop = asyncio.get_running_loop()
    limiter = _live_limiters.get(loop)
    if limiter is None:
        limiter = _live_limiters[loop] = CapacityLimiter(LIVE_THREADS)
    return await anyio.to_thread.run_sync(func, *args, limiter=limiter)


@dataclass(frozen=True)
class Viewer:
    token: str
    clinic_id: str
    locale: str


class SessionEnded(Exception):
    pass


def _viewer(request: Request) -> Viewer | None:
    """Who opened the feed, or None when no portal session is open (the feed then answers 204)."""
    token = session_token(request)
    with session_scope() as session:
        try:
            staff, portal_session = staff_auth.resolve(session, token=token, touch=False)
        except Unauthenticated:
            return None
        if portal_session.stage != SessionStage.ACTIVE or token is None:
            return None
        clinic = session.get(Clinic, staff.clinic_id)
        assert clinic is not None
        return Viewer(token, staff.clinic_id, portal_session.locale or clinic.locale)


def _still_open(viewer: Viewer) -> bool:
    with session_scope() as session:
        try:
            staff_auth.resolve(session, token=viewer.token, touch=False)
        except Unauthenticated:
            return False
    return True


def _facts_for(viewer: Viewer, alert_id: str) -> LiveFacts | None:
    """The alert as this viewer may see it now, or None; raises SessionEnded when their session did."""
    with session_scope() as session:
        try:
            staff, _ = staff_auth.resolve(session, token=viewer.token, touch=False)
        except Unauthenticated:
            raise SessionEnded from None
        return alert_review.live_facts(session, staff=staff, alert_id=alert_id)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _payload(viewer: Viewer, kind: str, facts: LiveFacts) -> dict[str, Any]:
    """What the page needs: which alert, the badge, and a notice in the viewer's language."""
    top = max((s for s, n in facts.open_counts.items() if n), key=lambda s: s.rank, default=None)
    with speaking(viewer.locale):
        return {
            "kind": kind,
            "alert_id": facts.alert_id,
            "severity": str(facts.severity),
            "status": str(facts.status),
            "open_total": facts.open_total,
            "open_top": str(top) if top else None,
            "badge_label": _count_label(viewer.locale, facts.open_total),
            "notice": translate(_notice(kind, facts)),
            "urgent_unacknowledged": facts.urgent_unacknowledged,
        }


def _count_label(locale: str, count: int) -> str:
    # The same message as the menu's badge in base.html.
    return translations(locale).ngettext("%(num)d open alert", "%(num)d open alerts", count) % {"num": count}


SESSION_ENDED = N_("Your session has ended: new alerts no longer appear on this page. Sign in again.")
_NEW = {
    Severity.URGENT: N_("New urgent alert"),
    Severity.PRIORITY: N_("New priority alert"),
    Severity.ROUTINE: N_("New routine alert"),
}
_RAISED = {
    Severity.URGENT: N_("An alert is now urgent"),
    Severity.PRIORITY: N_("An alert is now a priority"),
    Severity.ROUTINE: N_("An alert was updated"),
}


def _notice(kind: str, facts: LiveFacts) -> str:
    if kind == "alert.created":
        return (_NEW if facts.is_new else _RAISED)[facts.severity]
    if facts.status == "resolved":
        return N_("An alert was resolved")
    if facts.status == "acknowledged":
        return N_("An alert was acknowledged")
    return N_("An alert was updated")


# A new alert announces itself twice in one transaction (created, then its first signal). The events
# of a transaction reach the page's queue together (service.notify.events), so those already queued
# behind the first are told to the page once, per alert, as the strongest of them: no waiting.


async def _batch(subscription: Subscription, first: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, alert id) of this event and those queued with it, once per alert, in order."""
    events = [first]
    while not subscription.queue.empty():
        events.append(subscription.queue.get_nowait())
    kinds: dict[str, str] = {}
    for event in events:
        kind = str(event.get("kind", ""))
        alert_id = (event.get("data") or {}).get("alert_id")
        if kind.startswith("alert.") and isinstance(alert_id, str):
            kinds[alert_id] = "alert.created" if "alert.created" in (kind, kinds.get(alert_id)) else kind
    return [(kind, alert_id) for alert_id, kind in kinds.items()]


def _ended(viewer: Viewer) -> str:
    """The last event of a feed whose session ended, with what the page should now say."""
    with speaking(viewer.locale):
        return _sse("ended", {"notice": translate(SESSION_ENDED)})


async def _feed(viewer: Viewer, subscription: Subscription) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                if not await run_in_live_thread(_still_open, viewer):
                    yield _ended(viewer)
                    return
                yield f": heartbeat {int(time.time())}\n\n"
                continue
            for kind, alert_id in await _batch(subscription, event):
                try:
                    facts = await run_in_live_thread(_facts_for, viewer, alert_id)
                except SessionEnded:
                    yield _ended(viewer)
                    return
                if facts is not None:  # not this viewer's to see: say nothing
                    yield _sse("alert", _payload(viewer, kind, facts))
    finally:
        broker.unsubscribe(subscription)


@router.get("/alerts/stream", name="alert_stream")
async def alert_stream(request: Request) -> Response:
    """``text/event-stream`` of the alerts this staff member may see; 204 (do not reconnect) when signed out."""
    viewer = await run_in_live_thread(_viewer, request)
    if viewer is None:
        return Response(status_code=204)
    # Subscribed before the first byte goes out, so nothing committed after this moment is missed.
    subscription = broker.subscribe(viewer.clinic_id)
    return StreamingResponse(
        _feed(viewer, subscription),
        media_type="text/event-stream",
        headers={"X-Accel-Buffering": "no"},  # proxies must pass events on at once
    )


@router.get("/alerts/{alert_id}/patient", name="alert_patient")
def alert_patient(alert_id: str, current: QuietStaff, session: SessionDep) -> JSONResponse:
    """Who a live notice is about: fetched by the page (audited), never carried on the feed itself."""
    name = alert_review.live_patient_name(session, staff=current.staff, alert_id=alert_id)
    return JSONResponse({"patient": name}, headers={"Cache-Control": "no-store"})


@router.get("/alerts/rows", name="alert_rows", response_class=HTMLResponse)
def alert_rows(request: Request, current: QuietStaff, session: SessionDep) -> Response:
    """The queue's rows alone (a ``<tbody>``), for the page to swap in when the feed says so."""
    rows = alert_review.queue(session, staff=current.staff)
    return page(request, "_alert_rows.html", signed_in=current, rows=rows, view="open", now=utcnow())
