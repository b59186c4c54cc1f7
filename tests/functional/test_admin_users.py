"""Administrators manage users in the UI; nobody else reaches any admin page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from casetracker.accounts.tables import User
from tests.conftest import Browser, login_as
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_accounts import ONE_TIME_PASSWORD, audit_actions, find


def admin_routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) under /admin, path parameters left as patterns."""
    found = []
    for route in app.routes:
        if not route.path.startswith("/admin"):
            continue
        for handler in route.route_handlers:
            for method in sorted(getattr(handler, "http_methods", ())):
                if method in ("GET", "POST"):
                    found.append((method, route.path))
    return sorted(set(found))


def fill(path: str, user_id: int) -> str:
    return re.sub(r"\{[a-z_]+:int\}", str(user_id), path)


@pytest.mark.parametrize("role", ["supervisor", "investigator", "intake", "oversight"])
async def test_non_administrators_are_refused_on_every_admin_route(
        app: Any, browser: Browser, role: str) -> None:
    user = await login_as(browser, role)
    routes = admin_routes(app)
    assert ("GET", "/admin/users") in routes and ("GET", "/admin/audit") in routes
    await browser.get("/account")  # a page with a CSRF token for the posts
    for method, path in routes:
        url = fill(path, user.id)
        if method == "GET":
            response = await browser.get(url)
        else:
            response = await browser.post(url, data={"role": "administrator"})
        assert response.status_code == 403, (method, url, response.status_code)
    me = await User.objects().where(User.id == user.id).first()
    assert me.role == role and me.active


async def test_anonymous_visitors_are_sent_to_sign_in(app: Any, browser: Browser) -> None:
    for method, path in admin_routes(app):
        if method == "GET":
            response = await browser.get(fill(path, 1))
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")


async def test_create_user_validation_keeps_values(browser: Browser) -> None:
    await login_as(browser, "administrator")
    existing = await make_user("intake")
    response = await browser.submit("/admin/users/new", data={
        "name": "", "email": existing.email.upper(), "role": "wizard"})
    assert response.status_code == 422
    assert "Enter the person&#39;s name" in response.text
    assert "already exists" in response.text
    assert "Choose one of the roles" in response.text
    assert f'value="{existing.email.upper()}"' in response.text


async def test_list_search_and_filters(browser: Browser) -> None:
    await login_as(browser, "administrator")
    await make_user("investigator", name="Ida Wells", email="ida@example.org")
    await make_user("oversight", name="Ella Baker", email="ella@example.org", active=False)
    page = await browser.get("/admin/users?q=wells")
    assert "Ida Wells" in page.text and "Ella Baker" not in page.text
    page = await browser.get("/admin/users?role=oversight")
    assert "Ella Baker" in page.text and "Ida Wells" not in page.text
    page = await browser.get("/admin/users?status=disabled")
    assert "Ella Baker" in page.text and "Ida Wells" not in page.text
    page = await browser.get("/admin/users?status=active")
    assert "Ella Baker" not in page.text and "Ida Wells" in page.text


async def test_change_role_disable_enable_reset_and_audit(browser: Browser,
                                                         new_browser: Any) -> None:
    admin = await login_as(browser, "administrator")
    target = await make_user("investigator", name="Fannie Hamer")
    page = await browser.get(f"/admin/users/{target.id}")
    assert page.status_code == 200 and "Fannie Hamer" in page.text

    assert (await browser.post(f"/admin/users/{target.id}/role",
                               data={"role": "supervisor"})).status_code == 303
    assert (await User.select(User.role).where(User.id == target.id).first())["role"] == \
        "supervisor"
    assert (await browser.post(f"/admin/users/{target.id}/disable")).status_code == 303
    assert (await browser.post(f"/admin/users/{target.id}/enable")).status_code == 303
    sent = await browser.post(f"/admin/users/{target.id}/reset-password")
    assert sent.status_code == 303
    page = await browser.get(sent.headers["location"])
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    one_time = find(ONE_TIME_PASSWORD, page.text)
    # A reload neither shows it again nor resets the password again.
    reload = await browser.get(sent.headers["location"])
    assert reload.status_code == 303 and reload.headers["location"] == f"/admin/users/{target.id}"
    assert "shown once" in (await browser.get(reload.headers["location"])).text
    person = new_browser("198.51.100.80")
    await person.login(target.email, one_time)
    assert (await person.get("/account")).headers["location"] == "/account/password"
    # The old password no longer works.
    other = new_browser("198.51.100.81")
    assert (await other.submit("/login", data={"email": target.email,
                                              "password": DEFAULT_PASSWORD})).status_code == 422

    actions = await audit_actions(object_type="user", object_id=str(target.id))
    for action in ("user.role_change", "user.disable", "user.enable", "user.password_reset"):
        assert action in actions, actions
    assert await audit_actions(actor_id=admin.id)  # the administrator is the actor


async def test_reset_two_factor(browser: Browser, new_browser: Any) -> None:
    await login_as(browser, "administrator")
    other_admin = await make_user("administrator")
    await browser.get(f"/admin/users/{other_admin.id}")
    assert (await browser.post(f"/admin/users/{other_admin.id}/reset-2fa")).status_code == 303
    fresh = await User.objects().where(User.id == other_admin.id).first()
    assert fresh.totp_enabled is False and fresh.totp_secret is None
    person = new_browser("198.51.100.82")
    response = await person.submit("/login", data={"email": other_admin.email,
                                                  "password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    assert (await person.get("/admin/users")).headers["location"] == "/account/2fa"
    assert "user.2fa_reset" in await audit_actions(object_id=str(other_admin.id))


async def test_cannot_disable_yourself_or_demote_the_last_administrator(browser: Browser) -> None:
    admin = await login_as(browser, "administrator")
    await browser.get(f"/admin/users/{admin.id}")
    response = await browser.post(f"/admin/users/{admin.id}/disable")
    assert response.status_code == 303
    page = await browser.get(response.headers["location"])
    assert "cannot disable your own account" in page.text
    await browser.post(f"/admin/users/{admin.id}/role", data={"role": "intake"})
    page = await browser.get(f"/admin/users/{admin.id}")
    assert "last active administrator" in page.text
    me = await User.objects().where(User.id == admin.id).first()
    assert me.active and me.role == "administrator"


async def test_admin_forms_refuse_a_missing_csrf_token(browser: Browser) -> None:
    await login_as(browser, "administrator")
    target = await make_user("intake")
    for url, data in [("/admin/users/new", {"name": "X", "email": "x@example.org",
                                            "role": "intake"}),
                      (f"/admin/users/{target.id}/disable", {}),
                      (f"/admin/users/{target.id}/role", {"role": "administrator"}),
                      (f"/admin/users/{target.id}/reset-password", {}),
                      ("/admin/roles", {"require_2fa": "intake"})]:
        response = await browser.client.post(url, data=data)
        assert response.status_code == 403, url
        assert "form expired" in response.text
    fresh = await User.objects().where(User.id == target.id).first()
    assert fresh.active and fresh.role == "intake"
    assert not await User.exists().where(User.email == "x@example.org")
