"""In-app notifications: other features create them with ``notify``; people read them at
/notifications. The unread count for the nav is loaded by the session middleware."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.custom_types import Combinable

from casetracker import db
from casetracker.accounts.tables import Notification
from casetracker.errors import NotFound
from casetracker.web.i18n import gettext as _

PAGE_SIZE = 50


async def notify(user_id: int, message: str, link: str = "") -> None:
    """Create a notification for a user (joins the caller's write transaction if any)."""
    async with db.write_transaction():
        await Notification.insert(Notification(user=user_id, message=message[:5000],
                                               link=link[:300]))


async def unread_count(user_id: int) -> int:
    return await Notification.count().where(
        (Notification.user == user_id) & Notification.read_at.is_null())


async def list_for(user_id: int, *, unread_only: bool = False, before_id: int | None = None
                   ) -> list[dict[str, Any]]:
    where: Combinable = Notification.user == user_id
    if unread_only:
        where &= Notification.read_at.is_null()
    if before_id:
        where &= Notification.id < before_id
    return await (Notification.select().where(where)
                  .order_by(Notification.id, ascending=False).limit(PAGE_SIZE))


async def mark_read(user_id: int, notification_id: int) -> dict[str, Any]:
    async with db.write_transaction():
        row = await Notification.select().where(
            (Notification.id == notification_id) & (Notification.user == user_id)).first()
        if row is None:
            raise NotFound(_("There is no such notification."))
        if row["read_at"] is None:
            await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
                Notification.id == notification_id)
    return row


async def mark_all_read(user_id: int) -> None:
    async with db.write_transaction():
        await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
            (Notification.user == user_id) & Notification.read_at.is_null())
