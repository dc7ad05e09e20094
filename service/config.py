"""Settings: the only reader of environment variables (prefix ``TANDEM_``)."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'tandem.db'}"

# Development-only secrets: known to everybody, so refused when TANDEM_ENV=prod.
DEV_SECRET_KEY = "dev-only-secret-key-change-me-0123456789abcdef"
DEV_ENCRYPTION_KEYS = "dev1:" + base64.urlsafe_b64encode(b"dev-only-encryption-key-32bytes!").decode()
DEV_SECRETS = {DEV_SECRET_KEY, DEV_ENCRYPTION_KEYS}


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class PasswordHashing(StrEnum):
    STANDARD = "standard"  # argon2id with the library's recommended parameters (RFC 9106, low memory)
    # argon2id with the library's cheapest parameters: only the test suite, which hashes thousands of
    # passwords, may ask for it (TANDEM_ENV=test); any other environment refuses to start with it.
    CHEAPEST = "cheapest"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TANDEM_", env_file=None, extra="ignore")

    env: Environment = Environment.DEV
    database_url: str = DEFAULT_DATABASE_URL
    database_echo: bool = False
    # Threads that run requests in each worker process; the connection pool is sized from it so a
    # request that has a thread never waits for a connection (see service/db.py).
    request_threads: int = Field(default=20, ge=1, le=200)
    # Requests admitted at once per worker; beyond it the service answers 503 with Retry-After
    # rather than queueing work it cannot finish in time. A request carrying a crisis signal is
    # always admitted.
    max_in_flight: int = Field(default=160, ge=1)
    # Seconds a request waits for a database connection before it is answered 503.
    pool_timeout_seconds: float = Field(default=10.0, gt=0)

    secret_key: str = Field(default=DEV_SECRET_KEY, repr=False)
    # Comma-separated "key_id:base64url(32 bytes)"; the first one encrypts, all of them decrypt.
    encryption_keys: str = Field(default=DEV_ENCRYPTION_KEYS, repr=False)

    base_url: str = "http://127.0.0.1:8000"
    token_issuer: str = "tandem"
    token_audience: str = "tandem-client-api"
    access_token_ttl_seconds: int = 900
    refresh_token_ttl_days: int = 30
    invite_ttl_days: int = 14
    password_min_length: int = 10
    password_hashing: PasswordHashing = PasswordHashing.STANDARD
    max_body_bytes: int = 64 * 1024

    scheduler_enabled: bool = True

    # Audit log: the HMAC key of the chain (kept outside the database; derived from the secret key
    # outside prod) and where signed checkpoints go ("file", "log" or "file,log").
    audit_key: str | None = Field(default=None, repr=False)
    # Earlier audit keys, comma-separated, oldest first: they verify what they sealed, never seal again.
    audit_retired_keys: str | None = Field(default=None, repr=False)
    audit_checkpoint_sink: str = "file"
    audit_checkpoint_path: Path | None = None  # default: beside the SQLite file, or var/ named after the database
    audit_checkpoint_seconds: int = Field(default=60, ge=1)

    # `tandem demo` sets it: a page in the portal lists the emails and push messages sent.
    demo_mode: bool = False
    # How long before each appointment its summary is made and the clinician told it is ready.
    summary_hours_before_appointment: int = Field(default=24, ge=1, le=24 * 14)

    # Clinician portal sessions and sign-in.
    portal_idle_timeout_minutes: int = 15
    portal_absolute_timeout_hours: int = 12

    # Who may read /metrics: callers from these networks (comma-separated CIDRs), or with this bearer token.
    metrics_allowed_networks: str = "127.0.0.1/32,::1/128"
    metrics_token: str | None = Field(default=None, repr=False)

    # Rate limits, "N/PERIOD" with PERIOD in s, m or h (README, "Rate limits"). Counted in the database.
    rate_limit_client_login_ip: str = "30/5m"  # client sign-ins from one address
    rate_limit_client_login_ip_account: str = "10/15m"  # client sign-ins at one account from one address
    rate_limit_client_login_account: str = "50/1h"  # client sign-ins at one account from anywhere
    rate_limit_client_refresh_ip: str = "60/1m"  # token refreshes from one address
    rate_limit_invite_ip: str = "20/15m"  # invitation-code look-ups and activations from one address
    rate_limit_invite_code: str = "10/15m"  # activations tried with one invitation code
    rate_limit_portal_login_ip: str = "30/5m"  # portal sign-ins (password or SSO) from one address
    rate_limit_portal_login_failures: str = "5/15m"  # failed portal sign-ins at one account from one address
    rate_limit_password_reset_ip: str = "10/15m"  # password-reset requests and confirmations from one address
    rate_limit_password_reset_account: str = "3/15m"  # reset emails asked for one account (any address)

    # OpenID Connect single sign-on for staff (issuer discovery via .well-known); unset means off.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = Field(default=None, repr=False)
    oidc_scopes: str = "openid email profile"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = Field(default=None, repr=False)
    smtp_starttls: bool = False
    mail_from: str = "Tandem <no-reply@tandem.invalid>"

    # Web Push (VAPID, RFC 8292): a base64url P-256 private key (raw 32 bytes or DER). Unset, a key
    # derived from TANDEM_SECRET_KEY is used, so subscriptions survive restarts without extra setup.
    vapid_private_key: str | None = Field(default=None, repr=False)
    vapid_subject: str = "mailto:no-reply@tandem.invalid"
    # SMS for staff alerts through Twilio's Messages API (or any server speaking it).
    sms_api_base: str = "https://api.twilio.com"
    sms_account_sid: str | None = None
    sms_auth_token: str | None = Field(default=None, repr=False)
    sms_from: str | None = None
    password_reset_ttl_minutes: int = Field(default=30, ge=5, le=24 * 60)
    # A reminder is sent at most this long after its local time (the job may run late, never twice).
    reminder_window_minutes: int = Field(default=30, ge=1, le=180)

    llm_base_url: str | None = None
    llm_api_key: str | None = Field(default=None, repr=False)
    llm_model: str = "gpt-4o-mini"
    llm_timeout_seconds: float = 8.0

    @field_validator(
        "rate_limit_client_login_ip",
        "rate_limit_client_login_ip_account",
        "rate_limit_client_login_account",
        "rate_limit_client_refresh_ip",
        "rate_limit_invite_ip",
        "rate_limit_invite_code",
        "rate_limit_portal_login_ip",
        "rate_limit_portal_login_failures",
        "rate_limit_password_reset_ip",
        "rate_limit_password_reset_account",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @field_validator("metrics_allowed_networks")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            ipaddress.ip_network(part, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("database_url")
    @classmethod
    def _psycopg3(cls, url: str) -> str:
        # Plain postgresql:// URLs would pick psycopg2; Tandem ships psycopg 3.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @model_validator(mode="after")
    def _refuse_weak_secrets_in_prod(self) -> Settings:
        if self.env is not Environment.PROD:
            return self
        problems = []
        if self.secret_key in DEV_SECRETS or len(self.secret_key) < 32:
            problems.append("TANDEM_SECRET_KEY must be set to a random value of at least 32 characters")
        if not self.audit_key or len(self.audit_key) < 32 or self.audit_key in DEV_SECRETS | {self.secret_key}:
            problems.append("TANDEM_AUDIT_KEY must be set to its own random value of at least 32 characters")
        retired = [k.strip() for k in (self.audit_retired_keys or "").split(",") if k.strip()]
        if any(len(k) < 32 or k in DEV_SECRETS | {self.secret_key} for k in retired):
            problems.append("TANDEM_AUDIT_RETIRED_KEYS must hold only earlier audit keys (32+ characters each)")
        try:
            keys = parse_key_ring(self.encryption_keys)
        except ValueError as exc:
            problems.append(str(exc))
        else:
            if self.encryption_keys in DEV_SECRETS or any(
                k == parse_key_ring(DEV_ENCRYPTION_KEYS)["dev1"] for k in keys.values()
            ):
                problems.append("TANDEM_ENCRYPTION_KEYS must not use the development key")
        if problems:
            raise ValueError("refusing to start with TANDEM_ENV=prod: " + "; ".join(problems))
        return self

    @model_validator(mode="after")
    def _cheap_hashing_only_in_tests(self) -> Settings:
        if self.password_hashing is PasswordHashing.CHEAPEST and self.env is not Environment.TEST:
            raise ValueError(
                f"refusing to start with TANDEM_ENV={self.env}: "
                "TANDEM_PASSWORD_HASHING=cheapest is for the test suite only (TANDEM_ENV=test)"
            )
        return self

    @property
    def oidc_configured(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def uses_https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def key_ring(self) -> dict[str, bytes]:
        return parse_key_ring(self.encryption_keys)


def parse_key_ring(spec: str) -> dict[str, bytes]:
    """Parse ``"kid:base64key,kid2:base64key"`` into an ordered mapping; the first key is active."""
    ring: dict[str, bytes] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        kid, sep, encoded = part.partition(":")
        if not sep or not kid:
            raise ValueError("TANDEM_ENCRYPTION_KEYS entries must look like 'key_id:base64key'")
        try:
            key = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except (binascii.Error, ValueError) as exc:
            raise ValueError(f"encryption key {kid!r} is not valid base64") from exc
        if len(key) != 32:
            raise ValueError(f"encryption key {kid!r} must be 32 bytes (AES-256), got {len(key)}")
        ring[kid] = key
    if not ring:
        raise ValueError("TANDEM_ENCRYPTION_KEYS is empty")
    return ring


_PERIOD_UNITS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(spec: str) -> tuple[int, int]:
    """``"10/15m"`` -> (10 attempts, 900 seconds)."""
    count, sep, period = spec.strip().partition("/")
    unit = period[-1:] if period[-1:] in _PERIOD_UNITS else "s"
    amount = period[:-1] if period[-1:] in _PERIOD_UNITS else period
    if not sep or not count.isdigit() or not (amount or "1").isdigit() or int(count) < 1 or int(amount or 1) < 1:
        raise ValueError(f"rate limit {spec!r} must look like 10/15m (attempts / period in s, m or h)")
    return int(count), int(amount or 1) * _PERIOD_UNITS[unit]


@lru_cache
def get_settings() -> Settings:
    return Settings()
