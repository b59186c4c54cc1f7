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

MIN_LENGTH = 12


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


def password_problem(password: str, *, email: str = "") -> str | None:
    """A sentence saying what is wrong with a new password, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    if email and password.lower() == email.lower():
        return "Do not use your e-mail address as your password."
    if len(set(password)) < 5:
        return "Use a less repetitive password."
    return None


def generate_one_time_password() -> str:
    # 4 groups of 5 characters from an unambiguous alphabet (~100 bits)
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))
