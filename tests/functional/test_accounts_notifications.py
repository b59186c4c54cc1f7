from __future__ import annotations

from typing import Any

from casetracker.accounts.notifications import notify
from casetracker.accounts.tables import Notification
from tests.conftest import Browser, login_as
from tests.factories_accounts import make_notification


async def test_notifications_list_mark_read_and_nav_count(browser: Browser,
                                                         new_browser: Any) -> None:
    user = await login_as(browser, "investigator")
    await notify(user.id, "Case CT-2026-0001 was assigned to you", "/cases/1")
    await make_notification(user.id, "A deadline is near")
    await make_notification(user.id, "Old news", read=True)
    someone_else = new_browser("198.51.100.95")
    other = await login_as(someone_else, "investigator")
    await make_notification(other.id, "Not for the first person")

    page = await browser.get("/notifications")
    assert page.status_code == 200
    assert "Case CT-2026-0001 was assigned to you" in page.text and "Old news" in page.text
    assert "Not for the first person" not in page.text
    assert 'class="nav-count">2<' in page.text

    first = await Notification.objects().where(Notification.message.like("Case CT%")).first()
    response = await browser.post(f"/notifications/{first.id}/read", data={"open": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/cases/1"
    page = await browser.get("/notifications?show=unread")
    assert "A deadline is near" in page.text and "Case CT-2026" not in page.text
    assert 'class="nav-count">1<' in page.text

    # Someone else's notification is not found.
    theirs = await Notification.objects().where(Notification.user == other.id).first()
    assert (await browser.post(f"/notifications/{theirs.id}/read")).status_code == 404

    await browser.get("/notifications")
    assert (await browser.post("/notifications/read-all")).status_code == 303
    page = await browser.get("/notifications")
    assert "nav-count" not in page.text
    assert (await Notification.objects().where(Notification.id == theirs.id).first()).read_at \
        is None


async def test_notification_links_never_leave_the_site(browser: Browser) -> None:
    user = await login_as(browser, "intake")
    row = await make_notification(user.id, "Odd link", link="https://evil.example/")
    await browser.get("/notifications")
    response = await browser.post(f"/notifications/{row.id}/read", data={"open": "1"})
    assert response.headers["location"] == "/dashboard"
