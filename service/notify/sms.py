"""SMS through Twilio's Programmable Messaging API (POST /2010-04-01/Accounts/{sid}/Messages.json,
HTTP Basic auth with the account SID and auth token, form fields To, From, Body).

The text says that there is something to see and links to it: never client data, since a phone's
lock screen and the carrier both read it.
"""

from __future__ import annotations

import httpx

from service.config import get_settings

TIMEOUT_SECONDS = 10
MAX_BODY = 320


class SmsError(Exception):
    """The provider refused or could not be reached; worth retrying."""


class SmsNotConfigured(SmsError):
    """No provider account is set (TANDEM_SMS_ACCOUNT_SID, TANDEM_SMS_AUTH_TOKEN, TANDEM_SMS_FROM)."""


def send(*, to: str, body: str) -> str:
    """Send one text message; returns the provider's message SID."""
    settings = get_settings()
    if not (settings.sms_account_sid and settings.sms_auth_token and settings.sms_from):
        raise SmsNotConfigured("no SMS provider account is configured")
    url = f"{settings.sms_api_base.rstrip('/')}/2010-04-01/Accounts/{settings.sms_account_sid}/Messages.json"
    try:
        answer = httpx.post(
            url,
            data={"To": to, "From": settings.sms_from, "Body": body[:MAX_BODY]},
            auth=(settings.sms_account_sid, settings.sms_auth_token),
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise SmsError(type(exc).__name__) from exc
    if answer.status_code not in (200, 201):
        raise SmsError(f"SMS provider answered {answer.status_code}")
    try:
        return str(answer.json()["sid"])
    except (ValueError, KeyError) as exc:
        raise SmsError("SMS provider answered without a message sid") from exc
