"""Outgoing e-mail: SMTP when configured, otherwise .eml files in the outbox folder.

Mail promised by a change (a receipt, a notification, a letter) is queued as a durable job
(``queue_mail``, or a feature's own job that calls ``deliver_now`` with a key), so it survives
a crash and is retried; ``send_mail`` is for the rest."""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from casetracker.ops import metrics
from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.mail")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


def build_message(settings: Settings, to: str, subject: str, body: str,
                  attachments: tuple[Attachment, ...] = (), *,
                  key: str | None = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = (f"<{_key_digest(key)}@casetracker.invalid>" if key
                             else make_msgid(domain="casetracker.invalid"))
    message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def _key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def _write_outbox(outbox: Path, suffix: str, message: EmailMessage) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = outbox / f"{stamp}-{suffix}.eml"
    # Written whole or not at all: a reader never sees half a message.
    partial = path.with_suffix(".eml.partial")
    partial.write_bytes(bytes(message))
    os.replace(partial, path)
    return path


def _deliver(settings: Settings, message: EmailMessage, key: str | None = None) -> Path | None:
    """Deliver one message. With a ``key``, delivering the same key again does nothing when
    the outbox already holds it (a retried job never writes a second file; over SMTP the
    Message-ID is the same, so a retry after a lost answer is recognisable)."""
    if not settings.smtp_host:
        settings.outbox_dir.mkdir(parents=True, exist_ok=True)
        if not key:
            return _write_outbox(settings.outbox_dir, uuid.uuid4().hex[:8], message)
        digest = _key_digest(key)
        # Look and write under a lock: two deliveries of one key at once (two workers on
        # this machine, a lease taken over) must write one message, not two. The lock goes
        # with the process, so a crash mid-write leaves nothing held.
        with open(settings.outbox_dir / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            existing = sorted(settings.outbox_dir.glob(f"*-{digest}.eml"))
            if existing:
                return existing[0]
            return _write_outbox(settings.outbox_dir, digest, message)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)
    return None


async def deliver_now(to: str, subject: str, body: str,
                      attachments: tuple[Attachment, ...] = (), *, key: str | None = None,
                      settings: Settings | None = None) -> Path | None:
    """Send (or write to the outbox) without blocking the event loop; raises on failure, so
    that the job carrying it is retried."""
    settings = settings or get_settings()
    message = build_message(settings, to, subject, body, attachments, key=key)
    try:
        path = await asyncio.to_thread(_deliver, settings, message, key)
    except (OSError, smtplib.SMTPException):
        metrics.EMAILS.labels(outcome="failed").inc()
        raise
    metrics.EMAILS.labels(outcome="sent").inc()
    return path


async def send_mail(to: str, subject: str, body: str,
                    attachments: tuple[Attachment, ...] = (), *,
                    settings: Settings | None = None) -> Path | None:
    """Send now, logging (not raising) a failure. Only for mail nobody was promised by a
    commit; everything else goes through ``queue_mail`` (a durable job)."""
    try:
        return await deliver_now(to, subject, body, attachments, settings=settings)
    except (OSError, smtplib.SMTPException):
        # The address is personal data: log the failure, not the recipient.
        log.exception("Could not send an e-mail (subject %r)", subject)
        return None


async def queue_mail(to: str, subject: str, body: str, *, key: str | None = None) -> None:
    """Promise an e-mail inside the caller's write transaction: it is sent (with retries) by
    a job once the transaction commits, and never if it rolls back."""
    from casetracker import jobs

    message_key = f"mail:{key}" if key else f"mail:{uuid.uuid4().hex}"
    await jobs.enqueue("mail.send", {"to": to, "subject": subject, "body": body,
                                     "message_key": message_key}, key=message_key)


def N_(message: str) -> str:
    return message


def _register_job() -> None:
    from casetracker import jobs

    @jobs.handler("mail.send", label=N_("Send an e-mail"))
    async def send_queued_mail(payload: dict[str, Any]) -> None:
        # The message's key makes the delivery idempotent across retries.
        await deliver_now(payload["to"], payload["subject"], payload["body"],
                          key=payload["message_key"])


_register_job()
def deliver(settings: Settings, message: EmailMessage) -> Path | None:
    """Send one built message now, raising when it cannot be sent (for callers that must know,
    such as audit checkpoints; ``send_mail`` logs failures instead)."""
    return _deliver(settings, message)
