"""Complaint drafts: what a person typed and the files they chose, kept server-side from the
form to "Check your answers" to "Send my complaint" (docs/intake.md, "Drafts").

The public site keeps no session. A draft is bound to one browser by the ``ct_draft`` cookie,
a signed, expiring value around a random token; the database keeps only an HMAC of the token,
and the draft's content sealed with a key derived from it. Staged files stay in the evidence
staging area, held from the evidence sweep while the draft lives (``ingest.hold_staged``).
A draft ends when it is sent (in the filing's own transaction), discarded by the person, or
abandoned: ``sweep`` removes expired drafts with their files.

No Litestar here: the controller reads and sets the cookie, this module does the rest.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.columns import Column

from casetracker import db
from casetracker.evidence import ingest
from casetracker.intake import once, rules
from casetracker.intake.tables import ComplaintDraft
from casetracker.settings import Settings, get_settings

log = logging.getLogger("casetracker.intake")

COOKIE = "ct_draft"
KIND = "draft"


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class Draft:
    token: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)  # ingest.staged_record()s
    review_token: str = ""
    find_agency: int | None = None  # the officer whose "Find agency" was pressed last
    expires_at: datetime | None = None
    exists: bool = False

    @property
    def file_bytes(self) -> int:
        return sum(int(f["size_bytes"]) for f in self.files)

    def staged_files(self) -> list[ingest.StagedFile]:
        return [ingest.staged_from_record(f) for f in self.files]


def _lifetime(settings: Settings) -> timedelta:
    return timedelta(hours=max(1, settings.complaint_draft_hours))


def cookie_value(token: str, settings: Settings | None = None) -> str:
    settings = settings or get_settings()
    expires = int((datetime.now(UTC) + _lifetime(settings)).timestamp())
    return rules.signed_cookie_value(settings.secret_key, COOKIE, token, expires)


def token_from_cookie(value: str | None, settings: Settings | None = None) -> str | None:
    settings = settings or get_settings()
    return rules.read_signed_cookie(settings.secret_key, COOKIE, value,
                                    datetime.now(UTC).timestamp())


def cookie_max_age(settings: Settings | None = None) -> int:
    return int(_lifetime(settings or get_settings()).total_seconds())


def _key_hash(token: str, settings: Settings) -> str:
    return rules.key_hash(settings.secret_key, KIND, token)


def form_key(token: str) -> once.OnceKey:
    """The one-time key under which a draft is sent: its own token."""
    settings = get_settings()
    return once.OnceKey(kind="form", key=token, answer_for=timedelta(hours=1),
                        remember_for=_lifetime(settings) * 3)


async def load(token: str | None, settings: Settings | None = None) -> Draft | None:
    """The live draft for this token, or None."""
    if not token:
        return None
    settings = settings or get_settings()
    row = await ComplaintDraft.select().where(
        (ComplaintDraft.key_hash == _key_hash(token, settings))
        & (ComplaintDraft.expires_at > datetime.now(UTC))).first()
    if row is None:
        return None
    text = rules.unseal(row["sealed"], secret_key=settings.secret_key, kind=KIND, key=token)
    content = json.loads(text) if text else {}
    return Draft(token=token, fields=content.get("fields") or {},
                 files=content.get("files") or [], review_token=content.get("review", ""),
                 find_agency=content.get("find_agency"), expires_at=row["expires_at"],
                 exists=True)


async def save(draft: Draft, settings: Settings | None = None) -> Draft:
    """Store the draft (creating it when new) with a new one-time "Send" token, and hold its
    files for as long as it lives."""
    settings = settings or get_settings()
    now = datetime.now(UTC)
    expires_at = now + _lifetime(settings)
    draft.review_token = secrets.token_urlsafe(24)
    sealed = rules.seal(json.dumps({"fields": draft.fields, "files": draft.files,
                                    "review": draft.review_token,
                                    "find_agency": draft.find_agency}),
                        secret_key=settings.secret_key, kind=KIND, key=draft.token)
    paths = [str(f["staging_path"]) for f in draft.files]
    names = [ingest.staged_name(f) for f in draft.files]
    key_hash = _key_hash(draft.token, settings)
    values: dict[Column | str, Any] = {
        ComplaintDraft.sealed: sealed, ComplaintDraft.staged_names: paths,
        ComplaintDraft.review_token_hash: _review_hash(draft.review_token, settings),
        ComplaintDraft.updated_at: now, ComplaintDraft.expires_at: expires_at}
    async with db.write_transaction():
        await db.lock_in_transaction(db.LOCK_SUBMISSION, key_hash)
        if await ComplaintDraft.exists().where(ComplaintDraft.key_hash == key_hash):
            await ComplaintDraft.update(values).where(ComplaintDraft.key_hash == key_hash)
        else:
            await ComplaintDraft.insert(ComplaintDraft(
                key_hash=key_hash, sealed=sealed, staged_names=paths,
                review_token_hash=values[ComplaintDraft.review_token_hash], created_at=now,
                updated_at=now, expires_at=expires_at))
        await ingest.hold_staged(names, expires_at)
    draft.expires_at, draft.exists = expires_at, True
    return draft


def _names(paths: list[str] | None) -> list[str]:
    from pathlib import Path

    return [Path(p).name for p in paths or []]


def _review_hash(review_token: str, settings: Settings) -> str:
    return rules.key_hash(settings.secret_key, "review", review_token)


def review_token_matches(draft_row_hash: str, review_token: str,
                         settings: Settings | None = None) -> bool:
    import hmac

    settings = settings or get_settings()
    return bool(review_token) and hmac.compare_digest(
        draft_row_hash, _review_hash(review_token, settings))


async def locked_row(token: str, settings: Settings | None = None) -> dict[str, Any] | None:
    """Inside a write transaction: the draft's row, locked against a concurrent send."""
    settings = settings or get_settings()
    key_hash = _key_hash(token, settings)
    await db.lock_in_transaction(db.LOCK_SUBMISSION, key_hash)
    return await ComplaintDraft.select().where(
        (ComplaintDraft.key_hash == key_hash)
        & (ComplaintDraft.expires_at > datetime.now(UTC))).first()


async def delete_row(token: str, settings: Settings | None = None) -> None:
    """Inside the filing's transaction: the draft is gone (its files were promoted)."""
    settings = settings or get_settings()
    key_hash = _key_hash(token, settings)
    row = await ComplaintDraft.select(ComplaintDraft.staged_names).where(
        ComplaintDraft.key_hash == key_hash).output(load_json=True).first()
    await ComplaintDraft.delete().where(ComplaintDraft.key_hash == key_hash)
    if row:
        await ingest.release_staged(_names(row["staged_names"]))


async def discard(token: str | None, settings: Settings | None = None) -> bool:
    """The person asked to start again: the draft and its files are removed now."""
    draft = await load(token, settings)
    if draft is None or token is None:
        return False
    async with db.write_transaction():
        await delete_row(token, settings)
    await _remove_files(draft.files)
    return True


async def remove_files(records: list[dict[str, Any]]) -> None:
    """Files taken out of a draft (the person removed them, or the draft ended)."""
    await ingest.release_staged([ingest.staged_name(r) for r in records])
    await _remove_files(records)


async def _remove_files(records: list[dict[str, Any]]) -> None:
    for record in records:
        await ingest.discard(ingest.staged_from_record(record))


async def sweep(now: datetime | None = None, *, limit: int = 200) -> dict[str, int]:
    """Remove abandoned drafts (expired) with their staged files, and forget expired
    submission keys. Safe to run at any time and from several processes."""
    from pathlib import Path

    from casetracker.evidence.storage import get_store

    now = now or datetime.now(UTC)
    rows = await ComplaintDraft.select(ComplaintDraft.id, ComplaintDraft.staged_names).where(
        ComplaintDraft.expires_at <= now).limit(limit).output(load_json=True)
    drafts = files = 0
    store = get_store(get_settings())
    for row in rows:
        async with db.write_transaction():
            still_expired = await ComplaintDraft.exists().where(
                (ComplaintDraft.id == row["id"]) & (ComplaintDraft.expires_at <= now))
            if not still_expired:
                continue  # touched meanwhile
            await ComplaintDraft.delete().where(ComplaintDraft.id == row["id"])
            await ingest.release_staged(_names(row["staged_names"]))
        drafts += 1
        for path in row["staged_names"] or []:
            try:
                await store.remove_staging(str(path))
                files += 1
            except (OSError, ValueError):
                log.warning("could not remove a staged file of an abandoned draft (%s)",
                            Path(path).name)
    keys = await once.sweep(now)
    if drafts:
        log.info("removed %s abandoned complaint drafts and %s staged files", drafts, files)
    return {"drafts": drafts, "files": files, "keys": keys}
