"""Evidence domain verbs: attach, record access, withdraw, verify, export; the custody log.

Services take an Actor and plain values, never the request. Every action on an item writes a
CustodyEvent and an audit event with the case id, in the same transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from casetracker import db
from casetracker.audit.services import record as audit
from casetracker.auth.actor import Actor
from casetracker.errors import NotFound, ValidationFailed
from casetracker.evidence.ingest import (
    StagedFile,
    held_staging_names,
    lock_storage_key,
    promote,
)
from casetracker.evidence.rules import human_readable_action
from casetracker.evidence.storage import get_store, key_for
from casetracker.evidence.tables import (
    CustodyAction,
    CustodyEvent,
    EvidenceAllegation,
    EvidenceItem,
    EvidenceSource,
)
from casetracker.settings import get_settings

log = logging.getLogger("casetracker.evidence")

SOURCES = tuple(s.value for s in EvidenceSource)


async def add_custody_event(item_id: int, action: str, actor: Actor, *, purpose: str = "",
                            case_id: int | None = None, details: dict[str, Any] | None = None
                            ) -> None:
    """One custody event and its audit event, in the caller's (or a new) transaction."""
    async with db.write_transaction():
        await CustodyEvent.insert(CustodyEvent(
            item=item_id, action=action, actor_id=actor.id, actor_label=actor.label,
            at=datetime.now(UTC), purpose=purpose[:2000], ip_address=actor.ip_address,
        ))
        if case_id is None:
            row = await EvidenceItem.select(EvidenceItem.case).where(
                EvidenceItem.id == item_id).first()
            case_id = row["case"] if row else None
        audit_action = {
            "received": "evidence.receive", "viewed": "evidence.view",
            "downloaded": "evidence.view_file", "exported": "evidence.export",
            "verified": "evidence.verify", "verify_failed": "evidence.verify_failed",
            "withdrawn": "evidence.withdraw",
        }[action]
        await audit(audit_action, actor=actor, object_type="evidence_item", object_id=item_id,
                    case_id=case_id, details={"purpose": purpose, **(details or {})})


class EvidenceService:
    def __init__(self, actor: Actor) -> None:
        self.actor = actor
        self.promoted: list[StagedFile] = []

    @property
    def created_keys(self) -> list[str]:
        """Storage keys this service stored new (for ``cleanup_promoted`` after a failure)."""
        return [s.storage_key for s in self.promoted if s.created_new and s.storage_key]

    async def attach(
        self,
        case_id: int,
        staged_files: Sequence[StagedFile],
        *,
        source: str,
        description: str = "",
        obtained_on: date | None = None,
        allegation_ids: Iterable[int] = (),
        follow_up_id: int | None = None,
    ) -> list[EvidenceItem]:
        """Store staged files as evidence items of a case. Call inside the caller's
        ``ingest_transaction()`` (or ``db.write_transaction()`` and then ``cleanup_promoted``
        on failure); joins it."""
        from casetracker.cases.tables import Allegation, Case

        if source not in SOURCES:
            raise ValidationFailed({"source": "Choose where the evidence came from."})
        allegation_ids = [int(a) for a in allegation_ids]
        settings = get_settings()
        items: list[EvidenceItem] = []
        async with db.write_transaction():
            if not await Case.exists().where(Case.id == case_id):
                raise NotFound("There is no such case.")
            if allegation_ids:
                found = await Allegation.select(Allegation.id).where(
                    (Allegation.id.is_in(allegation_ids)) & (Allegation.case == case_id))
                if len(found) != len(set(allegation_ids)):
                    raise ValidationFailed({"allegations": "Choose allegations of this case."})
            # Held until commit, so a failing request elsewhere never removes these bytes;
            # taken in one order so that two uploads of the same files cannot deadlock.
            for key in sorted({key_for(s.sha256) for s in staged_files}):
                await lock_storage_key(key)
            for staged in staged_files:
                key = await promote(staged, settings)
                self.promoted.append(staged)
                earlier = await (
                    EvidenceItem.select(EvidenceItem.id)
                    .where((EvidenceItem.case == case_id)
                           & (EvidenceItem.sha256 == staged.sha256))
                    .order_by(EvidenceItem.id).first()
                )
                item = EvidenceItem(
                    case=case_id, follow_up=follow_up_id, original_name=staged.original_name,
                    description=description, source=source, obtained_on=obtained_on,
                    content_type=staged.content_type, kind=staged.kind,
                    size_bytes=staged.size_bytes, sha256=staged.sha256, storage_key=key,
                    received_at=datetime.now(UTC), received_by=self.actor.id,
                    duplicate_of=earlier["id"] if earlier else None,
                    image_verified=staged.image_verified,
                )
                await item.save()
                for allegation_id in dict.fromkeys(allegation_ids):
                    await EvidenceAllegation.insert(
                        EvidenceAllegation(item=item.id, allegation=allegation_id))
                await add_custody_event(
                    item.id, CustodyAction.received.value, self.actor, case_id=case_id,
                    details={"sha256": staged.sha256, "size_bytes": staged.size_bytes,
                             "content_type": staged.content_type, "source": source,
                             "duplicate_of": item.duplicate_of})
                items.append(item)
        return items

    async def record_access(self, item: dict[str, Any], action: str, purpose: str = "") -> None:
        """A view, download or preview of an item (``item`` is an EvidenceItem row dict)."""
        await add_custody_event(item["id"], action, self.actor, purpose=purpose,
                                case_id=item["case"])

    async def withdraw(self, item_id: int, reason: str) -> None:
        reason = (reason or "").strip()
        if not reason:
            raise ValidationFailed({"reason": "Say why the item is withdrawn."})
        async with db.write_transaction():
            row = await EvidenceItem.select().where(EvidenceItem.id == item_id).first()
            if row is None:
                raise NotFound("There is no such evidence item.")
            if row["withdrawn_at"] is not None:
                raise ValidationFailed({"reason": "This item was already withdrawn."})
            await EvidenceItem.update({
                EvidenceItem.withdrawn_at: datetime.now(UTC),
                EvidenceItem.withdrawn_by: self.actor.id,
                EvidenceItem.withdrawn_reason: reason[:4000],
            }).where(EvidenceItem.id == item_id)
            await add_custody_event(item_id, CustodyAction.withdrawn.value, self.actor,
                                    purpose=reason, case_id=row["case"])


@dataclass(frozen=True)
class VerifyOutcome:
    item_id: int
    case_id: int
    storage_key: str
    ok: bool
    problem: str  # "", "missing", "mismatch"
    expected_sha256: str
    actual_sha256: str | None
    expected_size: int
    actual_size: int | None


async def verify_items(actor: Actor, *, case_id: int | None = None, item_id: int | None = None,
                       progress: Callable[[int], None] | None = None,
                       on_item: Callable[[VerifyOutcome], None] | None = None
                       ) -> list[VerifyOutcome]:
    """Re-hash every stored file (of one case) against its record; withdrawn items too."""
    store = get_store(get_settings())
    query = EvidenceItem.select(EvidenceItem.id, EvidenceItem.case, EvidenceItem.storage_key,
                                EvidenceItem.sha256, EvidenceItem.size_bytes
                                ).order_by(EvidenceItem.id)
    if case_id is not None:
        query = query.where(EvidenceItem.case == case_id)
    if item_id is not None:
        query = query.where(EvidenceItem.id == item_id)
    rows = await query
    outcomes = []
    for row in rows:
        hashed = await store.hash(row["storage_key"], progress=progress)
        if hashed is None:
            problem, actual_sha, actual_size = "missing", None, None
            if progress is not None:
                progress(row["size_bytes"])
        else:
            actual_sha, actual_size = hashed
            problem = "" if (actual_sha == row["sha256"]
                             and actual_size == row["size_bytes"]) else "mismatch"
        outcome = VerifyOutcome(row["id"], row["case"], row["storage_key"], problem == "",
                                problem, row["sha256"], actual_sha, row["size_bytes"], actual_size)
        async with db.write_transaction():
            await EvidenceItem.update({
                EvidenceItem.last_verified_at: datetime.now(UTC),
                EvidenceItem.last_verified_ok: outcome.ok,
            }).where(EvidenceItem.id == row["id"])
            await add_custody_event(
                row["id"], "verified" if outcome.ok else "verify_failed", actor,
                purpose="integrity check" + ("" if outcome.ok else f": {problem}"),
                case_id=row["case"],
                details={"problem": problem, "actual_sha256": actual_sha,
                         "actual_size": actual_size})
        if not outcome.ok:
            log.warning("evidence item %s failed verification: %s", row["id"], problem)
        if on_item is not None:
            on_item(outcome)
        outcomes.append(outcome)
    return outcomes


async def record_export(item_ids: Iterable[int], actor: Actor, document: str) -> None:
    """For the reports engineer: the items went into ``document`` (e.g. "Case report CT-…")."""
    async with db.write_transaction():
        for item_id in dict.fromkeys(int(i) for i in item_ids):
            await add_custody_event(item_id, CustodyAction.exported.value, actor,
                                    purpose=f"exported into {document}",
                                    details={"document": document})


async def custody_history(item_id: int) -> list[dict[str, Any]]:
    return await CustodyEvent.select().where(CustodyEvent.item == item_id).order_by(
        CustodyEvent.at).order_by(CustodyEvent.id)


def custody_summary(events: Sequence[dict[str, Any]]) -> str:
    """"received 2026-11-02 by a@x.org; downloaded 2026-11-03 by b@x.org (purpose)"."""
    parts = []
    for event in events:
        when = event["at"]
        when_text = when.strftime("%Y-%m-%d %H:%M UTC") if isinstance(when, datetime) else str(when)
        text = f"{human_readable_action(event['action'])} {when_text} by {event['actor_label']}"
        if event.get("purpose"):
            text += f" ({event['purpose']})"
        parts.append(text)
    return "; ".join(parts)


async def evidence_index(case_id: int, *, include_withdrawn: bool = False
                         ) -> list[dict[str, Any]]:
    """For reports: the case's evidence with description, source, received date, SHA-256,
    size and a custody summary string. Withdrawn items are left out unless asked for."""
    query = EvidenceItem.select().where(EvidenceItem.case == case_id).order_by(EvidenceItem.id)
    if not include_withdrawn:
        query = query.where(EvidenceItem.withdrawn_at.is_null())
    rows = await query
    ids = [row["id"] for row in rows]
    events: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for event in await CustodyEvent.select().where(CustodyEvent.item.is_in(ids)).order_by(
                CustodyEvent.id):
            events[event["item"]].append(event)
    return [{
        "id": row["id"],
        "original_name": row["original_name"],
        "description": row["description"],
        "source": row["source"],
        "obtained_on": row["obtained_on"],
        "received_at": row["received_at"],
        "sha256": row["sha256"],
        "size_bytes": row["size_bytes"],
        "content_type": row["content_type"],
        "kind": row["kind"],
        "duplicate_of": row["duplicate_of"],
        "withdrawn": row["withdrawn_at"] is not None,
        "last_verified_at": row["last_verified_at"],
        "last_verified_ok": row["last_verified_ok"],
        "custody_summary": custody_summary(events[row["id"]]),
    } for row in rows]


async def sweep(*, older_than_seconds: float = 3600, dry_run: bool = False
                ) -> dict[str, list[str]]:
    """Remove staging leftovers older than an hour (except files a feature holds on purpose:
    ``ingest.hold_staged``), abort incomplete multipart uploads older than an hour (object
    store), and remove stored files no record points to (also only when older than an hour,
    so an upload in flight is never touched). Logs each."""
    import time

    settings = get_settings()
    store = get_store(settings)
    removed_staging = []
    held = await held_staging_names(datetime.now(UTC))  # kept on purpose (complaint drafts)
    for key in await store.staging_leftovers(older_than_seconds):
        name = key.rsplit("/", 1)[-1]
        if name in held:
            continue
        log.warning("sweep: removing staging leftover %s", name)
        removed_staging.append(name)
        if not dry_run:
            await store.remove_staging(key)
    # Object store: multipart uploads a dying process never finished nor aborted (their parts
    # are stored, and billed, but invisible to a listing of objects).
    aborted_uploads = await store.abort_incomplete_uploads(older_than_seconds, dry_run=dry_run)
    for key in aborted_uploads:
        log.warning("sweep: aborting an incomplete upload to %s", key)
    referenced = {row["storage_key"] for row in await EvidenceItem.select(
        EvidenceItem.storage_key)}
    removed_orphans = []
    limit = time.time() - older_than_seconds
    async for key in store.iter_keys():
        if key in referenced:
            continue
        modified = await store.modified_at(key)
        if modified is None or modified >= limit:
            continue  # gone already, or possibly an upload still being committed
        # re-check just before removing, under the same locks attach holds until commit
        async with db.write_transaction():
            await lock_storage_key(key)
            if await EvidenceItem.exists().where(EvidenceItem.storage_key == key):
                continue
            log.warning("sweep: removing stored file no record points to: %s", key)
            removed_orphans.append(key)
            if not dry_run:
                await store.remove(key)
    return {"staging": removed_staging, "orphans": removed_orphans,
            "uploads": aborted_uploads}
