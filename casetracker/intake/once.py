"""One-time submission keys: the same submission twice does the work once.

A key belongs to the visitor: the complaint form's draft token (its cookie), an API client's
``Idempotency-Key`` header, the token in a follow-up form. The first request with a key does
the work and records, in the same transaction, an ``IntakeSubmission`` row; a later request
with the same key (a double click, a reload, a retry after a timeout) finds the row and gets the
same answer, sealed with the key itself (it holds the access code), and changes nothing.

Call ``claim`` inside the write transaction that does the work, before doing it: it takes the
key's lock (PostgreSQL; SQLite's write transaction already serialises writers), so two requests
with one key never both pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from casetracker import db
from casetracker.errors import ValidationFailed
from casetracker.intake import rules
from casetracker.intake.tables import IntakeSubmission
from casetracker.settings import Settings, get_settings
from casetracker.web.i18n import gettext as _


@dataclass(frozen=True)
class OnceKey:
    kind: str  # form | api | follow_up
    key: str  # what the visitor holds; never stored
    fingerprint: str = ""  # of what was sent: the same key with something else is refused
    answer_for: timedelta = timedelta(hours=1)  # how long the sealed answer can be shown again
    remember_for: timedelta = timedelta(hours=24)  # how long the key is known


@dataclass(frozen=True)
class Previous:
    """What the first request with this key did."""

    case_id: int | None
    answer: dict[str, Any] | None  # None once blanked (older than answer_for)
    created_at: datetime


class KeyReused(ValidationFailed):
    """The key was used before for something else (another body, another case)."""

    status_code = 422


def _hash(key: OnceKey, settings: Settings) -> str:
    return rules.key_hash(settings.secret_key, key.kind, key.key)


async def previous(key: OnceKey, settings: Settings | None = None) -> Previous | None:
    """The earlier submission with this key, if any (raises KeyReused for another body)."""
    settings = settings or get_settings()
    row = await IntakeSubmission.select().where(
        (IntakeSubmission.key_hash == _hash(key, settings))
        & (IntakeSubmission.expires_at > datetime.now(UTC))).first()
    if row is None:
        return None
    if key.fingerprint and row["fingerprint"] and row["fingerprint"] != key.fingerprint:
        raise KeyReused({"idempotency_key": _(
            "This key was already used for a different request. Send a new key with a new "
            "request, or the same request again with this key.")})
    answer = None
    if row["answer"] and row["answer_until"] > datetime.now(UTC):
        text = rules.unseal(row["answer"], secret_key=settings.secret_key, kind=key.kind,
                            key=key.key)
        answer = json.loads(text) if text else None
    return Previous(case_id=row["case"], answer=answer, created_at=row["created_at"])


async def claim(key: OnceKey, settings: Settings | None = None) -> Previous | None:
    """Inside the work's write transaction: lock the key, then the earlier submission (do
    nothing more) or None (go ahead, then ``record``)."""
    settings = settings or get_settings()
    await db.lock_in_transaction(db.LOCK_SUBMISSION, _hash(key, settings))
    return await previous(key, settings)


async def record(key: OnceKey, *, case_id: int | None, answer: dict[str, Any],
                 settings: Settings | None = None) -> None:
    """In the same transaction as the work: remember the key and the sealed answer."""
    settings = settings or get_settings()
    now = datetime.now(UTC)
    sealed = rules.seal(json.dumps(answer, default=str), secret_key=settings.secret_key,
                        kind=key.kind, key=key.key)
    await IntakeSubmission.insert(IntakeSubmission(
        key_hash=_hash(key, settings), kind=key.kind, fingerprint=key.fingerprint,
        case=case_id, answer=sealed, created_at=now, answer_until=now + key.answer_for,
        expires_at=now + max(key.remember_for, key.answer_for)))


async def sweep(now: datetime | None = None) -> int:
    """Forget expired keys and blank answers past their time. Returns the keys forgotten."""
    now = now or datetime.now(UTC)
    async with db.write_transaction():
        expired = await IntakeSubmission.count().where(IntakeSubmission.expires_at <= now)
        if expired:
            await IntakeSubmission.delete().where(IntakeSubmission.expires_at <= now)
        await IntakeSubmission.update({IntakeSubmission.answer: ""}).where(
            (IntakeSubmission.answer_until <= now) & (IntakeSubmission.answer != ""))
    return expired
