"""Outgoing e-mail: SMTP when configured, otherwise .eml files in the outbox folder."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.mail")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


def build_message(settings: Settings, to: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="casetracker.invalid")
    message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def _deliver(settings: Settings, message: EmailMessage) -> Path | None:
    if not settings.smtp_host:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        path = settings.outbox_dir / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(bytes(message))
        return path
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
    return None


async def send_mail(to: str, subject: str, body: str,
                    attachments: tuple[Attachment, ...] = (), *,
                    settings: Settings | None = None) -> Path | None:
    """Send (or write to the outbox) without blocking the event loop. Failures are logged, not
    raised: a message that cannot be sent never undoes the action that caused it."""
    settings = settings or get_settings()
    message = build_message(settings, to, subject, body, attachments)
    try:
        return await asyncio.to_thread(_deliver, settings, message)
    except (OSError, smtplib.SMTPException):
        # The address is personal data: log the failure, not the recipient.
        log.exception("Could not send an e-mail (subject %r)", subject)
        return None


def deliver(settings: Settings, message: EmailMessage) -> Path | None:
    """Send one built message now, raising when it cannot be sent (for callers that must know,
    such as audit checkpoints; ``send_mail`` logs failures instead)."""
    return _deliver(settings, message)
