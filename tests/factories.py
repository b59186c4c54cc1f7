"""Named builders for meaningful rows (``make_user("supervisor")``)."""

from __future__ import annotations

import itertools
from typing import Any

from casetracker.accounts.passwords import hash_password
from casetracker.accounts.services import seal_totp_secret
from casetracker.accounts.tables import User

DEFAULT_PASSWORD = "correct horse battery staple"
# Administrators must use a second factor; test administrators are enrolled with this secret.
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_counter = itertools.count(1)
_PASSWORD_HASH = hash_password(DEFAULT_PASSWORD)


async def make_user(role: str = "investigator", *, email: str | None = None,
                    name: str | None = None,
                    password: str | None = None, **fields: Any) -> User:
    n = next(_counter)
    # A clear secret here is stored sealed, as the app stores it (the user id is part of it).
    totp_secret = fields.pop("totp_secret", TEST_TOTP_SECRET if role == "administrator" else None)
    user = User(
        email=email or f"{role}{n}@example.org",
        name=name or f"{role.title()} {n}",
        role=role,
        password_hash=hash_password(password) if password else _PASSWORD_HASH,
        must_change_password=fields.pop("must_change_password", False),
        totp_enabled=fields.pop("totp_enabled", role == "administrator"),
        **fields,
    )
    await user.save()
    if totp_secret:
        user.totp_secret = seal_totp_secret(totp_secret, user.id)
        await User.update({User.totp_secret: user.totp_secret}).where(User.id == user.id)
    return user


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
