"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

import asyncio
import os
import secrets
import weakref
from typing import Any

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A real hash to verify against when the account does not exist, so timing does not tell.
# Made at the first sign-in, not at import: every command-line start paid ~0.3 s for it.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password-" + secrets.token_hex(8))
    return _DUMMY_HASH

MIN_LENGTH = 12  # the default of CASETRACKER_PASSWORD_MIN_LENGTH
# zxcvbn's score (0-4): 3 means "safely unguessable" (about 10^8 guesses or more); below that
# the password is common, a common pattern, or built from the person's name or e-mail.
MIN_STRENGTH = 3
_ESTIMATE_CHARS = 72  # zxcvbn refuses longer input; the first 72 characters are judged


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# argon2 takes 64 MiB and a fraction of a CPU-second per call: at most this many at once per
# worker process (a burst of sign-ins waits its turn instead of using gigabytes).
_PARALLEL_HASHES = max(2, min(4, os.cpu_count() or 2))
_limiters: weakref.WeakKeyDictionary[Any, anyio.CapacityLimiter] = weakref.WeakKeyDictionary()


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()  # a limiter belongs to one event loop
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(_PARALLEL_HASHES)
    return limiter


async def hash_password_off_loop(password: str) -> str:
    """:func:`hash_password` in a worker thread: argon2 is deliberately slow (tenths of a
    second of CPU) and releases the GIL, so the event loop keeps serving other requests."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_limiter())


async def verify_password_off_loop(password_hash: str | None, password: str) -> bool:
    """:func:`verify_password` in a worker thread (see :func:`hash_password_off_loop`)."""
    return await anyio.to_thread.run_sync(verify_password, password_hash, password,
                                          limiter=_limiter())


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """A sentence (in the reader's language) saying what is wrong with a new password, or None.

    At least ``CASETRACKER_PASSWORD_MIN_LENGTH`` characters (default 12), and not easy to guess:
    zxcvbn (its lists of common passwords, names and words, keyboard patterns, dates and
    substitutions, plus the person's own e-mail and name) must estimate at least 10^8 guesses."""
    from casetracker.settings import get_settings
    from casetracker.web.i18n import gettext as _

    min_length = max(8, get_settings().password_min_length)
    if len(password) < min_length:
        return _("Use at least %(n)s characters.", n=min_length)
    if len(password) > 1024:
        return _("Use at most 1024 characters.")
    if email and password.lower() == email.lower():
        return _("Do not use your e-mail address as your password.")
    if len(set(password)) < 5:
        return _("Use a less repetitive password.")
    if password_strength(password, email=email, name=name) < MIN_STRENGTH:
        return _("This password is too easy to guess: it is a common password, a common "
                 "pattern, or built from your name or e-mail address. Use three or four "
                 "unrelated words, or a longer phrase.")
    return None


def password_strength(password: str, *, email: str = "", name: str = "") -> int:
    """zxcvbn's score, 0 (guessed at once) to 4."""
    from zxcvbn import zxcvbn

    hints = [h for h in (email, email.split("@")[0], *name.split()) if h]
    return int(zxcvbn(password[:_ESTIMATE_CHARS], user_inputs=hints)["score"])


def generate_one_time_password() -> str:
    # 4 groups of 5 characters from an unambiguous alphabet (~100 bits)
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))
