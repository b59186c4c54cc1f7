"""Case work's background jobs: the daily digest of deadlines.

Once a day (the first hourly run after ``CASETRACKER_DIGEST_HOUR`` local time), every active
staff member with a deadline within ``CASETRACKER_DIGEST_BUSINESS_DAYS`` business days (or one
already overdue) gets ONE notification listing them, and one e-mail if they turned e-mail on:
never one message per clock. A second run the same day (another process, a retry) finds the
day's digest already written and sends nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casetracker import db, jobs
from casetracker.accounts.tables import Notification, User
from casetracker.auth.actor import Actor
from casetracker.cases import clocks
from casetracker.cases.deadlines import Deadline, clock_due_labels, deadlines_for
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import format_day, format_full_day, format_full_moment, ngettext
from casetracker.web.i18n import gettext as _

log = logging.getLogger("casetracker.cases")

DIGEST_KIND = "deadline_digest"


def N_(message: str) -> str:
    return message


def deadline_line(item: Deadline, now: datetime, tz: ZoneInfo) -> str:
    """One deadline in words: "ICE notification due Monday, December 7, 2026, 9:12 AM EST:
    case CT-QN2W-24K7 (overdue)"."""
    if item.key == "task":
        text = _("Task \u201c%(title)s\u201d due %(day)s: case %(number)s", title=item.title,
                 day=format_full_day(item.due_on) if item.due_on else "",
                 number=item.tracking_number)
        late = item.due_on is not None and item.due_on < now.astimezone(tz).date()
    else:
        assert item.due_at is not None
        text = _("%(clock)s %(when)s: case %(number)s",
                 clock=clock_due_labels()[item.key],
                 when=format_full_moment(item.due_at.astimezone(tz)),
                 number=item.tracking_number)
        late = item.due_at < now
    return text + (" " + _("(overdue)") if late else "")


async def send_digest(user: dict[str, Any], now: datetime, settings: Settings) -> bool:
    """The day's digest for one person; False when there is nothing due or it was sent."""
    tz = ZoneInfo(settings.timezone)
    calendar = clocks.BusinessCalendar.from_settings(settings)
    horizon = calendar.add_business_days(now, settings.digest_business_days)
    actor = Actor(id=user["id"], label=user["email"], role=user["role"], name=user["name"])
    items = await deadlines_for(actor, until=horizon,
                                until_day=horizon.astimezone(tz).date())
    if not items:
        return False
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(), tzinfo=tz)
    overdue = sum(1 for item in items if (item.due_at and item.due_at < now) or (
        item.due_on and item.due_on < now.astimezone(tz).date()))
    until_words = format_day(horizon.astimezone(tz))
    summary = ngettext("%(num)s deadline by %(day)s", "%(num)s deadlines by %(day)s",
                       len(items), day=until_words)
    if overdue:
        summary += "; " + ngettext("%(num)s overdue", "%(num)s overdue", overdue)
    message = _("Your deadlines: %(summary)s.", summary=summary)
    lines = [deadline_line(item, now, tz) for item in items]
    body = "\n".join([
        _("Deadlines within %(n)s business days (until %(day)s), and any overdue:",
          n=settings.digest_business_days, day=until_words), "",
        *(f"- {line}" for line in lines)])
    from casetracker.accounts.notifications import notify

    async with db.write_transaction():
        already = await Notification.count().where(
            (Notification.user == user["id"]) & (Notification.kind == DIGEST_KIND)
            & (Notification.created_at >= local_midnight.astimezone(UTC))
            & (Notification.created_at < (local_midnight + timedelta(days=1)).astimezone(UTC)))
        if already:
            return False
        await notify(user["id"], message, "/tasks" if all(i.key == "task" for i in items)
                     else "/dashboard", kind=DIGEST_KIND, email_body=body,
                     subject=_("Your deadlines for %(day)s",
                               day=format_full_day(now.astimezone(tz))), created_at=now)
    return True


async def send_digests(now: datetime | None = None, settings: Settings | None = None) -> int:
    """Everyone's digest for today, once the configured hour has passed; returns how many."""
    settings = settings or get_settings()
    now = now or datetime.now(UTC)
    if now.astimezone(ZoneInfo(settings.timezone)).hour < settings.digest_hour:
        return 0
    users = await User.select(User.id, User.email, User.name, User.role).where(
        User.active == True).order_by(User.id)  # noqa: E712
    sent = 0
    for user in users:
        if user["role"] not in ("administrator", "supervisor", "investigator", "intake",
                                "oversight"):
            continue
        if await send_digest(user, now, settings):
            sent += 1
    return sent


@jobs.periodic("cases.deadline_digest", label=N_("Send each person the day's digest of their "
                                                  "deadlines"), every=timedelta(hours=1))
async def deadline_digest(payload: dict[str, Any]) -> None:
    sent = await send_digests()
    if sent:
        log.info("deadline digests sent: %s", sent)
