"""The storage interface itself, on the local disk and on S3 (a real SeaweedFS): small named
objects (write-once or not), issued documents, keys that must not escape the store."""

from __future__ import annotations

import re
from typing import Any

import pytest

from casetracker.auth.actor import Actor
from casetracker.errors import Conflict
from casetracker.reports.services import DraftValues, RecommendationService, load_source
from casetracker.settings import configure
from casetracker.storage import ObjectMissing, get_store, storage_ready
from tests.factories import make_user
from tests.factories_reports import (
    make_agency,
    make_agreement,
    make_designated_officer,
    make_sustained_case,
)
from tests.storage_helpers import delete_stored, overwrite_stored, read_stored, stored_keys

pytestmark = pytest.mark.storage_backends


async def test_small_objects_write_once_and_read_back(settings: Any) -> None:
    store = get_store(settings, "audit")
    assert store.supports_write_once
    assert await store.put_bytes("checkpoints/2026-12-03.json", b'{"head": 1}', write_once=True)
    # write-once: a second write under the same key is refused, the first bytes stay
    assert not await store.put_bytes("checkpoints/2026-12-03.json", b'{"head": 2}',
                                     write_once=True)
    assert await store.get_bytes("checkpoints/2026-12-03.json") == b'{"head": 1}'
    # without write_once an object is replaced
    assert await store.put_bytes("latest.json", b"1")
    assert await store.put_bytes("latest.json", b"2")
    assert await store.get_bytes("latest.json") == b"2"
    assert await store.size("latest.json") == 1
    assert await stored_keys(settings, "audit") == ["checkpoints/2026-12-03.json",
                                                    "latest.json"]
    with pytest.raises(ObjectMissing):
        await store.get_bytes("checkpoints/never-written.json")
    assert await store.exists("latest.json") and not await store.exists("nothing.json")
    # areas do not see each other
    assert await stored_keys(settings, "evidence") == []
    assert not await get_store(settings, "documents").exists("latest.json")


async def test_keys_cannot_leave_the_store(settings: Any) -> None:
    store = get_store(settings, "audit")
    for bad in ("../secret_key", "/etc/passwd", "a/../../b", "", "a//b", ".hidden", "a/"):
        with pytest.raises(ValueError):
            await store.put_bytes(bad, b"x")
    with pytest.raises(ValueError):
        get_store(settings, "../evidence")


async def test_ready_raises_when_the_store_cannot_be_reached(settings: Any) -> None:
    await storage_ready()  # the configured store answers
    if settings.storage_backend == "s3":
        configure(settings.replace(s3_bucket="no-such-bucket-here"))
    else:
        blocker = settings.var_dir / "not-a-directory"
        blocker.write_text("a file where the evidence directory should be")
        configure(settings.replace(evidence_dir=blocker / "evidence"))
    try:
        with pytest.raises(Exception):  # noqa: B017 - any failure will do: it must raise
            await storage_ready()
    finally:
        configure(settings)


async def test_issued_documents_are_stored_once_and_checked_when_read(settings: Any) -> None:
    settings = configure(settings.replace(pdf_workers=0))  # render in a thread: quicker
    agency = await make_agency()
    agreement = await make_agreement(agency, "JEM")
    _officer, designation = await make_designated_officer(agency, agreement, "Ann Lee", "GC-1")
    await make_designated_officer(agency, agreement, "Peer Officer", "GC-2")  # not all revoked
    case = await make_sustained_case(agency, agreement, [_officer])
    author = RecommendationService(Actor.from_user(await make_user("oversight")))
    approver = Actor.from_user(await make_user("supervisor"))
    rec_id = await author.draft(DraftValues("officers", "revocation", None, (designation,),
                                            (case.case_id,)))
    rec = (await load_source(rec_id)).recommendation
    values = {k: rec[k] for k in ("addressee", "sender", "subject", "grounds",
                                  "requested_action", "proposed_effective_on",
                                  "suspension_days", "response_instructions",
                                  "corrective_measures", "timing", "viii_process",
                                  "classification")}
    await author.update(rec_id, {**values, "summary": "The office recommends revocation."})
    await author.submit(rec_id)
    await RecommendationService(approver).approve(rec_id, "Agreed.")
    await author.issue(rec_id)

    rec, pdf = await author.issued_document(rec_id)
    assert pdf.startswith(b"%PDF")
    key = rec["document_key"]
    assert re.fullmatch(r"[0-9a-f]{2}/[0-9a-f]{64}\.pdf", key)
    assert await stored_keys(settings, "documents") == [key]
    assert await read_stored(settings, key, area="documents") == pdf
    if settings.storage_backend == "local":  # where it always was
        assert (settings.var_dir / "documents" / key).read_bytes() == pdf

    await overwrite_stored(settings, key, pdf[:-10] + b"0123456789", area="documents")
    with pytest.raises(Conflict, match="does not match"):
        await author.issued_document(rec_id)
    await delete_stored(settings, key, area="documents")
    with pytest.raises(Conflict, match="missing"):
        await author.issued_document(rec_id)
