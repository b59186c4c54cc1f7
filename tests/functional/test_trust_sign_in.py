"""CJIS-grade sign-in: a second factor by default for everyone who sees complainants' identity
or evidence, passwords that are long and not common (the first administrator's too), the
per-address limit against a parallel burst, API tokens revoked by any password change or
reset, and sessions that say why they ended."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from casetracker.accounts.role_settings import default_roles
from casetracker.accounts.services import bootstrap_admin
from casetracker.audit.tables import AuditEvent
from tests.conftest import Browser, login_as
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_accounts import NEW_TOKEN, ONE_TIME_PASSWORD, enrol_2fa, find

STRONG = "lantern orchard velvet quarry"


async def test_every_role_that_sees_identity_or_evidence_needs_a_second_factor(
        new_browser: Any) -> None:
    assert default_roles() == {"administrator", "supervisor", "investigator", "intake",
                               "oversight"}
    for n, role in enumerate(sorted(default_roles())):
        person = new_browser(f"198.51.100.{60 + n}")
        await login_as(person, role, totp_enabled=False, totp_secret=None)
        response = await person.get("/dashboard")
        assert response.status_code == 303, role
        assert response.headers["location"] == "/account/2fa", role


@pytest.mark.parametrize("password", ["password1234", "Password123!", "qwertyuiop123",
                                      "iloveyou2024", "rosa.parks1955"])
async def test_common_or_guessable_passwords_are_refused(browser: Browser, password: str
                                                         ) -> None:
    user = await make_user("supervisor", name="Rosa Parks", email="rosa.parks@example.org")
    await browser.login(user.email, DEFAULT_PASSWORD)
    response = await browser.submit("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": password,
        "confirm_password": password})
    assert response.status_code == 422
    assert "too easy to guess" in response.text
    assert f'value="{password}"' not in response.text  # passwords are never echoed back


async def test_the_first_administrators_forced_change_follows_the_rules(
        browser: Browser, settings: Any) -> None:
    created = await bootstrap_admin()
    assert created is not None
    await browser.login(created.email, created.password)
    for weak, why in (("password1234", "too easy to guess"),
                      ("short", "at least 12 characters")):
        response = await browser.submit("/account/password", data={
            "current_password": created.password, "new_password": weak,
            "confirm_password": weak})
        assert response.status_code == 422 and why in response.text
    response = await browser.submit("/account/password", data={
        "current_password": created.password, "new_password": STRONG,
        "confirm_password": STRONG})
    assert response.status_code == 303
    response = await browser.get("/dashboard")
    assert response.headers["location"] == "/account/2fa"
    await enrol_2fa(browser)
    assert (await browser.get("/dashboard")).status_code == 200


async def test_the_minimum_length_is_a_setting(browser: Browser, settings: Any) -> None:
    from casetracker.settings import configure

    configure(settings.replace(password_min_length=16))
    await login_as(browser, "investigator")
    phrase = "tulip harbor gem"  # 16 characters: enough; one fewer is not
    response = await browser.submit("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": phrase[:-1],
        "confirm_password": phrase[:-1]})
    assert response.status_code == 422 and "at least 16 characters" in response.text


async def test_a_parallel_burst_from_one_address_checks_at_most_the_limit(
        new_browser: Any, settings: Any) -> None:
    """20 wrong passwords for 20 accounts at once, from one address (as several workers would
    take them): each attempt is reserved against the address before its password is checked,
    so at most the limit (5) are checked and the rest refused."""
    users = [await make_user("investigator") for _ in range(20)]
    browsers = [new_browser("203.0.113.66") for _ in users]
    tokens = [await b.csrf_for("/login") for b in browsers]
    responses = await asyncio.gather(*(
        b.client.post("/login", data={"_csrf_token": t, "email": u.email,
                                      "password": "not the password"})
        for b, t, u in zip(browsers, tokens, users, strict=True)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(422) <= settings.login_max_failures, statuses
    assert statuses.count(429) == 20 - statuses.count(422)
    checked = await AuditEvent.count().where(AuditEvent.action == "login.failed")
    assert checked == statuses.count(422) <= settings.login_max_failures
    # The address is now locked, even for the right password of another account.
    late = new_browser("203.0.113.66")
    response = await late.submit("/login", data={"email": users[0].email,
                                                "password": DEFAULT_PASSWORD})
    assert response.status_code == 429 and "Too many failed sign-in attempts" in response.text


async def create_token(browser: Browser) -> str:
    page = await browser.submit("/account/tokens", data={"name": "nightly export"})
    return find(NEW_TOKEN, page.text)


async def api_status(client: Any, token: str) -> int:
    response = await client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    return response.status_code


async def test_a_password_change_revokes_the_persons_api_tokens(browser: Browser,
                                                                 client: Any) -> None:
    await login_as(browser, "supervisor")
    token = await create_token(browser)
    assert await api_status(client, token) == 200
    response = await browser.submit("/account/password", data={
        "current_password": DEFAULT_PASSWORD, "new_password": STRONG,
        "confirm_password": STRONG})
    assert response.status_code == 303
    assert await api_status(client, token) == 401
    page = await browser.get("/account/tokens")
    assert "nightly export" in page.text and "Revoked" in page.text
    event = await AuditEvent.select().where(AuditEvent.action == "api_token.revoke_all").first()
    assert json.loads(event["details"]) == {"count": 1, "reason": "password_change"}


async def test_an_administrators_reset_revokes_tokens_for_good(browser: Browser,
                                                               new_browser: Any,
                                                               client: Any) -> None:
    person = new_browser("198.51.100.81")
    user = await login_as(person, "supervisor")
    token = await create_token(person)
    assert await api_status(client, token) == 200

    await login_as(browser, "administrator")
    sent = await browser.submit(f"/admin/users/{user.id}",
                                f"/admin/users/{user.id}/reset-password")
    page = await browser.get(sent.headers["location"])
    one_time = find(ONE_TIME_PASSWORD, page.text)
    assert await api_status(client, token) == 401
    # Once the person chooses a new password, the old token stays dead.
    again = new_browser("198.51.100.82")
    await again.login(user.email, one_time)
    response = await again.submit("/account/password", data={
        "current_password": one_time, "new_password": STRONG, "confirm_password": STRONG})
    assert response.status_code == 303
    assert await api_status(client, token) == 401


class _Later(datetime):
    """``datetime`` as the session store sees it, ``offset`` from now."""
    offset = timedelta(0)

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return datetime.now(tz) + cls.offset


@pytest.mark.parametrize("minutes_away", [31, 60 * 24 * 3])
async def test_the_inactivity_message_appears(browser: Browser, monkeypatch: pytest.MonkeyPatch,
                                              minutes_away: int) -> None:
    """The clock moves for the session store too (it expires what it holds, and after days
    away it no longer holds the session at all): the login page still says why."""
    await login_as(browser, "investigator")
    assert (await browser.get("/account")).status_code == 200
    later = time.time() + minutes_away * 60
    monkeypatch.setattr("casetracker.accounts.middleware.time", SimpleNamespace(time=lambda: later))
    monkeypatch.setattr(_Later, "offset", timedelta(minutes=minutes_away))
    monkeypatch.setattr("litestar.stores.base.datetime", _Later)
    response = await browser.get("/account")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    page = await browser.get(response.headers["location"])
    assert "Your session ended after a period of inactivity" in page.text
    # Said once: signing out and back in shows no such message.
    await login_as(browser, "supervisor")
    await browser.post("/logout")
    assert "period of inactivity" not in (await browser.get("/dashboard",
                                                             follow_redirects=True)).text


async def test_a_session_ends_after_the_maximum_time_even_when_active(
        browser: Browser, monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    await login_as(browser, "investigator")
    start = time.time()
    steps = settings.session_max_hours * 3  # a request every 20 minutes: never idle
    for step in range(1, steps + 2):
        moment = start + step * 20 * 60
        monkeypatch.setattr("casetracker.accounts.middleware.time",
                            SimpleNamespace(time=lambda moment=moment: moment))
        response = await browser.get("/account")
        if step < steps:
            assert response.status_code == 200, step
    assert response.status_code == 303
    page = await browser.get(response.headers["location"])
    assert f"signed in for {settings.session_max_hours} hours" in page.text
