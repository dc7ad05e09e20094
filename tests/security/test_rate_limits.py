"""Rate limits on sign-in, refresh and invitation codes: per address and per account, with Retry-After,
counted in the database so every replica counts the same attempts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings, parse_rate
from service.security import rate_limits
from tests.factories import CLIENT_PASSWORD
from tests.security.conftest import Client


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Small limits, so the tests reach them quickly."""
    for name, value in {
        "CLIENT_LOGIN_IP": "6/5m",
        "CLIENT_LOGIN_IP_ACCOUNT": "3/15m",
        "CLIENT_LOGIN_ACCOUNT": "5/1h",
        "CLIENT_REFRESH_IP": "4/1m",
        "INVITE_IP": "4/15m",
        "INVITE_CODE": "2/15m",
        "PASSWORD_RESET_IP": "5/15m",
        "PASSWORD_RESET_ACCOUNT": "2/15m",
    }.items():
        monkeypatch.setenv(f"TANDEM_RATE_LIMIT_{name}", value)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _from(app, address: str) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(app, client=(address, 50000))


WRONG = "wrong-password-1"


def _login(http: TestClient, email: str, password: str = WRONG) -> int:
    return http.post("/api/v1/auth/token", json={"email": email, "password": password}).status_code


def test_rate_settings_are_read_as_attempts_per_period() -> None:
    assert parse_rate("10/15m") == (10, 900)
    assert parse_rate("60/1m") == (60, 60)
    assert parse_rate("3/2h") == (3, 7200)
    with pytest.raises(ValueError):
        parse_rate("ten per minute")


def test_guessing_one_account_from_one_address_is_slowed_with_retry_after(app, limits: None, me: Client) -> None:  # type: ignore[no-untyped-def]
    guesser = _from(app, "203.0.113.7")
    assert [_login(guesser, me.email) for _ in range(3)] == [401, 401, 401]
    answer = guesser.post("/api/v1/auth/token", json={"email": me.email, "password": CLIENT_PASSWORD})
    assert answer.status_code == 429
    assert 0 < int(answer.headers["retry-after"]) <= 900
    assert answer.json() == {"detail": "too many attempts; try again later"}
    # The client, elsewhere, still signs in.
    assert _login(_from(app, "198.51.100.9"), me.email, CLIENT_PASSWORD) == 200


def test_guessing_many_accounts_from_one_address_is_slowed(app, limits: None, me: Client) -> None:  # type: ignore[no-untyped-def]
    guesser = _from(app, "203.0.113.8")
    statuses = [_login(guesser, f"person{number}@example.org") for number in range(7)]
    assert statuses[:6] == [401] * 6 and statuses[6] == 429
    assert _login(_from(app, "198.51.100.10"), me.email, CLIENT_PASSWORD) == 200


def test_guessing_one_account_from_many_addresses_meets_the_account_ceiling(app, limits: None, me: Client) -> None:  # type: ignore[no-untyped-def]
    statuses = [_login(_from(app, f"203.0.113.{20 + number}"), me.email) for number in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_refresh_is_limited_per_address(app, limits: None, me: Client) -> None:  # type: ignore[no-untyped-def]
    http = _from(app, "203.0.113.30")
    statuses = [http.post("/api/v1/auth/refresh", json={"refresh_token": f"guess-{n}"}).status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]


def test_password_reset_requests_are_limited_per_account_and_per_address(app, limits: None, me: Client) -> None:  # type: ignore[no-untyped-def]
    def ask(http: TestClient, email: str) -> int:
        return http.post("/api/v1/auth/password-reset", json={"email": email}).status_code

    # The same answer for an account and for no account, until the limit; then 429 with Retry-After.
    one, other = _from(app, "203.0.113.40"), _from(app, "203.0.113.41")
    assert [ask(one, me.email), ask(other, me.email), ask(one, me.email)] == [202, 202, 429]
    assert [ask(other, f"nobody{n}@example.org") for n in range(4)] == [202] * 4  # 5 from this address so far
    refused = other.post("/api/v1/auth/password-reset", json={"email": "someone@example.org"})  # the 6th
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_invitation_codes_are_limited_per_address_and_per_code(app, limits: None) -> None:  # type: ignore[no-untyped-def]
    http = _from(app, "203.0.113.40")
    looked_up = [http.get("/api/v1/consent", params={"invite_code": f"CODE{n}"}).status_code for n in range(5)]
    assert looked_up[:4] == [404] * 4 or all(400 <= s < 500 for s in looked_up[:4])
    assert looked_up[4] == 429
    body = {"invite_code": "SAME-CODE", "email": "x@example.org", "password": "p" * 12, "consent_version": "v"}
    tries = [_from(app, f"203.0.113.{50 + n}").post("/api/v1/auth/activate", json=body).status_code for n in range(3)]
    assert tries[2] == 429 and tries[0] != 429


def test_replicas_count_the_same_attempts(database_url: str, limits: None, me: Client) -> None:
    """Two application instances (two replicas) on one database share the counts."""
    from service.app import create_app

    first, second = create_app(), create_app()
    with _from(first, "203.0.113.60") as one, _from(second, "203.0.113.60") as two:
        assert [_login(one, me.email), _login(two, me.email), _login(one, me.email)] == [401, 401, 401]
        assert _login(two, me.email, CLIENT_PASSWORD) == 429


def test_the_window_slides(limits: None, database_url: str) -> None:
    start = 1_800_000_000.0  # at the start of a 60-second window
    for _ in range(4):
        rate_limits.hit("client_refresh_ip", "192.0.2.1", now=start)
    with pytest.raises(rate_limits.RateLimited) as refused:
        rate_limits.hit("client_refresh_ip", "192.0.2.1", now=start + 1)
    assert refused.value.retry_after == 59
    # Half a window later the old attempts count for half: room again, then full.
    rate_limits.hit("client_refresh_ip", "192.0.2.1", now=start + 90)
    with pytest.raises(rate_limits.RateLimited):
        rate_limits.hit("client_refresh_ip", "192.0.2.1", now=start + 90)
    rate_limits.check("client_refresh_ip", "192.0.2.2", now=start + 90)  # another address is untouched
    assert rate_limits.purge_expired(now=start + 3 * 86400) >= 2


def test_single_sign_on_callbacks_are_limited_per_address(app, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TANDEM_RATE_LIMIT_PORTAL_LOGIN_IP", "3/5m")
    get_settings.cache_clear()
    http = _from(app, "203.0.113.70")
    statuses = [
        http.get("/portal/login/oidc/callback", params={"code": "x", "state": "y"}).status_code for _ in range(4)
    ]
    assert statuses[:3] == [400, 400, 400] and statuses[3] == 429
    assert int(http.get("/portal/login/oidc/callback").headers["retry-after"]) > 0
    get_settings.cache_clear()
