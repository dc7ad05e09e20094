"""Clinician feedback when resolving, the admin's PPV page and the training export; the account page
(channels), the on-call rota page, and the admin banner while email fails."""

from __future__ import annotations

import json
import re
import subprocess

from sqlmodel import Session, select

from service.alerts.feedback import export_examples
from service.models import AlertFeedback, OnCallShift, StaffChannels
from service.notify import deliver_due
from service.onboarding.staff import add_staff
from tests.factories import SYSTEM, ClinicSetup, active_patient
from tests.portal.clinical import GOODBYE, PASSIVE, raise_alert
from tests.portal.conftest import Portal
from tests.support.server import TANDEM, tandem_env


def test_resolving_with_a_verdict_feeds_the_ppv_page_and_the_export(
    portal: Portal, clinic: ClinicSetup, session: Session, database_url: str
) -> None:
    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer", email="zoe@example.org")
    amelie, _ = active_patient(session, clinic, name="Amélie Adam", email="amelie@example.org")
    urgent = raise_alert(session, zoe, f"{GOODBYE}, Zoé")
    routine = raise_alert(session, amelie, PASSIVE)
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    page = f"/portal/alerts/{urgent.id}"
    assert "Was the risk real?" in portal.get(page).text
    done = portal.submit(page, f"{page}/resolve", {"resolution": "called_client", "verdict": "confirmed"})
    assert done.status_code == 303
    refused = portal.submit(
        f"/portal/alerts/{routine.id}",
        f"/portal/alerts/{routine.id}/resolve",
        {"resolution": "false_positive", "verdict": "not_a_concern"},
    )
    assert refused.status_code == 422 and "Say why it was not a concern" in refused.text
    portal.submit(
        f"/portal/alerts/{routine.id}",
        f"/portal/alerts/{routine.id}/resolve",
        {"resolution": "false_positive", "verdict": "not_a_concern", "verdict_reason": "idiom"},
    )
    session.expire_all()
    assert {(f.alert_id, f.verdict, f.reason) for f in session.exec(select(AlertFeedback)).all()} == {
        (urgent.id, "confirmed", None),
        (routine.id, "not_a_concern", "idiom"),
    }
    assert portal.get("/portal/screening").status_code == 403  # admins only

    portal.client.cookies.clear()
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    figures = portal.get("/portal/screening").text
    goodbye_row = re.search(
        r"<code>en\.goodbye[^<]*</code></th>\s*<td>1</td><td>1</td><td>1</td>\s*<td>100 %</td>", figures
    )
    passive_row = re.search(
        r"<code>en\.passive[^<]*</code></th>\s*<td>1</td><td>1</td><td>0</td>\s*<td>0 %</td>", figures
    )
    assert goodbye_row and passive_row

    examples = list(export_examples(session))
    assert {e["label"] for e in examples} == {"confirmed", "not_a_concern"}
    dumped = json.dumps(examples, ensure_ascii=False)
    for private in ("Zoé", "Zimmer", "Amélie", zoe.id, urgent.id, "Chris"):
        assert private not in dumped
    assert any("goodbye letters, [name]" in (e["text"] or "") for e in examples)
    cli = subprocess.run(
        [TANDEM, "risk", "feedback", "--export"], capture_output=True, text=True, env=tandem_env(), timeout=120
    )
    assert cli.returncode == 0, cli.stderr
    assert len(cli.stdout.splitlines()) == len(examples) and "Zimmer" not in cli.stdout


def test_a_clinician_chooses_channels_and_an_admin_keeps_the_rota(
    portal: Portal, clinic: ClinicSetup, session: Session
) -> None:
    portal.login_ok(clinic.clinician.email, clinic.clinician_password)
    bad = portal.submit("/portal/account", "/portal/account/channels", {"email": "1", "sms": "1", "sms_number": "0770"})
    assert bad.status_code == 422 and "international format" in bad.text
    ok = portal.submit(
        "/portal/account", "/portal/account/channels", {"push": "1", "sms": "1", "sms_number": "+44 7700 900123"}
    )
    assert ok.status_code == 303
    session.expire_all()
    chosen = session.get(StaffChannels, clinic.clinician.id)
    assert chosen and (chosen.email, chosen.push, chosen.sms, chosen.sms_number) == (False, True, True, "+447700900123")
    assert portal.get("/portal/oncall").status_code == 403
    assert portal.get("/portal/manifest.webmanifest").json()["start_url"] == "/portal/alerts"
    assert "showNotification" in portal.get("/portal/sw.js").text

    portal.client.cookies.clear()
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    dana = add_staff(
        session, clinic=clinic.clinic, email="dana@x.example.org", name="Dana Doctor", role="clinician", actor=SYSTEM
    )
    added = portal.submit(
        "/portal/oncall",
        "/portal/oncall",
        {"staff_id": dana.staff.id, "starts": "2099-01-05T18:00", "ends": "2099-01-06T08:00"},
    )
    assert added.status_code == 303
    backwards = portal.submit(
        "/portal/oncall",
        "/portal/oncall",
        {"staff_id": dana.staff.id, "starts": "2099-01-06T18:00", "ends": "2099-01-06T08:00"},
    )
    assert backwards.status_code == 422 and "end after it starts" in backwards.text
    [shift] = session.exec(select(OnCallShift)).all()
    assert shift.starts_at.isoformat() == "2099-01-05T23:00:00+00:00"  # 18:00 in New York
    rota = portal.get("/portal/oncall").text
    assert "Nobody is on call during these times" in rota  # no shift in the next two weeks


def test_admins_see_a_banner_while_email_fails_and_it_goes_once_mail_flows(
    portal: Portal,
    clinic: ClinicSetup,
    session: Session,
    monkeypatch,
    mailbox,  # type: ignore[no-untyped-def]
) -> None:
    from service.config import get_settings

    zoe, _ = active_patient(session, clinic, name="Zoé Zimmer", email="zoe@example.org")
    port = get_settings().smtp_port
    monkeypatch.setenv("TANDEM_SMTP_PORT", "9")
    get_settings.cache_clear()
    alert = raise_alert(session, zoe, GOODBYE)
    deliver_due()
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    banner = "Alert notifications are failing: emails cannot be delivered"
    assert banner in portal.get("/portal/alerts").text
    detail = portal.get(f"/portal/alerts/{alert.id}").text
    assert "Failing; next try" in detail and "Chris Clinician" in detail
    monkeypatch.setenv("TANDEM_SMTP_PORT", str(port))
    get_settings.cache_clear()
    from datetime import timedelta

    from service.models.base import utcnow

    deliver_due(now=utcnow() + timedelta(minutes=5))
    assert len(mailbox.wait_for(1)) == 1
    assert banner not in portal.get("/portal/alerts").text
    assert "Delivered" in portal.get(f"/portal/alerts/{alert.id}").text
