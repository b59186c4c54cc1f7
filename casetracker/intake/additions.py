"""What the complainant added after filing, as staff read it: follow-ups (text and files) and
the dated consent changes. One loader for the case page and the case file PDF; the caller has
already checked (and audited) that the reader may see the case."""

from __future__ import annotations

from typing import Any

from casetracker.accounts.tables import User
from casetracker.intake.tables import ConsentChange, FollowUp


async def follow_ups(case_id: int) -> list[dict[str, Any]]:
    """Every follow-up in full, oldest first, each with its files (``files``: id, name, size)."""
    from casetracker.evidence.tables import EvidenceItem

    rows = await FollowUp.select().where(FollowUp.case == case_id).order_by(
        FollowUp.received_at, FollowUp.id)
    files: dict[int, list[dict[str, Any]]] = {}
    if rows:
        items = await EvidenceItem.select(
            EvidenceItem.id, EvidenceItem.follow_up, EvidenceItem.original_name,
            EvidenceItem.size_bytes).where(
            (EvidenceItem.case == case_id) & EvidenceItem.follow_up.is_not_null()).order_by(
            EvidenceItem.id)
        for item in items:
            files.setdefault(item["follow_up"], []).append(item)
    for row in rows:
        row["files"] = files.get(row["id"], [])
    return rows


async def consent_changes(case_id: int) -> list[dict[str, Any]]:
    """The dated consent changes, oldest first, with the name of the staff member who recorded
    one on the complainant's behalf (``recorded_by_name``). Only for readers who may see the
    complainant's contact details."""
    rows = await ConsentChange.select().where(ConsentChange.case == case_id).order_by(
        ConsentChange.changed_at, ConsentChange.id)
    ids = sorted({r["recorded_by"] for r in rows if r["recorded_by"]})
    names: dict[int, str] = {}
    if ids:
        names = {u["id"]: u["name"] for u in await User.select(User.id, User.name).where(
            User.id.is_in(ids))}
    for row in rows:
        row["recorded_by_name"] = names.get(row["recorded_by"], "")
    return rows
