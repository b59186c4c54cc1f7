"""TOTP secrets are stored sealed (AES-GCM, bound to the user) and still work for sign-in;
an altered, moved or unreadable value fails safely, with a message that says what to do."""

from __future__ import annotations

import json
from typing import Any

import pyotp

from casetracker.accounts.tables import User
from casetracker.settings import configure
from tests.conftest import Browser, login_as
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.factories_accounts import audit_actions
from tests.functional.test_accounts_two_factor import enrol, last_step

UNREADABLE = "this server&#39;s security key has changed"
NOT_RIGHT = "That code is not right"


async def stored_secret(user_id: int) -> str | None:
    """The column as the database holds it, read with plain SQL."""
    rows = await User.raw("SELECT totp_secret FROM ct_user WHERE id = {}", user_id)
    return rows[0]["totp_secret"]


async def set_stored_secret(user_id: int, value: str | None) -> None:
    await User.update({User.totp_secret: value}).where(User.id == user_id)


async def password_step(browser: Browser, email: str) -> None:
    response = await browser.submit("/login", data={"email": email,
                                                   "password": DEFAULT_PASSWORD})
    assert response.headers["location"] == "/login/2fa"


async def test_enrolled_through_the_pages_the_secret_is_sealed_and_signs_in(
        browser: Browser, new_browser: Any) -> None:
    user = await login_as(browser, "investigator", totp_enabled=False)
    secret, _ = await enrol(browser)

    stored = await stored_secret(user.id)
    assert stored is not None and stored.startswith("v1:")
    assert secret not in stored and secret.lower() not in stored.lower()
    everything = str(await User.select().where(User.id == user.id).first())
    assert secret not in everything

    other = new_browser("198.51.100.71")
    await password_step(other, user.email)
    code = pyotp.TOTP(secret).generate_otp(await last_step(user.id) + 1)
    response = await other.submit("/login/2fa", data={"code": code})
    assert response.status_code == 303
    assert (await other.get("/account")).status_code == 200
    # Signing in does not rewrite or unseal the stored value.
    assert await stored_secret(user.id) == stored


async def test_the_factory_administrator_secret_is_sealed_too(browser: Browser) -> None:
    from tests.factories import TEST_TOTP_SECRET

    admin = await login_as(browser, "administrator")  # signs in with a TOTP code
    stored = await stored_secret(admin.id)
    assert stored.startswith("v1:") and TEST_TOTP_SECRET not in stored


async def test_an_altered_value_fails_safely_and_recovery_codes_still_work(
        browser: Browser, new_browser: Any) -> None:
    user = await login_as(browser, "supervisor", totp_enabled=False)
    secret, codes = await enrol(browser)
    stored = await stored_secret(user.id)
    # Change one character of the ciphertext (keeping it valid base64url).
    index = len(stored) // 2
    altered = stored[:index] + ("A" if stored[index] != "A" else "B") + stored[index + 1:]
    await set_stored_secret(user.id, altered)

    other = new_browser("198.51.100.72")
    await password_step(other, user.email)
    code = pyotp.TOTP(secret).generate_otp(await last_step(user.id) + 1)
    response = await other.submit("/login/2fa", data={"code": code})
    assert response.status_code == 422
    assert UNREADABLE in response.text and "recovery codes" in response.text
    assert (await other.get("/account")).headers["location"] == "/login/2fa"
    assert {"action": "login.failed", "reason": "totp_secret_unreadable"} in \
        await AuditDetails.for_user(user.id)

    # Recovery codes are hashes, not encrypted: they still let the person in.
    response = await other.submit("/login/2fa", data={"code": codes[0]})
    assert response.status_code == 303
    assert (await other.get("/account")).status_code == 200


async def test_a_value_moved_to_another_account_does_not_verify(
        browser: Browser, new_browser: Any) -> None:
    owner = await login_as(browser, "investigator", totp_enabled=False)
    secret, _ = await enrol(browser)
    thief = await make_user("investigator", totp_enabled=True)
    await set_stored_secret(thief.id, await stored_secret(owner.id))

    other = new_browser("198.51.100.73")
    await password_step(other, thief.email)
    response = await other.submit("/login/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 422
    assert UNREADABLE in response.text
    assert (await other.get("/account")).headers["location"] == "/login/2fa"


async def test_a_clear_secret_in_the_column_is_not_accepted(new_browser: Any) -> None:
    user = await make_user("investigator", totp_enabled=True)
    secret = pyotp.random_base32()
    await set_stored_secret(user.id, secret)
    other = new_browser("198.51.100.74")
    await password_step(other, user.email)
    response = await other.submit("/login/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 422 and UNREADABLE in response.text


async def test_after_a_secret_key_change_sign_in_fails_safely_and_an_admin_resets_2fa(
        settings: Any, browser: Browser, new_browser: Any) -> None:
    admin = await login_as(browser, "administrator")  # signed in before the key changes
    person = new_browser("198.51.100.75")
    user = await login_as(person, "investigator", totp_enabled=False)
    secret, _ = await enrol(person)

    configure(settings.replace(secret_key="a-rotated-secret-key-0123456789-abcdefghij"))
    later = new_browser("198.51.100.76")
    await password_step(later, user.email)
    response = await later.submit("/login/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 422
    assert UNREADABLE in response.text and "ask an administrator" in response.text
    assert NOT_RIGHT not in response.text
    events = await AuditDetails.for_user(user.id)
    assert {"action": "login.failed", "reason": "totp_secret_unreadable"} in events

    # The administrator's reset does not need the old key.
    page = await browser.get(f"/admin/users/{user.id}")
    assert page.status_code == 200
    response = await browser.submit(f"/admin/users/{user.id}",
                                    f"/admin/users/{user.id}/reset-2fa")
    assert response.status_code == 303
    assert await stored_secret(user.id) is None
    assert "user.2fa_reset" in await audit_actions(actor_id=admin.id)

    # The person signs in with the password and enrols again under the new key.
    again = new_browser("198.51.100.77")
    response = await again.submit("/login", data={"email": user.email,
                                                 "password": DEFAULT_PASSWORD})
    assert response.headers["location"] != "/login/2fa"
    new_secret, _ = await enrol(again)
    assert new_secret != secret
    stored = await stored_secret(user.id)
    assert stored.startswith("v1:") and new_secret not in stored


class AuditDetails:
    @staticmethod
    async def for_user(user_id: int) -> list[dict[str, Any]]:
        from casetracker.audit.tables import AuditEvent

        rows = await AuditEvent.select(AuditEvent.action, AuditEvent.details).where(
            AuditEvent.object_id == str(user_id))
        events = []
        for row in rows:
            details = json.loads(row["details"] or "{}")
            events.append({"action": row["action"],
                           **({"reason": details["reason"]} if "reason" in details else {})})
        return events


async def test_an_unconfirmed_set_up_that_no_longer_decrypts_starts_again(
        settings: Any, browser: Browser) -> None:
    from tests.factories_accounts import SECRET, find

    user = await login_as(browser, "investigator", totp_enabled=False)
    page = await browser.get("/account/2fa")
    old_secret = find(SECRET, page.text).replace(" ", "")
    configure(settings.replace(secret_key="a-rotated-secret-key-0123456789-abcdefghij"))
    response = await browser.post("/account/2fa",
                                  data={"code": pyotp.TOTP(old_secret).now()})
    assert response.status_code == 422
    assert "This set-up has expired" in response.text
    new_secret = find(SECRET, response.text).replace(" ", "")
    assert new_secret != old_secret
    done = await browser.post("/account/2fa", data={"code": pyotp.TOTP(new_secret).now()})
    assert done.status_code == 303
    stored = await stored_secret(user.id)
    assert stored.startswith("v1:") and new_secret not in stored
