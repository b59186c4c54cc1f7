"""Login throttling per account and per address, kept in the database so every worker
process (and every machine) sees the same counts.

Keys are HMACs under the secret key: the table never holds an e-mail address or an IP address
in clear, and a key cannot be guessed from outside.

An attempt is *reserved* before the password or code is checked, against its account and
against its address: counting the recent failures and recording this attempt happen as one
step (SQLite's immediate transaction; on PostgreSQL advisory locks on the address, then the
account), so a burst of parallel guesses, at one account or at many accounts from one address,
spread over several workers, stops at the limit instead of all being checked. A successful
attempt is then forgiven (both rows deleted); a failed one stays counted, its address
reservation becoming a settled failure of the address.

An address's reservations still in flight count towards its limit only for as long as they are
in flight: when only they fill it (colleagues behind one office address signing in at the same
moment), the next attempt waits a moment for a slot instead of being refused
(``WAIT_FOR_SLOT_SECONDS``), and is refused with "try again in a moment" only if none frees.
"""

from __future__ import annotations

import asyncio
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


def pending_address_key(ip: str | None) -> str:
    return _digest("ip-pending", ip or "unknown")


# A reservation older than this is a request that died: it no longer holds a slot.
PENDING_SECONDS = 60
WAIT_FOR_SLOT_SECONDS = 5.0
_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class ThrottleState:
    account_failures: int
    address_failures: int
    limit: int
    lockout_minutes: int
    address_in_flight: int = 0

    @property
    def locked(self) -> bool:
        return (self.account_failures >= self.limit
                or self.address_failures + self.address_in_flight >= self.limit)

    @property
    def busy(self) -> bool:
        """Refused only for attempts still in flight from the address (no lock-out)."""
        return (self.locked and self.account_failures < self.limit
                and self.address_failures < self.limit)

    @property
    def reason(self) -> str:
        if self.account_failures >= self.limit:
            return "account"
        return "address_busy" if self.busy else "address"


def _window_start() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=get_settings().login_lockout_minutes)


async def state(email: str, ip: str | None) -> ThrottleState:
    """The counts, read in ONE statement: on PostgreSQL each statement sees its own snapshot,
    and a reservation settling between two counts would slip past both."""
    settings = get_settings()
    since = _window_start()
    account, address, pending = account_key(email), address_key(ip), pending_address_key(ip)
    rows = await LoginFailure.select(LoginFailure.key).where(
        (LoginFailure.key.is_in([account, address]) & (LoginFailure.failed_at > since))
        | ((LoginFailure.key == pending)
           & (LoginFailure.failed_at > datetime.now(UTC) - timedelta(seconds=PENDING_SECONDS))))
    keys = [row["key"] for row in rows]
    return ThrottleState(keys.count(account), keys.count(address), settings.login_max_failures,
                         settings.login_lockout_minutes, keys.count(pending))


@dataclass(frozen=True)
class Attempt:
    """A reserved sign-in attempt: ``state`` as counted before it (``state.locked``: refused,
    nothing recorded), the row recording it as a failure of the account, and the row holding
    its place against the address."""
    state: ThrottleState
    row_ids: tuple[int, ...] = field(default=())
    address_row_id: int | None = None


async def _try_reserve(email: str, ip: str | None) -> Attempt:
    account = account_key(email)
    now = datetime.now(UTC)
    async with db.write_transaction():
        # Always the address first, then the account: one order everywhere, no deadlock.
        await db.lock_in_transaction(db.LOCK_LOGIN, address_key(ip))
        await db.lock_in_transaction(db.LOCK_LOGIN, account)
        current = await state(email, ip)
        if current.locked:
            return Attempt(current)
        await LoginFailure.delete().where(
            (LoginFailure.failed_at < _window_start())
            | ((LoginFailure.key == pending_address_key(ip))
               & (LoginFailure.failed_at < now - timedelta(seconds=PENDING_SECONDS))))
        rows = await LoginFailure.insert(
            LoginFailure(key=account, failed_at=now),
            LoginFailure(key=pending_address_key(ip), failed_at=now),
        ).returning(LoginFailure.id, LoginFailure.key)
    ids = {r["key"]: int(r["id"]) for r in rows}
    return Attempt(current, (ids[account],), ids[pending_address_key(ip)])


async def reserve_attempt(email: str, ip: str | None) -> Attempt:
    """Count recent failures and, unless locked, record this attempt as a failure of the
    account and hold a place against the address, atomically. When only attempts in flight
    from the same address are in the way, wait for one to finish (a little while)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_FOR_SLOT_SECONDS
    while True:
        attempt = await _try_reserve(email, ip)
        if not attempt.state.busy or loop.time() >= deadline:
            return attempt
        await asyncio.sleep(_POLL_SECONDS)


async def forgive(attempt: Attempt) -> None:
    """The attempt succeeded: it counts against neither the account nor the address."""
    ids = [*attempt.row_ids, *([attempt.address_row_id] if attempt.address_row_id else [])]
    if ids:
        async with db.write_transaction():
            await LoginFailure.delete().where(LoginFailure.id.is_in(ids))


async def settle_failure(attempt: Attempt, ip: str | None) -> None:
    """The attempt failed: its place against the address becomes a failure of the address
    (the account's row already counts)."""
    async with db.write_transaction():
        if attempt.address_row_id is not None:
            await LoginFailure.update({LoginFailure.key: address_key(ip)}).where(
                LoginFailure.id == attempt.address_row_id)
        else:
            await LoginFailure.insert(LoginFailure(key=address_key(ip),
                                                   failed_at=datetime.now(UTC)))


async def clear_account(email: str) -> None:
    async with db.write_transaction():
        await LoginFailure.delete().where(LoginFailure.key == account_key(email))
