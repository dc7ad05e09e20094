"""The audit checkpoints page in a real headless Chromium on a phone's screen (390 px), in English and
French: readable without sideways scrolling, and without a serious or critical axe-core finding."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import text
from sqlmodel import Session

from service import audit
from service.audit import checkpoints
from service.config import get_settings
from tests.audit.conftest import past_the_guards, write_rows
from tests.factories import create_clinic
from tests.portal.layout import AXE, PHONE, axe_violations
from tests.portal.test_browser import _shot, serving_portal

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]


def test_the_checkpoints_page_fits_a_phone_and_passes_axe_in_both_languages(
    database_url: str, session: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chromium: Browser
) -> None:
    if not AXE.exists():
        pytest.fail("axe-core is missing; run `npm ci` (make test does)")
    path = tmp_path / "audit-checkpoints.jsonl"
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_PATH", str(path))  # the server started below reads it too
    monkeypatch.setenv("TANDEM_AUDIT_CHECKPOINT_SINK", "file")
    monkeypatch.setattr(checkpoints, "clock", checkpoints.CheckpointClock())
    get_settings.cache_clear()
    clinics = {
        "en": create_clinic(session, name="Riverside Clinic", timezone="Europe/London", country="GB"),
        "fr": create_clinic(session, name="Centre Lyon", locale="fr", country="FR", timezone="Europe/Paris"),
    }
    for _ in range(3):
        write_rows(session, 4)
        audit.seal(session)
        assert audit.write_checkpoint(session) is not None
    head = audit.chain.head(session).seq
    with past_the_guards(session):  # the last row goes: the newest checkpoint no longer matches
        session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": head})
    found: list[str] = []
    with serving_portal(TANDEM_SCHEDULER_ENABLED="false") as base:
        for language, setup in clinics.items():
            # axe is injected as a script, which the portal's CSP rightly refuses: this context bypasses it.
            context = chromium.new_context(viewport=PHONE, locale=language, bypass_csp=True)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/portal/login")
            page.fill("#email", setup.admin.email)
            page.fill("#password", setup.admin_password)
            page.click("form[action='/portal/login'] button[type=submit]")
            page.wait_for_url(f"{base}/portal/")
            page.goto(f"{base}/portal/audit/checkpoints")
            heading = page.inner_text("h1")
            assert heading == {"en": "Audit log checkpoints", "fr": "Points de contrôle du journal d’audit"}[language]
            assert page.locator("table.checkpoints tbody tr").count() == 3
            assert page.locator(".check-bad").count() == 1 and page.locator("[role=alert]").count() == 1
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{language}: the page is {width} px wide on a 390 px screen"
            _shot(page, tmp_path, f"audit-checkpoints-{language}")
            found += [f"{language}: {violation}" for violation in axe_violations(page)]
            context.close()
    assert found == []
