"""Notifications: other features create them with ``notify`` inside the transaction of the
change they announce; people read them at /notifications (the unread count for the nav is
loaded by the session middleware). Someone who turned on e-mail on their account page also gets
each one by e-mail: a durable job (``casetracker.mail.queue_mail``) promised in that same
transaction, so it is sent once the change commits and never if it rolls back.

What is announced, and to whom (each where the change is made): a case assigned or reassigned
(the investigator; the previous lead), findings submitted (supervisors), a case returned (the
lead), a recommendation submitted (those who may approve it, not its author), approved,
returned or issued (its author), a complainant's follow-up (the lead, else intake staff), a task
given (its assignee), and the daily digest of deadlines (``cases.digest``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from piccolo.custom_types import Combinable

from casetracker import db
from casetracker.accounts.tables import Notification, User
from casetracker.errors import NotFound
from casetracker.web.i18n import gettext as _

PAGE_SIZE = 50


async def notify(user_id: int, message: str, link: str = "", *, subject: str = "",
                 kind: str = "", email_body: str = "", created_at: datetime | None = None
                 ) -> int | None:
    """Create a notification for a user (joins the caller's write transaction if any), and
    promise its e-mail when the user asked for e-mail. Inactive accounts get nothing."""
    async with db.write_transaction():
        user = await User.select(User.email, User.active, User.email_notifications).where(
            User.id == user_id).first()
        if user is None or not user["active"]:
            return None
        rows = await Notification.insert(Notification(
            user=user_id, message=message[:5000], link=link[:300], kind=kind[:40],
            created_at=created_at or datetime.now(UTC))).returning(Notification.id)
        notification_id = int(rows[0]["id"])
        if user["email_notifications"] and user["email"]:
            await _queue_email(user["email"], subject or _first_line(message),
                               email_body or message, link, key=f"notification:{notification_id}")
        return notification_id


def _first_line(message: str) -> str:
    line = message.strip().splitlines()[0] if message.strip() else ""
    return line if len(line) <= 120 else line[:117] + "..."


async def _queue_email(to: str, subject: str, body: str, link: str, *, key: str) -> None:
    from casetracker.mail import queue_mail
    from casetracker.settings import get_settings

    settings = get_settings()
    if link.startswith("/"):
        body = f"{body}\n\n{settings.base_url.rstrip('/')}{link}"
    body += "\n\n" + _("You get these e-mails because you turned them on on your account "
                       "page (%(url)s).", url=f"{settings.base_url.rstrip('/')}/account")
    body += f"\n-- {settings.organisation_name}"
    await queue_mail(to, subject, body, key=key)


async def notify_many(user_ids: list[int], message: str, link: str = "", *, subject: str = "",
                      kind: str = "", skip: int | None = None) -> None:
    """The same notification to several people (once each), leaving out ``skip`` (the person
    who made the change)."""
    for user_id in dict.fromkeys(user_ids):
        if user_id != skip:
            await notify(user_id, message, link, subject=subject, kind=kind)


async def staff_with_role(*roles: str) -> list[int]:
    rows = await User.select(User.id).where(User.role.is_in(list(roles))
                                            & (User.active == True)).order_by(User.id)  # noqa: E712
    return [r["id"] for r in rows]


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
