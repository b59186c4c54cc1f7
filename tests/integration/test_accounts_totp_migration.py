"""The data migration seals TOTP secrets stored in clear, leaves sealed ones alone, and people
who enrolled before it keep signing in with the same authenticator entry."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pyotp

from casetracker.accounts.services import seal_totp_secret
from casetracker.accounts.tables import User
from casetracker.accounts.totp_crypto import derive_key, unseal
from casetracker.settings import PROJECT_ROOT, get_settings
from tests.conftest import Browser
from tests.factories import DEFAULT_PASSWORD, make_user

MIGRATION = (PROJECT_ROOT / "migrations" / "accounts"
             / "accounts_2026_11_29t10_40_00_000000_seal_totp_secrets.py")


def load_migration(path: Path = MIGRATION) -> ModuleType:
    spec = importlib.util.spec_from_file_location("seal_totp_secrets_migration", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def raw_secret(user_id: int) -> str | None:
    rows = await User.raw("SELECT totp_secret FROM ct_user WHERE id = {}", user_id)
    return rows[0]["totp_secret"]


async def put_raw_secret(user_id: int, value: str | None) -> None:
    await User.raw("UPDATE ct_user SET totp_secret = {} WHERE id = {}", value, user_id)


async def run_migration() -> None:
    """As ``piccolo migrations forwards`` runs it: the manager, in its transaction."""
    manager = await load_migration().forwards()
    await manager.run()


async def test_clear_secrets_are_sealed_and_sealed_ones_left_alone(settings: Any) -> None:
    clear = pyotp.random_base32()
    legacy = await make_user("investigator", totp_enabled=True)
    await put_raw_secret(legacy.id, clear)  # as stored before this change
    pending = await make_user("supervisor", totp_enabled=False)  # enrolment started, not confirmed
    pending_clear = pyotp.random_base32()
    await put_raw_secret(pending.id, pending_clear)
    already = await make_user("administrator")
    already_sealed = await raw_secret(already.id)
    blank = await make_user("intake", totp_enabled=False)
    await put_raw_secret(blank.id, "")
    none = await make_user("oversight", totp_enabled=False)

    await run_migration()

    key = derive_key(get_settings().secret_key)
    sealed = await raw_secret(legacy.id)
    assert sealed.startswith("v1:") and clear not in sealed
    assert unseal(sealed, user_id=legacy.id, key=key) == clear
    assert unseal(await raw_secret(pending.id), user_id=pending.id, key=key) == pending_clear
    assert await raw_secret(already.id) == already_sealed
    assert await raw_secret(blank.id) is None
    assert await raw_secret(none.id) is None

    # Running it again changes nothing.
    await run_migration()
    assert await raw_secret(legacy.id) == sealed
    assert await raw_secret(already.id) == already_sealed
    assert await load_migration().seal_clear_totp_secrets() == 0


async def test_a_person_enrolled_before_the_migration_still_signs_in(
        settings: Any, browser: Browser) -> None:
    clear = pyotp.random_base32()
    user = await make_user("investigator", totp_enabled=True)
    await put_raw_secret(user.id, clear)

    await run_migration()

    response = await browser.submit("/login", data={"email": user.email,
                                                   "password": DEFAULT_PASSWORD})
    assert response.headers["location"] == "/login/2fa"
    response = await browser.submit("/login/2fa", data={"code": pyotp.TOTP(clear).now()})
    assert response.status_code == 303
    assert (await browser.get("/account")).status_code == 200


async def test_the_services_and_the_migration_agree_on_the_format(settings: Any) -> None:
    user = await make_user("investigator")
    value = seal_totp_secret("JBSWY3DPEHPK3PXP", user.id)
    await put_raw_secret(user.id, value)
    await run_migration()
    assert await raw_secret(user.id) == value
