"""Email over SMTP. Messages carry no client text: that there is something to see, and a link."""

from __future__ import annotations

import hashlib
import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from service.config import get_settings


def send(*, to: str, subject: str, text: str, html: str | None, message_id: str, kept_id: str | None = None) -> None:
    """``kept_id``: the Message-ID an email queued before its dedup key changed form already had."""
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # Stable across retries, so a mail system (or a person) can tell a repeat from a new alert.
    message["Message-ID"] = f"<{kept_id or hashlib.sha256(message_id.encode()).hexdigest()[:40]}@tandem>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username and settings.smtp_password:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
