"""A person's own preferences on their account page: notification e-mails, and the secret link
of their calendar feed.

The feed's link carries ``<user id>-<MAC>``, the MAC an HMAC of the server key and a random
value kept on the account (``calendar_nonce``). Calendar programs fetch the link without signing
in, so the link is the only secret: a new value makes every earlier link answer 404 (revoked),
and an empty one turns the feed off. The database alone never yields a working link (the key is
not in it). Every change is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from casetracker import db
from casetracker.accounts.tables import User
from casetracker.audit import services as audit
from casetracker.auth.actor import Actor
from casetracker.errors import NotFound
from casetracker.settings import get_settings


def _mac(user_id: int, nonce: str) -> str:
    key = hashlib.sha256(("calendar-feed:" + get_settings().secret_key).encode()).digest()
    digest = hmac.new(key, f"{user_id}:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:32]


def calendar_token(user_id: int, nonce: str) -> str:
    return f"{user_id}-{_mac(user_id, nonce)}"


def calendar_path(user_id: int, nonce: str) -> str:
    return f"/calendar/{calendar_token(user_id, nonce)}.ics" if nonce else ""


def calendar_url(user_id: int, nonce: str) -> str:
    path = calendar_path(user_id, nonce)
    return f"{get_settings().base_url.rstrip('/')}{path}" if path else ""


async def user_for_calendar_token(token: str) -> dict[str, Any]:
    """The active account a feed link belongs to; NotFound for anything else (a revoked link,
    a guess, a disabled account)."""
    user_part, _, mac = token.partition("-")
    if not (user_part.isascii() and user_part.isdigit() and len(user_part) < 10 and mac):
        raise NotFound("There is no such calendar.")
    user = await User.select(User.id, User.email, User.name, User.role, User.active,
                             User.calendar_nonce).where(User.id == int(user_part)).first()
    if user is None or not user["active"] or not user["calendar_nonce"] or \
            not hmac.compare_digest(mac, _mac(user["id"], user["calendar_nonce"])):
        raise NotFound("There is no such calendar.")
    return user


class PreferenceService:
    """The signed-in person's own preferences."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    async def set_email_notifications(self, on: bool) -> None:
        async with db.write_transaction():
            await User.update({User.email_notifications: on}).where(User.id == self.actor.id)
            await audit.record("account.notification_email_changed", actor=self.actor,
                               object_type="user", object_id=self.actor.id,
                               details={"email_notifications": on})

    async def new_calendar_link(self) -> str:
        """Turn the feed on, or replace its link (the old one stops working)."""
        nonce = secrets.token_urlsafe(24)
        async with db.write_transaction():
            before = await User.select(User.calendar_nonce).where(
                User.id == self.actor.id).first()
            await User.update({User.calendar_nonce: nonce}).where(User.id == self.actor.id)
            await audit.record("account.calendar_link_created", actor=self.actor,
                               object_type="user", object_id=self.actor.id,
                               details={"replaced": bool(before and before["calendar_nonce"])})
        return calendar_url(self.actor.id or 0, nonce)

    async def turn_off_calendar(self) -> None:
        async with db.write_transaction():
            await User.update({User.calendar_nonce: ""}).where(User.id == self.actor.id)
            await audit.record("account.calendar_link_revoked", actor=self.actor,
                               object_type="user", object_id=self.actor.id, details={})
