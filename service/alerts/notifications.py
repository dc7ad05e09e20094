"""Who hears about an alert, and how: email, signed webhooks and live portal events, all queued in
the alert's own transaction. Emails and webhooks carry no client text: the severity and a link."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session

from service import notify
from service.alerts import oncall
from service.config import get_settings
from service.kit.i18n import gettext
from service.models import Alert, Clinic, Staff, StaffChannels, StaffPushSubscription, WebhookEndpoint

SUBJECTS = {
    "urgent": "[Tandem] Urgent alert: please look now",
    "priority": "[Tandem] Priority alert: please look within hours",
    "routine": "[Tandem] Routine alert: please look by the next working day",
}
BODY = (
    "A %(severity)s alert about one of your patients needs your attention.\n\n"
    "Open it in the Tandem portal: %(link)s\n\n"
    "This email deliberately contains no patient information."
)
ESCALATION_SUBJECT = "[Tandem] Escalated %(severity)s alert: nobody has acknowledged it yet"
ESCALATION_BODY = (
    "A %(severity)s alert has not been acknowledged in time and is escalated to you "
    "(escalation step %(level)s).\n\nOpen it in the Tandem portal: %(link)s\n\n"
    "This email deliberately contains no patient information."
)
SEVERITY_WORDS = {"urgent": "urgent", "priority": "priority", "routine": "routine"}


@dataclass(frozen=True)
class Reach:
    """Who a new alert goes to and how, as the caller has just read it (one query on the crisis path):
    the patient's clinician, their channels (None: email only until they choose), their portal
    browsers, and the clinic's active webhook endpoints."""

    clinician: Staff | None
    channels: StaffChannels | None
    subscriptions: Sequence[StaffPushSubscription]
    endpoints: Sequence[WebhookEndpoint]


def alert_link(alert: Alert) -> str:
    return _link(alert)


def _link(alert: Alert) -> str:
    return f"{get_settings().base_url.rstrip('/')}/portal/alerts/{alert.id}"


def _severity_word(alert: Alert, locale: str) -> str:
    return gettext(locale, SEVERITY_WORDS[str(alert.severity)])


def _facts(alert: Alert) -> dict[str, object]:
    return {
        "alert_id": alert.id,
        "patient_id": alert.patient_id,
        "severity": str(alert.severity),
        "status": str(alert.status),
        "reason": alert.reason,
        "escalation_level": alert.escalation_level,
    }


def reach(
    session: Session,
    *,
    person: Staff,
    alert: Alert,
    subject: str,
    text: str,
    dedup_key: str,
    digestible: bool = False,
    skip_channel: str | None = None,
    fresh: bool = False,
    known: Reach | None = None,
) -> None:
    """Queue the notice on every channel the person chose: email, Web Push to each portal browser,
    SMS. No client data on any of them: the severity and a link. ``digestible``: a routine notice
    that waits for the daily digest when the person asked for one (no email now). ``skip_channel``:
    the channel that is failing, when this notice is the fallback for it (email is then replaced
    by push and SMS, and push by email and SMS, whatever the person chose). ``fresh``: the alert was
    made in this transaction, so nothing can be queued for it yet (no duplicate check needed).
    ``known``: the person's channels and browsers as the caller has just read them."""
    mine = known is not None and known.clinician is not None and known.clinician.id == person.id
    if mine:
        assert known is not None
        chosen = known.channels or StaffChannels(staff_id=person.id)
    else:
        chosen = oncall.channels(session, staff_id=person.id)
    if skip_channel is not None:
        fallback = StaffChannels(
            staff_id=person.id, email=True, push=True, sms=bool(chosen.sms_number), sms_number=chosen.sms_number
        )
        chosen = fallback
    if chosen.email and skip_channel != "email" and not (digestible and chosen.routine_digest):
        notify.enqueue_email(
            session,
            to=person.email,
            subject=subject,
            text=text,
            dedup_key=dedup_key,
            clinic_id=alert.clinic_id,
            fresh=fresh,
        )
    if chosen.push and skip_channel != "staff_push":
        subscriptions = (
            known.subscriptions
            if mine and known is not None
            else oncall.push_subscriptions(session, staff_id=person.id)
        )
        for subscription in subscriptions:
            notify.enqueue_staff_push(
                session,
                subscription=subscription,
                title=subject,
                text=gettext_short(text),
                dedup_key=dedup_key,
                url=f"/portal/alerts/{alert.id}",
                clinic_id=alert.clinic_id,
            )
    if chosen.sms and chosen.sms_number and skip_channel != "sms":
        notify.enqueue_sms(
            session,
            to=chosen.sms_number,
            text=f"{subject} {_link(alert)}",
            dedup_key=dedup_key,
            clinic_id=alert.clinic_id,
            staff_id=person.id,
        )


def gettext_short(text: str) -> str:
    """The first paragraph of an email body: what a push notification has room for."""
    return text.split("\n\n", 1)[0]


def alert_opened(
    session: Session,
    *,
    alert: Alert,
    clinic: Clinic,
    new: bool = False,
    known: Reach | None = None,
) -> None:
    """A new alert, or one whose severity went up: tell the assigned clinician and the clinic's systems.

    ``new``: the alert was created in this transaction, so nothing can have been queued for it yet;
    ``known``: the clinician, their channels and the clinic's endpoints the caller has just read,
    to save reading them again.
    """
    clinician = known.clinician if known is not None else None
    if clinician is None or clinician.id != alert.assigned_to:
        clinician = session.get(Staff, alert.assigned_to)
    if clinician is not None and clinician.active:
        locale = clinician.locale or clinic.locale  # the language they chose on their account page
        reach(
            session,
            person=clinician,
            alert=alert,
            subject=gettext(locale, SUBJECTS[str(alert.severity)]),
            text=gettext(locale, BODY, severity=_severity_word(alert, locale), link=_link(alert)),
            dedup_key=f"alert:{alert.id}:{alert.severity}",
            digestible=alert.severity == "routine",
            fresh=new,
            known=known,
        )
    notify.enqueue_webhooks(
        session,
        clinic_id=alert.clinic_id,
        event_type="alert.created" if alert.escalation_level == 0 else "alert.severity_raised",
        data=_facts(alert),
        dedup_key=f"alert:{alert.id}:opened:{alert.severity}",
        fresh=new,
        endpoints=list(known.endpoints) if known is not None else None,
    )
    notify.publish(session, clinic_id=alert.clinic_id, kind="alert.created", data=_facts(alert))


def alert_reassigned(session: Session, *, alert: Alert, clinic: Clinic) -> None:
    """The patient moved to another clinician: the alert is theirs now, and so is the email."""
    clinician = session.get(Staff, alert.assigned_to)
    if clinician is not None and clinician.active and alert.status != "resolved":
        locale = clinician.locale or clinic.locale
        reach(
            session,
            person=clinician,
            alert=alert,
            subject=gettext(locale, SUBJECTS[str(alert.severity)]),
            text=gettext(locale, BODY, severity=_severity_word(alert, locale), link=_link(alert)),
            dedup_key=f"alert:{alert.id}:{alert.severity}",
        )
    alert_changed(session, alert=alert, webhook_event="alert.reassigned")


def alert_changed(session: Session, *, alert: Alert, webhook_event: str | None = None) -> None:
    if webhook_event:
        notify.enqueue_webhooks(
            session,
            clinic_id=alert.clinic_id,
            event_type=webhook_event,
            data=_facts(alert),
            dedup_key=f"alert:{alert.id}:{webhook_event}",
        )
    notify.publish(session, clinic_id=alert.clinic_id, kind="alert.updated", data=_facts(alert))


def alert_escalated(session: Session, *, alert: Alert, clinic: Clinic, recipients: Iterable[Staff]) -> None:
    for person in recipients:
        locale = person.locale or clinic.locale
        reach(
            session,
            person=person,
            alert=alert,
            subject=gettext(locale, ESCALATION_SUBJECT, severity=_severity_word(alert, locale)),
            text=gettext(
                locale,
                ESCALATION_BODY,
                severity=_severity_word(alert, locale),
                level=alert.escalation_level,
                link=_link(alert),
            ),
            dedup_key=f"alert:{alert.id}:escalation:{alert.escalation_level}",
        )
    notify.enqueue_webhooks(
        session,
        clinic_id=alert.clinic_id,
        event_type="alert.escalated",
        data=_facts(alert),
        dedup_key=f"alert:{alert.id}:escalated:{alert.escalation_level}",
    )
    notify.publish(session, clinic_id=alert.clinic_id, kind="alert.updated", data=_facts(alert))
