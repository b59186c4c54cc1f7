"""Password change (and the forced change of a one-time password), and every way a session
ends: logout, password change elsewhere, disabling, idle timeout; with sessions in files and
in Redis."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from casetracker.accounts.tables import User
from tests.conftest import Browser, login_as
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_accounts import ONE_TIME_PASSWORD, audit_actions, enrol_2fa, find

NEW_PASSWORD = "a brand new memorable phrase"
pytestmark = pytest.mark.session_stores


async def test_forced_change_of_a_one_time_password(browser: Browser, new_browser: Any) -> None:
    await login_as(browser, "administrator")
    sent = await browser.submit("/admin/users/new", data={
        "name": "Rosa Parks", "email": "Rosa@Example.org", "role": "intake"})
    assert sent.status_code == 303
    page = await browser.get(sent.headers["location"])
    assert page.status_code == 200
    one_time = find(ONE_TIME_PASSWORD, page.text)

    newcomer = new_browser("198.51.100.70")
    response = await newcomer.login("rosa@example.org", one_time)
    for path in ("/account", "/notifications", "/account/tokens"):
        response = await newcomer.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/account/password"
    page = await newcomer.get("/account/password")
    assert "You signed in with a one-time password" in page.text
    # The rules apply: too short, then mismatched, then right.
    bad = await newcomer.post("/account/password", data={
        "current_password": one_time, "new_password": "short", "confirm_password": "short"})
    assert bad.status_code == 422 and "at least 12 characters" in bad.text
    bad = await newcomer.post("/account/password", data={
        "current_password": one_time, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD + "x"})
    assert bad.status_code == 422 and "are not the same" in bad.text
    ok = await newcomer.post("/account/password", data={
        "current_password": one_time, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert ok.status_code == 303
    # Intake staff see evidence: two-factor sign-in comes next, before anything else.
    response = await newcomer.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/account/2fa"
    await enrol_2fa(newcomer)
    page = await newcomer.get("/account")
    assert page.status_code == 200 and "Rosa Parks" in page.text
    user = await User.objects().where(User.email == "rosa@example.org").first()
    assert user.must_change_password is False and user.password_changed_at is not None
    assert "user.password_change" in await audit_actions(actor_id=user.id)
    # The one-time password no longer works.
    again = new_browser("198.51.100.71")
    response = await again.submit("/login", data={"email": user.email, "password": one_time})
    assert response.status_code == 422


async def test_wrong_current_password_is_refused(browser: Browser) -> None:
    await login_as(browser, "investigator")
    response = await browser.submit("/account/password", data={
        "current_password": "not it at all", "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 422
    assert "current password is not right" in response.text
    assert 'aria-invalid="true"' in response.text


async def test_password_change_ends_other_sessions_but_not_this_one(
        browser: Browser, new_browser: Any) -> None:
    user = await login_as(browser, "supervisor")
    other = new_browser("198.51.100.72")
    await other.login(user.email, DEFAULT_PASSWORD)
    assert (await other.get("/account")).status_code == 200
    response = await browser.submit("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert (await browser.get("/account")).status_code == 200
    response = await other.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_logout_ends_the_session(browser: Browser) -> None:
    await login_as(browser, "intake")
    cookie = browser.client.cookies.get("ct_session")
    await browser.get("/account")
    assert (await browser.post("/logout")).status_code == 303
    browser.client.cookies.set("ct_session", cookie)
    response = await browser.get("/account")
    assert response.headers["location"].startswith("/login")


async def test_disabling_ends_sessions_at_once(browser: Browser, new_browser: Any) -> None:
    await login_as(browser, "administrator")
    worker = new_browser("198.51.100.73")
    user = await login_as(worker, "investigator")
    assert (await worker.get("/account")).status_code == 200
    await browser.get(f"/admin/users/{user.id}")
    response = await browser.post(f"/admin/users/{user.id}/disable")
    assert response.status_code == 303
    response = await worker.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    refused = await worker.submit("/login", data={"email": user.email,
                                                 "password": DEFAULT_PASSWORD})
    assert refused.status_code == 422


@pytest.mark.parametrize("idle_minutes, signed_in", [(29, True), (31, False)])
async def test_idle_timeout(browser: Browser, monkeypatch: pytest.MonkeyPatch,
                            settings: Any, idle_minutes: int, signed_in: bool) -> None:
    assert settings.session_idle_minutes == 30
    await login_as(browser, "investigator")
    assert (await browser.get("/account")).status_code == 200
    later = time.time() + idle_minutes * 60
    monkeypatch.setattr("casetracker.accounts.middleware.time",
                        SimpleNamespace(time=lambda: later))
    response = await browser.get("/account")
    if signed_in:
        assert response.status_code == 200
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        page = await browser.get(response.headers["location"])
        assert "period of inactivity" in page.text


async def test_one_time_password_user_cannot_skip_to_other_pages(browser: Browser) -> None:
    user = await make_user("oversight", must_change_password=True)
    await browser.login(user.email, DEFAULT_PASSWORD)
    response = await browser.get("/admin/audit")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"


async def test_first_administrator_from_bootstrap_gets_in(browser: Browser) -> None:
    """What `make run` prints works: one-time password, then own password, then 2FA."""
    import pyotp

    from casetracker.accounts.services import bootstrap_admin
    from tests.factories_accounts import SECRET, find

    created = await bootstrap_admin()
    assert created is not None and await bootstrap_admin() is None
    await browser.login(created.email, created.password)
    assert (await browser.get("/admin/users")).headers["location"] == "/account/password"
    response = await browser.submit("/account/password", data={
        "current_password": created.password, "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert (await browser.get("/admin/users")).headers["location"] == "/account/2fa"
    page = await browser.get("/account/2fa")
    secret = find(SECRET, page.text).replace(" ", "")
    done = await browser.submit("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    assert (await browser.get("/admin/users")).status_code == 200


async def test_account_forms_refuse_a_missing_csrf_token(browser: Browser) -> None:
    user = await login_as(browser, "supervisor")
    for url, data in [("/account/password", {"current_password": DEFAULT_PASSWORD,
                                             "new_password": NEW_PASSWORD,
                                             "confirm_password": NEW_PASSWORD}),
                      ("/account/2fa", {"code": "123456"}),
                      ("/account/2fa/disable", {"password": DEFAULT_PASSWORD}),
                      ("/notifications/read-all", {}),
                      ("/logout", {})]:
        response = await browser.client.post(url, data=data)
        assert response.status_code == 403, url
        assert "form expired" in response.text
    fresh = await User.objects().where(User.id == user.id).first()
    assert fresh.password_changed_at is None
    assert (await browser.get("/account")).status_code == 200  # still signed in
