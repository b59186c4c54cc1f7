"""Named builders for meaningful rows (``make_user("supervisor")``)."""

from __future__ import annotations

import itertools
from typing import Any

from casetracker.accounts.passwords import hash_password
from casetracker.accounts.services import seal_totp_secret
from casetracker.accounts.tables import User

DEFAULT_PASSWORD = "correct horse battery staple"
# Every role that sees complainants' identity or evidence (today: all of them) must use a
# second factor; test users of those roles are enrolled with this secret (totp_enabled=False
# makes one who is not).
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)
_PASSWORD_HASH = hash_password(DEFAULT_PASSWORD)


async def make_user(role: str = "investigator", *, email: str | None = None,
                    name: str | None = None,
                    password: str | None = None, **fields: Any) -> User:
    n = next(_counter)
    # A clear secret here is stored sealed, as the app stores it (the user id is part of it).
    from casetracker.accounts.role_settings import default_roles

    enrolled = fields.get("totp_enabled", role == "administrator" or role in default_roles())
    totp_secret = fields.pop("totp_secret", TEST_TOTP_SECRET if enrolled else None)
    user = User(
        email=email or f"{role}{n}@example.org",
        name=name or f"{role.title()} {n}",
        role=role,
        password_hash=hash_password(password) if password else _PASSWORD_HASH,
        must_change_password=fields.pop("must_change_password", False),
        totp_enabled=fields.pop("totp_enabled", enrolled),
        **fields,
    )
    await user.save()
    if totp_secret:
        user.totp_secret = seal_totp_secret(totp_secret, user.id)
        await User.update({User.totp_secret: user.totp_secret}).where(User.id == user.id)
    return user


async def fresh_totp_code(email: str, secret: str = TEST_TOTP_SECRET) -> str:
    """A code the app accepts now for this user: the current step's, or the next one when the
    current was already used (a code is accepted once, and tests sign people in quickly)."""
    import asyncio
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    row = await User.select(User.totp_last_step).where(
        User.email == email.strip().lower()).first()
    last = row["totp_last_step"] if row else None
    while True:
        current = int(time.time()) // 30
        step = current if last is None or last < current else last + 1
        if step <= current + 1:
            return totp.generate_otp(step)
        await asyncio.sleep(current * 30 + 30.05 - time.time())  # a third sign-in in 30 s


def wrong_totp_code(secret: str = TEST_TOTP_SECRET) -> str:
    """Six digits that are not a valid code for ``secret`` at any step the app accepts now
    (the previous, current and next 30 seconds, with a step of margin either side)."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    now = int(time.time())
    valid = {totp.at(now + 30 * k) for k in range(-2, 3)}
    return next(code for code in ("123456", "000000", "654321", "111111", "999999", "246810")
                if code not in valid)
