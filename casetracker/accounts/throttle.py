"""Login throttling per account and per address, kept in the database so every worker
process (and every machine) sees the same counts.

Keys are HMACs under the secret key: the table never holds an e-mail address or an IP address
in clear, and a key cannot be guessed from outside.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
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


async def record_failure(email: str, ip: str | None) -> None:
    now = datetime.now(UTC)
    async with db.write_transaction():
        # Old rows no longer count; drop them as we go so the table stays small.
        await LoginFailure.delete().where(LoginFailure.failed_at < _window_start())
        await LoginFailure.insert(
            LoginFailure(key=account_key(email), failed_at=now),
            LoginFailure(key=address_key(ip), failed_at=now),
        )


async def clear_account(email: str) -> None:
    async with db.write_transaction():
        await LoginFailure.delete().where(LoginFailure.key == account_key(email))
