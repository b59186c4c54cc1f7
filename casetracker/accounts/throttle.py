"""Login throttling per account and per address, kept in the database so every worker
process (and every machine) sees the same counts.

Keys are HMACs under the secret key: the table never holds an e-mail address or an IP address
in clear, and a key cannot be guessed from outside.

An attempt is *reserved* against its account before the password or code is checked: counting
the recent failures and recording this attempt happen as one step (SQLite's immediate
transaction; on PostgreSQL an advisory lock per account), so a burst of parallel guesses at one
account, spread over several workers, stops at the limit instead of all being checked. A
successful attempt is then forgiven; a failed one stays counted. The address counts only
settled failures (recorded after the check): in-flight sign-ins of several colleagues behind one
office address must not lock each other out.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from casetracker import db
from casetracker.accounts.tables import LoginFailure
from casetracker.settings import get_settings


def _digest(kind: str, value: str) -> str:
    secret = get_settings().secret_key.encode("utf-8")
    mac = hmac.new(secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return f"{kind}:{mac}"


def account_key(email: str) -> str:
    return _digest("account", email.strip().lower())


def address_key(ip: str | None) -> str:
    return _digest("ip", ip or "unknown")


@dataclass(frozen=True)
class ThrottleState:
    account_failures: int
    address_failures: int
    limit: int
    lockout_minutes: int

    @property
    def locked(self) -> bool:
        return self.account_failures >= self.limit or self.address_failures >= self.limit

    @property
    def reason(self) -> str:
        return "account" if self.account_failures >= self.limit else "address"


def _window_start() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=get_settings().login_lockout_minutes)


async def state(email: str, ip: str | None) -> ThrottleState:
    settings = get_settings()
    since = _window_start()
    account = await LoginFailure.count().where(
        (LoginFailure.key == account_key(email)) & (LoginFailure.failed_at > since))
    address = await LoginFailure.count().where(
        (LoginFailure.key == address_key(ip)) & (LoginFailure.failed_at > since))
    return ThrottleState(account, address, settings.login_max_failures,
                         settings.login_lockout_minutes)


@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt: ``state`` as counted before it (``state.locked``: refused,
    nothing recorded), and the rows recording it as a failure until it is forgiven."""
    state: ThrottleState
    row_ids: tuple[int, ...] = field(default=())


async def reserve_attempt(email: str, ip: str | None) -> Attempt:
    """Count recent failures and, unless locked, record this attempt as a failure of the
    account, atomically for this account."""
    key = account_key(email)
    now = datetime.now(UTC)
    async with db.write_transaction():
        await db.lock_in_transaction(db.LOCK_LOGIN, key)
        current = await state(email, ip)
        if current.locked:
            return Attempt(current)
        await LoginFailure.delete().where(LoginFailure.failed_at < _window_start())
        rows = await LoginFailure.insert(
            LoginFailure(key=key, failed_at=now)).returning(LoginFailure.id)
    return Attempt(current, tuple(int(r["id"]) for r in rows))


async def forgive(attempt: Attempt) -> None:
    """The attempt succeeded: it no longer counts against the account."""
    if attempt.row_ids:
        async with db.write_transaction():
            await LoginFailure.delete().where(LoginFailure.id.is_in(list(attempt.row_ids)))


async def record_address_failure(ip: str | None) -> None:
    """The attempt failed: it counts against the address too."""
    async with db.write_transaction():
        await LoginFailure.insert(LoginFailure(key=address_key(ip), failed_at=datetime.now(UTC)))


async def clear_account(email: str) -> None:
    async with db.write_transaction():
        await LoginFailure.delete().where(LoginFailure.key == account_key(email))
