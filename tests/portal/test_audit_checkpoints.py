"""The audit log's checkpoints in the portal: an administrator sees the chain's head, the key ring and
each signed checkpoint with its verification, and a deleted tail or a rotated key shows there."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from service import audit
from service.audit import checkpoints
from service.audit.keys import audit_keys, keys_from_secret
from service.config import get_settings
from service.models import AuditEvent
from tests.audit.conftest import past_the_guards, write_rows
from tests.factories import ClinicSetup
from tests.portal.conftest import Portal, actions


@pytest.fixture
def checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_PATH", str(path))
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_SINK", "file")
    monkeypatch.setattr(checkpoints, "clock", checkpoints.CheckpointClock())
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def _states(html: str) -> list[str]:
    return re.findall(r'<span class="badge check-(?:ok|bad)">([^<]+)</span>', html)


def _sealed_with_checkpoint(session: Session, rows: int) -> None:
    write_rows(session, rows)
    audit.seal(session)
    assert audit.write_checkpoint(session) is not None


def test_an_admin_sees_the_head_the_key_and_each_checkpoint_matching(
    portal: Portal, clinic: ClinicSetup, session: Session, checkpoint_file: Path
) -> None:
    _sealed_with_checkpoint(session, 5)
    _sealed_with_checkpoint(session, 5)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/audit/checkpoints")
    assert page.status_code == 200
    head = audit.chain.head(session)
    assert head.hash in page.text and audit_keys().key_id in page.text
    assert _states(page.text) == ["Matches the log", "Matches the log"]
    assert "2 checkpoints checked: all match the audit log." in page.text
    assert actions(session, actor_id=clinic.admin.id)[-1] == "audit.checkpoints"
    assert 'href="/portal/audit/checkpoints"' in portal.get("/portal/audit").text


def test_a_deleted_tail_shows_as_rows_missing(
    portal: Portal, clinic: ClinicSetup, session: Session, checkpoint_file: Path
) -> None:
    _sealed_with_checkpoint(session, 5)
    first = audit.chain.head(session).seq
    _sealed_with_checkpoint(session, 5)
    with past_the_guards(session):  # the tail after the first checkpoint goes, as an intruder would remove it
        session.execute(text("DELETE FROM audit_event WHERE seq > :seq"), {"seq": first + 2})
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/audit/checkpoints").text
    assert _states(page) == ["Rows missing from the log", "Matches the log"]  # newest first
    assert "1 checkpoint does not match the audit log" in page and 'role="alert"' in page


def test_after_a_rotation_the_old_key_is_listed_as_retired(
    portal: Portal,
    clinic: ClinicSetup,
    session: Session,
    checkpoint_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    old, new = "first-audit-key-of-the-service-0123456789", "second-audit-key-of-the-service-0123456789"
    monkeypatch.setenv("TANDEM_AUDIT_KEY", old)
    get_settings.cache_clear()
    _sealed_with_checkpoint(session, 3)
    monkeypatch.setenv("TANDEM_AUDIT_KEY", new)
    monkeypatch.setenv("TANDEM_AUDIT_RETIRED_KEYS", old)
    get_settings.cache_clear()
    _sealed_with_checkpoint(session, 3)
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/audit/checkpoints").text
    assert _states(page) == ["Matches the log", "Matches the log"]
    old_id, new_id = keys_from_secret(old).key_id, keys_from_secret(new).key_id
    assert page.count("(retired)") == 1 and page.index(new_id) < page.index(old_id)


def test_the_page_speaks_french_and_says_when_nothing_was_written_yet(
    portal: Portal, clinic: ClinicSetup, session: Session, checkpoint_file: Path
) -> None:
    clinic.clinic.locale = "fr"
    session.add(clinic.clinic)
    session.commit()
    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/audit/checkpoints").text
    assert "Points de contrôle du journal d’audit" in page
    assert "Aucun point de contrôle n’a encore été écrit." in page


def _fact(html: str, term: str) -> str | None:
    found = re.search(rf"<dt>{re.escape(term)}</dt><dd>(.*?)</dd>", html, re.DOTALL)
    return found.group(1).strip() if found else None


def test_a_clinic_admin_sees_the_chain_verify_but_only_their_own_clinics_figures(
    portal: Portal, clinic: ClinicSetup, session: Session, checkpoint_file: Path
) -> None:
    from service.db import unit_of_work
    from service.kit.context import Actor
    from tests.factories import create_clinic

    other = create_clinic(session, slug="busy-neighbour", name="Busy Neighbour Clinic")
    baseline = {
        setup.clinic.id: session.execute(
            text("SELECT COUNT(*) FROM audit_event WHERE clinic_id = :c"), {"c": setup.clinic.id}
        ).scalar_one()
        for setup in (clinic, other)
    }
    for setup, rows in ((clinic, 3), (other, 40)):
        for n in range(rows):
            with unit_of_work(session):
                audit.record(
                    session,
                    actor=Actor.system("test"),
                    action="patient.view",
                    entity_type="patient",
                    entity_id=f"p{n}",
                    clinic_id=setup.clinic.id,
                )
    audit.seal(session)
    checkpoint = audit.write_checkpoint(session)
    assert checkpoint is not None
    service_wide = audit.chain.head(session).seq
    own = baseline[clinic.clinic.id] + 3
    assert service_wide > own + 40

    portal.login_ok(clinic.admin.email, clinic.admin_password)
    page = portal.get("/portal/audit/checkpoints").text
    # Whether the chain verifies, and when it was last checkpointed: the same for every clinic.
    assert _states(page) == ["Matches the log"] and "1 checkpoint checked: it matches the audit log." in page
    assert _fact(page, "Latest checkpoint") not in (None, "", '<span class="muted">None yet</span>')
    # The figures are the clinic's own rows (the login itself adds one, still waiting to be sealed).
    assert _fact(page, "Your clinic's sealed rows") == str(own)
    waiting = _fact(page, "Your clinic's rows waiting to be sealed")
    assert waiting is not None and 0 < int(waiting) < 5
    # Nothing tells how many rows the whole service, the other clinic included, holds.
    shown_numbers = {int(n.replace(",", "")) for n in re.findall(r">\s*([\d,]+)\s*<", page)}
    assert service_wide not in shown_numbers and checkpoint.seq not in shown_numbers
    assert ">Rows<" not in page and "Sealed rows" not in page
    [looked] = session.exec(select(AuditEvent).where(AuditEvent.action == "audit.checkpoints")).all()
    assert "head" not in looked.detail and service_wide not in looked.detail.values()
