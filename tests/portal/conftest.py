"""Helpers for portal tests: a browser-like client that reads CSRF tokens from the pages it gets."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from service.models import AuditEvent, PortalSession, Staff
from service.models.base import utcnow
from tests.factories import ClinicSetup, create_clinic

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


class Portal:
    """A TestClient used like a browser: forms are posted with the token of the page they came from."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: object) -> Response:
        return self.client.get(path, follow_redirects=False, **kwargs)  # type: ignore[arg-type]

    def submit(self, page: str, action: str, data: dict[str, str] | None = None) -> Response:
        """Open ``page``, then post ``data`` to ``action`` with that page's CSRF token."""
        opened = self.client.get(page)
        assert opened.status_code < 400, opened.text
        return self.client.post(
            action, data={**(data or {}), "csrf_token": csrf_of(opened.text)}, follow_redirects=False
        )

    def follow(self, answer: Response) -> Response:
        """Post/redirect/get: the answer to a form is a 303; open the page it leads to."""
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
        return self.client.get(answer.headers["location"], follow_redirects=False)

    def login(self, email: str, password: str, totp: str | None = None) -> Response:
        data = {"email": email, "password": password}
        if totp is not None:
            data["totp"] = totp
        return self.submit("/portal/login", "/portal/login", data)

    def login_ok(self, email: str, password: str, totp: str | None = None) -> Response:
        answer = self.login(email, password, totp)
        assert answer.status_code == 303, answer.text
        return answer


@pytest.fixture
def portal(client: TestClient) -> Portal:
    return Portal(client)


@pytest.fixture
def other_portal(app) -> Iterator[Portal]:  # type: ignore[no-untyped-def]
    """A second browser, for a second staff member signed in at the same time."""
    with TestClient(app) as second:
        yield Portal(second)


@pytest.fixture
def clinic(session: Session) -> ClinicSetup:
    return create_clinic(session)


def current_code(staff: Staff, *, steps_ahead: int = 0) -> str:
    assert staff.totp_secret
    return pyotp.TOTP(staff.totp_secret).at(utcnow() + timedelta(seconds=30 * steps_ahead))


def reload(session: Session, row):  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.get(type(row), row.id)


def actions(session: Session, **where: object) -> list[str]:
    session.expire_all()
    query = select(AuditEvent.action).order_by(AuditEvent.id)  # type: ignore[arg-type]
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return list(session.exec(query).all())


def sessions_of(session: Session, staff: Staff) -> list[PortalSession]:
    session.expire_all()
    return list(session.exec(select(PortalSession).where(PortalSession.staff_id == staff.id)).all())
