"""Two-factor sign-in: enrolment with a QR code, sign-in with a code or a single-use
recovery code, turning it off, and the per-role requirement."""

from __future__ import annotations

import json
from typing import Any

import pyotp

from casetracker.accounts.tables import User
from tests.conftest import Browser, login_as
from tests.factories import DEFAULT_PASSWORD, make_user, wrong_totp_code
from tests.factories_accounts import RECOVERY_CODE, SECRET, audit_actions, find


async def last_step(user_id: int) -> int:
    """The time step of the last accepted code (the next step is accepted too: one step of
    clock drift is allowed, so the tests need not wait)."""
    row = await User.select(User.totp_last_step).where(User.id == user_id).first()
    assert row["totp_last_step"] is not None
    return int(row["totp_last_step"])


async def enrol(browser: Browser) -> tuple[str, list[str]]:
    page = await browser.get("/account/2fa")
    assert page.status_code == 200
    assert 'src="data:image/svg+xml' in page.text  # the QR code, no script needed
    secret = find(SECRET, page.text).replace(" ", "")
    wrong = await browser.post("/account/2fa", data={"code": wrong_totp_code(secret)})
    assert wrong.status_code == 422
    assert "That code is not right" in wrong.text
    sent = await browser.submit("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert sent.status_code == 303 and sent.headers["location"] == "/account/2fa/recovery-codes"
    done = await browser.get(sent.headers["location"])
    assert done.status_code == 200 and done.headers["cache-control"] == "no-store"
    codes = RECOVERY_CODE.findall(done.text)
    assert len(codes) == 10 and len(set(codes)) == 10
    # A reload shows them no more (and makes no new ones).
    reload = await browser.get("/account/2fa/recovery-codes")
    assert reload.status_code == 303 and reload.headers["location"] == "/account/2fa"
    return secret, codes


async def test_enrol_then_sign_in_with_code_and_single_use_recovery_code(
        browser: Browser, new_browser: Any) -> None:
    user = await login_as(browser, "investigator", totp_enabled=False)
    secret, codes = await enrol(browser)
    stored = (await User.select(User.recovery_codes, User.totp_enabled).where(
        User.id == user.id).output(load_json=True).first())
    assert stored["totp_enabled"] is True
    assert all(code not in str(stored["recovery_codes"]) for code in codes)  # hashes only
    assert len(stored["recovery_codes"]) == 10

    # The codes are not shown again.
    again = await browser.get("/account/2fa")
    assert not RECOVERY_CODE.search(again.text)
    assert "Unused recovery codes" in again.text

    # Password alone is no longer enough.
    second = new_browser("198.51.100.31")
    response = await second.submit("/login", data={"email": user.email,
                                                  "password": DEFAULT_PASSWORD})
    assert response.headers["location"] == "/login/2fa"
    assert (await second.get("/account")).headers["location"] == "/login/2fa"
    # The code used to confirm the set-up cannot be used again; the next one works.
    used = await last_step(user.id)
    response = await second.submit("/login/2fa",
                                   data={"code": pyotp.TOTP(secret).generate_otp(used)})
    assert response.status_code == 422
    response = await second.submit("/login/2fa",
                                   data={"code": pyotp.TOTP(secret).generate_otp(used + 1)})
    assert response.status_code == 303
    assert (await second.get("/account")).status_code == 200

    # A recovery code works once.
    third = new_browser("198.51.100.32")
    await third.submit("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    response = await third.submit("/login/2fa", data={"code": codes[0].upper()})
    assert response.status_code == 303
    page = await third.get("/account")
    assert "9 recovery codes left" in page.text
    fourth = new_browser("198.51.100.33")
    await fourth.submit("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    response = await fourth.submit("/login/2fa", data={"code": codes[0]})
    assert response.status_code == 422
    actions = await audit_actions(actor_id=user.id)
    assert "user.2fa_enrol" in actions and actions.count("login") >= 3


async def test_administrators_must_enrol_before_anything_else(browser: Browser) -> None:
    admin = await make_user("administrator", totp_enabled=False, totp_secret=None)
    await browser.login(admin.email, DEFAULT_PASSWORD)
    response = await browser.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/account/2fa"
    page = await browser.get("/account/2fa")
    assert "Your role must use two-factor sign-in" in page.text
    await enrol(browser)
    assert (await browser.get("/admin/users")).status_code == 200


async def test_roles_seeing_identity_or_evidence_need_2fa_unless_relaxed_on_record(
        browser: Browser, new_browser: Any) -> None:
    await login_as(browser, "administrator")
    investigator = new_browser("198.51.100.40")
    await login_as(investigator, "investigator", totp_enabled=False)
    response = await investigator.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/account/2fa"

    page = await browser.get("/admin/roles")
    assert page.status_code == 200 and "sees complainants' identity or evidence" in page.text
    others = ["supervisor", "intake", "oversight"]
    response = await browser.post("/admin/roles", data={"require_2fa": others})
    assert response.status_code == 303
    page = await browser.get("/admin/roles")
    assert "now sign in with a password alone" in page.text
    from casetracker.audit.tables import AuditEvent

    event = await AuditEvent.select().where(AuditEvent.action == "role_setting.change").first()
    details = json.loads(event["details"])
    assert details["relaxed"] == ["investigator"] and "investigator" not in details[
        "require_2fa_after"]
    assert (await investigator.get("/account")).status_code == 200

    # Ticked again: the investigator must set it up before anything else.
    await browser.post("/admin/roles", data={"require_2fa": [*others, "investigator"]})
    response = await investigator.get("/account")
    assert response.status_code == 303 and response.headers["location"] == "/account/2fa"
    await enrol(investigator)
    assert (await investigator.get("/account")).status_code == 200
    assert (await audit_actions()).count("role_setting.change") == 2


async def test_turn_off_and_set_up_again(browser: Browser, new_browser: Any) -> None:
    user = await login_as(browser, "supervisor", totp_enabled=False)
    old_secret, _ = await enrol(browser)
    response = await browser.submit("/account/2fa", "/account/2fa/disable",
                                    data={"password": "not my password"})
    assert response.status_code == 422
    response = await browser.submit("/account/2fa", "/account/2fa/disable",
                                    data={"password": DEFAULT_PASSWORD})
    assert response.status_code == 303
    page = await browser.get("/account/2fa")
    assert find(SECRET, page.text).replace(" ", "") != old_secret
    other = new_browser("198.51.100.50")
    response = await other.submit("/login", data={"email": user.email,
                                                 "password": DEFAULT_PASSWORD})
    assert response.headers["location"] != "/login/2fa"
    assert "user.2fa_disable" in await audit_actions(actor_id=user.id)


async def test_new_recovery_codes_replace_the_old_ones(browser: Browser, new_browser: Any
                                                      ) -> None:
    user = await login_as(browser, "investigator", totp_enabled=False)
    _, old_codes = await enrol(browser)
    sent = await browser.submit("/account/2fa", "/account/2fa/recovery-codes",
                                data={"password": DEFAULT_PASSWORD})
    assert sent.status_code == 303
    page = await browser.get(sent.headers["location"])
    new_codes = RECOVERY_CODE.findall(page.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    other = new_browser("198.51.100.60")
    await other.submit("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert (await other.submit("/login/2fa", data={"code": old_codes[1]})).status_code == 422
    assert (await other.submit("/login/2fa", data={"code": new_codes[1]})).status_code == 303


async def test_an_authenticator_code_is_accepted_only_once(browser: Browser,
                                                          new_browser: Any) -> None:
    from tests.factories import TEST_TOTP_SECRET

    admin = await login_as(browser, "administrator")  # signs in with the current code
    replay = new_browser("198.51.100.61")
    await replay.submit("/login", data={"email": admin.email, "password": DEFAULT_PASSWORD})
    used = await last_step(admin.id)
    totp = pyotp.TOTP(TEST_TOTP_SECRET)
    response = await replay.submit("/login/2fa", data={"code": totp.generate_otp(used)})
    assert response.status_code == 422
    response = await replay.submit("/login/2fa", data={"code": totp.generate_otp(used + 1)})
    assert response.status_code == 303
