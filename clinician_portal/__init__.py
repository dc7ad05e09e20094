"""The clinician portal: server-rendered pages for clinicians and clinic administrators, at /portal.

Adding a page (the alert queue, charts, exercise sessions...):

1. A router module in ``routes/`` with a role check on the router, included in ``app.py``::

       router = APIRouter(dependencies=[Depends(require_role(Role.CLINICIAN, Role.ADMIN))])

       @router.get("/alerts", name="alerts", response_class=HTMLResponse)
       def alert_queue(request: Request, current: CurrentStaff, session: SessionDep) -> Response:
           rows = alerts.queue_for(session, current.staff)        # the service filters the rows
           return page(request, "alerts.html", signed_in=current, rows=rows)

2. A template extending ``base.html`` (menu, language switch, sign-out); import the macros with
   ``{% import "_macros.html" as m with context %}`` and put ``{{ m.csrf() }}`` in every POST form
   (the app refuses any POST without it). Translate with ``{{ _("Text") }}`` and add the French
   to service/locales/fr/LC_MESSAGES/messages.po (a test checks every message has one). Times:
   ``{{ value|when(signed_in.timezone) }}``, dates: ``{{ value|day(signed_in.timezone) }}``.
   No inline scripts or ``style=`` attributes: the Content-Security-Policy blocks them; add CSS
   to ``static/portal.css`` and behaviour to ``static/portal.js``.
3. A menu entry: append ``NavItem("alerts", "Alerts")`` to ``pages.NAVIGATION`` and mark the
   label with ``N_`` in ``messages.py``.
4. A section of the patient's page: ``panels.register_patient_panel(PatientPanel(...))``. Its
   loader shapes the patient's record (``service.caseload.patient_record``), which the page reads
   in one call, one transaction and one audit row: data it needs goes into that record.
5. Raise ``service.errors`` exceptions in services; ``app.py`` turns them into HTML error pages
   (404/403/409/422) or a redirect to the sign-in page (Unauthenticated). Every page is sent with
   ``Cache-Control: no-store`` and the security headers.
"""
