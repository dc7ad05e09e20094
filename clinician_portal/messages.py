"""Messages the portal shows that are written elsewhere (service errors, menu labels).

They are listed here, marked with ``N_``, so the catalog check finds them and each has a French
translation in service/locales/fr/LC_MESSAGES/messages.po. Templates translate them at render
time with the ``tr`` filter.
"""

from __future__ import annotations


def N_(message: str) -> str:  # the gettext convention for "translate later"
    return message


SERVICE_MESSAGES = [
    # service.alerts.feedback
    N_("say whether the concern was confirmed or not"),
    N_("say why it was not a concern"),
    N_("only a clinic administrator can read the screening figures"),
    # service.alerts.oncall
    N_("only a clinic administrator can change the on-call rota"),
    N_("choose an active member of this clinic"),
    N_("a shift must end after it starts"),
    N_("a shift lasts at most 14 days"),
    N_("no such shift"),
    N_("the phone number must be in international format, such as +447700900123"),
    N_("give a phone number to receive text messages"),
    N_("choose at least one way to be reached"),
    N_("the push endpoint must be an https URL"),
    N_("the subscription keys are missing or too long"),
    N_("give the start and end of the shift as a date and time"),
    # service.safety_plan
    N_("a section holds at most 20 items"),
    N_("an item must be at most 500 characters"),
    N_("an item must not contain control characters"),
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
    # service.onboarding.accounts, password_reset and team (staff accounts)
    N_("the current password is incorrect"),
    N_("the two new passwords are not the same"),
    N_("the new password is too short"),
    N_("this account signs in with single sign-on; its password and codes are managed by the identity provider"),
    N_("start the authenticator set-up again"),
    N_("set up an authenticator app first"),
    N_("this password reset link is invalid, used or expired; ask for a new one"),
    N_("reactivate the account first"),
    N_("reset your own authenticator from your account page"),
    N_("choose a language from the list"),
    # service.onboarding.clinic_settings
    N_("only a clinic administrator can change the clinic's settings"),
    N_("some settings need correcting"),
    N_("the clinic's name must be 1 to 200 characters"),
    N_("choose a country from the list"),
    N_("choose a time zone from the list, such as Europe/Paris"),
    N_("enter opening and closing times such as 09:00 and 17:30"),
    N_("the closing time must be after the opening time"),
    N_("enter a whole number of minutes within the range shown"),
    N_("an urgent alert's deadline cannot be longer than a priority one's, nor a priority one's than a routine one's"),
    N_("enter the identity provider's address (issuer), starting with https://"),
    N_("enter the client id the identity provider gave Tandem"),
    N_("the client secret is too long"),
    N_("keep the instructions to 2000 characters at most"),
    N_("enter a whole number of years within the range shown"),
    N_("some of what was sent is too long"),
]

MENU_LABELS = [
    N_("Caseload"),
    N_("Alerts"),
    N_("On call"),
    N_("Staff"),
    N_("Audit log"),
    N_("Exports"),
    N_("My account"),
    N_("Clinic settings"),
]

ALERT_MESSAGES = [
    # service.alerts.lifecycle and the alert pages
    N_("no such alert"),
    N_("this alert is already acknowledged"),
    N_("this alert is already resolved"),
    N_("a note is required when the resolution is 'other'"),
    N_("the note must be at most 2000 characters"),
    N_("choose how the alert was resolved"),
]

EXERCISE_MESSAGES = [
    # service.exercises.assignments and sessions, and the portal's own checks
    N_("choose an exercise"),
    N_("choose how often: every 1 to 90 days"),
    N_("this exercise is already assigned to this patient; pause or end that assignment first"),
    N_("the start date cannot be in the past"),
    N_("the end date cannot be before the start date"),
    N_("instructions must be at most 2000 characters"),
    N_("this patient is discharged; exercises can no longer be assigned"),
    N_("this assignment has already ended"),
    N_("only an active assignment can be paused; this one is paused"),
    N_("only an active assignment can be paused; this one is ended"),
    N_("only a paused assignment can be resumed; this one is active"),
    N_("only a paused assignment can be resumed; this one is ended"),
    N_("no such assignment"),
    N_("no such exercise session"),
    # service.kit.hygiene and the portal's input check
    N_("not found"),
    N_("some of what was sent contains characters that cannot be accepted"),
]

CARE_MESSAGES = [
    # service.onboarding.contacts
    N_("the phone number is not a phone number"),
    N_("the emergency contact's phone number is not a phone number"),
    N_("the contact email is not an email address"),
    N_("the date of birth is not a date"),
    N_("the date of birth must be a past date after 1900"),
    N_("the preferred contact times must be at most 200 characters"),
    N_("the emergency contact's name must be at most 200 characters"),
    N_("the emergency contact's relation must be at most 200 characters"),
    N_("give the emergency contact's phone number"),
    # service.caseload.care and erasure
    N_("choose the reason for the discharge"),
    N_("this patient is already discharged"),
    N_("resolve this patient's open alerts before discharging them"),
    N_("this patient is not discharged"),
    N_("this patient asked for their data to be erased; care cannot be re-opened here"),
    N_("this patient's data was erased"),
    N_("this patient's data was erased; nothing more can be recorded for them"),
    N_("a patient with the same details may already be enrolled"),
    N_("this patient was just enrolled"),
    N_("only a clinic administrator handles erasure requests"),
    N_("no such erasure request"),
    N_("choose the legal reason to keep the records"),
    N_("this request was already answered"),
    N_("this request was already carried out"),
    N_("resolve this patient's open alerts before erasing their data"),
    # the top menu
    N_("Erasure requests"),
]
