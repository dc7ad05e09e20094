"""OpenID Connect relying party (Authlib): authorization code flow with PKCE (S256), state and
nonce checked, ID token signature and claims validated against the issuer's discovery document.

The provider is the deployment's (``TANDEM_OIDC_*``) or a clinic's own, from
``Clinic.settings["oidc"] = {"issuer", "client_id", "client_secret_encrypted", "scopes"}`` (set on
the clinic settings page; the secret sealed by ``service.onboarding.clinic_settings``), used when
the sign-in link names the clinic (``/portal/login/oidc?clinic=<id>``).
"""

from __future__ import annotations

import hmac
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.security import is_secure_transport
from authlib.deprecate import AuthlibDeprecationWarning
from authlib.integrations.base_client import OAuthError
from authlib.integrations.base_client.framework_integration import FrameworkIntegration
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from joserfc.errors import JoseError

from service.config import get_settings
from service.models import Clinic
from service.onboarding import clinic_settings
from service.security.staff_auth import OidcIdentity

with warnings.catch_warnings():
    # Authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which Tandem ships.
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import OAuth2Client

METADATA_TTL_SECONDS = 3600
HTTP_TIMEOUT_SECONDS = 10.0


class SingleSignOnFailed(Exception):
    """The identity provider's answer cannot be trusted or used; ``reason`` is for the audit and logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnreachable(Exception):
    """The identity provider did not answer (network error or an error status)."""


@dataclass(frozen=True)
class Provider:
    issuer: str
    client_id: str
    client_secret: str | None
    scopes: str
    clinic_id: str | None = None  # None: the deployment's provider, for every clinic


def provider_for(clinic: Clinic | None = None) -> Provider | None:
    """The identity provider to use, or None when single sign-on is not set up."""
    if clinic is not None:
        own = clinic.settings.get("oidc") if isinstance(clinic.settings, dict) else None
        if isinstance(own, dict) and own.get("issuer") and own.get("client_id"):
            return Provider(
                issuer=str(own["issuer"]).rstrip("/"),
                client_id=str(own["client_id"]),
                client_secret=clinic_settings.sso_client_secret(clinic),
                scopes=str(own.get("scopes") or "openid email profile"),
                clinic_id=clinic.id,
            )
    settings = get_settings()
    if not settings.oidc_configured:
        return None
    assert settings.oidc_issuer is not None and settings.oidc_client_id is not None
    return Provider(
        issuer=settings.oidc_issuer.rstrip("/"),
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        scopes=settings.oidc_scopes,
    )


class _RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):  # type: ignore[misc]
    client_cls = OAuth2Client


_clients: dict[Provider, tuple[float, _RelyingParty]] = {}
_clients_lock = threading.Lock()


def _relying_party(provider: Provider) -> _RelyingParty:
    """One Authlib client per provider, so discovery and keys are fetched once an hour, not per login."""
    if not is_secure_transport(provider.issuer):
        raise SingleSignOnFailed("issuer_not_https")
    with _clients_lock:
        cached = _clients.get(provider)
        if cached and time.monotonic() - cached[0] < METADATA_TTL_SECONDS:
            return cached[1]
        scopes = provider.scopes if "openid" in provider.scopes.split() else f"openid {provider.scopes}"
        client = _RelyingParty(
            FrameworkIntegration("tandem-portal"),
            name="tandem-portal",
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
            client_kwargs={"scope": scopes, "code_challenge_method": "S256", "timeout": HTTP_TIMEOUT_SECONDS},
        )
        _clients[provider] = (time.monotonic(), client)
        return client


def _metadata(client: _RelyingParty, provider: Provider) -> Mapping[str, Any]:
    try:
        metadata = client.load_server_metadata()
    except (httpx.HTTPError, ValueError) as exc:
        with _clients_lock:
            _clients.pop(provider, None)
        raise ProviderUnreachable(type(exc).__name__) from exc
    # OpenID Connect Discovery 1.0 §4.3: the document must name exactly the issuer we asked.
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        raise SingleSignOnFailed("issuer_mismatch")
    return metadata


def start(provider: Provider, redirect_uri: str) -> tuple[str, dict[str, Any]]:
    """The provider's authorization URL, and what must be remembered until the callback."""
    client = _relying_party(provider)
    _metadata(client, provider)
    try:
        request = client.create_authorization_url(redirect_uri=redirect_uri)
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(type(exc).__name__) from exc
    remembered = {
        "state": request["state"],
        "nonce": request["nonce"],
        "code_verifier": request["code_verifier"],
        "redirect_uri": redirect_uri,
        "issuer": provider.issuer,
        "clinic_id": provider.clinic_id,
    }
    return request["url"], remembered


def finish(provider: Provider, remembered: Mapping[str, Any], params: Mapping[str, str]) -> OidcIdentity:
    """Check the callback against what was remembered, redeem the code, validate the ID token."""
    if params.get("error"):
        raise SingleSignOnFailed("provider_error")
    state, code = params.get("state") or "", params.get("code") or ""
    if not state or not hmac.compare_digest(state, str(remembered.get("state", ""))):
        raise SingleSignOnFailed("state_mismatch")
    if not code or remembered.get("issuer") != provider.issuer:
        raise SingleSignOnFailed("bad_callback")
    client = _relying_party(provider)
    _metadata(client, provider)
    try:
        token = client.fetch_access_token(
            redirect_uri=remembered["redirect_uri"], code=code, code_verifier=remembered["code_verifier"]
        )
        if "id_token" not in token:
            raise SingleSignOnFailed("no_id_token")
        claims = client.parse_id_token(
            token,
            nonce=remembered["nonce"],
            claims_options={
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "sub": {"essential": True},
            },
        )
    except httpx.HTTPError as exc:
        raise ProviderUnreachable(type(exc).__name__) from exc
    except (OAuthError, JoseError, ValueError, KeyError) as exc:
        raise SingleSignOnFailed(f"invalid_token:{type(exc).__name__}") from exc
    if claims.get("iss") != provider.issuer or not claims.get("sub"):
        raise SingleSignOnFailed("invalid_claims")
    email, verified = claims.get("email"), claims.get("email_verified")
    if email is None:
        email, verified = _email_from_userinfo(client, token, str(claims["sub"]))
    return OidcIdentity(
        issuer=provider.issuer,
        subject=str(claims["sub"]),
        email=str(email) if email else None,
        email_verified=verified is True or verified == "true",
    )


def _email_from_userinfo(client: _RelyingParty, token: Mapping[str, Any], subject: str) -> tuple[Any, Any]:
    if not client.load_server_metadata().get("userinfo_endpoint"):
        return None, False
    try:
        info = client.userinfo(token=token)
    except (httpx.HTTPError, OAuthError):
        return None, False
    # OpenID Connect Core §5.3.2: userinfo for another subject must not be used.
    if str(info.get("sub")) != subject:
        return None, False
    return info.get("email"), info.get("email_verified")
