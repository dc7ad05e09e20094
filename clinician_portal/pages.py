"""Turning a template into a portal page: language, CSRF token, menu, and the shared helpers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from clinician_portal.deps import SignedIn
from clinician_portal.templating import render_template, static_version
from clinician_portal.web_security import SigninFlow, browser_locale
from service.config import get_settings
from service.kit.hygiene import without_echo
from service.models import Role, SessionStage


def portal_path(request: Request, name: str, **params: Any) -> str:
    """The path of one of the portal's own routes, by name.

    Resolved on the portal app itself: ``request.url_for`` would search the whole site, where
    the client API has routes with the same names (``logout``...).
    """
    return request.scope.get("root_path", "") + _route_path(request.app, name, tuple(sorted(params.items())))


@functools.lru_cache(maxsize=4096)
def _route_path(app: Any, name: str, params: tuple[tuple[str, Any], ...]) -> str:
    """A route's path, worked out once for each name and parameters: the routes never change once the
    app is built, and finding one walks them all (up to 50 us; 2 us from here), for each of the
    dozen or more links and forms of every page (an administrator's menu alone has ten)."""
    return str(app.url_path_for(name, **dict(params)))


@dataclass(frozen=True)
class NavItem:
    """One entry of the top menu. ``label`` is an English msgid translated at render time."""

    route: str
    label: str
    roles: tuple[Role, ...] = (Role.CLINICIAN, Role.ADMIN)
    # Other portal paths that belong to this entry (a patient's page belongs to the caseload).
    also: tuple[str, ...] = ()
    # A count shown beside the label (open alerts), read from the signed-in staff member.
    badge: Callable[[SignedIn], Badge | None] | None = None
    # Shown only when this says so (the demo's page).
    shown: Callable[[], bool] | None = None


@dataclass(frozen=True)
class Badge:
    count: int
    severity: str | None  # colours the badge: the most severe open alert's


def open_alerts_badge(signed_in: SignedIn) -> Badge | None:
    total = signed_in.open_alert_total
    top = signed_in.open_alert_top
    return Badge(total, str(top) if top else None)


# The top menu, in order. A capability adding a page appends its entry here.
NAVIGATION: list[NavItem] = [
    NavItem("home", "Caseload", also=("/patients",)),
    NavItem("alerts", "Alerts", badge=open_alerts_badge),
    NavItem("oncall", "On call", (Role.ADMIN,)),
    NavItem("team", "Staff", (Role.ADMIN,)),
    NavItem("audit", "Audit log", (Role.ADMIN,)),
    NavItem("erasure", "Erasure requests", (Role.ADMIN,)),
    NavItem("exports", "Exports", (Role.ADMIN,)),
    NavItem("screening", "Screening", (Role.ADMIN,)),
    NavItem("clinic_settings", "Clinic settings", (Role.ADMIN,)),
    NavItem("account", "My account"),
    NavItem("demo_messages", "Messages sent (demo)", shown=lambda: get_settings().demo_mode),
]


def _menu(request: Request, signed_in: SignedIn | None) -> list[dict[str, Any]]:
    if signed_in is None or signed_in.stage != SessionStage.ACTIVE:
        return []
    here = request.url.path
    root = request.scope.get("root_path", "")
    home = portal_path(request, "home")
    items = []
    for item in NAVIGATION:
        if signed_in.role not in item.roles or (item.shown is not None and not item.shown()):
            continue
        path = portal_path(request, item.route)
        current = (
            here == path
            or (path != home and here.startswith(path))
            or any(here.startswith(root + prefix) for prefix in item.also)
        )
        badge = item.badge(signed_in) if item.badge else None
        items.append({"path": path, "label": item.label, "current": current, "badge": badge, "route": item.route})
    return items


def page(
    request: Request,
    template: str,
    *,
    signed_in: SignedIn | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Render ``template`` for this request.

    Signed-in pages speak the staff member's language (their switch, else their clinic's) and
    carry their session's CSRF token; pages before sign-in use the sign-in flow cookie for both,
    and set it when the browser has none yet.
    """
    signed_in = signed_in or getattr(request.state, "signed_in", None)
    for key in ("error", "detail"):  # messages never quote back what was sent
        if isinstance(context.get(key), str):
            context[key] = without_echo(context[key], request)
    fresh_flow: SigninFlow | None = None
    if signed_in is not None:
        locale, csrf_token = signed_in.locale, signed_in.csrf_token
    else:
        flow = SigninFlow.load(request)
        if flow is None:
            flow = fresh_flow = SigninFlow()
        locale, csrf_token = browser_locale(request), flow.csrf
    query = f"?{request.url.query}" if request.url.query else ""
    values = {
        "signed_in": signed_in,
        "csrf_token": csrf_token,
        "menu": _menu(request, signed_in),
        "url": lambda name, **params: portal_path(request, name, **params),
        "static_url": lambda name: f"{portal_path(request, 'static', path=name)}?v={static_version(name)}",
        "current_path": request.url.path + query,
        "sso_enabled": get_settings().oidc_configured,
        "idle_seconds": get_settings().portal_idle_timeout_minutes * 60,
        **context,
    }
    country = signed_in.country if signed_in is not None else None
    response = HTMLResponse(render_template(template, values, locale, country), status_code=status)
    if fresh_flow is not None:
        fresh_flow.save(response, request)
    return response


def see_other(request: Request, route: str, *, query: str = "", **params: Any) -> RedirectResponse:
    """Post/redirect/get: a 303 to one of the portal's own pages."""
    path = portal_path(request, route, **params)
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)
