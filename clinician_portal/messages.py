"""Messages the portal shows that are written elsewhere (service errors, menu labels).

They are listed here, marked with ``N_``, so the catalog check finds them and each has a French
translation in service/locales/fr/LC_MESSAGES/messages.po. Templates translate them at render
time with the ``tr`` filter.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the gettext convention for "translate later"
    return message


SERVICE_MESSAGES = [
    # service.onboarding.patients / caseload
    N_("no such patient"),
    N_("this account is deactivated"),
    N_("name must be 1 to 200 characters"),
    N_("the clinician must be an active member of this clinic"),
    N_("choose the patient's clinician"),
    N_("clinicians enrol patients into their own caseload"),
    N_("no such clinician in this clinic"),
    N_("this clinician's account is deactivated"),
    N_("this patient has already activated their account"),
    N_("this patient has no pending invitation"),
    N_("the appointment time needs a time zone"),
    N_("the next appointment must be in the future"),
    N_("only a clinic administrator can change a patient's clinician"),
    N_("no such invitation"),
    N_("this invitation was already used"),
    # service.onboarding.team / staff
    N_("only a clinic administrator can manage staff"),
    N_("this is not a valid email address"),
    N_("a staff account with this email already exists"),
    N_("role must be 'clinician' or 'admin'"),
    N_("no such staff member"),
    N_("you cannot deactivate your own account"),
    # service.audit.search
    N_("only a clinic administrator can read the audit log"),
    N_("the start of the date range must be before its end"),
    # service.security.staff_auth and passwords
    N_("the authentication code is not right; check the time on your phone and try again"),
    N_("choose a new password, different from the one-time password"),
    N_("password is too common or too easy to guess; try a longer phrase of unrelated words"),
    N_("this account is already set up"),
    # service.summaries
    N_("no such summary"),
    N_("only a clinic administrator can export the clinic's data"),
    N_("the start of the date range must be on or before its end"),
    N_("give either days or a start date, not both"),
    N_("the start date is in the future"),
    N_("lang must be one of en, fr"),
    # the portal's own checks
    N_("this page is for clinic administrators"),
    N_("this language is not available"),
    N_("enter a date and time such as 2026-03-14 09:30"),
    N_("enter dates as YYYY-MM-DD"),
    N_("The two passwords are not the same."),
]

MENU_LABELS = [N_("Caseload"), N_("Staff"), N_("Audit log"), N_("Exports")]
