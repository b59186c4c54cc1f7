"""Builders and page helpers for the accounts tests."""

from __future__ import annotations

import html
import re
from typing import Any

from casetracker.accounts.tables import Notification
from casetracker.audit.tables import AuditEvent

RECOVERY_CODE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")
SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
ONE_TIME_PASSWORD = re.compile(r'id="one-time-password">([^<]+)<')
NEW_TOKEN = re.compile(r'id="new-token">([^<]+)<')


def find(pattern: re.Pattern[str], text: str) -> str:
    match = pattern.search(text)
    assert match, f"{pattern.pattern} not found in page:\n{text[:3000]}"
    return html.unescape(match.group(1)).strip()


async def make_notification(user_id: int, message: str = "Case CT-1 was assigned to you",
                            link: str = "", read: bool = False) -> Notification:
    from datetime import UTC, datetime

    row = Notification(user=user_id, message=message, link=link,
                       read_at=datetime.now(UTC) if read else None)
    await row.save()
    return row


async def audit_actions(**where: Any) -> list[str]:
    query = AuditEvent.select(AuditEvent.action, AuditEvent.details, AuditEvent.object_id)
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return [row["action"] for row in await query.order_by(AuditEvent.seq)]


async def enrol_2fa(browser: Any) -> str:
    """Set up two-factor sign-in on the page, as a person would; returns the secret."""
    import pyotp

    page = await browser.get("/account/2fa")
    secret = find(SECRET, page.text).replace(" ", "")
    sent = await browser.submit("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert sent.status_code == 303, sent.text[:2000]
    done = await browser.get(sent.headers["location"])
    assert done.status_code == 200 and RECOVERY_CODE.search(done.text), done.text[:2000]
    return secret
