"""Login throttling per account and per address, and the audit trail of sign-ins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker.accounts.tables import LoginFailure
from tests.conftest import Browser
from tests.factories import DEFAULT_PASSWORD, make_user, wrong_totp_code
from tests.factories_accounts import audit_actions


async def fail(browser: Browser, email: str) -> None:
    response = await browser.submit("/login", data={"email": email, "password": "wrong guess"})
    assert response.status_code == 422


async def test_account_locked_after_repeated_failures_from_many_addresses(
        new_browser: Any, settings: Any) -> None:
    user = await make_user("investigator")
    for n in range(settings.login_max_failures):
        await fail(new_browser(f"198.51.100.{n + 1}"), user.email)
    # Even the right password from a fresh address is refused while the account is locked.
    browser = new_browser("192.0.2.99")
    response = await browser.submit("/login", data={"email": user.email,
                                                   "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    assert f"{settings.login_lockout_minutes} minutes" in response.text
    assert "login.locked" in await audit_actions()
    assert (await browser.get("/account")).status_code == 303  # not signed in


async def test_address_locked_after_failures_on_different_accounts(new_browser: Any,
                                                                  settings: Any) -> None:
    user = await make_user("investigator")
    attacker = new_browser("203.0.113.50")
    for n in range(settings.login_max_failures):
        await fail(attacker, f"nobody{n}@example.org")
    response = await attacker.submit("/login", data={"email": user.email,
                                                    "password": DEFAULT_PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text
    # The same person from another address is not affected.
    response = await new_browser("203.0.113.51").submit(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_successful_login_clears_the_account_counter(new_browser: Any,
                                                          settings: Any) -> None:
    user = await make_user("investigator")
    limit = settings.login_max_failures
    for n in range(limit - 1):
        await fail(new_browser(f"198.51.100.{n + 1}"), user.email)
    await new_browser("192.0.2.1").login(user.email, DEFAULT_PASSWORD)
    for n in range(limit - 1):
        await fail(new_browser(f"198.51.100.{n + 101}"), user.email)
    response = await new_browser("192.0.2.2").submit(
        "/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_lockout_ends_after_the_window(new_browser: Any, settings: Any) -> None:
    user = await make_user("investigator")
    for n in range(settings.login_max_failures):
        await fail(new_browser(f"198.51.100.{n + 1}"), user.email)
    browser = new_browser("192.0.2.3")
    locked = await browser.submit("/login", data={"email": user.email,
                                                 "password": DEFAULT_PASSWORD})
    assert locked.status_code == 429
    long_ago = datetime.now(UTC) - timedelta(minutes=settings.login_lockout_minutes + 1)
    await LoginFailure.update({LoginFailure.failed_at: long_ago}, force=True)
    response = await browser.submit("/login", data={"email": user.email,
                                                   "password": DEFAULT_PASSWORD})
    assert response.status_code == 303


async def test_failure_keys_do_not_store_addresses_or_emails(browser: Browser) -> None:
    await fail(browser, "someone@example.org")
    keys = [row["key"] for row in await LoginFailure.select(LoginFailure.key)]
    assert len(keys) == 2
    assert not any("someone" in k or "203.0.113.7" in k for k in keys)


async def test_logins_and_failed_logins_are_audited(browser: Browser) -> None:
    user = await make_user("supervisor")
    await fail(browser, user.email)
    await browser.login(user.email, DEFAULT_PASSWORD)
    await browser.get("/account")
    await browser.post("/logout")
    actions = await audit_actions()
    assert actions[-3:] == ["login.failed", "login", "logout"]


async def test_failed_sign_ins_never_write_what_was_typed_unless_it_is_an_account(
        browser: Browser) -> None:
    import json

    from casetracker.audit.tables import AuditEvent

    user = await make_user("supervisor")
    await fail(browser, user.email)
    await fail(browser, "my secret passphrase 2026")  # typed into the e-mail field
    await fail(browser, "my secret passphrase 2026")
    rows = await AuditEvent.select(AuditEvent.actor_label, AuditEvent.details).where(
        AuditEvent.action == "login.failed").order_by(AuditEvent.id)
    text = json.dumps(rows)
    assert "passphrase" not in text
    assert rows[0]["actor_label"] == user.email
    assert json.loads(rows[0]["details"]) == {"email": user.email}
    unknown = [json.loads(r["details"]) for r in rows[1:]]
    assert rows[1]["actor_label"] == "unknown account"
    assert unknown[0] == unknown[1] and len(unknown[0]["unknown_account"]) == 16


async def test_second_factor_failures_count_towards_the_lockout(browser: Browser,
                                                               settings: Any) -> None:
    admin = await make_user("administrator")
    response = await browser.submit("/login", data={"email": admin.email,
                                                   "password": DEFAULT_PASSWORD})
    assert response.headers["location"] == "/login/2fa"
    for _ in range(settings.login_max_failures):
        response = await browser.submit("/login/2fa", data={"code": wrong_totp_code()})
        assert response.status_code == 422
    import pyotp

    from tests.factories import TEST_TOTP_SECRET

    response = await browser.submit("/login/2fa", data={"code": pyotp.TOTP(TEST_TOTP_SECRET).now()})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.text


async def test_a_burst_of_parallel_guesses_stops_at_the_limit(new_browser: Any,
                                                              settings: Any) -> None:
    """Guesses sent all at once (as several workers would take them) must not each read the
    counter before any is recorded: at most the limit is checked, the rest are refused."""
    import asyncio

    user = await make_user("investigator")
    limit = settings.login_max_failures
    browsers = [new_browser(f"198.51.100.{n + 1}") for n in range(limit * 3)]
    tokens = [await b.csrf_for("/login") for b in browsers]
    responses = await asyncio.gather(*(
        b.client.post("/login", data={"_csrf_token": t, "email": user.email,
                                      "password": f"guess {n}"})
        for n, (b, t) in enumerate(zip(browsers, tokens, strict=True))))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [422] * limit + [429] * (limit * 2), statuses
    assert await LoginFailure.count() == 2 * limit  # account + address row per checked guess


async def test_colleagues_signing_in_at_once_from_one_office_address_are_not_locked_out(
        new_browser: Any, settings: Any) -> None:
    """Sign-ins still in flight are not failures of the address they share."""
    import asyncio

    users = [await make_user("investigator") for _ in range(settings.login_max_failures * 2)]
    browsers = [new_browser("192.0.2.77") for _ in users]
    tokens = [await b.csrf_for("/login") for b in browsers]
    responses = await asyncio.gather(*(
        b.client.post("/login", data={"_csrf_token": t, "email": u.email,
                                      "password": DEFAULT_PASSWORD})
        for b, t, u in zip(browsers, tokens, users, strict=True)))
    assert [r.status_code for r in responses] == [303] * len(users)
    assert await LoginFailure.count() == 0
